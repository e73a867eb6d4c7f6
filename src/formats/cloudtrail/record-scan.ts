/**
 * The CloudTrail byte split, JavaScript reference (record-scan-wasm.ts runs the same walk in
 * WebAssembly). What to look for comes from the rules: src/engine/prefilter/cloudtrail.ts plans
 * it; this module only walks the bytes.
 *
 * Beyond the parsing limit: in a CloudTrail S3 file (`{"Records":[...]}`), tell from the raw
 * bytes which records no loaded rule can match, and parse only the others.
 *
 * Applies only when every rule that reads CloudTrail is indexed: its condition requires some
 * field to equal (case-insensitively) one of a few values (CompiledDetectionRule.requiredValues),
 * or, failing that, some field's string value to contain one of a few literals
 * (CompiledDetectionRule.requiredSubstrings: a regex's fixed text, a `contains` value...).
 * A record is parsed when any of these holds, so a skipped record provably matches no rule:
 *
 * - it contains a backslash (an escape could hide a key or a value from the raw search);
 * - for some rule, an occurrence of one of the JSON keys its field path can end in (for
 *   `a.b.c`: `"c"`, `"b.c"`, `"a.b.c"`) is followed by a value that is not a string, or by a
 *   string that is not all ASCII, or whose lowercase is one of the rule's values, or that
 *   contains one of the rule's literals.
 *
 * A rule that matches a record reaches a value through its path; that value sits in the raw
 * text right after one of those keys; required values promise it equals one of the listed
 * values, required substrings that a string value contains one of the literals (for a
 * non-string value, we parse anyway). Without escapes the raw text of keys and strings is
 * their decoded text. So a record for which no condition holds matches no rule.
 *
 * The file's structure is checked while records are split (strings closed, brackets matched,
 * nothing but `,` between records, nothing after the document, no byte outside strings that
 * JSON does not allow there); anything unexpected, or a record that then fails to parse, sends
 * the whole file back to the ordinary decoder, which reports it as it always does. What the
 * split cannot see is damage that only a full parse finds inside a record no rule can match
 * (a raw control character inside a string, a malformed number): that record is skipped
 * without an error, as it raises no alert either way.
 */

/** A literal a string value must contain; lowercased unless caseSensitive. */
export interface PrefilterLiteral {
  readonly text: string;
  readonly caseSensitive: boolean;
}

/** What the value after one raw key must be for the record to be parsed. */
export interface PrefilterKey {
  /** The key as JSON text, quotes included. */
  readonly key: Buffer;
  /** Lowercased values. */
  readonly values: ReadonlySet<string>;
  readonly literals: readonly PrefilterLiteral[];
}

/** Which raw keys and values decide that a record must be parsed. */
export interface RawPrefilter {
  readonly keys: readonly PrefilterKey[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const HEAD = Buffer.from('{"Records":[', 'utf8');
const MAX_DEPTH = 512;

/** Byte classes outside strings: 0 white space, `:`, `,`, number and literal bytes; 1 `"`; 2 `{`; 3 `[`; 4 `}`; 5 `]`; 9 anything else. */
const STRUCTURE = new Uint8Array(256).fill(9);
for (const c of ' \n\r\t:,0123456789-+.eEtrufalsn') STRUCTURE[c.charCodeAt(0)] = 0;
STRUCTURE[QUOTE] = 1;
STRUCTURE[OPEN_BRACE] = 2;
STRUCTURE[0x5b] = 3;
STRUCTURE[0x7d] = 4;
STRUCTURE[CLOSE_BRACKET] = 5;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Spans of the records of a CloudTrail S3 file: start, end, and 1 when the record must be parsed. */
export type RecordSpans = Int32Array;

/** The keys of a pre-filter by byte length, for the scan's quick key test. */
interface KeyTable {
  /** Bit n set: some key is n bytes long (n < 32). */
  lengths: number;
  keys: ReadonlyArray<{ bytes: Buffer; entry: PrefilterKey }>;
}

function keyTable(prefilter: RawPrefilter): KeyTable {
  let lengths = 0;
  const keys: Array<{ bytes: Buffer; entry: PrefilterKey }> = [];
  for (const entry of prefilter.keys) {
    // Without the quotes: the scan compares string contents.
    const bytes = entry.key.subarray(1, entry.key.length - 1);
    if (bytes.length >= 32) lengths = -1;
    else if (lengths !== -1) lengths |= 1 << bytes.length;
    keys.push({ bytes, entry });
  }
  return { lengths, keys };
}

const tables = new WeakMap<RawPrefilter, KeyTable>();

/** The pre-filter key whose text is buf[start, end), if any. */
function keyAt(table: KeyTable, buf: Buffer, start: number, end: number): PrefilterKey | undefined {
  const length = end - start;
  for (const { bytes, entry } of table.keys) {
    if (bytes.length !== length) continue;
    let i = 0;
    while (i < length && bytes[i] === buf[start + i]) i++;
    if (i === length) return entry;
  }
  return undefined;
}

/** True when the string value buf[start, end) after this key may satisfy a rule: not all ASCII, a wanted value, or holding a literal. */
function valueWanted(entry: PrefilterKey, buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return true;
  const text = buf.toString('latin1', start, end);
  const lower = text.toLowerCase();
  if (entry.values.has(lower)) return true;
  for (const literal of entry.literals) if ((literal.caseSensitive ? text : lower).includes(literal.text)) return true;
  return false;
}

/**
 * The records of a CloudTrail S3 file, as [start, end, mustParse, ...], deciding for each
 * record whether a rule might match it (see the module comment). Undefined unless the bytes
 * are exactly one `{"Records":[{...}, ...]}` document with strings closed, brackets matched
 * and no byte outside strings that JSON does not allow there: then the ordinary decoder reads
 * the file and reports what it finds. Strings are skipped with Buffer.indexOf, and walked byte
 * by byte only where they hold a backslash.
 */
export function scanRecords(buf: Buffer, prefilter: RawPrefilter): RecordSpans | undefined {
  const n = buf.length;
  if (n < HEAD.length + 2 || buf.compare(HEAD, 0, HEAD.length, 0, HEAD.length) !== 0) return undefined;
  let table = tables.get(prefilter);
  if (table === undefined) {
    table = keyTable(prefilter);
    tables.set(prefilter, table);
  }
  // Keys of 32 bytes or more are looked up on every key (lengths -1).
  const lengths = table.lengths;
  let spans = new Int32Array(3 * 1024);
  let count = 0;
  const stack = new Uint8Array(MAX_DEPTH);
  let nextBackslash = buf.indexOf(BACKSLASH, HEAD.length);
  if (nextBackslash === -1) nextBackslash = n;
  let i = HEAD.length;
  while (isSpace(buf[i])) i++;
  if (buf[i] !== CLOSE_BRACKET) {
    for (;;) {
      if (buf[i] !== OPEN_BRACE) return undefined;
      const start = i;
      let depth = 0;
      let parse = 0;
      // The next string is an object key (after `{` or after `,` inside an object).
      let keyNext = false;
      // The values wanted for the value about to be read (it follows a pre-filter key).
      let wanted: PrefilterKey | undefined;
      for (;;) {
        if (i >= n) return undefined;
        const c = buf[i] as number;
        const kind = STRUCTURE[c] as number;
        if (kind === 0) {
          if (c === COMMA) {
            keyNext = stack[depth - 1] === 2;
          } else if (wanted !== undefined && c !== COLON && !isSpace(c)) {
            // A pre-filter key whose value is a number or a literal: parse.
            parse = 1;
            wanted = undefined;
          }
          i++;
          continue;
        }
        if (kind === 1) {
          let close = buf.indexOf(QUOTE, i + 1);
          if (close === -1) return undefined;
          if (nextBackslash < close) {
            // Escapes inside: walk this string by hand; the record is parsed.
            parse = 1;
            close = i + 1;
            for (;;) {
              const b = buf[close];
              if (b === undefined) return undefined;
              if (b === QUOTE) break;
              close += b === BACKSLASH ? 2 : 1;
            }
            nextBackslash = buf.indexOf(BACKSLASH, close);
            if (nextBackslash === -1) nextBackslash = n;
          } else if (parse === 0) {
            if (keyNext) {
              const length = close - i - 1;
              if (lengths === -1 || (length < 32 && (lengths & (1 << length)) !== 0)) wanted = keyAt(table, buf, i + 1, close);
            } else if (wanted !== undefined) {
              if (valueWanted(wanted, buf, i + 1, close)) parse = 1;
              wanted = undefined;
            }
          }
          keyNext = false;
          i = close + 1;
          continue;
        }
        if (wanted !== undefined) {
          // A pre-filter key whose value is an object or an array: parse.
          parse = 1;
          wanted = undefined;
        }
        if (kind === 2 || kind === 3) {
          if (depth === MAX_DEPTH) return undefined;
          stack[depth++] = kind;
          keyNext = kind === 2;
          i++;
        } else if (kind === 4 || kind === 5) {
          if (depth === 0 || stack[depth - 1] !== kind - 2) return undefined;
          depth--;
          i++;
          if (depth === 0) break;
        } else {
          return undefined;
        }
      }
      if (count + 3 > spans.length) {
        const grown = new Int32Array(spans.length * 2);
        grown.set(spans);
        spans = grown;
      }
      spans[count++] = start;
      spans[count++] = i;
      spans[count++] = parse;
      while (isSpace(buf[i])) i++;
      if (buf[i] === COMMA) {
        i++;
        while (isSpace(buf[i])) i++;
        continue;
      }
      if (buf[i] === CLOSE_BRACKET) break;
      return undefined;
    }
  }
  // `]`, then `}`, then only white space.
  i++;
  while (isSpace(buf[i])) i++;
  if (buf[i] !== 0x7d) return undefined;
  i++;
  while (isSpace(buf[i])) i++;
  return i === n ? spans.subarray(0, count) : undefined;
}
