/**
 * The raw pre-filter's record scan (src/engine/worker-prefilter.ts), in AssemblyScript compiled
 * to WebAssembly with SIMD: the same walk as the reference `scanRecords` there, byte for byte
 * the same spans and decisions, about twice as fast. Build: `npm run build:wasm` (writes
 * src/engine/record-scan.wasm; test/engine/record-scan-wasm.test.ts checks that the committed
 * binary is this source's build and that both scans agree).
 *
 * Memory is laid out by the caller (src/engine/record-scan-wasm.ts):
 * - `tables`: 256 bytes of byte classes outside strings (0 white space, `:`, `,`, number and
 *   literal bytes; 1 `"`; 2 `{`; 3 `[`; 4 `}`; 5 `]`; 9 anything else), then 512 bytes of
 *   bracket stack, then at tables + 1024 the keys: count, lengths mask (bit n: some key is n
 *   bytes long, -1: some key is 32 bytes or longer), and per key 4 words: key bytes offset,
 *   key length, values offset, literals offset. A values list is 65 bucket starts (bucket b:
 *   the values of byte length b, the last one those of 63 bytes or more; start 64 is the
 *   count) and then (offset, length) pairs of lowercased values, in bucket order; a literals
 *   list is a count and (offset, length, case-sensitive) triples.
 * - the input at `input`, `n` bytes, followed by at least 16 bytes of `"` (the SIMD string
 *   search stops there without a bounds test per block);
 * - the output at `spans`: per record its start, end and 1 when it must be parsed.
 */

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const OPEN_BRACE: u32 = 0x7b;
const CLOSE_BRACE: u32 = 0x7d;
const CLOSE_BRACKET: u32 = 0x5d;
const COMMA: u32 = 0x2c;
const COLON: u32 = 0x3a;
const MAX_DEPTH: i32 = 512;
const STACK: usize = 256;
const KEYS: usize = 1024;
/** Values are bucketed by byte length: 0 to 62, and 63 or more. */
const VALUE_BUCKETS: i32 = 64;

/** Not exactly one `{"Records":[...]}` document: the caller decodes the file the ordinary way. */
const NOT_A_RECORDS_DOCUMENT: i32 = -1;
/** More records than `spanCapacity`: the caller grows the output and scans again. */
const OUTPUT_FULL: i32 = -2;

@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

@inline function byteAt(at: usize): u32 {
  return <u32>load<u8>(at);
}

@inline function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/** The key whose bytes are [start, end), or -1. */
function keyAt(tables: usize, start: usize, length: i32): i32 {
  const count = load<i32>(tables + KEYS);
  for (let k = 0; k < count; k++) {
    const entry = tables + KEYS + 8 + <usize>(16 * k);
    if (load<i32>(entry, 4) != length) continue;
    const key = tables + <usize>load<i32>(entry);
    let i = 0;
    while (i < length && load<u8>(key + <usize>i) == load<u8>(start + <usize>i)) i++;
    if (i == length) return k;
  }
  return -1;
}

/** True when the string value [start, start + length) of key k may satisfy a rule: parse the record. */
function valueWanted(tables: usize, k: i32, start: usize, length: i32): bool {
  // Not all ASCII: 16 bytes at a time (the high bits), the bytes past the value masked off.
  for (let i = 0; i < length; i += 16) {
    let high = i8x16.bitmask(v128.load(start + <usize>i));
    if (length - i < 16) high &= (1 << (length - i)) - 1;
    if (high != 0) return true;
  }
  const entry = tables + KEYS + 8 + <usize>(16 * k);
  const values = tables + <usize>load<i32>(entry, 8);
  const bucket = length < VALUE_BUCKETS - 1 ? length : VALUE_BUCKETS - 1;
  const pairs = values + <usize>(4 * (VALUE_BUCKETS + 1));
  const last = load<i32>(values + <usize>(4 * (bucket + 1)));
  for (let v = load<i32>(values + <usize>(4 * bucket)); v < last; v++) {
    if (load<i32>(pairs + 4 + <usize>(8 * v)) != length) continue;
    const value = tables + <usize>load<i32>(pairs + <usize>(8 * v));
    let i = 0;
    while (i < length && <u32>load<u8>(value + <usize>i) == lower(byteAt(start + <usize>i))) i++;
    if (i == length) return true;
  }
  const literals = tables + <usize>load<i32>(entry, 12);
  const literalCount = load<i32>(literals);
  for (let l = 0; l < literalCount; l++) {
    const at = literals + 4 + <usize>(12 * l);
    const literal = tables + <usize>load<i32>(at);
    const literalLength = load<i32>(at, 4);
    const cased = load<i32>(at, 8) != 0;
    if (literalLength == 0) return true;
    // Where the literal's first byte (either case, unless cased) is, 16 positions at a time.
    const first = <u32>load<u8>(literal);
    const firstUpper = !cased && first - 0x61 < 26 ? first - 0x20 : first;
    const firsts = i8x16.splat(<i8>first);
    const firstsUpper = i8x16.splat(<i8>firstUpper);
    const positions = length - literalLength + 1;
    for (let block = 0; block < positions; block += 16) {
      const bytes = v128.load(start + <usize>block);
      let hits = i8x16.bitmask(v128.or(i8x16.eq(bytes, firsts), i8x16.eq(bytes, firstsUpper)));
      if (positions - block < 16) hits &= (1 << (positions - block)) - 1;
      while (hits != 0) {
        const from = block + <i32>ctz(hits);
        let i = 1;
        if (cased) while (i < literalLength && load<u8>(literal + <usize>i) == load<u8>(start + <usize>(from + i))) i++;
        else while (i < literalLength && <u32>load<u8>(literal + <usize>i) == lower(byteAt(start + <usize>(from + i)))) i++;
        if (i == literalLength) return true;
        hits &= hits - 1;
      }
    }
  }
  return false;
}

/**
 * Scans a CloudTrail S3 file from `from` (just after `{"Records":[`): the number of records,
 * their spans written to `spans`, or NOT_A_RECORDS_DOCUMENT, or OUTPUT_FULL.
 */
export function scan(tables: usize, input: usize, n: i32, from: i32, spans: usize, spanCapacity: i32): i32 {
  const lengths = load<i32>(tables + KEYS, 4);
  const quotes = i8x16.splat(<i8>QUOTE);
  const backslashes = i8x16.splat(<i8>BACKSLASH);
  let count = 0;
  let i = from;
  while (i < n && isSpace(byteAt(input + <usize>i))) i++;
  if (i >= n || byteAt(input + <usize>i) != CLOSE_BRACKET) {
    while (true) {
      if (i >= n || byteAt(input + <usize>i) != OPEN_BRACE) return NOT_A_RECORDS_DOCUMENT;
      const start = i;
      let depth = 0;
      let parse = 0;
      // The next string is an object key (after `{`, or after `,` inside an object).
      let keyNext = false;
      // The key whose value is about to be read, or -1.
      let wanted = -1;
      while (true) {
        if (i >= n) return NOT_A_RECORDS_DOCUMENT;
        const c = byteAt(input + <usize>i);
        const kind = <u32>load<u8>(tables + <usize>c);
        if (kind == 0) {
          if (c == COMMA) keyNext = load<u8>(tables + STACK + <usize>(depth - 1)) == 2;
          else if (wanted >= 0 && c != COLON && !isSpace(c)) {
            // A pre-filter key whose value is a number or a literal: parse.
            parse = 1;
            wanted = -1;
          }
          i++;
          continue;
        }
        if (kind == 1) {
          // The closing quote: 16 bytes at a time, to the first `"` or `\`.
          let close = i + 1;
          let escaped = false;
          while (true) {
            const block = v128.load(input + <usize>close);
            const hits = i8x16.bitmask(v128.or(i8x16.eq(block, quotes), i8x16.eq(block, backslashes)));
            if (hits == 0) {
              close += 16;
              continue;
            }
            close += <i32>ctz(hits);
            if (close >= n) return NOT_A_RECORDS_DOCUMENT;
            if (byteAt(input + <usize>close) == QUOTE) break;
            escaped = true;
            close += 2;
          }
          if (escaped) parse = 1;
          else if (parse == 0) {
            const length = close - i - 1;
            if (keyNext) {
              if (lengths == -1 || (length < 32 && (lengths & (1 << length)) != 0)) wanted = keyAt(tables, input + <usize>(i + 1), length);
            } else if (wanted >= 0) {
              if (valueWanted(tables, wanted, input + <usize>(i + 1), length)) parse = 1;
              wanted = -1;
            }
          }
          keyNext = false;
          i = close + 1;
          continue;
        }
        if (wanted >= 0) {
          // A pre-filter key whose value is an object or an array: parse.
          parse = 1;
          wanted = -1;
        }
        if (kind == 2 || kind == 3) {
          if (depth == MAX_DEPTH) return NOT_A_RECORDS_DOCUMENT;
          store<u8>(tables + STACK + <usize>depth, <u8>kind);
          depth++;
          keyNext = kind == 2;
          i++;
        } else if (kind == 4 || kind == 5) {
          if (depth == 0 || <u32>load<u8>(tables + STACK + <usize>(depth - 1)) != kind - 2) return NOT_A_RECORDS_DOCUMENT;
          depth--;
          i++;
          if (depth == 0) break;
        } else return NOT_A_RECORDS_DOCUMENT;
      }
      if (count >= spanCapacity) return OUTPUT_FULL;
      const at = spans + <usize>(12 * count);
      store<i32>(at, start);
      store<i32>(at, i, 4);
      store<i32>(at, parse, 8);
      count++;
      while (i < n && isSpace(byteAt(input + <usize>i))) i++;
      if (i < n && byteAt(input + <usize>i) == COMMA) {
        i++;
        while (i < n && isSpace(byteAt(input + <usize>i))) i++;
        continue;
      }
      if (i < n && byteAt(input + <usize>i) == CLOSE_BRACKET) break;
      return NOT_A_RECORDS_DOCUMENT;
    }
  }
  // `]`, then `}`, then only white space.
  i++;
  while (i < n && isSpace(byteAt(input + <usize>i))) i++;
  if (i >= n || byteAt(input + <usize>i) != CLOSE_BRACE) return NOT_A_RECORDS_DOCUMENT;
  i++;
  while (i < n && isSpace(byteAt(input + <usize>i))) i++;
  return i == n ? count : NOT_A_RECORDS_DOCUMENT;
}
