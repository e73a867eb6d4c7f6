/**
 * The byte-level VPC Flow Logs line scanner: finds lines with `indexOf(0x0a)`, splits fields
 * on spaces by walking bytes, validates and parses integer fields from bytes, and hands each
 * good line to a visitor as a reusable view. No string is built unless the visitor asks for
 * one, so CTI matching can test `srcaddr`/`dstaddr` as 32-bit integers without building
 * records. The text decoder (vpcflow.ts) builds its records on top of this.
 *
 * Lines: LF or CRLF; runs of spaces (any bytes up to 0x20: tabs too) separate fields; blank
 * lines are skipped. A header line (see isFlowHeaderTokens) replaces the current header from
 * there on: AWS writes one at the top of each S3 object, concatenated objects repeat it.
 */
import type { LocatedError } from '../errors.ts';
import type { LogRecord } from '../engine/envelope.ts';
import { DEFAULT_FLOW_HEADER, isFlowHeaderTokens, makeFlowHeader, type FlowHeader } from './vpcflow-fields.ts';

/** Lines longer than this (no newline in sight) are reported and dropped. */
const MAX_LINE_BYTES = 1 << 20;
/** More fields than this on one line is not a flow log record. */
const MAX_FIELDS = 256;

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

/**
 * One line, valid only during the visit call: the scanner reuses the object and its buffers
 * for the next line. Copy out what you keep (text(), record()).
 */
export interface FlowLineView {
  readonly header: FlowHeader;
  /** 1-based line number in the input unit. */
  readonly line: number;
  /** The bytes holding the line; fields are byte ranges of it. */
  readonly buf: Buffer;
  readonly fieldCount: number;
  /** Byte offset in `buf` where column `i` starts. */
  fieldStart(i: number): number;
  /** Byte offset in `buf` just past column `i`. */
  fieldEnd(i: number): number;
  /** True when column `i` holds `-` (AWS: not applicable / not computed), or is out of range. */
  isAbsent(i: number): boolean;
  /** Column `i` as a string, undefined when absent. */
  text(i: number): string | undefined;
  /** Column `i` as an integer (integer fields only, already validated), NaN when absent. */
  int(i: number): number;
  /** Column `i` as an IPv4 address in an unsigned 32-bit integer, -1 when absent or not IPv4. */
  ipv4(i: number): number;
  /** True when column `i` looks like an IPv6 address (holds a colon). */
  isIPv6(i: number): boolean;
  /** The line as a record: AWS field names as keys, integers as numbers, absent fields left out. */
  record(): LogRecord;
}

export interface FlowScanOptions {
  /** Used in error locations (`uri:line`). */
  uri: string;
  /** Header for lines seen before any header line; the version-2 default when omitted. */
  header?: FlowHeader;
  /** Each malformed line (wrong field count, bad integer, over-long line). */
  onError?: (error: LocatedError) => void;
  /** Each header line met in the input. */
  onHeader?: (header: FlowHeader, line: number) => void;
}

export interface FlowScanStats {
  /** Lines read, blank and header lines included. */
  lines: number;
  /** Lines handed to the visitor. */
  records: number;
  headers: number;
  errors: number;
}

type Visit = (view: FlowLineView) => void;

function byteIsIdentTail(c: number): boolean {
  return (c >= 97 && c <= 122) || c === DASH;
}

type Latin1 = (buf: Buffer, start: number, end: number) => string;
/** Buffer#latin1Slice skips toString()'s argument handling; fall back where it is missing. */
const latin1: Latin1 =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

type RecordBuilder = (line: string, base: number, starts: Int32Array, ends: Int32Array, ints: Float64Array) => LogRecord;

const builders = new WeakMap<FlowHeader, RecordBuilder>();

/**
 * A record builder specialised for one header: one constant-key store per field, so V8 keeps
 * one hidden-class chain per header instead of going megamorphic on keyed stores. Field
 * names are validated identifiers (`[a-z][a-z0-9-]*`) and are embedded as JSON strings.
 */
function recordBuilder(header: FlowHeader): RecordBuilder {
  let build = builders.get(header);
  if (build) return build;
  const lines = ['const r = {};', 'let s = 0, e = 0;'];
  header.fields.forEach((field, i) => {
    const key = JSON.stringify(field);
    lines.push(`s = starts[${i}] - base; e = ends[${i}] - base;`);
    lines.push(`if (e - s !== 1 || line.charCodeAt(s) !== 45) r[${key}] = ${header.integer[i] === 1 ? `ints[${i}]` : 'line.substring(s, e)'};`);
  });
  lines.push('return r;');
  try {
    build = new Function('line', 'base', 'starts', 'ends', 'ints', lines.join('\n')) as RecordBuilder;
  } catch {
    build = (line, base, starts, ends, ints) => {
      const r: LogRecord = {};
      header.fields.forEach((field, i) => {
        const s = (starts[i] ?? 0) - base;
        const e = (ends[i] ?? 0) - base;
        if (e - s !== 1 || line.charCodeAt(s) !== DASH) r[field] = header.integer[i] === 1 ? ints[i] : line.substring(s, e);
      });
      return r;
    };
  }
  builders.set(header, build);
  return build;
}

class LineView implements FlowLineView {
  header: FlowHeader;
  line = 0;
  buf: Buffer = Buffer.alloc(0);
  fieldCount = 0;
  /** Byte range of the line in buf. */
  lineStart = 0;
  lineEnd = 0;
  /** The line as a string, built on first need. */
  lineText: string | undefined;
  readonly starts = new Int32Array(MAX_FIELDS + 1);
  readonly ends = new Int32Array(MAX_FIELDS + 1);
  readonly ints = new Float64Array(MAX_FIELDS + 1);
  builder: RecordBuilder;

  constructor(header: FlowHeader) {
    this.header = header;
    this.builder = recordBuilder(header);
  }

  setHeader(header: FlowHeader): void {
    this.header = header;
    this.builder = recordBuilder(header);
  }

  fieldStart(i: number): number {
    return this.starts[i] ?? 0;
  }

  fieldEnd(i: number): number {
    return this.ends[i] ?? 0;
  }

  isAbsent(i: number): boolean {
    if (i < 0 || i >= this.fieldCount) return true;
    const s = this.starts[i] as number;
    return (this.ends[i] as number) - s === 1 && this.buf[s] === DASH;
  }

  private text0(): string {
    if (this.lineText === undefined) this.lineText = latin1(this.buf, this.lineStart, this.lineEnd);
    return this.lineText;
  }

  text(i: number): string | undefined {
    if (this.isAbsent(i)) return undefined;
    const base = this.lineStart;
    return this.text0().substring((this.starts[i] as number) - base, (this.ends[i] as number) - base);
  }

  int(i: number): number {
    if (i < 0 || i >= this.fieldCount || this.header.integer[i] !== 1) return NaN;
    return this.ints[i] as number;
  }

  ipv4(i: number): number {
    if (i < 0 || i >= this.fieldCount) return -1;
    const buf = this.buf;
    const e = this.ends[i] as number;
    let p = this.starts[i] as number;
    let value = 0;
    for (let part = 0; part < 4; part++) {
      const from = p;
      let octet = 0;
      let c: number;
      while (p < e && (c = (buf[p] as number) - 48) >= 0 && c <= 9) {
        octet = octet * 10 + c;
        p++;
      }
      const digits = p - from;
      if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && buf[from] === 48)) return -1;
      value = value * 256 + octet;
      if (part < 3) {
        if (p >= e || buf[p] !== 0x2e) return -1;
        p++;
      }
    }
    return p === e ? value : -1;
  }

  isIPv6(i: number): boolean {
    if (i < 0 || i >= this.fieldCount) return false;
    const s = this.starts[i] as number;
    const e = this.ends[i] as number;
    for (let p = s; p < e; p++) if (this.buf[p] === 0x3a) return true;
    return false;
  }

  record(): LogRecord {
    return this.builder(this.text0(), this.lineStart, this.starts, this.ends, this.ints);
  }
}

/**
 * Push-style scanner: feed it decompressed chunks in order, then call end(). Each good line
 * reaches the visitor during push()/end(); malformed lines go to options.onError.
 */
export class FlowLineScanner {
  readonly stats: FlowScanStats = { lines: 0, records: 0, headers: 0, errors: 0 };
  private readonly view: LineView;
  private readonly uri: string;
  private readonly onError: ((error: LocatedError) => void) | undefined;
  private readonly onHeader: ((header: FlowHeader, line: number) => void) | undefined;
  private carry: Buffer | undefined;
  /** True while discarding the tail of an over-long line (already counted and reported). */
  private skipping = false;

  constructor(options: FlowScanOptions) {
    this.uri = options.uri;
    this.onError = options.onError;
    this.onHeader = options.onHeader;
    this.view = new LineView(options.header ?? DEFAULT_FLOW_HEADER);
  }

  /** The header in force for the next line. */
  get header(): FlowHeader {
    return this.view.header;
  }

  push(chunk: Buffer, visit: Visit): void {
    let pos = 0;
    const len = chunk.length;
    if (this.carry !== undefined) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        if (this.carry.length > MAX_LINE_BYTES) this.dropLongLine();
        return;
      }
      if (this.carry.length + nl > MAX_LINE_BYTES) {
        this.dropLongLine();
        this.skipping = false;
      } else {
        const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
        this.carry = undefined;
        this.processLine(line, 0, line.length, visit);
      }
      pos = nl + 1;
    }
    while (pos < len) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      if (nl - pos > MAX_LINE_BYTES) {
        this.dropLongLine();
        this.skipping = false;
      } else {
        this.processLine(chunk, pos, nl, visit);
      }
      pos = nl + 1;
    }
    if (pos < len) {
      this.carry = Buffer.from(chunk.subarray(pos));
      if (this.carry.length > MAX_LINE_BYTES) this.dropLongLine();
    }
  }

  end(visit: Visit): void {
    if (this.carry !== undefined) {
      const line = this.carry;
      this.carry = undefined;
      this.processLine(line, 0, line.length, visit);
    }
  }

  private dropLongLine(): void {
    if (!this.skipping) {
      this.stats.lines++;
      this.report(this.stats.lines, `line longer than ${MAX_LINE_BYTES} bytes: not a flow log record`);
    }
    this.carry = undefined;
    this.skipping = true;
  }

  private report(line: number, message: string): void {
    this.stats.errors++;
    this.onError?.({ code: 'TH_INPUT_RECORD', message, location: `${this.uri}:${line}` });
  }

  private processLine(buf: Buffer, s: number, e: number, visit: Visit): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const lineNo = ++this.stats.lines;
    if (e > s && buf[e - 1] === CR) e--;
    const view = this.view;
    const starts = view.starts;
    const ends = view.ends;
    const ints = view.ints;
    const header = view.header;
    const integer = header.integer;
    const expected = header.fields.length;
    // One pass: split on spaces/tabs (runs collapse) and parse integer columns as we go.
    let n = 0;
    let bad = -1;
    let p = s;
    while (p < e) {
      let c = buf[p] as number;
      if (c <= SPACE) {
        p++;
        continue;
      }
      if (n === MAX_FIELDS) {
        this.report(lineNo, `more than ${MAX_FIELDS} fields: not a flow log record`);
        return;
      }
      const from = p;
      if (n < expected && integer[n] === 1) {
        let v = 0;
        let digitsOnly = true;
        do {
          const d = c - 48;
          if (d >>> 0 <= 9) v = v * 10 + d;
          else digitsOnly = false;
          if (++p === e) break;
          c = buf[p] as number;
        } while (c > SPACE);
        if (digitsOnly && p - from <= 16) ints[n] = v;
        else if (p - from === 1 && buf[from] === DASH) ints[n] = NaN;
        else if (bad < 0) bad = n;
      } else {
        do {
          if (++p === e) break;
          c = buf[p] as number;
        } while (c > SPACE);
      }
      starts[n] = from;
      ends[n] = p;
      n++;
    }
    if (n === 0) return;
    view.buf = buf;
    view.fieldCount = n;
    view.line = lineNo;
    view.lineStart = s;
    view.lineEnd = e;
    view.lineText = undefined;

    // A header line starts with a lowercase letter and, field names having none, holds no digit.
    const c0 = buf[starts[0] as number] as number;
    if (c0 >= 97 && c0 <= 122 && this.isNameLine(buf, starts[0] as number, e)) {
      const tokens: string[] = [];
      for (let i = 0; i < n; i++) tokens.push(latin1(buf, starts[i] as number, ends[i] as number));
      if (isFlowHeaderTokens(tokens)) {
        view.setHeader(makeFlowHeader(tokens, 'header'));
        this.stats.headers++;
        this.onHeader?.(view.header, lineNo);
        return;
      }
    }
    if (n !== expected) {
      const basis = header.origin === 'header' ? 'per the header line' : header.origin === 'format' ? 'per the flow log format' : 'default version 2 format';
      this.report(lineNo, `expected ${expected} fields (${basis}), found ${n}`);
      return;
    }
    if (bad >= 0) {
      const fs = starts[bad] as number;
      const fe = ends[bad] as number;
      this.report(lineNo, `field ${header.fields[bad]} is not an integer: "${latin1(buf, fs, Math.min(fe, fs + 40))}"`);
      return;
    }
    this.stats.records++;
    visit(view);
  }

  /** True when the bytes hold only lowercase letters, hyphens and separators. */
  private isNameLine(buf: Buffer, s: number, e: number): boolean {
    for (let p = s; p < e; p++) {
      const c = buf[p] as number;
      if (c > SPACE && !byteIsIdentTail(c)) return false;
    }
    return true;
  }
}

/**
 * Scans a decompressed flow log byte stream, calling `visit` for each good record line.
 * `header` applies to lines before any header line (pass DEFAULT_FLOW_HEADER or a header
 * from parseFlowFormat for header-less input). The fast path for CTI matching:
 *
 *   await scanFlowLines(chunks, DEFAULT_FLOW_HEADER, (v) => {
 *     const src = v.ipv4(v.header.srcaddr); // u32 or -1, no string built
 *   }, { uri });
 */
export async function scanFlowLines(
  bytes: AsyncIterable<Buffer>,
  header: FlowHeader | undefined,
  visit: (view: FlowLineView) => void,
  options: Omit<FlowScanOptions, 'header'> = { uri: '<flow>' },
): Promise<FlowScanStats> {
  const scanner = new FlowLineScanner({ ...options, header: header ?? DEFAULT_FLOW_HEADER });
  for await (const chunk of bytes) scanner.push(chunk, visit);
  scanner.end(visit);
  return scanner.stats;
}
