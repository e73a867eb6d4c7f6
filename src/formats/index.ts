/**
 * From an input unit to envelopes: open, gunzip when the magic bytes say gzip, sniff the
 * content (JSON or a text format), decode in batches. Never throws on bad input: every
 * problem is a located error (counted in stats.errors) and decoding goes on where it can.
 */
import { located } from '../core/errors.ts';
import type { Envelope } from '../core/envelope.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { hasUtf8Bom } from '../core/bytes.ts';
import { Readable } from 'node:stream';
import { Batcher } from './batcher.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, openUnitBytes, type UnitByteStream } from './open-unit.ts';
import { JsonDispatcher } from './json/dispatch.ts';
import { JsonStreamDecoder } from './json/stream.ts';
import { JSON_FORMATS, TEXT_FORMATS } from './registry.ts';
import { NEWLINE, OPEN_BRACE, OPEN_BRACKET } from './json/scanner.ts';
import type { DecodeOptions } from './types.ts';
import { UnitContext } from './unit-context.ts';
import { isParquet } from './parquet-magic.ts';
import { isIndicatorList, MAX_INDICATOR_LIST_BYTES } from './indicator-list.ts';
import { isBase64Gzip, readBase64Unit } from './embedded/base64-unit.ts';

export type { DecodeOptions, DecodeStats, FlowLineTap, JsonFormat, TextFormat, UnwrapContext } from './types.ts';

/** How much content to read, at most, looking for the first line to sniff a text format. */
const SNIFF_BYTES = 64 * 1024;
/** `PAR1`. */
const PARQUET_MAGIC_BYTES = 4;

/** Index of the first byte that is not white space, or -1; counts the newlines before it (newlinesSeen). */
function firstContentByte(chunk: Buffer): number {
  let newlines = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === NEWLINE) newlines++;
    else if (b !== 0x20 && b !== 0x0d && b !== 0x09) {
      newlinesSeen = newlines;
      return i;
    }
  }
  newlinesSeen = newlines;
  return -1;
}

/**
 * What the start of an unreadable input looks like, without a byte of it: an error message
 * must never carry a file's content (a symbolic link to a secret, a hostile file's escapes).
 */
export function describeContent(sample: Buffer): string {
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const b = sample[i] as number;
    if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) control++;
  }
  const kind = control > 0 ? 'binary' : 'text';
  return `${kind} content, ${sample.length} bytes examined`;
}

/** True for a line that is one JSON number, string, true, false or null. */
function isJsonScalar(line: string): boolean {
  const text = line.trim();
  if (text === '' || text.length > 4096) return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value !== 'object' || value === null;
  } catch {
    return false;
  }
}

/** Reads the rest of a small unit (head already read) and tells whether it is a plain indicator list. */
async function indicatorListUnit(head: readonly Buffer[], rest: AsyncIterator<Buffer>, blankBytes: number): Promise<boolean> {
  if (blankBytes > 0) return false;
  const parts = [...head];
  let size = parts.reduce((sum, chunk) => sum + chunk.length, 0);
  while (size <= MAX_INDICATOR_LIST_BYTES) {
    const next = await rest.next();
    if (next.done === true) return isIndicatorList(Buffer.concat(parts).toString('utf8'));
    parts.push(next.value);
    size += next.value.length;
  }
  return false;
}

/**
 * Leading white space beyond the first MAX_LEADING_BLANK_BYTES is not held: it is counted
 * (bytes, newlines) and given back as this many newlines then spaces, in bounded chunks, so
 * that line numbers and byte offsets stay those of the input.
 */
function* blankRun(bytes: number, newlines: number): Generator<Buffer> {
  const chunk = 64 * 1024;
  for (let left = newlines; left > 0; left -= chunk) yield Buffer.alloc(Math.min(left, chunk), 0x0a);
  for (let left = bytes - newlines; left > 0; left -= chunk) yield Buffer.alloc(Math.min(left, chunk), 0x20);
}

/** Newline bytes counted by the last firstContentByte call (white space can be all newlines). */
let newlinesSeen = 0;

/** Leading white space held whole at most; beyond, it is counted (see blankRun). */
const MAX_LEADING_BLANK_BYTES = 1024 * 1024;

async function* replay(leading: Iterable<Buffer>, head: readonly Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* leading;
  yield* head;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/**
 * Decodes one input unit into batches of envelopes (options.batchSize, default 512). Errors go
 * to options.onError, counters to options.stats; the generator itself does not throw on bad
 * input.
 */
export function decodeUnit(unit: InputUnit, options: DecodeOptions): AsyncGenerator<Envelope[]> {
  return decodeUnitContent(unit, options, false);
}

/** A unit held in memory (the gzip inside a base64 unit), decoded under the same uri. */
function bytesUnit(uri: string, bytes: Buffer): InputUnit {
  return { uri, size: bytes.length, open: () => Readable.from([bytes], { objectMode: false }) };
}

/** decodeUnit; `decoded`: the unit is the content of a base64 unit, not to be base64-decoded again. */
async function* decodeUnitContent(unit: InputUnit, options: DecodeOptions, decoded: boolean): AsyncGenerator<Envelope[]> {
  const ctx = new UnitContext(unit.uri, options);
  const bytes = await openUnitBytes(unit, options.maxDecompressed === undefined ? {} : { maxDecompressed: options.maxDecompressed });
  if (!('chunks' in bytes)) {
    ctx.reportError(bytes);
    return;
  }
  const stream: UnitByteStream = bytes;
  const source = bytes.chunks[Symbol.asyncIterator]();
  // Chunks read ahead to look for the Parquet magic number come first.
  const early: Buffer[] = [];
  const chunks: AsyncIterator<Buffer> = {
    next: () => (early.length > 0 ? Promise.resolve({ done: false, value: early.shift() as Buffer }) : source.next()),
    return: async (value?: unknown) => (await source.return?.(value)) ?? { done: true, value: undefined },
  };
  let finished = false;
  try {
    // Parquet (a flow-log delivery option) is binary: its magic number comes first.
    let earlyBytes = 0;
    while (earlyBytes < PARQUET_MAGIC_BYTES) {
      const next = await source.next();
      if (next.done === true) break;
      early.push(next.value);
      earlyBytes += next.value.length;
    }
    if (isParquet(early.length === 1 ? (early[0] as Buffer) : Buffer.concat(early))) {
      // The footer holds the schema: the whole object is needed before the first row.
      const all = [...early];
      for (;;) {
        const next = await source.next();
        if (next.done === true) break;
        all.push(next.value);
      }
      finished = true;
      if (bytes.failure() === undefined) {
        // The Parquet reader (a tenth of a second to import) loads with the first Parquet input.
        const { decodeFlowParquet } = await import('./vpcflow/parquet.ts');
        yield* decodeFlowParquet(Buffer.concat(all), unit.uri, options);
      }
      return;
    }

    // The first content byte decides: `{` or `[` is JSON, anything else a text format.
    // Leading white space is held up to MAX_LEADING_BLANK_BYTES, then only counted.
    const blank: Buffer[] = [];
    let blankHeld = 0;
    let blankBytes = 0;
    let blankNewlines = 0;
    let first = -1;
    let firstChunk: Buffer | undefined;
    let firstAt = -1;
    let chunkIndex = 0;
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      let chunk = next.value;
      if (chunkIndex++ === 0 && hasUtf8Bom(chunk)) chunk = chunk.subarray(3);
      const at = firstContentByte(chunk);
      if (at !== -1) {
        first = chunk[at] ?? -1;
        firstChunk = chunk;
        firstAt = at;
        break;
      }
      if (blankHeld + chunk.length <= MAX_LEADING_BLANK_BYTES && blankBytes === 0) {
        blank.push(chunk);
        blankHeld += chunk.length;
      } else {
        blankBytes += chunk.length;
        blankNewlines += newlinesSeen;
      }
    }
    if (first === -1 || firstChunk === undefined) return; // empty, or whitespace only: nothing to decode
    // The leading white space as read (blankRun gives back what was only counted), lazily.
    const leading = (): Iterable<Buffer> => (blankBytes === 0 ? blank : (function* () {
      yield* blank;
      yield* blankRun(blankBytes, blankNewlines);
    })());
    // From the first content chunk on.
    const head: Buffer[] = [firstChunk];

    // JSON: the chunks read so far (leading white space, then `head`), then the rest.
    async function* json(): AsyncGenerator<Envelope[]> {
      const batcher = new Batcher(options.batchSize);
      const decoder = new JsonStreamDecoder(ctx, new JsonDispatcher(JSON_FORMATS, ctx, batcher));
      for (const chunk of leading()) decoder.push(chunk);
      for (const chunk of head) decoder.push(chunk);
      yield* batcher.take();
      for (;;) {
        const next = await chunks.next();
        if (next.done === true) break;
        decoder.push(next.value);
        yield* batcher.take();
      }
      decoder.end(stream.failure() !== undefined);
      finished = true;
      yield* batcher.take(true);
    }

    if (first === OPEN_BRACE || first === OPEN_BRACKET) {
      yield* json();
      return;
    }

    // Not JSON: read up to the end of the first line and let the text formats sniff it.
    const sniff: Buffer[] = [firstChunk.subarray(firstAt)];
    let sniffBytes = firstChunk.length - firstAt;
    let last = sniff[0] as Buffer;
    while (last.indexOf(NEWLINE) === -1 && sniffBytes < SNIFF_BYTES) {
      const next = await chunks.next();
      if (next.done === true) break;
      head.push(next.value);
      sniff.push(next.value);
      sniffBytes += next.value.length;
      last = next.value;
    }
    const text = sniff.length === 1 ? last : Buffer.concat(sniff);
    const lineEnd = text.indexOf(NEWLINE);
    const firstLine = text.toString('utf8', 0, lineEnd === -1 ? Math.min(text.length, SNIFF_BYTES) : lineEnd).replace(/\r$/, '');
    const format = TEXT_FORMATS.find((candidate) => candidate.sniff(firstLine));
    if (format !== undefined) {
      yield* format.decode(replay(leading(), head, chunks), unit.uri, options);
      finished = true;
      return;
    }
    // Base64 text of gzip (a saved CloudWatch Logs payload): decoded, then read as the unit.
    if (!decoded && isBase64Gzip(firstLine)) {
      const gzip = await readBase64Unit(unit.uri, head, chunks);
      // Read to its end, unless it was too large (then closed below).
      finished = Buffer.isBuffer(gzip);
      // Its gzip is bounded like any unit's (a worker, which has no maxDecompressed of its own, by payloadLimit).
      if (Buffer.isBuffer(gzip)) yield* decodeUnitContent(bytesUnit(unit.uri, gzip), { ...options, maxDecompressed: options.maxDecompressed ?? options.payloadLimit ?? DEFAULT_MAX_DECOMPRESSED_BYTES }, true);
      else if (bytes.failure() === undefined) ctx.reportError(gzip);
      return;
    }
    // JSON lines whose first line is junk (`42`, `"text"`, `null`): that line is one error, the
    // records after it are read.
    if (isJsonScalar(firstLine)) {
      yield* json();
      return;
    }
    if (await indicatorListUnit([...blank, ...head], chunks, blankBytes)) {
      ctx.countSkipped();
      finished = true;
      return;
    }
    ctx.reportError(located('TH_INPUT_FORMAT', `the content is neither JSON nor a text log format trailhound reads (${describeContent(text.subarray(0, SNIFF_BYTES))}). ` +
        'Inputs are CloudTrail or GuardDuty JSON (plain, gzip, or base64 of gzip as CloudWatch Logs delivers it) or VPC Flow Logs (text or Parquet).', unit.uri));
  } finally {
    // Stopped before the end (the consumer broke off, or the content was rejected): close.
    if (!finished) bytes.close();
    await chunks.return?.(undefined);
    const failure = bytes.failure();
    if (failure !== undefined) ctx.reportError(failure);
  }
}
