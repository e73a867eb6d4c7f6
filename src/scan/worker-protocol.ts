/**
 * The messages between the scan's main thread and its worker threads (parallel-scan.ts,
 * worker-thread.ts). Plain data: they are structured-cloned, buffers transferred.
 */
import type { LocatedError } from '../core/errors.ts';
import type { DecodeStats } from '../formats/types.ts';
import type { MatcherRecipe } from './worker-recipe.ts';
import type { TimeRange } from '../core/time-range.ts';

/** workerData of every worker. */
export interface WorkerInit {
  recipe: MatcherRecipe;
  range: TimeRange;
  flowFormat?: string;
  /** Use the raw pre-filter on CloudTrail S3 files (the main thread decided it applies). */
  prefilter: boolean;
}

/** Main to worker: decode one unit from its bytes as stored. */
export interface UnitJob {
  seq: number;
  uri: string;
  raw: Uint8Array;
}

/** Worker to main: what one unit gave, in record order. */
export type UnitResult =
  | {
      kind: 'done';
      seq: number;
      /**
       * In-range envelopes that Matcher.mayAct() kept, in order, as JSON text (JSON.parse reads
       * it back faster than a structured clone), with their times apart (NaN is not JSON).
       */
      envelopes: string;
      times: Float64Array;
      /** The rules each envelope matches (UnitEnvelopes.matched), by the worker's rule ordinals. */
      matched: Int32Array;
      stats: DecodeStats;
      /** Located errors, in the order the decoder reported them. */
      errors: LocatedError[];
      outsideTimeRange: number;
    }
  | {
      /** Not JSON (flow logs, Parquet), or its gzip is damaged: the main thread decodes it from these bytes. */
      kind: 'defer';
      seq: number;
      /** Decompressed bytes, or the stored ones when they could not be gunzipped. */
      bytes: Uint8Array;
      plain: boolean;
    }
  /** Rules loaded; `rules` is the worker's RuleIndex.fingerprint(), to check its ordinals are the main thread's. */
  | { kind: 'ready'; rules: string }
  | { kind: 'failed'; message: string };
