/**
 * A payload carried as a base64 string inside a log value (a CloudWatch Logs subscription's
 * `awslogs.data`, a Firehose record's `data`): decoded strictly, then gunzipped when its magic
 * bytes say gzip (never by what the wrapper claims). Bounded: one payload decompresses to at
 * most MAX_PAYLOAD_BYTES, and all the payloads of a unit together to its --max-decompressed
 * limit (UnwrapContext.payloadBudget). Never throws: bad base64 is TH_INPUT_FORMAT, bad gzip
 * TH_INPUT_GZIP, too much output TH_INPUT_LIMIT, each located at the payload, and the caller
 * goes on with the next one.
 */
import { gunzipSync } from 'node:zlib';
import { located } from '../../core/errors.ts';
import { isGzip } from '../../core/bytes.ts';
import { formatBytes } from '../gunzip.ts';
import type { UnwrapContext } from '../types.ts';
import { decodeBase64 } from './base64.ts';

/**
 * What one embedded payload may decompress to. AWS's are small (a CloudWatch Logs batch is at
 * most 1 MiB of events, a Firehose record 1000 KiB before compression); a gzip bomb is not.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Gunzips one payload (`what` names it in messages, `location` locates it). Undefined after
 * reporting why it could not be read.
 */
export function gunzipPayload(gzip: Buffer, what: string, location: string, ctx: UnwrapContext): Buffer | undefined {
  const budget = ctx.payloadBudget;
  const left = budget === undefined ? MAX_PAYLOAD_BYTES : Math.max(0, budget.limit - budget.used);
  const cap = Math.min(MAX_PAYLOAD_BYTES, left);
  let plain: Buffer;
  try {
    // One byte of room at least: a limit of 0 must still tell an empty payload from a full one.
    plain = gunzipSync(gzip, { maxOutputLength: Math.max(1, cap) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || (cap === 0 && error instanceof RangeError)) {
      if (budget !== undefined) budget.used += cap;
      const message = cap < MAX_PAYLOAD_BYTES
        ? `${what} decompresses past the --max-decompressed limit (${formatBytes(budget?.limit ?? 0)} for all the payloads of this input, ${formatBytes(left)} of it left): skipped. ` +
          'Raise --max-decompressed if the input is genuine; otherwise it is a decompression bomb.'
        : `${what} decompresses to more than ${formatBytes(MAX_PAYLOAD_BYTES)}, the most one embedded payload may hold (a decompression bomb, or not an AWS payload): skipped`;
      ctx.reportError(located('TH_INPUT_LIMIT', message, location));
      return undefined;
    }
    ctx.reportError(located('TH_INPUT_GZIP', `${what} is gzip but damaged or truncated (${describe(error)}): skipped`, location));
    return undefined;
  }
  if (budget !== undefined) budget.used += plain.length;
  return plain;
}

/** The bytes of a base64 payload, gunzipped when they are gzip; undefined after reporting an error. */
export function openPayload(text: string, what: string, location: string, ctx: UnwrapContext): Buffer | undefined {
  const bytes = decodeBase64(text);
  if (!Buffer.isBuffer(bytes)) {
    ctx.reportError(located('TH_INPUT_FORMAT', `${what} is not base64 (${bytes.error}): skipped`, location));
    return undefined;
  }
  if (!isGzip(bytes)) return bytes;
  const plain = gunzipPayload(bytes, what, location, ctx);
  if (plain === undefined) return undefined;
  // gzip inside gzip is content, as for a whole input: not decompressed again.
  return plain;
}
