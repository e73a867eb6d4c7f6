/**
 * One input unit read whole, for the scan's hot path. A unit of known size (a local file, an
 * S3 object) is read at once and gunzipped in one call, then decoded from memory by the
 * ordinary decoder, which then parses each line straight from the buffer. A CloudTrail S3 file
 * (`{"Records":[...]}`) is parsed in one piece by the CloudTrail format (cloudtrail/s3-file.ts),
 * with the decoder's own unwrap; with a raw pre-filter (src/engine/prefilter/cloudtrail.ts),
 * its records that no rule can match are not parsed at all.
 *
 * Anything unusual is decoded by streaming the unit the ordinary way, which reports it as it
 * always does: a unit without a known size or larger than WHOLE_UNIT_MAX_BYTES, one that
 * decompresses to more than WHOLE_UNIT_MAX_PLAIN_BYTES (or than the --max-decompressed limit:
 * streaming stops it there with TH_INPUT_LIMIT), a read or gzip error (streaming decodes every
 * member before the damage), gzip inside gzip; and for the pre-filter, a file that is not
 * exactly one well-formed `{"Records":[...]}` document of CloudTrail records, or one of whose
 * records then fails to parse.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gunzipSync } from 'node:zlib';
import type { Envelope } from '../core/envelope.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { decodeUnit } from './index.ts';
import type { DecodeOptions } from './index.ts';
import { DEFAULT_BATCH_SIZE } from './batcher.ts';
import { prefilteredS3File, wholeS3File } from './cloudtrail/s3-file.ts';
import type { RawPrefilter } from './cloudtrail/record-scan.ts';
import { hasUtf8Bom, isGzip } from '../core/bytes.ts';

const gunzipAsync = promisify(gunzipCallback);

/** Units larger than this (as stored) are streamed, never held whole. */
export const WHOLE_UNIT_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Nor is a unit that decompresses to more than this: a gzip bomb costs at most this much
 * memory per thread before it goes to streaming, which holds a few chunks at a time. Real
 * CloudTrail files are far smaller; larger ones are streamed, which reads them all the same.
 */
export const WHOLE_UNIT_MAX_PLAIN_BYTES = 256 * 1024 * 1024;

/** Bounds of gunzip's output chunk (gunzipChunkSize). */
const GUNZIP_CHUNK_MIN_BYTES = 64 * 1024;
const GUNZIP_CHUNK_MAX_BYTES = 64 * 1024 * 1024;

/**
 * zlib's output chunk for this gzip: the size its trailer announces (ISIZE, the last 4 bytes),
 * so that the output is one buffer rather than chunks joined by a copy. Bounded, as a trailer
 * may lie (or a file hold several gzip members); a wrong guess only costs more chunks.
 */
export function gunzipChunkSize(raw: Buffer): number {
  const announced = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  // One byte more than the output: a chunk filled exactly would make zlib start another.
  return Math.min(Math.max(announced + 1, GUNZIP_CHUNK_MIN_BYTES), GUNZIP_CHUNK_MAX_BYTES);
}

/** A unit's bytes as stored (`raw`, maybe gzip) or decompressed (`plain`); none: stream it. */
export interface WholeUnitBytes {
  raw?: Buffer;
  plain?: Buffer;
}

/**
 * Reads a unit whole, as stored. Never rejects and never reports: a unit that cannot be read
 * whole is streamed later, which reports what went wrong.
 */
export async function readUnitBytes(unit: InputUnit): Promise<WholeUnitBytes> {
  if (unit.size === undefined || unit.size > WHOLE_UNIT_MAX_BYTES) return {};
  try {
    if (unit.readAll !== undefined) {
      // One buffer, not a stream's chunks joined by a copy (less memory churn, fewer collections).
      const raw = await unit.readAll();
      return raw.length > WHOLE_UNIT_MAX_BYTES ? {} : { raw };
    }
    const stream = await unit.open();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += buffer.length;
      if (size > WHOLE_UNIT_MAX_BYTES) {
        stream.destroy();
        return {};
      }
      chunks.push(buffer);
    }
    return { raw: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) };
  } catch {
    return {};
  }
}

/**
 * Gzip output held whole is also at most this many times the compressed size: far above what
 * CloudTrail, GuardDuty or flow logs compress by (5 to 20 times), so that a small bomb costs
 * little memory before it is streamed. A genuine input beyond it is streamed too, and reads
 * the same.
 */
const WHOLE_UNIT_MAX_RATIO = 64;

/**
 * What a gzip unit may decompress to and still be held whole: WHOLE_UNIT_MAX_PLAIN_BYTES, the
 * unit's limit (--max-decompressed), and WHOLE_UNIT_MAX_RATIO times its size, whichever is smallest.
 */
function wholePlainLimit(raw: Buffer, maxDecompressed: number | undefined): number {
  return Math.max(0, Math.min(WHOLE_UNIT_MAX_PLAIN_BYTES, maxDecompressed ?? Number.POSITIVE_INFINITY, raw.length * WHOLE_UNIT_MAX_RATIO));
}

/**
 * True when the gzip trailer (ISIZE: the last member's size mod 2^32, a lower bound of the
 * whole output when it is true) already says the output is larger than `limit`: stream it
 * without gunzipping it here first. A trailer that lies only costs a gunzip stopped at the limit.
 */
function announcesMoreThan(raw: Buffer, limit: number): boolean {
  return raw.length >= 18 && raw.readUInt32LE(raw.length - 4) > limit;
}

/** The decompressed bytes, or none when the unit must be streamed (gzip damage, gzip in gzip, too large). */
function plainOf(raw: Buffer, gunzipped: () => Buffer): WholeUnitBytes {
  if (!isGzip(raw)) return { plain: raw };
  try {
    const plain = gunzipped();
    // gzip inside gzip: streaming reads the inner gzip as content, it does not gunzip it again.
    return isGzip(plain) ? {} : { plain };
  } catch {
    return {};
  }
}

/**
 * Gunzips on this thread (a worker's). `maxDecompressed`: the unit's limit (--max-decompressed);
 * a unit beyond it, or beyond WHOLE_UNIT_MAX_PLAIN_BYTES, is left to streaming.
 */
export function gunzipUnitBytes(bytes: WholeUnitBytes, maxDecompressed?: number): WholeUnitBytes {
  if (bytes.raw === undefined) return bytes;
  const raw = bytes.raw;
  if (!isGzip(raw)) return { plain: raw };
  const limit = wholePlainLimit(raw, maxDecompressed);
  if (announcesMoreThan(raw, limit)) return {};
  return plainOf(raw, () => gunzipSync(raw, { maxOutputLength: Math.max(1, limit), chunkSize: gunzipChunkSize(raw) }));
}

/** Reads and gunzips a unit ahead of decoding it (gunzip in zlib's thread pool). Never rejects. */
export async function prepareUnit(unit: InputUnit, maxDecompressed?: number): Promise<WholeUnitBytes> {
  const { raw } = await readUnitBytes(unit);
  if (raw === undefined || !isGzip(raw)) return raw === undefined ? {} : { plain: raw };
  const limit = wholePlainLimit(raw, maxDecompressed);
  if (announcesMoreThan(raw, limit)) return {};
  let plain: Buffer;
  try {
    // Large output chunks: each chunk is a round trip between the pool and this thread.
    plain = await gunzipAsync(raw, { maxOutputLength: Math.max(1, limit), chunkSize: gunzipChunkSize(raw) });
  } catch {
    return {};
  }
  return plainOf(raw, () => plain);
}

/** True when the decoder will read the content as JSON (its first content byte is `{` or `[`). */
export function isJsonContent(plain: Buffer): boolean {
  let i = hasUtf8Bom(plain) ? 3 : 0;
  while (i < plain.length) {
    const c = plain[i];
    if (c === 0x7b || c === 0x5b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
    i++;
  }
  return false;
}

function memoryUnit(uri: string, plain: Buffer): InputUnit {
  return { uri, size: plain.length, open: () => Readable.from([plain], { objectMode: false }) };
}

/**
 * Decodes a unit into batches of envelopes, exactly as decodeUnit does, from its bytes when
 * they were read whole (else by streaming it), minus the records the pre-filter proved that no
 * rule matches.
 */
export async function* decodeUnitBytes(unit: InputUnit, bytes: WholeUnitBytes, options: DecodeOptions, prefilter?: RawPrefilter): AsyncGenerator<Envelope[]> {
  const plain = bytes.plain;
  // Beyond the unit's limit (--max-decompressed): streaming stops it there and says so.
  if (plain === undefined || (options.maxDecompressed !== undefined && plain.length > options.maxDecompressed)) {
    yield* decodeUnit(unit, options);
    return;
  }
  const envelopes = (prefilter === undefined ? undefined : prefilteredS3File(unit.uri, plain, prefilter, options)) ?? (plain[0] === 0x7b ? wholeS3File(unit.uri, plain, options) : undefined);
  if (envelopes !== undefined) {
    const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
    for (let i = 0; i < envelopes.length; i += size) yield envelopes.slice(i, i + size);
    return;
  }
  yield* decodeUnit(memoryUnit(unit.uri, plain), options);
}
