/**
 * Turns a JSON byte stream into top-level values, in bounded memory, whatever the layout:
 *
 * - lines mode (the fast path): split on newline bytes as chunks arrive, one
 *   `JSON.parse(line)` per line. Covers JSON lines and compact single-line documents (a
 *   CloudTrail S3 file is one line). Only the partial last line is kept between chunks.
 * - values mode: a line that does not parse alone is rescanned. When it opens a value that
 *   continues on the next lines (pretty-printed JSON), or holds several values (`}{`, as
 *   Firehose writes CloudWatch Logs payloads), the byte scanner splits the stream value by
 *   value (each value is buffered, never the stream), and hands back to lines mode at the
 *   first newline between two values. A line longer than MAX_LINE_BYTES also goes there.
 *
 * A value that fails to parse is recovered where possible (recover.ts) and reported with its
 * location; decoding goes on with the next line or value. Nothing here throws on bad input.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { JsonDispatcher } from './dispatch.ts';
import { recoverValue } from './recover.ts';
import {
  NEWLINE,
  OPEN_BRACE,
  OPEN_BRACKET,
  countNewlines,
  createScanState,
  isJsonSpace,
  scanValue,
  skipSpace,
  type ScanState,
} from './scanner.ts';
import type { UnitContext } from '../unit-context.ts';

/** A line longer than this without a newline is split by the scanner instead of buffered. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** A single JSON value larger than this is skipped with an error (memory bound). */
export const MAX_VALUE_BYTES = 512 * 1024 * 1024;
const MAX_STRING = bufferConstants.MAX_STRING_LENGTH;

const LINES = 0;
const VALUES = 1;

/**
 * What a run of junk looks like, without a byte of it (an error message never carries a
 * file's content): its length on the first line, and whether it looks binary.
 */
function excerpt(buf: Buffer, start: number, end: number): string {
  let binary = false;
  for (let i = start; i < end && i < start + 4096; i++) {
    const b = buf[i] as number;
    if (b < 0x20 && b !== 0x09 && b !== 0x0d) {
      binary = true;
      break;
    }
  }
  return `${end - start} bytes of ${binary ? 'binary data' : 'text'}`;
}

export class JsonStreamDecoder {
  private readonly ctx: UnitContext;
  private readonly dispatcher: JsonDispatcher;
  private mode = LINES;
  /** 1-based line number at the current position. */
  private lineNo = 1;
  /** Absolute byte offset of the chunk being pushed. */
  private base = 0;
  private values = 0;

  // lines mode: the partial last line
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryStart = 0;

  // values mode: the value being scanned
  private inValue = false;
  private discarding = false;
  private scan: ScanState = createScanState(1);
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private valueLine = 0;
  private valueByte = 0;

  // a run of lines (or bytes) that are not JSON, reported once
  private junkFrom = 0;
  private junkTo = 0;
  private junkExcerpt = '';
  private junkIsScalar = false;

  private atEnd = false;
  private sourceFailed = false;

  constructor(ctx: UnitContext, dispatcher: JsonDispatcher) {
    this.ctx = ctx;
    this.dispatcher = dispatcher;
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.mode === VALUES) {
        pos = this.pushValues(chunk, pos, this.base);
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl === -1) {
        if (this.carry.length === 0) this.carryStart = this.base + pos;
        this.carry.push(pos === 0 ? chunk : chunk.subarray(pos));
        this.carryBytes += len - pos;
        if (this.carryBytes > MAX_LINE_BYTES) this.overflowLine();
        break;
      }
      let switched: boolean;
      if (this.carry.length > 0) {
        this.carry.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(this.carry, this.carryBytes + nl - pos);
        const start = this.carryStart;
        this.carry = [];
        this.carryBytes = 0;
        switched = this.line(line, 0, line.length, start);
      } else {
        switched = this.line(chunk, pos, nl, this.base + pos);
      }
      if (switched) {
        // Values mode takes over at the newline ending this line (it counts it).
        pos = nl;
      } else {
        this.lineNo++;
        pos = nl + 1;
      }
    }
    this.base += len;
  }

  /** The bytes ended; `sourceFailed` when a read or gzip error cut them (already reported). */
  end(sourceFailed: boolean): void {
    this.atEnd = true;
    this.sourceFailed = sourceFailed;
    if (this.mode === LINES && this.carry.length > 0) {
      const line = Buffer.concat(this.carry, this.carryBytes);
      const start = this.carryStart;
      this.carry = [];
      this.carryBytes = 0;
      this.line(line, 0, line.length, start);
    }
    if (this.mode === VALUES && this.inValue) {
      this.inValue = false;
      if (!this.discarding) {
        const bytes = Buffer.concat(this.parts, this.partsBytes);
        this.parts = [];
        this.partsBytes = 0;
        this.value(bytes, this.valueLine, this.valueByte, false);
      }
    }
    this.flushJunk();
  }

  // ---- lines mode ----

  /**
   * One line (without its newline). Returns true when the line opens a multi-line value: the
   * decoder is then in values mode with the line's bytes already fed.
   */
  private line(buf: Buffer, start: number, end: number, byte: number): boolean {
    let s = start;
    const first = buf[s];
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      s = skipSpace(buf, s, end);
      if (s === end) return false;
      const c = buf[s];
      if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
        this.junk(this.lineNo, buf, s, end);
        return false;
      }
    }
    this.flushJunk();
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', s, end));
    } catch {
      return this.lineFallback(buf, s, end, byte + s - start);
    }
    const ctx = this.ctx;
    ctx.valueIndex = this.values++;
    this.dispatcher.dispatch(value, this.lineNo, `${ctx.uri}:${this.lineNo}`);
    return false;
  }

  /** A line that does not parse alone: several values, a multi-line opener, or damage. */
  private lineFallback(buf: Buffer, start: number, end: number, byte: number): boolean {
    let i = start;
    while (i < end) {
      i = skipSpace(buf, i, end);
      if (i >= end) return false;
      const c = buf[i];
      if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
        this.junk(this.lineNo, buf, i, end);
        return false;
      }
      const state = createScanState(1);
      const valueEnd = scanValue(buf, i + 1, end, state);
      if (valueEnd !== -1) {
        this.value(buf.subarray(i, valueEnd), this.lineNo, byte + i - start, true);
        i = valueEnd;
        continue;
      }
      // The line ends inside a value. A pretty-printed opener (`{`, `[`, `{"Records": [`)
      // holds at most one key and ends with the bracket it opens; a compact record cut short
      // holds more keys, or ends in a string or after a member.
      let last = end - 1;
      while (last > i && isJsonSpace(buf[last])) last--;
      const closing = buf[last];
      const opener = !state.inString && state.colons <= 1 && (closing === OPEN_BRACE || closing === OPEN_BRACKET);
      if (!opener || this.atEnd) {
        this.value(buf.subarray(i, end), this.lineNo, byte + i - start, false);
        return false;
      }
      this.mode = VALUES;
      this.inValue = true;
      this.discarding = false;
      this.scan = state;
      this.valueLine = this.lineNo;
      this.valueByte = byte + i - start;
      const bytes = buf.subarray(i, end);
      this.parts = [bytes];
      this.partsBytes = bytes.length;
      return true;
    }
    return false;
  }

  /** The partial line grew past MAX_LINE_BYTES: let the scanner split it instead. */
  private overflowLine(): void {
    const parts = this.carry;
    let base = this.carryStart;
    this.carry = [];
    this.carryBytes = 0;
    this.mode = VALUES;
    for (const part of parts) {
      let pos = 0;
      while (pos < part.length) pos = this.pushValues(part, pos, base);
      base += part.length;
    }
  }

  // ---- values mode ----

  /** Scans chunk[pos..]; returns where it stopped (the chunk's end, or where lines mode resumes). */
  private pushValues(chunk: Buffer, pos: number, base: number): number {
    const len = chunk.length;
    let i = pos;
    while (i < len) {
      if (this.inValue) {
        const from = i;
        const state = this.scan;
        const end = scanValue(chunk, i, len, state);
        const stop = end === -1 ? len : end;
        if (!this.discarding) {
          this.parts.push(from === 0 && stop === len ? chunk : chunk.subarray(from, stop));
          this.partsBytes += stop - from;
        }
        if (end === -1) {
          if (!this.discarding && this.partsBytes > MAX_VALUE_BYTES) this.discardValue();
          return len;
        }
        this.inValue = false;
        const line = this.valueLine;
        this.lineNo = line + state.newlines;
        if (!this.discarding) {
          const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partsBytes);
          this.parts = [];
          this.partsBytes = 0;
          this.value(bytes, line, this.valueByte, !state.brokenString);
        }
        this.discarding = false;
        i = end;
        continue;
      }
      const c = chunk[i];
      if (c === NEWLINE) {
        // Between values at a line end: back to one parse per line.
        this.lineNo++;
        this.mode = LINES;
        return i + 1;
      }
      if (isJsonSpace(c)) {
        i++;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.flushJunk();
        this.inValue = true;
        this.discarding = false;
        this.scan = createScanState(1);
        this.valueLine = this.lineNo;
        this.valueByte = base + i;
        this.parts = [];
        this.partsBytes = 0;
        // The opening byte belongs to the value: include it in the first part.
        const end = scanValue(chunk, i + 1, len, this.scan);
        const stop = end === -1 ? len : end;
        this.parts.push(chunk.subarray(i, stop));
        this.partsBytes += stop - i;
        if (end === -1) return len;
        this.inValue = false;
        this.lineNo = this.valueLine + this.scan.newlines;
        const bytes = this.parts[0] as Buffer;
        this.parts = [];
        this.partsBytes = 0;
        this.value(bytes, this.valueLine, this.valueByte, !this.scan.brokenString);
        i = end;
        continue;
      }
      // Bytes that cannot start a value: skip to the next possible start.
      let j = i + 1;
      while (j < len) {
        const b = chunk[j];
        if (b === OPEN_BRACE || b === OPEN_BRACKET || b === NEWLINE) break;
        j++;
      }
      this.junk(this.lineNo, chunk, i, j);
      i = j;
    }
    return len;
  }

  private discardValue(): void {
    this.report(
      `${this.ctx.uri}:${this.valueLine}`,
      `a JSON value starting on line ${this.valueLine} (byte ${this.valueByte}) is larger than ${MAX_VALUE_BYTES / 1024 / 1024} MiB: skipped`,
    );
    this.discarding = true;
    this.parts = [];
    this.partsBytes = 0;
  }

  // ---- values ----

  /** One top-level value's bytes; `complete` when the scanner saw it close cleanly. */
  private value(bytes: Buffer, line: number, byte: number, complete: boolean): void {
    const ctx = this.ctx;
    ctx.valueIndex = this.values++;
    const location = `${ctx.uri}:${line}`;
    let reason = 'the value is not complete';
    if (complete && bytes.length <= MAX_STRING) {
      try {
        const value: unknown = JSON.parse(bytes.toString('utf8'));
        this.dispatcher.dispatch(value, line, location);
        return;
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
    } else if (complete) {
      reason = 'too large for one string';
    }
    const recovered = recoverValue(bytes, this.dispatcher.recordArrays);
    if (recovered === undefined) {
      if (complete) {
        this.report(location, `invalid JSON, skipped: ${reason}`);
      } else {
        this.reportTail(location, `the JSON value starting on line ${line} is cut short or damaged: skipped`);
      }
      return;
    }
    for (const damage of recovered.damage) {
      const at = line + countNewlines(bytes, 0, damage.start);
      this.report(ctx.locate(damage.path), `invalid JSON (line ${at}, byte ${byte + damage.start}): ${damage.reason}`);
    }
    if (recovered.truncated) {
      this.reportTail(
        location,
        `the JSON value starting on line ${line} ends before it is complete (cut short); the records before the cut were read`,
      );
    }
    this.dispatcher.dispatch(recovered.value, line, location);
  }

  private report(location: string, message: string, code: 'TH_INPUT_JSON' | 'TH_INPUT_RECORD' = 'TH_INPUT_JSON'): void {
    this.ctx.reportError({ code, message, location });
  }

  /** An error about the end of the bytes: already explained when a read or gzip error cut them. */
  private reportTail(location: string, message: string): void {
    if (this.atEnd && this.sourceFailed) return;
    this.report(location, message);
  }

  // ---- junk ----

  private junk(line: number, buf: Buffer, start: number, end: number): void {
    if (this.junkFrom === 0) {
      this.junkFrom = line;
      this.junkExcerpt = excerpt(buf, start, end);
      this.junkIsScalar = end - start <= 1024 && isJsonScalar(buf.toString('utf8', start, end));
    }
    this.junkTo = line;
  }

  private flushJunk(): void {
    if (this.junkFrom === 0) return;
    const from = this.junkFrom;
    const to = this.junkTo;
    this.junkFrom = 0;
    this.junkTo = 0;
    const what = to > from ? `lines ${from}-${to} are` : `line ${from} is`;
    // A lone JSON scalar (`42`, `"text"`, `null`) is valid JSON but not a record.
    const code = to === from && this.junkIsScalar ? 'TH_INPUT_RECORD' : 'TH_INPUT_JSON';
    this.report(`${this.ctx.uri}:${from}`, `${what} not a JSON object or array (found ${this.junkExcerpt}): skipped`, code);
  }
}

function isJsonScalar(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value !== 'object' || value === null;
  } catch {
    return false;
  }
}
