/**
 * The raw pre-filter's record scan in WebAssembly (source: wasm/record-scan.ts, built into
 * record-scan.wasm beside this file by `npm run build:wasm`). It gives exactly what the
 * reference `scanRecords` of worker-prefilter.ts gives, about twice as fast: the JavaScript
 * walk pays a native call per string (`Buffer.indexOf`), and CloudTrail has a string every
 * ten bytes; the WebAssembly walk finds each closing quote 16 bytes at a time.
 *
 * Each thread instantiates the module once and lays out its memory: the tables (byte classes,
 * bracket stack, the pre-filter's keys, values and literals), then the spans, then the input,
 * copied in and followed by quotes. Where WebAssembly (with SIMD) is not available, the
 * reference scan runs instead.
 */
import { readFileSync } from 'node:fs';
import { scanRecords } from './record-scan.ts';
import type { PrefilterKey, RawPrefilter, RecordSpans } from './record-scan.ts';

/** The part of the WebAssembly API used here (TypeScript's ES libraries do not declare it; Node has it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
};

interface ScannerExports {
  memory: WasmMemory;
  scan: (tables: number, input: number, n: number, from: number, spans: number, spanCapacity: number) => number;
}

const HEAD = Buffer.from('{"Records":[', 'utf8');
const NOT_A_RECORDS_DOCUMENT = -1;
const OUTPUT_FULL = -2;
const PAGE = 65536;
/** The quotes after the input: the string search reads 16 bytes at a time and may run past it. */
const PADDING = 32;
/** Where the key table starts in the tables region (wasm/record-scan.ts: KEYS). */
const KEYS = 1024;
const SPAN_BYTES = 12;
/** Values by byte length: 0 to 62, and 63 or more (wasm/record-scan.ts). */
const VALUE_BUCKETS = 64;

/** Byte classes outside strings: 0 white space, `:`, `,`, number and literal bytes; 1 `"`; 2 `{`; 3 `[`; 4 `}`; 5 `]`; 9 anything else. */
function byteClasses(): Uint8Array {
  const classes = new Uint8Array(256).fill(9);
  for (const c of ' \n\r\t:,0123456789-+.eEtrufalsn') classes[c.charCodeAt(0)] = 0;
  classes[0x22] = 1;
  classes[0x7b] = 2;
  classes[0x5b] = 3;
  classes[0x7d] = 4;
  classes[0x5d] = 5;
  return classes;
}

/** The tables region for a pre-filter: classes, stack, then the keys with their values and literals. */
function encodeTables(prefilter: RawPrefilter): Uint8Array {
  const keys = prefilter.keys;
  const chunks: Buffer[] = [];
  // Variable-length data goes after the fixed part; offsets are from the region's start.
  let tail = KEYS + 8 + 16 * keys.length;
  const place = (bytes: Buffer): number => {
    const at = tail;
    chunks.push(bytes);
    tail += bytes.length;
    return at;
  };
  const words = (values: number[]): Buffer => {
    const out = Buffer.alloc(4 * values.length);
    values.forEach((value, i) => out.writeInt32LE(value, 4 * i));
    return out;
  };
  let lengths = 0;
  const fixed: number[] = [keys.length, 0];
  for (const entry of keys) {
    const key = entry.key.subarray(1, entry.key.length - 1);
    if (key.length >= 32) lengths = -1;
    else if (lengths !== -1) lengths |= 1 << key.length;
    fixed.push(...keyWords(entry, key, place, words));
  }
  fixed[1] = lengths;
  const region = new Uint8Array(tail);
  region.set(byteClasses(), 0);
  region.set(words(fixed), KEYS);
  let at = KEYS + 8 + 16 * keys.length;
  for (const chunk of chunks) {
    region.set(chunk, at);
    at += chunk.length;
  }
  return region;
}

function keyWords(entry: PrefilterKey, key: Buffer, place: (bytes: Buffer) => number, words: (values: number[]) => Buffer): number[] {
  const keyAt = place(key);
  // Bucketed by byte length (wasm/record-scan.ts: VALUE_BUCKETS), so a value is only compared with those of its length.
  const bucketOf = (bytes: Buffer): number => Math.min(bytes.length, VALUE_BUCKETS - 1);
  const values = [...entry.values].map((value) => Buffer.from(value, 'utf8')).sort((a, b) => bucketOf(a) - bucketOf(b));
  const starts: number[] = [];
  for (let bucket = 0, v = 0; bucket <= VALUE_BUCKETS; bucket++) {
    while (v < values.length && bucketOf(values[v] as Buffer) < bucket) v++;
    starts.push(v);
  }
  const valueAt = values.map((value) => place(value));
  const valuesAt = place(words([...starts, ...values.flatMap((value, i) => [valueAt[i] as number, value.length])]));
  const literals = entry.literals.map((literal) => Buffer.from(literal.text, 'utf8'));
  const literalAt = literals.map((literal) => place(literal));
  const literalsAt = place(words([literals.length, ...literals.flatMap((literal, i) => [literalAt[i] as number, literal.length, entry.literals[i]?.caseSensitive === true ? 1 : 0])]));
  return [keyAt, key.length, valuesAt, literalsAt];
}

class WasmScanner {
  private readonly exports: ScannerExports;
  private prefilter: RawPrefilter | undefined;
  private tablesBytes = 0;
  private spanCapacity = 8192;

  constructor(module: object) {
    this.exports = new WebAssembly.Instance(module, {}).exports as ScannerExports;
  }

  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    const missing = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
    if (missing > 0) memory.grow(missing);
  }

  private load(prefilter: RawPrefilter): void {
    if (this.prefilter === prefilter) return;
    const tables = encodeTables(prefilter);
    this.reserve(tables.length);
    new Uint8Array(this.exports.memory.buffer).set(tables, 0);
    this.tablesBytes = (tables.length + 15) & ~15;
    this.prefilter = prefilter;
  }

  scan(buf: Buffer, prefilter: RawPrefilter): RecordSpans | undefined {
    const n = buf.length;
    if (n < HEAD.length + 2 || buf.compare(HEAD, 0, HEAD.length, 0, HEAD.length) !== 0) return undefined;
    this.load(prefilter);
    for (;;) {
      const spans = this.tablesBytes;
      const input = spans + SPAN_BYTES * this.spanCapacity;
      try {
        this.reserve(input + n + PADDING);
      } catch {
        // WebAssembly memory cannot grow that far (4 GiB at most): the reference scan reads it.
        return scanRecords(buf, prefilter);
      }
      const memory = new Uint8Array(this.exports.memory.buffer);
      memory.set(buf, input);
      memory.fill(0x22, input + n, input + n + PADDING);
      const count = this.exports.scan(0, input, n, HEAD.length, spans, this.spanCapacity);
      if (count === NOT_A_RECORDS_DOCUMENT) return undefined;
      if (count === OUTPUT_FULL) {
        this.spanCapacity *= 2;
        continue;
      }
      return new Int32Array(this.exports.memory.buffer, spans, 3 * count).slice();
    }
  }
}

let scanner: WasmScanner | null | undefined;

/** This thread's WebAssembly scanner, or null where WebAssembly with SIMD cannot run it. */
function wasmScanner(): WasmScanner | null {
  if (scanner === undefined) {
    try {
      scanner = new WasmScanner(new WebAssembly.Module(readFileSync(new URL('./record-scan.wasm', import.meta.url))));
    } catch {
      scanner = null;
    }
  }
  return scanner;
}

/** True when scans run in WebAssembly on this thread. */
export function wasmScanAvailable(): boolean {
  return wasmScanner() !== null;
}

/** scanRecords (worker-prefilter.ts), in WebAssembly where it runs. */
export function scanRecordsFast(buf: Buffer, prefilter: RawPrefilter): RecordSpans | undefined {
  const fast = wasmScanner();
  return fast === null ? scanRecords(buf, prefilter) : fast.scan(buf, prefilter);
}
