import type { LocatedError } from '../core/errors.ts';
import type { Alert } from '../core/alert.ts';
import type { Detector } from '../engine/detector.ts';
import type { Envelope } from '../core/envelope.ts';
import type { FlowTap } from '../engine/cti/flow-tap.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { DecodeStats } from '../formats/types.ts';
import { DEFAULT_BATCH_SIZE } from '../formats/batcher.ts';
import type { SourceOptions } from '../sources/index.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { feedUnit } from '../engine/feed-unit.ts';
import type { WholeUnitBytes } from '../formats/read-unit.ts';
import type { RawPrefilter } from '../formats/cloudtrail/record-scan.ts';
import type { MatcherRecipe } from './worker-recipe.ts';
import { inRange } from '../core/time-range.ts';
import type { TimeRange } from '../core/time-range.ts';

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
    recipe: MatcherRecipe;
    /** Scan on the main thread until a worker has loaded its rules (default true; tests turn it off). */
    mainThreadWhileBooting?: boolean;
  };
  /** Parse only the CloudTrail records some rule may match, where that provably changes nothing (default true). */
  rawPrefilter?: boolean;
  /**
   * Decompressed bytes a gzip input may yield (`--max-decompressed`; default
   * formats/open-unit.ts DEFAULT_MAX_DECOMPRESSED_BYTES): beyond it the input stops with
   * TH_INPUT_LIMIT, the records before it kept.
   */
  maxDecompressed?: number;
}

export interface ScanSummary {
  /**
   * Inputs: the units (files, objects, stdin) read, and each path, folder, link or special
   * file that could not be read or was refused (that one counted in inputsWithErrors too).
   */
  inputs: number;
  /** Inputs that reported at least one error, those that could not be read included. */
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
    this.prefilter = request.rawPrefilter === false || ranged ? undefined : request.detector.matcher.rawPrefilter().prefilter;
  }

  /** An error inside a unit being decoded: counted; the unit counts itself (decodeUnit, applyResult). */
  readonly onDecodeError = (error: LocatedError): void => {
    this.summary.inputErrors += 1;
    this.request.onError(error);
  };

  /**
   * An error while listing the inputs (sources.expandInputs): a path that does not exist, a
   * folder or link that cannot be read, a special file or a link out of the tree. Each is an
   * input that had an error, never read.
   */
  readonly onInputError = (error: LocatedError): void => {
    this.summary.inputs += 1;
    this.summary.inputsWithErrors += 1;
    this.onDecodeError(error);
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
  async decodeUnit(unit: InputUnit, bytes: WholeUnitBytes): Promise<void> {
    const { summary, alerts } = this;
    const { detector } = this.request;
    summary.inputs += 1;
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    const decode = {
      onError: this.onDecodeError,
      stats,
      ...(this.request.maxDecompressed === undefined ? {} : { maxDecompressed: this.request.maxDecompressed }),
      ...(this.request.flowFormat === undefined ? {} : { flowFormat: this.request.flowFormat }),
      ...(this.flowTap === undefined ? {} : { flowTap: this.flowTap }),
    };
    const rest = await feedUnit(
      unit,
      { decode, bytes, prefilter: this.prefilter, range: this.range },
      (envelope) => detector.process(envelope, alerts),
      async (fed) => {
        detector.collect(alerts);
        summary.outsideTimeRange += fed.outsideTimeRange;
        summary.records += fed.records;
        summary.skipped += fed.skipped;
        if (alerts.length > 0) await this.emit();
        this.request.onProgress?.(summary);
      },
    );
    summary.records += rest.records;
    summary.skipped += rest.skipped;
    if (stats.errors > 0) summary.inputsWithErrors += 1;
    detector.collect(alerts);
    if (alerts.length > 0) await this.emit();
  }

  /** Applies what a worker made of one unit: its errors, counts, and the envelopes to act on. */
  async applyResult(unit: InputUnit, result: { envelopes: Envelope[]; matched?: ReadonlyArray<readonly CompiledDetectionRule[] | undefined>; stats: DecodeStats; errors: LocatedError[]; outsideTimeRange: number }): Promise<void> {
    const summary = this.summary;
    summary.inputs += 1;
    for (const error of result.errors) this.onDecodeError(error);
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

