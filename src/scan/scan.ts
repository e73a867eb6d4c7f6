import { availableParallelism } from 'node:os';
import type { LocatedError } from '../core/errors.ts';
import type { Alert } from '../core/alert.ts';
import type { Detector } from '../engine/detector.ts';
import type { Envelope } from '../core/envelope.ts';
import type { FlowTap } from '../engine/cti/flow-tap.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { DecodeStats } from '../formats/types.ts';
import { DEFAULT_BATCH_SIZE } from '../formats/batcher.ts';
import { expandInputs } from '../sources/index.ts';
import type { SourceOptions } from '../sources/index.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { scanParallel } from './parallel-scan.ts';
import { decodeUnitBytes, prepareUnit } from '../formats/read-unit.ts';
import type { UnitBytes } from '../formats/read-unit.ts';
import type { RawPrefilter } from '../formats/cloudtrail/record-scan.ts';
import type { DetectorRecipe } from './worker-recipe.ts';
import { inRange } from '../core/time-range.ts';
import type { TimeRange } from '../core/time-range.ts';

export { inRange } from '../core/time-range.ts';
export type { TimeRange } from '../core/time-range.ts';

export interface ScanRequest {
  inputs: string[];
  detector: Detector;
  timeRange?: TimeRange;
  flowFormat?: string;
  /** Passed to the sources (S3 client settings, account and region filters); timeRange is added. */
  sourceOptions?: SourceOptions;
  onAlert: (alert: Alert) => void | Promise<void>;
  onError: (error: LocatedError) => void;
  /** Called after each batch with running totals (the CLI throttles what it shows). */
  onProgress?: (summary: Readonly<ScanSummary>) => void;
  /**
   * Worker threads: how many, and how each rebuilds the stateless side of `detector` (same
   * rules, same intel). Absent or count 1: everything on this thread.
   */
  workers?: {
    count: number;
    recipe: DetectorRecipe;
    /** Scan on the main thread until a worker has loaded its rules (default true; tests turn it off). */
    mainThreadWhileBooting?: boolean;
  };
  /** Parse only the CloudTrail records some rule may match, where that provably changes nothing (default true). */
  rawPrefilter?: boolean;
}

export interface ScanSummary {
  /** Input units (files, objects, stdin) opened. */
  inputs: number;
  /** Input units that reported at least one error. */
  inputsWithErrors: number;
  /** Records decoded. */
  records: number;
  /** Values deliberately skipped by the decoders (digest files, control messages...). */
  skipped: number;
  /** Records left out by --since / --until, including those without an event time. */
  outsideTimeRange: number;
  /** Located input errors (damaged files, invalid JSON, bad records). */
  inputErrors: number;
  alerts: number;
  alertsByLevel: Record<SigmaLevel, number>;
  startedAt: number;
  durationMs: number;
}

export function emptySummary(): ScanSummary {
  return {
    inputs: 0,
    inputsWithErrors: 0,
    records: 0,
    skipped: 0,
    outsideTimeRange: 0,
    inputErrors: 0,
    alerts: 0,
    alertsByLevel: { informational: 0, low: 0, medium: 0, high: 0, critical: 0 },
    startedAt: Date.now(),
    durationMs: 0,
  };
}

/**
 * One scan in progress: the summary, the alerts waiting to be emitted, and how a unit's
 * envelopes reach the Detector. Used the same way by the in-process loop and, on the main
 * thread, by parallel-scan.ts.
 */
export class ScanRun {
  readonly request: ScanRequest;
  readonly summary = emptySummary();
  readonly range: TimeRange;
  readonly sourceOptions: SourceOptions;
  /** Text flow logs skip building records unless a Sigma flow rule may match (Detector.flowTap). */
  readonly flowTap: FlowTap | undefined;
  /** The raw pre-filter for CloudTrail S3 files, where it provably applies (Detector.rawPrefilter). */
  readonly prefilter: RawPrefilter | undefined;
  private readonly alerts: Alert[] = [];

  constructor(request: ScanRequest) {
    this.request = request;
    this.range = request.timeRange ?? {};
    this.sourceOptions = { ...this.range, ...request.sourceOptions };
    this.flowTap = request.detector.flowTap(this.range);
    // Records outside --since / --until are counted, so all must be read: no pre-filter then.
    const ranged = this.range.since !== undefined || this.range.until !== undefined;
    this.prefilter = request.rawPrefilter === false || ranged ? undefined : request.detector.rawPrefilter().prefilter;
  }

  readonly onInputError = (error: LocatedError): void => {
    this.summary.inputErrors += 1;
    this.request.onError(error);
  };

  private async emit(): Promise<void> {
    const { alerts, summary } = this;
    for (const alert of alerts) {
      summary.alerts += 1;
      summary.alertsByLevel[alert.rule.level] += 1;
      await this.request.onAlert(alert);
    }
    alerts.length = 0;
  }

  /** `matched[i]`, when given: the rules batch[i] matches, as a scan worker found them. */
  private process(batch: readonly Envelope[], matched?: ReadonlyArray<readonly CompiledDetectionRule[] | undefined>): void {
    const { detector } = this.request;
    for (let i = 0; i < batch.length; i++) {
      const envelope = batch[i] as Envelope;
      if (!inRange(envelope.time, this.range)) {
        this.summary.outsideTimeRange += 1;
        continue;
      }
      detector.process(envelope, this.alerts, matched?.[i]);
    }
    detector.collect(this.alerts);
  }

  /** Decodes one unit on this thread (from its bytes when read whole) and runs the Detector. */
  async decodeUnit(unit: InputUnit, bytes: UnitBytes): Promise<void> {
    const summary = this.summary;
    summary.inputs += 1;
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    const options = {
      onError: this.onInputError,
      stats,
      ...(this.request.flowFormat === undefined ? {} : { flowFormat: this.request.flowFormat }),
      ...(this.flowTap === undefined ? {} : { flowTap: this.flowTap }),
    };
    let recordsBefore = 0;
    let skippedBefore = 0;
    for await (const batch of decodeUnitBytes(unit, bytes, options, this.prefilter)) {
      this.process(batch);
      summary.records += stats.records - recordsBefore;
      summary.skipped += stats.skipped - skippedBefore;
      recordsBefore = stats.records;
      skippedBefore = stats.skipped;
      if (this.alerts.length > 0) await this.emit();
      this.request.onProgress?.(summary);
    }
    summary.records += stats.records - recordsBefore;
    summary.skipped += stats.skipped - skippedBefore;
    if (stats.errors > 0) summary.inputsWithErrors += 1;
    this.request.detector.collect(this.alerts);
    if (this.alerts.length > 0) await this.emit();
  }

  /** Applies what a worker made of one unit: its errors, counts, and the envelopes to act on. */
  async applyResult(unit: InputUnit, result: { envelopes: Envelope[]; matched?: ReadonlyArray<readonly CompiledDetectionRule[] | undefined>; stats: DecodeStats; errors: LocatedError[]; outsideTimeRange: number }): Promise<void> {
    const summary = this.summary;
    summary.inputs += 1;
    for (const error of result.errors) this.onInputError(error);
    summary.outsideTimeRange += result.outsideTimeRange;
    const { envelopes, matched } = result;
    for (let i = 0; i < envelopes.length; i += DEFAULT_BATCH_SIZE) {
      const whole = i === 0 && envelopes.length <= DEFAULT_BATCH_SIZE;
      this.process(whole ? envelopes : envelopes.slice(i, i + DEFAULT_BATCH_SIZE), whole ? matched : matched?.slice(i, i + DEFAULT_BATCH_SIZE));
      if (this.alerts.length > 0) await this.emit();
    }
    summary.records += result.stats.records;
    summary.skipped += result.stats.skipped;
    if (result.stats.errors > 0) summary.inputsWithErrors += 1;
    this.request.onProgress?.(summary);
  }

  /** The end of the input: what only the end completes, the last counters. */
  async finish(): Promise<ScanSummary> {
    this.request.detector.flush(this.alerts);
    await this.emit();
    this.summary.outsideTimeRange += this.flowTap?.outsideTimeRange ?? 0;
    this.summary.durationMs = Date.now() - this.summary.startedAt;
    return this.summary;
  }
}

/** Worker threads used when the request does not say: every core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Reads every input, decodes it, and runs the detector: the whole scan, in input order.
 * Bad input never stops it: each damaged unit is reported and counted, the rest goes on.
 * With more than one worker, units are decoded on worker threads (parallel-scan.ts) and the
 * alerts are the same, in the same order, as on one thread.
 */
export async function scan(request: ScanRequest): Promise<ScanSummary> {
  const run = new ScanRun(request);
  const workers = request.workers;
  if (workers !== undefined && workers.count > 1) {
    await scanParallel(run, workers.count, workers.mainThreadWhileBooting !== false, {
      recipe: workers.recipe,
      range: run.range,
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      prefilter: run.prefilter !== undefined,
    });
    return run.finish();
  }
  // One thread: the next unit is read and gunzipped (zlib's pool) while this one is decoded.
  const units = expandInputs(request.inputs, run.onInputError, run.sourceOptions)[Symbol.asyncIterator]();
  let next = await units.next();
  let nextBytes = next.done === true ? undefined : prepareUnit(next.value);
  while (next.done !== true) {
    const unit = next.value;
    const bytes = (await nextBytes) ?? {};
    next = await units.next();
    nextBytes = next.done === true ? undefined : prepareUnit(next.value);
    await run.decodeUnit(unit, bytes);
  }
  return run.finish();
}
