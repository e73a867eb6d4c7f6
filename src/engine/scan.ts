import type { LocatedError } from '../errors.ts';
import type { Alert } from './alert.ts';
import type { Detector } from './detector.ts';
import type { SigmaLevel } from '../sigma/types.ts';
import type { DecodeStats } from '../formats/types.ts';
import { decodeUnit } from '../formats/index.ts';
import { expandInputs } from '../sources/index.ts';
import type { SourceOptions } from '../sources/index.ts';

/** Event-time bounds from --since / --until, epoch ms, inclusive. */
export interface TimeRange {
  since?: number;
  until?: number;
}

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

function inRange(time: number, range: TimeRange): boolean {
  if (range.since === undefined && range.until === undefined) return true;
  if (!Number.isFinite(time)) return false;
  if (range.since !== undefined && time < range.since) return false;
  if (range.until !== undefined && time > range.until) return false;
  return true;
}

/**
 * Reads every input, decodes it, and runs the detector: the whole scan, in input order.
 * Bad input never stops it: each damaged unit is reported and counted, the rest goes on.
 */
export async function scan(request: ScanRequest): Promise<ScanSummary> {
  const summary = emptySummary();
  const range = request.timeRange ?? {};
  const alerts: Alert[] = [];

  const emit = async (): Promise<void> => {
    for (const alert of alerts) {
      summary.alerts += 1;
      summary.alertsByLevel[alert.rule.level] += 1;
      await request.onAlert(alert);
    }
    alerts.length = 0;
  };

  const onInputError = (error: LocatedError): void => {
    summary.inputErrors += 1;
    request.onError(error);
  };

  // Text flow logs skip building records unless a Sigma flow rule may match (Detector.flowTap).
  const flowTap = request.detector.flowTap(range);
  for await (const unit of expandInputs(request.inputs, onInputError, { ...range, ...request.sourceOptions })) {
    summary.inputs += 1;
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    const options = {
      onError: onInputError,
      stats,
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      ...(flowTap === undefined ? {} : { flowTap }),
    };
    let recordsBefore = 0;
    let skippedBefore = 0;
    for await (const batch of decodeUnit(unit, options)) {
      for (const envelope of batch) {
        if (!inRange(envelope.time, range)) {
          summary.outsideTimeRange += 1;
          continue;
        }
        request.detector.process(envelope, alerts);
      }
      request.detector.collect(alerts);
      summary.records += stats.records - recordsBefore;
      summary.skipped += stats.skipped - skippedBefore;
      recordsBefore = stats.records;
      skippedBefore = stats.skipped;
      if (alerts.length > 0) await emit();
      request.onProgress?.(summary);
    }
    summary.records += stats.records - recordsBefore;
    summary.skipped += stats.skipped - skippedBefore;
    if (stats.errors > 0) summary.inputsWithErrors += 1;
  }
  request.detector.flush(alerts);
  await emit();
  summary.outsideTimeRange += flowTap?.outsideTimeRange ?? 0;
  summary.durationMs = Date.now() - summary.startedAt;
  return summary;
}
