/**
 * The content of an embedded payload (already base64-decoded and gunzipped, payload.ts) into
 * envelopes, synchronously, while the enclosing format unwraps its value:
 *
 * - JSON (first content byte `{` or `[`): one value, JSON lines or values back to back (`}{`),
 *   through the same streaming splitter and dispatcher as a unit's JSON (json/stream.ts), so a
 *   CloudTrail record, a `{"Records":[...]}` body, a CloudWatch Logs DATA_MESSAGE (CloudTrail
 *   or flow logs) or a GuardDuty finding read as they would in a file, damage included;
 * - VPC Flow Logs text (the first line sniffed as for a unit), header-less lines;
 * - anything else is one TH_INPUT_FORMAT at the payload.
 *
 * `formats` are the JSON formats a payload may hold: never the ones that embed payloads
 * themselves, so nesting stops at one level whatever the input.
 */
import { located } from '../../core/errors.ts';
import type { Envelope } from '../../core/envelope.ts';
import { Batcher } from '../batcher.ts';
import { JsonDispatcher } from '../json/dispatch.ts';
import { JsonStreamDecoder } from '../json/stream.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';
import { sniffFlowLine } from '../vpcflow/format.ts';
import { EmbeddedFlowLines } from '../vpcflow/embedded-lines.ts';
import { EmbeddedContext } from './context.ts';

/** Bytes of a payload's first line handed to the text sniff, at most. */
const SNIFF_BYTES = 4096;

function firstContent(bytes: Buffer): number {
  let i = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return -1;
}

/**
 * The envelopes in `bytes`, the decoded payload found at `where` (`file#0.records[3].data`);
 * errors are reported through `ctx`, located inside the payload.
 */
export function decodeEmbedded(bytes: Buffer, where: string, ctx: UnwrapContext, formats: readonly JsonFormat[]): Envelope[] {
  const at = firstContent(bytes);
  if (at === -1) return []; // an empty payload holds no record
  const first = bytes[at];
  if (first === 0x7b || first === 0x5b) {
    const inner = new EmbeddedContext(ctx, where);
    // One batch for the whole payload: the caller hands the envelopes to the unit's batcher.
    const batcher = new Batcher(Number.MAX_SAFE_INTEGER);
    const decoder = new JsonStreamDecoder(inner, new JsonDispatcher(formats, inner, batcher));
    decoder.push(at === 0 ? bytes : bytes.subarray(at));
    decoder.end(false);
    const batches = batcher.take(true);
    return batches.length === 1 ? (batches[0] as Envelope[]) : batches.flat();
  }
  const newline = bytes.indexOf(0x0a, at);
  const firstLine = bytes.toString('utf8', at, Math.min(newline === -1 ? bytes.length : newline, at + SNIFF_BYTES)).replace(/\r$/, '');
  if (sniffFlowLine(firstLine)) {
    const out: Envelope[] = [];
    new EmbeddedFlowLines(ctx.flowFormat, (error) => ctx.reportError(error)).push(bytes, where, out, () => ctx.nextOrigin());
    return out;
  }
  ctx.reportError(located('TH_INPUT_FORMAT', `the decoded payload (${bytes.length} bytes) is neither JSON nor VPC Flow Logs text: skipped`, where));
  return [];
}
