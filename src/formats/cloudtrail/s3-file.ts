/**
 * A CloudTrail S3 delivery file (`{"Records":[...]}`) held whole in memory: parsed in one
 * piece and unwrapped by the format's own unwrap (format.ts), or, with a raw pre-filter, split
 * on its bytes (record-scan-wasm.ts, record-scan.ts) so that only the records some rule may
 * match are parsed. Either way undefined for anything else, and the ordinary decoder reads it.
 */
import type { Envelope } from '../../core/envelope.ts';
import { isJsonObject } from '../../core/json-object.ts';
import type { DecodeOptions, UnwrapContext } from '../types.ts';
import { cloudTrailEnvelope, cloudTrailFormat, isCloudTrailRecord } from './format.ts';
import type { RawPrefilter } from './record-scan.ts';
import { scanRecordsFast } from './record-scan-wasm.ts';

/**
 * The JSON text of each record the pre-filter parsed on its own, so that a scan worker
 * forwards that text instead of serialising the record again (JSON.parse of either gives the
 * same value).
 */
export const recordTexts = new WeakMap<object, string>();

/**
 * Spans shorter than this are checked for an empty object. An empty object padded with more
 * white space than this inside is taken for a record: it matches no rule either way.
 */
const EMPTY_SPAN_MAX = 64;

/** True when plain[start, end) is `{` white space `}`: the span of an empty object. */
function isEmptySpan(plain: Buffer, start: number, end: number): boolean {
  let i = start + 1;
  while (i < end && (plain[i] === 0x20 || plain[i] === 0x0a || plain[i] === 0x0d || plain[i] === 0x09)) i++;
  return plain[i] === 0x7d;
}

/**
 * The envelopes of a CloudTrail S3 file whose records the pre-filter did not rule out, or
 * undefined when the file must be decoded the ordinary way.
 */
export function prefilteredS3File(uri: string, plain: Buffer, prefilter: RawPrefilter, options: DecodeOptions): Envelope[] | undefined {
  const spans = scanRecordsFast(plain, prefilter);
  if (spans === undefined) return undefined;
  const out: Envelope[] = [];
  const count = spans.length / 3;
  // An empty object (`{}`) is junk the decoder reports: let it read the file. A pass of its
  // own over the spans, and only short spans looked at (no CloudTrail record is under
  // EMPTY_SPAN_MAX bytes): the bytes of ordinary records are not touched again.
  for (let k = 0; k < count; k++) {
    const start = spans[3 * k] as number;
    const end = spans[3 * k + 1] as number;
    if (end - start < EMPTY_SPAN_MAX && isEmptySpan(plain, start, end)) return undefined;
  }
  for (let k = 0; k < count; k++) {
    const wanted = spans[3 * k + 2] !== 0;
    // The first record is always parsed: it decides that the file is CloudTrail.
    if (!wanted && k > 0) continue;
    const start = spans[3 * k] as number;
    const end = spans[3 * k + 1] as number;
    let record: unknown;
    const text = plain.toString('utf8', start, end);
    try {
      record = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (k === 0 && !isCloudTrailRecord(record)) return undefined;
    if (!wanted) continue;
    const value = record as Record<string, unknown>;
    recordTexts.set(value, text);
    out.push(cloudTrailEnvelope(value, { uri, index: k }));
  }
  options.stats.records += count;
  return out;
}

/**
 * The envelopes of a CloudTrail S3 file (one `{"Records":[...]}` document of objects) parsed in
 * one piece, as the decoder would make them; undefined for anything else (then the decoder
 * reads it, and reports what it finds).
 */
export function wholeS3File(uri: string, plain: Buffer, options: DecodeOptions): Envelope[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(plain.toString('utf8'));
  } catch {
    return undefined;
  }
  // The decoder's own test (the first JSON format that recognises a value unwraps it) and its
  // own unwrap; a file that needs a report (an element that is not an object) goes back to the
  // decoder, which reports it where it always does.
  if (!isJsonObject(value) || !Array.isArray(value.Records) || isCloudTrailRecord(value) || !cloudTrailFormat.recognise(value)) return undefined;
  let index = 0;
  let clean = true;
  const ctx: UnwrapContext = {
    uri,
    nextOrigin: () => ({ uri, index: index++ }),
    reportError: () => {
      clean = false;
    },
    countSkipped: () => {
      clean = false;
    },
  };
  const out = cloudTrailFormat.unwrap(value, ctx);
  if (!clean) return undefined;
  options.stats.records += out.length;
  return out;
}
