/**
 * The bytes of one input unit, decompressed: opens the unit, tells gzip from the magic bytes
 * (never from the name), and gunzips as a stream. Never throws: a read or gzip failure ends
 * the chunks early and is kept as a located error for the caller to report after the records
 * decoded before it.
 *
 * Gzip is decoded member by member, as `gzip -d` does (gunzip.ts): every member before damage
 * or trailing bytes is read in full, and the error says exactly where the good data ends and
 * what was kept. The decompressed bytes of a unit stop at `maxDecompressed` (a gzip bomb):
 * TH_INPUT_LIMIT, with what came before the limit read.
 */
import { located, TrailhoundError } from '../core/errors.ts';
import type { Readable } from 'node:stream';
import type { LocatedError } from '../core/errors.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { isGzip } from '../core/bytes.ts';
import { GzipMembers, formatBytes, type GzipFailure } from './gunzip.ts';

/**
 * What a gzip unit may decompress to, by default: 4 GiB. The largest AWS log objects are far
 * below it (a VPC flow log object stops at 75 MB compressed, Firehose buffers at most 128 MiB
 * before compression, a CloudTrail file holds five minutes of one account and region), so only
 * a decompression bomb reaches it. Streaming keeps memory flat however large the output: the
 * limit bounds the time a small hostile file can cost.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024;

export interface OpenUnitOptions {
  /** Decompressed bytes a gzip unit may yield (DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxDecompressed?: number;
}

export interface UnitByteStream {
  /** Decompressed bytes in order; ends early (never throws) when reading or gunzip fails. */
  readonly chunks: AsyncIterable<Buffer>;
  /** True when the content was gzip (magic bytes 1f 8b). Known once the first chunk was read. */
  readonly gzip: boolean;
  /** The read, gzip or size-limit failure that ended the chunks early, once they ended. */
  failure(): LocatedError | undefined;
  /** Stops reading (the consumer is done early): closes the source; not a failure. */
  close(): void;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

export function readError(uri: string, error: unknown, offset?: number): LocatedError {
  const where = offset === undefined || offset === 0 ? '' : ` after ${offset} bytes`;
  return located('TH_INPUT_READ', `cannot read the input${where}: ${describe(error)}. Check that it exists and is readable.`, uri);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.alloc(0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the members read in full gave, for the messages: `2 gzip members (1234 bytes decompressed)`. */
function keptMembers(failure: GzipFailure): string {
  return `${plural(failure.members, 'complete gzip member')} (${failure.membersOut} bytes decompressed)`;
}

/** The located TH_INPUT_GZIP error for a gzip stream that did not end cleanly; says exactly what was read. */
function gzipError(uri: string, failure: GzipFailure, rawBytes: number, size: number | undefined): LocatedError {
  const member = `member ${failure.members + 1} (from byte ${failure.memberStart})`;
  const partial = failure.out > failure.membersOut ? `, and the first ${failure.out - failure.membersOut} decompressed bytes of ${member}` : '';
  let message: string;
  switch (failure.kind) {
    case 'trailing': {
      const rest = size !== undefined && size > failure.consumed ? `The ${size - failure.consumed} bytes` : 'The bytes';
      message = `the gzip data ends at byte ${failure.consumed}: ${keptMembers(failure)}, all read. ` +
        `${rest} after it are not gzip and were ignored; fetch the file again if they should hold records.`;
      break;
    }
    case 'truncated':
      message = `gzip data is truncated: it ends inside ${member} after ${failure.consumed} of ${rawBytes} compressed bytes ` +
        `(${failure.out} bytes decompressed). Read: ${keptMembers(failure)}${partial}; the records before the cut were read. Fetch the file again.`;
      break;
    case 'crc':
      message = `gzip ${member} fails its check (${failure.reason}) at byte ${failure.consumed}: its ${failure.out - failure.membersOut} decompressed bytes ` +
        `were read but may be damaged. Read before it: ${keptMembers(failure)}. Fetch the file again.`;
      break;
    default:
      message = `gzip ${member} is damaged (${failure.reason}), in the compressed bytes from byte ${failure.consumed} on ` +
        `(${failure.out} bytes decompressed). Read: ${keptMembers(failure)}${partial}; the rest of the input was not read. Fetch the file again.`;
      break;
  }
  return located('TH_INPUT_GZIP', message, uri);
}

/**
 * Opens a unit's decompressed bytes. Returns a located TH_INPUT_READ error when the unit
 * cannot even be opened.
 */
export async function openUnitBytes(unit: InputUnit, options: OpenUnitOptions = {}): Promise<UnitByteStream | LocatedError> {
  const maxDecompressed = options.maxDecompressed ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  let stream: Readable;
  try {
    stream = await unit.open();
  } catch (error) {
    // A source that refuses what it found (a file turned FIFO: TH_INPUT_SPECIAL) says so itself.
    return error instanceof TrailhoundError ? error.toLocated() : readError(unit.uri, error);
  }
  const raw = stream[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  let rawBytes = 0;
  let readFailure: unknown;
  let readFailed = false;
  let gzipFailure: GzipFailure | undefined;
  let limitAt = -1;
  let closed = false;
  const close = (): void => {
    closed = true;
    if (!stream.destroyed) stream.destroy();
  };

  // The first bytes decide gzip or not; a stream may deliver them one at a time.
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes < 2) {
      const next = await raw.next();
      if (next.done === true) break;
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      head.push(chunk);
      headBytes += chunk.length;
    }
  } catch (error) {
    readFailure = error;
    readFailed = true;
  }
  const first = head.length === 1 || head.length === 0 ? head[0] : Buffer.concat(head);
  const gzip = isGzip(first);

  async function* rawChunks(): AsyncGenerator<Buffer> {
    try {
      if (first !== undefined) {
        rawBytes += first.length;
        yield first;
      }
      if (readFailed) return;
      for (;;) {
        const next = await raw.next();
        if (next.done === true) return;
        const chunk = toBuffer(next.value);
        rawBytes += chunk.length;
        yield chunk;
      }
    } catch (error) {
      if (!closed) {
        readFailure = error;
        readFailed = true;
      }
    } finally {
      if (!stream.destroyed) stream.destroy();
    }
  }

  async function* plain(): AsyncGenerator<Buffer> {
    yield* rawChunks();
  }

  async function* gunzipped(): AsyncGenerator<Buffer> {
    const members = new GzipMembers();
    let out = 0;
    let finished = false;
    try {
      for await (const chunk of members.decode(rawChunks())) {
        if (out + chunk.length > maxDecompressed) {
          // A decompression bomb, or a genuine input larger than the limit: stop here.
          const room = maxDecompressed - out;
          out = maxDecompressed;
          limitAt = members.consumed;
          if (room > 0) yield chunk.subarray(0, room);
          close();
          break;
        }
        out += chunk.length;
        yield chunk;
      }
      finished = true;
      if (limitAt === -1 && !closed && !readFailed) gzipFailure = members.failure;
    } finally {
      // Stopped early (limit, or the consumer is done): close the source.
      if (!finished || limitAt !== -1) close();
      await members.close();
    }
  }

  return {
    chunks: gzip ? gunzipped() : plain(),
    gzip,
    close,
    failure(): LocatedError | undefined {
      if (readFailed) return readError(unit.uri, readFailure, rawBytes);
      if (limitAt !== -1) {
        return located('TH_INPUT_LIMIT', `the input decompresses to more than ${formatBytes(maxDecompressed)} (the --max-decompressed limit): ` +
            `the records in its first ${formatBytes(maxDecompressed)} (up to compressed byte ${limitAt}) were read, the rest was not. ` +
            'Raise --max-decompressed if the input is genuine; otherwise it is a decompression bomb.', unit.uri);
      }
      if (gzipFailure !== undefined) return gzipError(unit.uri, gzipFailure, rawBytes, unit.size);
      return undefined;
    },
  };
}
