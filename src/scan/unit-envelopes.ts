/**
 * The stateless half of scanning one unit, shared by the scan workers and the main thread when
 * it takes a unit itself (parallel-scan.ts): decode the unit's JSON bytes and keep the
 * envelopes the Detector may act on (Matcher.mayAct), with the unit's counts and errors. The
 * stateful half (Detector.process) runs later, in input order (ScanRun.applyResult).
 */
import type { LocatedError } from '../core/errors.ts';
import type { DecodeStats } from '../formats/types.ts';
import type { Matcher } from '../engine/match/matcher.ts';
import type { Envelope } from '../core/envelope.ts';
import type { TimeRange } from '../core/time-range.ts';
import { feedUnit } from '../engine/feed-unit.ts';
import type { RawPrefilter } from '../formats/cloudtrail/record-scan.ts';

export interface UnitEnvelopes {
  /** In-range envelopes that Matcher.mayAct() kept, in record order. */
  envelopes: Envelope[];
  /**
   * Per kept envelope, in order: how many rules it matches, then their ordinals in load order
   * (RuleIndex.ordinalOf), or -1 alone where the Detector matches again (not CloudTrail).
   */
  matched: Int32Array;
  stats: DecodeStats;
  /** Located errors, in the order the decoder reported them. */
  errors: LocatedError[];
  outsideTimeRange: number;
}

export interface UnitEnvelopesOptions {
  range: TimeRange;
  prefilter?: RawPrefilter | undefined;
  flowFormat?: string | undefined;
  /** --max-decompressed: the unit is already decompressed; this bounds the payloads embedded in it (CloudWatch Logs, Firehose). */
  maxDecompressed?: number | undefined;
}

/** Decodes a unit's decompressed JSON bytes into the envelopes the Detector may act on. */
export async function unitEnvelopes(uri: string, plain: Buffer, matcher: Matcher, options: UnitEnvelopesOptions): Promise<UnitEnvelopes> {
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const errors: LocatedError[] = [];
  const envelopes: Envelope[] = [];
  const matched: number[] = [];
  const ordinals: number[] = [];
  let outsideTimeRange = 0;
  const decode = {
    onError: (error: LocatedError) => errors.push(error),
    stats,
    ...(options.flowFormat === undefined ? {} : { flowFormat: options.flowFormat }),
    ...(options.maxDecompressed === undefined ? {} : { payloadLimit: options.maxDecompressed }),
  };
  const unit = { uri, size: plain.length, open: () => { throw new Error('unreachable: the unit is decoded from memory'); } };
  await feedUnit(
    unit,
    { decode, bytes: { plain }, prefilter: options.prefilter, range: options.range },
    (envelope) => {
      ordinals.length = 0;
      if (!matcher.mayAct(envelope, ordinals)) return;
      envelopes.push(envelope);
      if (envelope.source === 'cloudtrail') matched.push(ordinals.length, ...ordinals);
      else matched.push(-1);
    },
    (fed) => {
      outsideTimeRange += fed.outsideTimeRange;
    },
  );
  return { envelopes, matched: Int32Array.from(matched), stats, errors, outsideTimeRange };
}
