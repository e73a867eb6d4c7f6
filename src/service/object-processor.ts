/**
 * One object, start to finish, for the service: skip it when the state says it was processed
 * (or poisoned); otherwise read and decode it, run the detector, and commit the processed mark,
 * the alerts and the engine state in one transaction. A read that fails (transport, access,
 * throttling past the retries) rolls the detector back and counts an attempt; after
 * `poisonAfter` attempts the object is set aside. Damaged content (bad gzip, invalid JSON) is
 * not a failure: what could be decoded counts, the errors are logged, and the object is done.
 */
import { located } from '../core/errors.ts';
import type { Alert } from '../core/alert.ts';
import type { LocatedError } from '../core/errors.ts';
import { feedUnit } from '../engine/feed-unit.ts';
import type { DecodeStats } from '../formats/types.ts';
import type { InputUnit } from '../core/input-unit.ts';
import type { WatchState } from '../store/watch-state.ts';
import type { NodeBeat } from '../store/cluster/node-registry.ts';
import type { WatchEngine } from './watch-engine.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { PoisonFile } from './poison-file.ts';
import { OBJECT_DURATION } from './service-metrics.ts';

export interface OpenedWork {
  unit: InputUnit;
  /** The version actually read (ETag, `mtime:size`), when known. */
  version: string | undefined;
  size: number | undefined;
}

export interface WorkObject {
  /** The source's name (metrics, logs). */
  source: string;
  uri: string;
  /** The version announced (notification ETag, file `mtime:size`), when known. */
  version?: string;
  /** When the object was announced (SQS sent time, file mtime), epoch ms. */
  announcedAt?: number;
  open(signal: AbortSignal): Promise<OpenedWork>;
}

export type ObjectOutcome =
  | { kind: 'processed'; records: number; alerts: number; newAlerts: number; errors: number }
  | { kind: 'skipped'; status: 'processed' | 'poisoned' }
  | { kind: 'failed'; attempts: number; error: string }
  | { kind: 'poisoned'; error: string }
  /** Shutdown began while it was read: nothing recorded, to be read again. */
  | { kind: 'interrupted' };

export interface ProcessorDeps {
  store: WatchState;
  engine: WatchEngine;
  logger: Logger;
  metrics: Metrics;
  poison: PoisonFile;
  flowFormat?: string;
  /** Tests only (TRAILHOUND_TEST_OBJECT_DELAY_MS): a pause after each batch, so that a kill lands in the middle of an object. */
  batchDelayMs?: number;
}

export class ObjectProcessor {
  /** Newest event time processed (lag metric). */
  newestEventTime: number | undefined;
  /** Age of the last notification when processed, seconds. */
  lastNotificationAge: number | undefined;
  /** Objects, records and new alerts committed by this process (a cluster node's heartbeat). */
  readonly done = { objects: 0, records: 0, alerts: 0 };
  private readonly deps: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.deps = deps;
  }

  /** What this process did so far, for the node registry. */
  beat(inFlight: number): NodeBeat {
    return { inFlight, unitsDone: this.done.objects, records: this.done.records, alerts: this.done.alerts, ...(this.newestEventTime === undefined ? {} : { newestEvent: this.newestEventTime }) };
  }

  /** True when the object (this version) was processed or poisoned: nothing to do. */
  async isDone(uri: string, version?: string): Promise<boolean> {
    const known = await this.deps.store.objectStatus(uri, version);
    return known !== undefined && known.status !== 'failing';
  }

  async process(work: WorkObject, poisonAfter: number, signal: AbortSignal): Promise<ObjectOutcome> {
    const started = performance.now();
    const outcome = await this.run(work, poisonAfter, signal);
    this.deps.metrics.inc('trailhound_objects_total', { source: work.source, outcome: outcome.kind });
    this.deps.metrics.observe(OBJECT_DURATION, { source: work.source, outcome: outcome.kind }, (performance.now() - started) / 1000);
    return outcome;
  }

  private async run(work: WorkObject, poisonAfter: number, signal: AbortSignal): Promise<ObjectOutcome> {
    const { store, engine, logger, metrics } = this.deps;
    const known = await store.objectStatus(work.uri, work.version);
    if (known !== undefined && known.status !== 'failing') return { kind: 'skipped', status: known.status };

    let opened: OpenedWork;
    try {
      opened = await work.open(signal);
    } catch (error) {
      if (signal.aborted) return { kind: 'interrupted' };
      return this.fail(work, work.version ?? '', (error as Error).message, poisonAfter);
    }
    const version = opened.version ?? work.version ?? '';
    if (version !== (work.version ?? '')) {
      const actual = await store.objectStatus(work.uri, version);
      if (actual !== undefined && actual.status !== 'failing') {
        (await opened.unit.open()).destroy();
        return { kind: 'skipped', status: actual.status };
      }
    }

    logger.debug('reading object', { source: work.source, uri: work.uri });
    const readErrors: LocatedError[] = [];
    const contentErrors: LocatedError[] = [];
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    const alerts: Alert[] = [];
    let newest = Number.NEGATIVE_INFINITY;
    try {
      const decode = {
        stats,
        onError: (error: LocatedError) => (error.code === 'TH_INPUT_READ' ? readErrors : contentErrors).push(error),
        ...(this.deps.flowFormat === undefined ? {} : { flowFormat: this.deps.flowFormat }),
      };
      await feedUnit(
        opened.unit,
        { decode, signal },
        (envelope) => engine.detector.process(envelope, alerts),
        async (fed) => {
          // Every record moves event time on, not only those a correlation reads.
          engine.advance(fed.newest, alerts);
          if (fed.newest > newest) newest = fed.newest;
          if (this.deps.batchDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, this.deps.batchDelayMs));
        },
      );
    } catch (error) {
      engine.rollback();
      return this.fail(work, version, `unexpected error: ${(error as Error).message}`, poisonAfter);
    }
    if (signal.aborted) {
      engine.rollback();
      return { kind: 'interrupted' };
    }
    if (readErrors.length > 0) {
      engine.rollback();
      return this.fail(work, version, readErrors.map((error) => error.message).join('; '), poisonAfter);
    }

    const state = engine.commitState(newest);
    let insertedIds: string[] | undefined;
    try {
      insertedIds = await store.commitObject({ uri: work.uri, version, object: work.uri, records: stats.records, errors: contentErrors.length, alerts, ...state, onLimit: (error) => contentErrors.push(error) });
    } catch (error) {
      // Not the object's fault (disk full, database locked or away): nothing was recorded, read it again later.
      engine.rollback();
      throw error;
    }
    if (insertedIds === undefined) {
      // Another node of the cluster committed this object first (its message came back while this one read it).
      engine.rollback();
      logger.debug('object committed by another node meanwhile', { source: work.source, uri: work.uri });
      return { kind: 'skipped', status: 'processed' };
    }
    const newAlerts = insertedIds.length;
    const inserted = new Set(insertedIds);
    engine.committed(state);
    this.done.objects += 1;
    this.done.records += stats.records;
    this.done.alerts += newAlerts;

    for (const error of contentErrors) logger.located('warn', error, { source: work.source });
    if (contentErrors.length > 0) metrics.inc('trailhound_errors_total', { stage: 'decode' }, contentErrors.length);
    metrics.inc('trailhound_records_total', { source: work.source }, stats.records);
    if (opened.size !== undefined) metrics.inc('trailhound_object_bytes_total', { source: work.source }, opened.size);
    for (const alert of alerts) {
      if (inserted.delete(alert.id)) metrics.inc('trailhound_alerts_total', { rule: alert.rule.name ?? alert.rule.id, level: alert.rule.level });
    }
    if (Number.isFinite(newest) && (this.newestEventTime === undefined || newest > this.newestEventTime)) this.newestEventTime = newest;
    if (work.announcedAt !== undefined) this.lastNotificationAge = Math.max(0, (Date.now() - work.announcedAt) / 1000);
    logger.debug('object processed', { source: work.source, uri: work.uri, records: stats.records, alerts: alerts.length, new_alerts: newAlerts, errors: contentErrors.length });
    return { kind: 'processed', records: stats.records, alerts: alerts.length, newAlerts, errors: contentErrors.length };
  }

  private async fail(work: WorkObject, version: string, error: string, poisonAfter: number): Promise<ObjectOutcome> {
    const { store, logger, metrics, poison } = this.deps;
    metrics.inc('trailhound_errors_total', { stage: 'fetch' });
    const attempts = await store.recordFailure(work.uri, version, error);
    if (attempts < poisonAfter) {
      logger.located('warn', located('TH_INPUT_READ', `cannot read the object (attempt ${attempts} of ${poisonAfter}): ${error}`, work.uri), { source: work.source });
      return { kind: 'failed', attempts, error };
    }
    await store.markPoisoned(work.uri, version, error);
    await poison.append({ source: work.source, uri: work.uri, error });
    logger.located('error', located('TH_INPUT_POISONED', `set aside after ${attempts} failed attempts (last: ${error}); recorded in ${poison.path}. Fix the cause, then scan it with trailhound scan.`, work.uri), { source: work.source });
    return { kind: 'poisoned', error };
  }
}
