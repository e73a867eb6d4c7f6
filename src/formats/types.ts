import type { LocatedError } from '../core/errors.ts';
import type { Envelope, LogSourceName, Origin } from '../core/envelope.ts';
import type { FlowLineView } from './vpcflow/line-scan.ts';

/** Counters a decoder updates for the closing summary. */
export interface DecodeStats {
  /** Records turned into envelopes. */
  records: number;
  /** Records or values deliberately skipped (digest files, CONTROL_MESSAGE, sample findings...). */
  skipped: number;
  /** Located errors reported (each also went to onError). */
  errors: number;
}

export interface DecodeOptions {
  /** Called once per damaged input, value or record; decoding then goes on where it can. */
  onError: (error: LocatedError) => void;
  stats: DecodeStats;
  /** VPC Flow Logs format string (`${version} ${account-id} ...`) for header-less flow records. */
  flowFormat?: string;
  /** Envelopes per yielded batch; the default suits the engine's hot loop. */
  batchSize?: number;
  /**
   * Decompressed bytes a gzip unit may yield (default DEFAULT_MAX_DECOMPRESSED_BYTES, 4 GiB):
   * beyond it the unit stops with TH_INPUT_LIMIT, the records before it kept.
   */
  maxDecompressed?: number;
  /**
   * The limit of the payloads embedded in a unit's values only (base64/gzip inside JSON), when the
   * unit's own bytes were already decompressed under --max-decompressed elsewhere (a scan worker).
   * Default: maxDecompressed.
   */
  payloadLimit?: number;
  /**
   * Reads VPC Flow Logs text lines in place of envelopes: when given, the text decoder builds no
   * record and hands each good line to the tap instead (the threat-intel fast path, used when no
   * Sigma rule reads flow records). It still counts records and yields an empty batch every
   * batchSize lines, so the caller can collect what the tap raised.
   */
  flowTap?: FlowLineTap;
}

/** Sees each good flow-log line, as a view valid only during the call (see FlowLineView). */
export interface FlowLineTap {
  /** `index` is the record's 0-based index in the unit, as an envelope's origin would hold it. */
  line(view: FlowLineView, uri: string, index: number): void;
}

/**
 * What the payloads embedded in one unit's values (base64 and gzip inside JSON: CloudWatch Logs
 * subscriptions, Firehose records) may decompress to, together: the unit's --max-decompressed.
 */
export interface PayloadBudget {
  readonly limit: number;
  /** Decompressed bytes spent so far (a payload stopped at its limit counts what it inflated). */
  used: number;
}

/** Handed to a JSON format while it unwraps one top-level JSON value. */
export interface UnwrapContext {
  uri: string;
  /** 1-based line where the top-level value starts, when known. */
  line?: number;
  /** 0-based index of the top-level JSON value in the unit (several per file: JSON lines, `}{`). */
  valueIndex?: number;
  /** The location of a member of the current value: `uri#<valueIndex><member>`, e.g. `.Records[3]`. */
  locate?(member: string): string;
  /** The origin of the next record: assigns the unit-wide record index. */
  nextOrigin(line?: number): Origin;
  /** Reports a located error for one bad member and lets the caller go on with the rest. */
  reportError(error: LocatedError): void;
  /** Counts a deliberately skipped value or record. */
  countSkipped(): void;
  /** DecodeOptions.flowFormat, for flow-log lines carried inside JSON (CloudWatch Logs payloads). */
  readonly flowFormat?: string | undefined;
  /** Shared by every embedded payload of the unit; absent: each payload only has its own cap. */
  readonly payloadBudget?: PayloadBudget;
}

/**
 * A log format carried as JSON (CloudTrail in all its envelopes, GuardDuty findings).
 * The dispatcher parses each top-level JSON value once and offers it to each JSON format
 * in registry order; the first that recognises it unwraps it.
 */
export interface JsonFormat {
  source: LogSourceName;
  /** Cheap structural test of a parsed top-level JSON value (an object, an array, anything). */
  recognise(value: unknown): boolean;
  /**
   * The envelopes inside the value. Bad members are reported through ctx, never thrown.
   * When the dispatcher rebuilt a damaged value (see recordArrays), a damaged array element is
   * `undefined` (JSON never yields undefined): it was already reported, so skip it silently.
   */
  unwrap(value: unknown, ctx: UnwrapContext): Envelope[];
  /**
   * Top-level keys whose array elements are independent records (`Records`, `Events`...).
   * When a value fails to parse, the dispatcher recovers the intact elements of these arrays
   * (and of a top-level array) and offers the rebuilt value; other damage loses the value.
   */
  recordArrays?: readonly string[];
}

/**
 * A log format carried as text lines (VPC Flow Logs). It reads the decompressed byte
 * stream itself so it can scan bytes without building a string per line.
 */
export interface TextFormat {
  source: LogSourceName;
  /** Test of the first line of the decompressed input. */
  sniff(firstLine: string): boolean;
  decode(bytes: AsyncIterable<Buffer>, uri: string, options: DecodeOptions): AsyncIterable<Envelope[]>;
}
