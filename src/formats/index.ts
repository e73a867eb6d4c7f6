/**
 * From an input unit to envelopes: open, gunzip when the magic bytes say gzip, sniff the
 * content (JSON or a text format), decode in batches. Never throws on bad input: every
 * problem is a located error (counted in stats.errors) and decoding goes on where it can.
 */
import { located } from '../core/errors.ts';
import type { Envelope } from '../core/envelope.ts';
import type { InputUnit } from '../core/input-unit.ts';
import { hasUtf8Bom } from '../core/bytes.ts';
import { Batcher } from './batcher.ts';
import { openUnitBytes } from './open-unit.ts';
import { JsonDispatcher } from './json/dispatch.ts';
import { JsonStreamDecoder } from './json/stream.ts';
import { JSON_FORMATS, TEXT_FORMATS } from './registry.ts';
import { NEWLINE, OPEN_BRACE, OPEN_BRACKET, isJsonSpace } from './json/scanner.ts';
import type { DecodeOptions } from './types.ts';
import { UnitContext } from './unit-context.ts';
import { isParquet } from './parquet-magic.ts';
import { isIndicatorList, MAX_INDICATOR_LIST_BYTES } from './indicator-list.ts';

export type { DecodeOptions, DecodeStats, FlowLineTap, JsonFormat, TextFormat, UnwrapContext } from './types.ts';

/** How much content to read, at most, looking for the first line to sniff a text format. */
const SNIFF_BYTES = 64 * 1024;
/** `PAR1`. */
const PARQUET_MAGIC_BYTES = 4;

function firstContentByte(chunk: Buffer): number {
  for (let i = 0; i < chunk.length; i++) if (!isJsonSpace(chunk[i])) return i;
  return -1;
}

function hexPreview(chunk: Buffer, at: number): string {
  return Array.from(chunk.subarray(at, at + 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Reads the rest of a small unit (head already read) and tells whether it is a plain indicator list. */
async function indicatorListUnit(head: readonly Buffer[], rest: AsyncIterator<Buffer>): Promise<boolean> {
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

async function* replay(head: readonly Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
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
export async function* decodeUnit(unit: InputUnit, options: DecodeOptions): AsyncGenerator<Envelope[]> {
  const ctx = new UnitContext(unit.uri, options);
  const bytes = await openUnitBytes(unit);
  if (!('chunks' in bytes)) {
    ctx.reportError(bytes);
    return;
  }
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
    const head: Buffer[] = [];
    let first = -1;
    let firstChunk: Buffer | undefined;
    let firstAt = -1;
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      let chunk = next.value;
      if (head.length === 0 && hasUtf8Bom(chunk)) chunk = chunk.subarray(3);
      head.push(chunk);
      const at = firstContentByte(chunk);
      if (at !== -1) {
        first = chunk[at] ?? -1;
        firstChunk = chunk;
        firstAt = at;
        break;
      }
    }
    if (first === -1 || firstChunk === undefined) return; // empty, or whitespace only: nothing to decode

    if (first === OPEN_BRACE || first === OPEN_BRACKET) {
      const batcher = new Batcher(options.batchSize);
      const decoder = new JsonStreamDecoder(ctx, new JsonDispatcher(JSON_FORMATS, ctx, batcher));
      for (const chunk of head) decoder.push(chunk);
      yield* batcher.take();
      for (;;) {
        const next = await chunks.next();
        if (next.done === true) break;
        decoder.push(next.value);
        yield* batcher.take();
      }
      decoder.end(bytes.failure() !== undefined);
      finished = true;
      yield* batcher.take(true);
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
      yield* format.decode(replay(head, chunks), unit.uri, options);
      finished = true;
      return;
    }
    if (await indicatorListUnit(head, chunks)) {
      ctx.countSkipped();
      finished = true;
      return;
    }
    ctx.reportError(located('TH_INPUT_FORMAT', `the content is neither JSON nor a text log format trailhound reads (first bytes: ${hexPreview(firstChunk, firstAt)}). ` +
        'Inputs are CloudTrail or GuardDuty JSON (plain or gzip) or VPC Flow Logs (text or Parquet).', unit.uri));
  } finally {
    // Stopped before the end (the consumer broke off, or the content was rejected): close.
    if (!finished) bytes.close();
    await chunks.return?.(undefined);
    const failure = bytes.failure();
    if (failure !== undefined) ctx.reportError(failure);
  }
}
