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
import { located } from '../../core/errors.ts';
import type { LocatedError } from '../../core/errors.ts';
import type { LogRecord } from '../../core/envelope.ts';
import { DEFAULT_FLOW_HEADER, isFlowHeaderTokens, makeFlowHeader, type FlowHeader } from './fields.ts';

/** Lines longer than this (no newline in sight) are reported and dropped. */
const MAX_LINE_BYTES = 1 << 20;
/** More fields than this on one line is not a flow log record. */
const MAX_FIELDS = 256;
/** Distinct header layouts whose generated functions are kept; past it, each header gets its own. */
const MAX_CACHED_LAYOUTS = 256;

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

/** By field names and integer flags (see fastLines: one function per layout, not per header line). */
const builders = new Map<string, RecordBuilder>();

/**
 * A record builder specialised for one header: one constant-key store per field, so V8 keeps
 * one hidden-class chain per header instead of going megamorphic on keyed stores. Field
 * names are validated identifiers (`[a-z][a-z0-9-]*`) and are embedded as JSON strings.
 */
function recordBuilder(header: FlowHeader): RecordBuilder {
  const key = JSON.stringify([header.fields, [...header.integer]]);
  let build = builders.get(key);
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
  if (builders.size < MAX_CACHED_LAYOUTS) builders.set(key, build);
  return build;
}

/** What the scanner does with a column's bytes while splitting the line. */
const STRING = 0;
const INTEGER = 1;
/** srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr: parsed to a 32-bit integer when IPv4. */
const ADDRESS = 2;
const ADDRESS_FIELDS: ReadonlySet<string> = new Set(['srcaddr', 'dstaddr', 'pkt-srcaddr', 'pkt-dstaddr']);

const columnKinds = new WeakMap<FlowHeader, Uint8Array>();

/** Per column of the header (MAX_FIELDS long, STRING past its end): INTEGER, ADDRESS or STRING. */
function kindsOf(header: FlowHeader): Uint8Array {
  let kinds = columnKinds.get(header);
  if (kinds !== undefined) return kinds;
  kinds = new Uint8Array(MAX_FIELDS + 1);
  header.fields.forEach((field, i) => {
    if (i < MAX_FIELDS) kinds[i] = header.integer[i] === 1 ? INTEGER : ADDRESS_FIELDS.has(field) ? ADDRESS : STRING;
  });
  columnKinds.set(header, kinds);
  return kinds;
}

/** Set by scanIPv4: the address it read, or -1. */
let parsedIPv4 = -1;

/**
 * Reads the field at p (its first byte above 0x20) as a strict dotted quad (no leading zeros)
 * into parsedIPv4, -1 when it is anything else; returns where the field ends.
 */
function scanIPv4(buf: Uint8Array, p: number): number {
  let c = buf[p] as number;
  let value = 0;
  let ok = true;
  for (let part = 0; ; part++) {
    let d = c - 48;
    if (d >>> 0 > 9) {
      ok = false;
      break;
    }
    let octet = d;
    c = buf[++p] as number;
    if (d !== 0) {
      d = c - 48;
      if (d >>> 0 <= 9) {
        octet = octet * 10 + d;
        c = buf[++p] as number;
        d = c - 48;
        if (d >>> 0 <= 9) {
          octet = octet * 10 + d;
          c = buf[++p] as number;
        }
      }
    }
    if (octet > 255) {
      ok = false;
      break;
    }
    value = (value << 8) | octet;
    if (part === 3) {
      if (c > SPACE) ok = false;
      break;
    }
    if (c !== 0x2e) {
      ok = false;
      break;
    }
    c = buf[++p] as number;
  }
  while (c > SPACE) c = buf[++p] as number;
  parsedIPv4 = ok ? value >>> 0 : -1;
  return p;
}

/**
 * The fast path for one line: `(buf, p, starts, ends, addrs)` splits the line starting at p
 * when it has exactly the shape AWS writes (the header's fields, one space apart, the line
 * ending right after the last one; integer columns digits only, at most 16, or `-`) and
 * returns the position of its LF; anything else (a header line, other separators, a wrong
 * field count, a bad integer) returns -1 and goes to the general scanLine, which decides.
 */
type FastLine = (buf: Uint8Array, p: number, starts: Int32Array, ends: Int32Array, addrs: Float64Array) => number;

/**
 * By column kinds, not by header object: every S3 object starts with its own header line, and a
 * new function per object would run unoptimised until V8 compiled it again.
 */
const fastLines = new Map<string, FastLine>();

/** Never fast: every line goes to scanLine. */
const NO_FAST_LINE: FastLine = () => -1;

/** scanIPv4 as generated code, inlined: reads the field at p into ADDR, leaves p and c at its end. */
const IPV4_SOURCE = `{
  let v = 0, ok = 1, d = 0, o = 0;
  for (let part = 0; ; part++) {
    d = c - 48;
    if ((d >>> 0) > 9) { ok = 0; break; }
    o = d; c = buf[++p];
    if (d !== 0) { d = c - 48; if ((d >>> 0) <= 9) { o = o * 10 + d; c = buf[++p]; d = c - 48; if ((d >>> 0) <= 9) { o = o * 10 + d; c = buf[++p]; } } }
    if (o > 255) { ok = 0; break; }
    v = (v << 8) | o;
    if (part === 3) { if (c > 32) ok = 0; break; }
    if (c !== 46) { ok = 0; break; }
    c = buf[++p];
  }
  while (c > 32) c = buf[++p];
  ADDR = ok === 1 ? v >>> 0 : -1;
}`;

/** The fast path of a header, one straight-line block per column, generated once per header. */
function fastLineOf(header: FlowHeader, kinds: Uint8Array): FastLine {
  const count = header.fields.length;
  if (count === 0 || count > MAX_FIELDS) return NO_FAST_LINE;
  const key = kinds.subarray(0, count).join('');
  let fast = fastLines.get(key);
  if (fast !== undefined) return fast;
  // A lowercase first byte may start a header line: scanLine decides.
  const lines = ['let c = buf[p];', 'if (c >= 97 && c <= 122) return -1;', 'let f = 0;'];
  for (let i = 0; i < count; i++) {
    lines.push('if (c <= 32) return -1;', `starts[${i}] = p;`);
    if (kinds[i] === INTEGER) {
      lines.push('if (c === 45) { c = buf[++p]; } else { f = p; while (((c - 48) >>> 0) <= 9) c = buf[++p]; if (p === f || p - f > 16) return -1; }');
    } else if (kinds[i] === ADDRESS) {
      lines.push(IPV4_SOURCE.replace('ADDR', `addrs[${i}]`));
    } else {
      lines.push('do c = buf[++p]; while (c > 32);');
    }
    lines.push(`ends[${i}] = p;`);
    lines.push(i < count - 1 ? 'if (c !== 32) return -1; c = buf[++p];' : 'if (c !== 10) return -1;');
  }
  lines.push('return p;');
  try {
    fast = new Function(`return function fastLine(buf, p, starts, ends, addrs) {\n'use strict';\n${lines.join('\n')}\n};`)() as FastLine;
  } catch {
    fast = NO_FAST_LINE;
  }
  if (fastLines.size < MAX_CACHED_LAYOUTS) fastLines.set(key, fast);
  return fast;
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
  /** ADDRESS columns: the IPv4 address as an unsigned 32-bit integer, -1 when not a dotted quad. */
  readonly addrs = new Float64Array(MAX_FIELDS + 1);
  kinds: Uint8Array;
  fast: FastLine;
  builder: RecordBuilder;

  constructor(header: FlowHeader) {
    this.header = header;
    this.builder = recordBuilder(header);
    this.kinds = kindsOf(header);
    this.fast = fastLineOf(header, this.kinds);
  }

  setHeader(header: FlowHeader): void {
    this.header = header;
    this.builder = recordBuilder(header);
    this.kinds = kindsOf(header);
    this.fast = fastLineOf(header, this.kinds);
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

  /** Integer columns are validated while splitting (digits only, at most 16, or `-`) and read here, on demand. */
  int(i: number): number {
    if (i < 0 || i >= this.fieldCount || this.header.integer[i] !== 1) return NaN;
    const buf = this.buf;
    const e = this.ends[i] as number;
    let p = this.starts[i] as number;
    if (buf[p] === DASH) return NaN;
    let v = 0;
    for (; p < e; p++) v = v * 10 + ((buf[p] as number) - 48);
    return v;
  }

  ipv4(i: number): number {
    if (i < 0 || i >= this.fieldCount) return -1;
    if (this.kinds[i] === ADDRESS) return this.addrs[i] as number;
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
    const integer = this.header.integer;
    const ints = this.ints;
    for (let i = 0; i < this.fieldCount; i++) if (integer[i] === 1) ints[i] = this.int(i);
    return this.builder(this.text0(), this.lineStart, this.starts, this.ends, ints);
  }
}

const LF_BYTE = Buffer.from([LF]);

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
      } else if (this.skipping) {
        this.carry = undefined;
        this.skipping = false;
      } else {
        // The line with its LF: scanLines needs it as the end mark.
        const line = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
        this.carry = undefined;
        this.scanLines(line, 0, line.length - 1, visit);
      }
      pos = nl + 1;
    } else if (this.skipping) {
      // The rest of a line dropped as over-long at the end of the last chunk.
      const nl = chunk.indexOf(LF);
      if (nl >= 0) {
        this.skipping = false;
        pos = nl + 1;
      }
    }
    if (pos < len && !this.skipping) {
      const last = chunk.lastIndexOf(LF);
      if (last >= pos) {
        this.scanLines(chunk, pos, last, visit);
        pos = last + 1;
      }
    }
    if (pos < len) {
      this.carry = Buffer.from(chunk.subarray(pos));
      if (this.carry.length > MAX_LINE_BYTES) this.dropLongLine();
    }
  }

  end(visit: Visit): void {
    if (this.carry !== undefined) {
      const line = Buffer.concat([this.carry, LF_BYTE]);
      this.carry = undefined;
      if (this.skipping) this.skipping = false;
      else this.scanLines(line, 0, line.length - 1, visit);
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
    this.onError?.(located('TH_INPUT_RECORD', message, `${this.uri}:${line}`));
  }

  /**
   * The lines of buf[from..last], where buf[last] is a LF: every line ends with one, so the
   * byte loops stop at a separator (every byte up to 0x20, LF included) without bounds tests.
   * Each line is first tried by the header's generated fast path (see fastLineOf), which only
   * accepts the shape AWS writes; any other line is split by scanLine, which reports it.
   */
  private scanLines(buf: Buffer, from: number, last: number, visit: Visit): void {
    const view = this.view;
    const stats = this.stats;
    const starts = view.starts;
    const ends = view.ends;
    const addrs = view.addrs;
    let fast = view.fast;
    let expected = view.header.fields.length;
    let p = from;
    while (p <= last) {
      const lf = fast(buf, p, starts, ends, addrs);
      if (lf >= 0 && lf - p <= MAX_LINE_BYTES) {
        view.buf = buf;
        view.fieldCount = expected;
        view.line = ++stats.lines;
        view.lineStart = p;
        view.lineEnd = lf;
        view.lineText = undefined;
        stats.records++;
        visit(view);
        p = lf + 1;
        continue;
      }
      p = this.scanLine(buf, p, visit);
      // A header line may have replaced the header.
      fast = view.fast;
      expected = view.header.fields.length;
    }
  }

  /**
   * One line from s (its LF at or before the block's last byte), any shape: fields split on
   * runs of separators, integer columns checked for digits, address columns parsed to 32-bit
   * integers; a malformed line is reported. Returns where the next line starts.
   */
  private scanLine(buf: Buffer, s: number, visit: Visit): number {
    const view = this.view;
    const starts = view.starts;
    const ends = view.ends;
    const addrs = view.addrs;
    const kinds = view.kinds;
    let p = s;
    let n = 0;
    let bad = -1;
    let c = buf[p] as number;
    for (;;) {
      while (c <= SPACE && c !== LF) c = buf[++p] as number;
      if (c === LF) break;
      if (n === MAX_FIELDS) {
        // More than MAX_FIELDS fields: find the line's end for its length.
        const lf = buf.indexOf(LF, p);
        if (lf - s > MAX_LINE_BYTES) {
          this.dropLongLine();
          this.skipping = false;
        } else {
          this.report(++this.stats.lines, `more than ${MAX_FIELDS} fields: not a flow log record`);
        }
        return lf + 1;
      }
      const fieldStart = p;
      starts[n] = p;
      const kind = kinds[n];
      if (kind === INTEGER) {
        while ((c - 48) >>> 0 <= 9) c = buf[++p] as number;
        if (c > SPACE) {
          // Not only digits: `-` alone is absent, anything else is not an integer.
          if (bad < 0 && !(c === DASH && p === fieldStart && (buf[p + 1] as number) <= SPACE)) bad = n;
          do c = buf[++p] as number;
          while (c > SPACE);
        } else if (p - fieldStart > 16 && bad < 0) {
          bad = n;
        }
      } else if (kind === ADDRESS) {
        const end = scanIPv4(buf, p);
        addrs[n] = parsedIPv4;
        p = end;
        c = buf[p] as number;
      } else {
        do c = buf[++p] as number;
        while (c > SPACE);
      }
      ends[n] = p;
      n++;
    }
    // p is at the line's LF.
    if (p - s > MAX_LINE_BYTES) {
      this.dropLongLine();
      this.skipping = false;
      return p + 1;
    }
    const lineNo = ++this.stats.lines;
    let e = p;
    if (n === 0) return p + 1;
    if (e > s && buf[e - 1] === CR) e--;
    this.finishLine(buf, s, e, n, bad, lineNo, visit);
    return p + 1;
  }

  /** A split line: a header line, a malformed line (reported), or a record for the visitor. */
  private finishLine(buf: Buffer, s: number, e: number, n: number, bad: number, lineNo: number, visit: Visit): void {
    const view = this.view;
    const starts = view.starts;
    const ends = view.ends;
    const header = view.header;
    const expected = header.fields.length;
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
