/**
 * The bytes of one input unit, decompressed: opens the unit, tells gzip from the magic bytes
 * (never from the name), and gunzips as a stream. Never throws: a read or gzip failure ends
 * the chunks early and is kept as a located error for the caller to report after the records
 * decoded before it.
 */
import { located } from '../core/errors.ts';
import type { Readable } from 'node:stream';
import { constants as zlibConstants, createGunzip, type Gunzip } from 'node:zlib';
import type { LocatedError } from '../core/errors.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { isGzip } from '../core/bytes.ts';

const GUNZIP_CHUNK = 64 * 1024;

export interface UnitByteStream {
  /** Decompressed bytes in order; ends early (never throws) when reading or gunzip fails. */
  readonly chunks: AsyncIterable<Buffer>;
  /** True when the content was gzip (magic bytes 1f 8b). Known once the first chunk was read. */
  readonly gzip: boolean;
  /** The read or gzip failure that ended the chunks early, once they ended. */
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

/** Waits until a writable drains or goes away (error, close): never hangs on a dead stream. */
function drained(stream: Gunzip): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * Opens a unit's decompressed bytes. Returns a located TH_INPUT_READ error when the unit
 * cannot even be opened.
 */
export async function openUnitBytes(unit: InputUnit): Promise<UnitByteStream | LocatedError> {
  let stream: Readable;
  try {
    stream = await unit.open();
  } catch (error) {
    return readError(unit.uri, error);
  }
  const raw = stream[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  let rawBytes = 0;
  let readFailure: unknown;
  let readFailed = false;
  let gzipFailure: unknown;
  let gzipFailed = false;
  let gzipConsumed = 0;
  let outBytes = 0;
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
    for await (const chunk of rawChunks()) {
      outBytes += chunk.length;
      yield chunk;
    }
  }

  async function* gunzipped(): AsyncGenerator<Buffer> {
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
    const source = rawChunks();
    // Feeds the gunzip by hand: at the end, a sync flush first pushes every byte that the
    // intact part of a truncated member holds, then end() raises the truncation.
    const pump = async (): Promise<void> => {
      try {
        for (;;) {
          if (gunzip.destroyed) return;
          const next = await source.next();
          if (next.done === true) break;
          if (gunzip.destroyed) return;
          if (!gunzip.write(next.value)) await drained(gunzip);
        }
        if (!gunzip.destroyed) gunzip.flush(zlibConstants.Z_SYNC_FLUSH, () => gunzip.end());
      } catch (error) {
        gunzip.destroy(error instanceof Error ? error : new Error(String(error)));
      } finally {
        await source.return(undefined);
      }
    };
    const pumping = pump();
    let finished = false;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        outBytes += chunk.length;
        yield chunk;
      }
      finished = true;
    } catch (error) {
      finished = true;
      if (!closed) {
        gzipFailure = error;
        gzipFailed = true;
        gzipConsumed = gunzip.bytesWritten;
      }
    } finally {
      // Stopped early: close the source so that a pump waiting for bytes (stdin) returns.
      if (!finished) close();
      if (!gunzip.destroyed) gunzip.destroy();
      await pumping;
    }
  }

  return {
    chunks: gzip ? gunzipped() : plain(),
    gzip,
    close,
    failure(): LocatedError | undefined {
      if (readFailed) return readError(unit.uri, readFailure, rawBytes);
      if (gzipFailed) {
        return located('TH_INPUT_GZIP', `gzip data is damaged or truncated (${describe(gzipFailure)}) after ${gzipConsumed} of ${rawBytes} compressed bytes ` +
            `(${outBytes} bytes decompressed); the records before that point were read. Fetch the file again.`, unit.uri);
      }
      return undefined;
    },
  };
}
