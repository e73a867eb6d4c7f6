/**
 * The one loop that turns an input unit into work for the engine, shared by the batch scan
 * (src/scan/: on its main thread and in its workers) and by the service (src/service/): decode
 * the unit (from its bytes when they were read whole, else streamed), leave out and count what
 * lies outside the time range, hand every other envelope to `onEnvelope`, and after each batch
 * tell `onBatch` what that batch added to the counters. Bad input never throws: the decoder
 * reports it through `decode.onError` and goes on.
 */
import type { Envelope } from '../core/envelope.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { inRange, type TimeRange } from '../core/time-range.ts';
import type { DecodeOptions } from '../formats/types.ts';
import { decodeUnitBytes, type WholeUnitBytes } from '../formats/read-unit.ts';
import type { RawPrefilter } from '../formats/cloudtrail/record-scan.ts';

export interface FeedUnitOptions {
  /** Where errors and counters go; flowFormat and flowTap as the decoder takes them. */
  decode: DecodeOptions;
  /** The unit's bytes when read ahead (formats/read-unit.ts); absent or empty: streamed. */
  bytes?: WholeUnitBytes;
  /** CloudTrail S3 files: parse only the records some rule may match (engine/prefilter/cloudtrail.ts). */
  prefilter?: RawPrefilter | undefined;
  /** Envelopes outside it are counted in `outsideTimeRange`, never fed. */
  range?: TimeRange;
  /** Stops between batches once aborted. */
  signal?: AbortSignal;
}

/** What one batch added: decoded records, skipped values, envelopes outside the range; its newest event time. */
export interface BatchFed {
  records: number;
  skipped: number;
  outsideTimeRange: number;
  /** -Infinity for a batch without a valid event time. */
  newest: number;
}

/**
 * Decodes `unit` and feeds its in-range envelopes, in record order. Resolves at its end (or
 * abort) with what the decoder counted after the last batch (a damaged tail, a skipped value),
 * which no onBatch call reported.
 */
export async function feedUnit(
  unit: InputUnit,
  options: FeedUnitOptions,
  onEnvelope: (envelope: Envelope) => void,
  onBatch?: (fed: BatchFed) => void | Promise<void>,
): Promise<Pick<BatchFed, 'records' | 'skipped'>> {
  const { stats } = options.decode;
  const range = options.range ?? {};
  const ranged = range.since !== undefined || range.until !== undefined;
  let records = stats.records;
  let skipped = stats.skipped;
  for await (const batch of decodeUnitBytes(unit, options.bytes ?? {}, options.decode, options.prefilter)) {
    let outside = 0;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < batch.length; i++) {
      const envelope = batch[i] as Envelope;
      if (ranged && !inRange(envelope.time, range)) {
        outside++;
        continue;
      }
      if (envelope.time > newest) newest = envelope.time;
      onEnvelope(envelope);
    }
    const fed: BatchFed = { records: stats.records - records, skipped: stats.skipped - skipped, outsideTimeRange: outside, newest };
    records = stats.records;
    skipped = stats.skipped;
    await onBatch?.(fed);
    if (options.signal?.aborted === true) break;
  }
  return { records: stats.records - records, skipped: stats.skipped - skipped };
}
