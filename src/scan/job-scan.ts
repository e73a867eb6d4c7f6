/**
 * `scan --job NAME --store postgres://...`: one scan shared by every process that runs the same
 * command (docs/cluster.md). The first process lists the inputs into the job's unit table; every
 * process then claims units (one file or S3 object each) until none is left, decodes and matches
 * each on its own (the stateless half of detection), and commits, in one transaction per unit,
 * the unit's mark, the alerts already decided (single-event rules) and the unit's undecided
 * state (Detector.drainPartial(): correlation entries, baselines, GuardDuty versions,
 * threat-intel partial sums). When every unit is done, the processes claim the decision
 * partitions: each merges the parts of its partition in input order into a fresh Detector and
 * flushes it, which decides what one process would have decided at the end of the same input.
 *
 * Failures: a process that dies holds its unit only until the lease runs out; another takes
 * it over and redoes it (the dead one's transaction never committed, so nothing is counted
 * twice). A PostgreSQL restart is waited out (retryMs); a commit whose answer was lost is
 * recognised by the unit's `done_by`. A unit that failed `maxAttempts` times is committed as
 * an input error, so one poisonous file cannot stop the job.
 */
import type { Alert } from '../core/alert.ts';
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { Detector } from '../engine/detector.ts';
import type { DetectorPartial } from '../engine/partial.ts';
import type { CorrelationSnapshot } from '../engine/correlation/snapshot.ts';
import type { BaselineFileData } from '../engine/correlation/baseline.ts';
import { prepareUnit } from '../formats/read-unit.ts';
import { feedUnit } from '../engine/feed-unit.ts';
import { MAX_EMBEDDED_EVENTS } from '../engine/alerts/build.ts';
import type { LogRecord, Origin } from '../core/envelope.ts';
import { expandInputs, unitAt } from '../sources/index.ts';
import type { SourceOptions } from '../sources/index.ts';
import { StoreError } from '../store/alert-store.ts';
import type { PgAlertStore } from '../store/pg-alert-store.ts';
import { JobTable, partitionOf, type ClaimedUnit, type JobIdentity, type JobTotals, type PartRow, type StoredPart } from '../store/cluster/job-table.ts';
import { NodeRegistry, newNodeId } from '../store/cluster/node-registry.ts';
import { ScanRun } from './scan-run.ts';
import type { TimeRange } from '../core/time-range.ts';

import { DEFAULT_CLUSTER_RETRY_MS, DEFAULT_JOB_PARTITIONS, DEFAULT_LEASE_MS } from './job-defaults.ts';

export { DEFAULT_CLUSTER_RETRY_MS, DEFAULT_JOB_PARTITIONS, DEFAULT_LEASE_MS };
const MAX_UNIT_ATTEMPTS = 3;

export interface JobScanRequest {
  store: PgAlertStore;
  job: string;
  inputs: string[];
  /** What every process of the job must agree on (rules fingerprint, options): checked at start. */
  identity: JobIdentity;
  /** A Detector with `node: true` (decides nothing stateful). */
  nodeDetector: Detector;
  /** A fresh ordinary Detector, same rules and options, for each decision partition. */
  decider: () => Detector;
  /** Alerts embed events: the decider fetches the records of correlation alerts by origin. */
  includeEvents?: boolean;
  /** Return what the job's baselines learned (`--save-baseline`). */
  wantBaseline?: boolean;
  timeRange?: TimeRange;
  sourceOptions?: SourceOptions;
  flowFormat?: string;
  maxDecompressed?: number;
  rawPrefilter?: boolean;
  partitions?: number;
  leaseMs?: number;
  retryMs?: number;
  /** Alerts this process committed (each alert of the job is committed by one process only). */
  onAlert: (alert: Alert) => void | Promise<void>;
  onError: (error: LocatedError) => void;
  /** Lines about the job's progress for stderr (waiting, taking over, retrying). */
  onNote?: (message: string) => void;
  onProgress?: (progress: { units: number; records: number; alerts: number }) => void;
  /** Tests only: waits this long inside each unit, after decoding and before the commit. */
  unitDelayMs?: number;
}

export interface JobScanResult {
  node: string;
  totals: JobTotals;
  durationMs: number;
  /** Units this process did whose commit found another node had taken them over. */
  lostUnits: number;
  /** Part rows this process wrote (the shared-state cost of its units). */
  partsWritten: number;
  /** Time this process spent waiting on PostgreSQL (claims, commits, reads), ms. */
  databaseMs: number;
  /** What the job's baselines learned, when asked for and some correlation has a baseline. */
  baseline?: BaselineFileData;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the job until every unit and partition is done (by this process or another). */
export async function scanJob(request: JobScanRequest): Promise<JobScanResult> {
  const started = Date.now();
  const node = newNodeId();
  const leaseMs = request.leaseMs ?? DEFAULT_LEASE_MS;
  const table = new JobTable(request.store, request.job, node);
  const registry = new NodeRegistry(request.store, node);
  const note = request.onNote ?? (() => undefined);
  const timing = { ms: 0 };
  const retrying = retrier(request.retryMs ?? DEFAULT_CLUSTER_RETRY_MS, note, timing);
  const beat = { inFlight: 0, unitsDone: 0, records: 0, alerts: 0, newestEvent: undefined as number | undefined };
  let lostUnits = 0;
  let partsWritten = 0;

  await retrying(() => table.migrate());
  await retrying(() => registry.register('scan', request.job));
  const heartbeat = setInterval(() => {
    void Promise.all([registry.beat(beat), table.renew(leaseMs)]).catch(() => undefined);
  }, Math.max(250, Math.floor(leaseMs / 4)));
  heartbeat.unref();
  try {
    await retrying(() => table.register(request.identity, request.partitions ?? DEFAULT_JOB_PARTITIONS));

    // One lister; the others wait for its listing to commit.
    let listErrors = 0;
    const sourceOptions: SourceOptions = { ...request.timeRange, ...request.sourceOptions };
    const list = async function* (): AsyncGenerator<{ uri: string; size?: number }> {
      for await (const unit of expandInputs(request.inputs, (error) => {
        listErrors += 1;
        request.onError(error);
      }, sourceOptions)) {
        yield unit.size === undefined ? { uri: unit.uri } : { uri: unit.uri, size: unit.size };
      }
    };
    let waited = false;
    while (!(await retrying(() => table.listed()))) {
      listErrors = 0;
      if (await retrying(() => table.listOnce(list, () => listErrors))) break;
      if (!waited) note(`job ${request.job}: another node is listing the inputs; waiting`);
      waited = true;
      await sleep(300);
    }

    // Units, until none is left to take (the partition count is the lister's: read it back).
    await retrying(() => table.listed());
    const partitions = table.partitions;
    const chained = request.nodeDetector.correlationsChained;
    const runner = new UnitRunner(request);
    let waitingForOthers = false;
    // A unit's commit runs while the next unit is read and matched (one commit in flight).
    let committing: Promise<void> | undefined;
    const commit = async (claimed: ClaimedUnit, outcome: UnitOutcome): Promise<void> => {
      const committed = await retrying(() => table.commitUnit(claimed.ordinal, outcome.result));
      beat.inFlight -= 1;
      if (committed === 'lost') {
        lostUnits += 1;
        note(`job ${request.job}: ${claimed.uri} was taken over by another node while this one worked on it; its result here is dropped`);
        return;
      }
      partsWritten += outcome.result.parts.length;
      beat.unitsDone += 1;
      beat.records += outcome.result.records;
      beat.alerts += outcome.result.alerts.length;
      if (outcome.newest !== undefined && (beat.newestEvent === undefined || outcome.newest > beat.newestEvent)) beat.newestEvent = outcome.newest;
      for (const alert of outcome.result.alerts) await request.onAlert(alert);
      request.onProgress?.({ units: beat.unitsDone, records: beat.records, alerts: beat.alerts });
    };
    for (;;) {
      const claimed = await retrying(() => table.claimUnit(leaseMs));
      if (claimed === undefined) {
        if (committing !== undefined) {
          await committing;
          committing = undefined;
          continue;
        }
        const open = await retrying(() => table.openUnits());
        if (open.open === 0) break;
        if (!waitingForOthers) note(`job ${request.job}: ${open.open} units are held by other nodes; waiting for them (or for their leases to run out)`);
        waitingForOthers = true;
        await sleep(Math.min(1000, Math.max(100, leaseMs / 10)));
        continue;
      }
      waitingForOthers = false;
      if (claimed.attempts > 1) note(`job ${request.job}: taking over ${claimed.uri} (attempt ${claimed.attempts})`);
      beat.inFlight += 1;
      const outcome = await runner.unit(claimed, partitions, chained);
      if (committing !== undefined) await committing;
      committing = commit(claimed, outcome);
      // Awaited before the next commit or the end; a failure meanwhile must not go unhandled.
      committing.catch(() => undefined);
    }
    if (committing !== undefined) await committing;

    // Decisions, partition by partition.
    for (;;) {
      const partition = await retrying(() => table.claimPartition(leaseMs));
      if (partition === undefined) {
        const open = await retrying(() => table.openPartitions());
        if (open.open === 0) break;
        await sleep(Math.min(1000, Math.max(100, leaseMs / 10)));
        continue;
      }
      beat.inFlight = 1;
      const parts = await retrying(() => table.partsOf(partition));
      const decider = request.decider();
      const alerts = await decide(decider, parts, request.includeEvents === true ? (origins) => fetchByOrigin(request, origins) : undefined);
      const learned = decider.baselineFile(new Date());
      const committed = await retrying(() => table.commitPartition(partition, alerts, learned));
      beat.inFlight = 0;
      if (committed === 'lost') continue;
      beat.alerts += alerts.length;
      for (const alert of alerts) await request.onAlert(alert);
    }
    const totals = await retrying(() => table.totals());
    const baseline = request.wantBaseline === true ? ((await retrying(() => table.baseline())) as BaselineFileData | undefined) : undefined;
    await registry.stopped(beat).catch(() => undefined);
    return { node, totals, durationMs: Date.now() - started, lostUnits, partsWritten, databaseMs: timing.ms, ...(baseline === undefined ? {} : { baseline }) };
  } finally {
    clearInterval(heartbeat);
  }
}

/** One ScanRun for the whole job (its pre-filter planned once); each unit's alerts and counts are taken from it. */
class UnitRunner {
  readonly run: ScanRun;
  private alerts: Alert[] = [];
  private errors = 0;
  private lastSuppressed = new Map<string, number>();
  private outsideTapped = 0;

  constructor(private readonly request: JobScanRequest) {
    this.run = new ScanRun({
      inputs: [],
      detector: request.nodeDetector,
      ...(request.timeRange === undefined ? {} : { timeRange: request.timeRange }),
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      ...(request.maxDecompressed === undefined ? {} : { maxDecompressed: request.maxDecompressed }),
      ...(request.rawPrefilter === undefined ? {} : { rawPrefilter: request.rawPrefilter }),
      onAlert: (alert) => {
        this.alerts.push(alert);
      },
      onError: (error) => {
        this.errors += 1;
        request.onError(error);
      },
    });
  }

  /** Decodes and matches one unit on this thread; its undecided state becomes part rows. */
  async unit(claimed: { ordinal: number; uri: string; attempts: number }, partitions: number, chained: boolean): Promise<UnitOutcome> {
    const { request, run } = this;
    const detector = request.nodeDetector;
    const unit = unitAt(claimed.uri, { ...request.timeRange, ...request.sourceOptions });
    if (claimed.attempts > MAX_UNIT_ATTEMPTS || unit === undefined) {
      const why = unit === undefined ? 'this input cannot be read again by uri' : `it failed ${claimed.attempts - 1} times (the process scanning it ended each time)`;
      request.onError(located('TH_INPUT_READ', `left out of the job: ${why}`, claimed.uri));
      return { result: { records: 0, skipped: 0, outsideTimeRange: 0, errors: 1, alerts: [], parts: [], entries: 0, suppressed: new Map() }, newest: undefined };
    }
    const before = { ...run.summary };
    this.alerts = [];
    this.errors = 0;
    await run.decodeUnit(unit, (await prepareUnit(unit, request.maxDecompressed)) ?? {});
    const tapped = run.flowTap?.outsideTimeRange ?? 0;
    const outsideTapped = tapped - this.outsideTapped;
    this.outsideTapped = tapped;
    if (request.unitDelayMs !== undefined && request.unitDelayMs > 0) await sleep(request.unitDelayMs);
    const partial = detector.drainPartial();
    let newest: number | undefined;
    let entries = 0;
    for (const group of partial.correlation?.groups ?? []) {
      entries += group.entries.length;
      for (const entry of group.entries) if (newest === undefined || entry.time > newest) newest = entry.time;
    }
    const suppressedNow = new Map(detector.suppressedCounts());
    const suppressed = new Map<string, number>();
    for (const [filter, count] of suppressedNow) {
      const delta = count - (this.lastSuppressed.get(filter) ?? 0);
      if (delta > 0) suppressed.set(filter, delta);
    }
    this.lastSuppressed = suppressedNow;
    const after = run.summary;
    return {
      result: {
        records: after.records - before.records,
        skipped: after.skipped - before.skipped,
        outsideTimeRange: after.outsideTimeRange - before.outsideTimeRange + outsideTapped,
        errors: Math.max(this.errors, after.inputsWithErrors > before.inputsWithErrors ? 1 : 0),
        alerts: this.alerts,
        parts: partRows(partial, partitions, chained, claimed.uri),
        entries,
        suppressed,
      },
      newest,
    };
  }
}

interface UnitOutcome {
  result: Parameters<JobTable['commitUnit']>[1];
  newest: number | undefined;
}

/** A unit's partial state as rows keyed for the merge: one per correlation group, finding, bucket; one for the baselines. */
export function partRows(partial: DetectorPartial, partitions: number, chained: boolean, unitUri: string): PartRow[] {
  const rows: PartRow[] = [];
  const snapshot = partial.correlation;
  if (snapshot !== undefined) {
    for (const group of snapshot.groups) {
      const used = new Map<number, number>();
      const contexts: CorrelationSnapshot['contexts'] = [];
      const entries = group.entries.map((entry) => {
        let at = used.get(entry.context);
        if (at === undefined) {
          at = contexts.length;
          used.set(entry.context, at);
          contexts.push(snapshot.contexts[entry.context] as CorrelationSnapshot['contexts'][number]);
        }
        return packEntry({ ...entry, context: at }, unitUri);
      });
      const key = `${group.correlation}\u0001${group.key}`;
      const payload: PackedGroup = { maxTime: snapshot.maxTime, contexts, correlation: group.correlation, groupBy: group.groupBy, key: group.key, values: group.values, decidedThrough: group.decidedThrough, entries };
      rows.push({ kind: 'group', key, partition: chained ? 0 : partitionOf(key, partitions), payload });
    }
  }
  if (partial.baseline !== undefined && Object.keys(partial.baseline.correlations).length > 0) rows.push({ kind: 'baseline', key: '', partition: -1, payload: partial.baseline });
  for (const finding of partial.findings) rows.push({ kind: 'finding', key: finding.version.id, partition: partitionOf(`finding\u0001${finding.version.id}`, partitions), payload: finding });
  for (const bucket of partial.flowCti) {
    const key = `${bucket.group}\u0001${bucket.start ?? '-'}`;
    rows.push({ kind: 'flow', key, partition: partitionOf(`flow\u0001${key}`, partitions), payload: bucket });
  }
  for (const bucket of partial.cloudTrailCti) {
    const key = `${bucket.group}\u0001${bucket.start ?? '-'}`;
    rows.push({ kind: 'cloudtrail', key, partition: partitionOf(`cloudtrail\u0001${key}`, partitions), payload: bucket });
  }
  return rows;
}

/**
 * One group's entries of one unit as a part: an entry is a short array, [time, key, input,
 * context, value?, eventIds?, count?, origin?], the tail left out when it says nothing (an
 * event's ids are its key, its count 1; its origin the record's index in this unit): most
 * correlated records are one such entry, so their size is what the shared state grows by. The
 * record itself never travels: the decider fetches the few an alert embeds (fillEvents).
 */
type PackedEntry = [number, string, number, number, (string | number | null)?, (string | string[] | null)?, number?, (number | [string, number] | null)?];

interface PackedGroup {
  maxTime: number | null;
  contexts: CorrelationSnapshot['contexts'];
  correlation: string;
  groupBy: string[];
  key: string;
  values: Record<string, string | null>;
  decidedThrough: number | null;
  entries: PackedEntry[];
}

type SnapshotEntry = CorrelationSnapshot['groups'][number]['entries'][number];

function packEntry(entry: SnapshotEntry, unitUri: string): PackedEntry {
  const origin = entry.origin === undefined ? null : entry.origin.uri === unitUri ? entry.origin.index : ([entry.origin.uri, entry.origin.index] as [string, number]);
  const packed: PackedEntry = [entry.time, entry.key, entry.input, entry.context, entry.value ?? null, entry.eventIds === entry.key ? null : entry.eventIds, entry.count, origin];
  let length = packed.length;
  while (length > 4) {
    const last = packed[length - 1];
    if (last === undefined || last === null || (length === 7 && last === 1)) length -= 1;
    else break;
  }
  packed.length = length;
  return packed;
}

function unpackGroup(group: PackedGroup, unitUri: string, origins: Map<string, Origin>): CorrelationSnapshot {
  const entries = group.entries.map((packed): SnapshotEntry => {
    const [time, key, input, context, value, eventIds, count, origin] = packed;
    const entry: SnapshotEntry = { time, key, input, context, eventIds: eventIds ?? key, count: count ?? 1 };
    if (value !== undefined && value !== null) entry.value = value;
    if (origin !== undefined && origin !== null) {
      entry.origin = typeof origin === 'number' ? { uri: unitUri, index: origin } : { uri: origin[0], index: origin[1] };
      // The first unit (input order) that holds an event is the one whose record a one-process scan keeps.
      if (!origins.has(key)) origins.set(key, entry.origin);
    }
    return entry;
  });
  return { version: 1, maxTime: group.maxTime, contexts: group.contexts, groups: [{ correlation: group.correlation, groupBy: group.groupBy, key: group.key, values: group.values, decidedThrough: group.decidedThrough, entries }] };
}

/**
 * Merges a partition's parts (in input order) into `decider` and decides: the alerts one
 * process would raise at the end. Correlation alerts that embed events get their records
 * fetched by origin (the entries travelled without them).
 */
export async function decide(decider: Detector, parts: readonly StoredPart[], fetchRecords?: (origins: readonly Origin[]) => Promise<Map<string, LogRecord>>): Promise<Alert[]> {
  const origins = new Map<string, Origin>();
  for (const part of parts) {
    const partial: DetectorPartial = { findings: [], flowCti: [], cloudTrailCti: [] };
    switch (part.kind) {
      case 'group':
        partial.correlation = unpackGroup(part.payload as PackedGroup, part.uri, origins);
        break;
      case 'baseline':
        partial.baseline = part.payload as NonNullable<DetectorPartial['baseline']>;
        break;
      case 'finding':
        partial.findings.push(part.payload as DetectorPartial['findings'][number]);
        break;
      case 'flow':
        partial.flowCti.push(part.payload as DetectorPartial['flowCti'][number]);
        break;
      case 'cloudtrail':
        partial.cloudTrailCti.push(part.payload as DetectorPartial['cloudTrailCti'][number]);
        break;
      default:
        continue;
    }
    decider.absorbPartial(partial);
  }
  const out: Alert[] = [];
  decider.flush(out);
  if (fetchRecords !== undefined) await fillEvents(out, origins, fetchRecords);
  return out;
}

/**
 * The records a correlation alert embeds, fetched by origin: those of its first
 * MAX_EMBEDDED_EVENTS event ids, which are the entries a one-process scan takes them from
 * (engine/correlation/alert.ts, summarizeBurst; a chained burst's events are its inner bursts').
 */
async function fillEvents(alerts: Alert[], origins: ReadonlyMap<string, Origin>, fetchRecords: (origins: readonly Origin[]) => Promise<Map<string, LogRecord>>): Promise<void> {
  const wanted: Origin[] = [];
  const needs: { alert: Alert; origins: Origin[] }[] = [];
  for (const alert of alerts) {
    if (alert.correlation === undefined || alert.events !== undefined) continue;
    const list = alert.event_ids.slice(0, MAX_EMBEDDED_EVENTS).flatMap((id) => {
      const origin = origins.get(id);
      return origin === undefined ? [] : [origin];
    });
    if (list.length === 0) continue;
    needs.push({ alert, origins: list });
    wanted.push(...list);
  }
  if (wanted.length === 0) return;
  const records = await fetchRecords(wanted);
  for (const need of needs) {
    const events = need.origins.flatMap((origin) => {
      const record = records.get(originKey(origin));
      return record === undefined ? [] : [record];
    });
    if (events.length > 0) need.alert.events = events;
  }
}

function originKey(origin: Origin): string {
  return `${origin.index}\u0001${origin.uri}`;
}

/** Reads the units the origins are in again and takes the records at those indexes (the decoder's own records). */
async function fetchByOrigin(request: JobScanRequest, origins: readonly Origin[]): Promise<Map<string, LogRecord>> {
  const byUri = new Map<string, Set<number>>();
  for (const origin of origins) {
    const set = byUri.get(origin.uri) ?? new Set<number>();
    set.add(origin.index);
    byUri.set(origin.uri, set);
  }
  const out = new Map<string, LogRecord>();
  for (const [uri, indexes] of byUri) {
    const unit = unitAt(uri, { ...request.timeRange, ...request.sourceOptions });
    if (unit === undefined) continue;
    const decode = {
      stats: { records: 0, skipped: 0, errors: 0 },
      onError: () => undefined,
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      ...(request.maxDecompressed === undefined ? {} : { maxDecompressed: request.maxDecompressed }),
    };
    try {
      await feedUnit(unit, { decode, bytes: (await prepareUnit(unit, request.maxDecompressed)) ?? {} }, (envelope) => {
        if (envelope.origin.uri === uri && indexes.has(envelope.origin.index)) out.set(originKey(envelope.origin), envelope.record);
      });
    } catch (error) {
      request.onError(located('TH_INPUT_READ', `cannot read the events of an alert again: ${(error as Error).message}; the alert is stored without them`, uri));
    }
  }
  return out;
}

/** Runs a database step again while the server is unreachable, up to `limitMs`; then TH_CLUSTER_UNAVAILABLE. */
function retrier(limitMs: number, note: (message: string) => void, timing: { ms: number }): <T>(step: () => Promise<T>) => Promise<T> {
  return async <T>(step: () => Promise<T>): Promise<T> => {
    let since: number | undefined;
    let delay = 200;
    for (;;) {
      const begun = performance.now();
      try {
        const result = await step();
        timing.ms += performance.now() - begun;
        if (since !== undefined) note(`PostgreSQL is reachable again after ${((Date.now() - since) / 1000).toFixed(1)}s; going on`);
        return result;
      } catch (error) {
        if (!(error instanceof StoreError) || !error.transient) throw error;
        const now = Date.now();
        if (since === undefined) {
          since = now;
          note(`PostgreSQL is unreachable (${error.message}); retrying for up to ${Math.round(limitMs / 1000)}s`);
        }
        if (now - since > limitMs) throw new ClusterUnavailable(`PostgreSQL was unreachable for ${Math.round((now - since) / 1000)}s: ${error.message}`);
        await sleep(delay);
        delay = Math.min(2000, delay * 2);
      }
    }
  };
}

export class ClusterUnavailable extends Error {}
