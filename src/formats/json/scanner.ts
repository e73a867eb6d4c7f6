/**
 * A byte-level JSON scanner: tracks strings, escapes and bracket depth, nothing else. It finds
 * where JSON values end without parsing them, so the decoder can split concatenated values,
 * multi-line values and damaged containers. Structural bytes are ASCII, so UTF-8 text needs no
 * decoding here.
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const NEWLINE = 0x0a;

/** Resumable scanner state: a value may span any number of chunks. */
export interface ScanState {
  /** Open brackets and braces. */
  depth: number;
  inString: boolean;
  /** The last byte seen was a backslash inside a string. */
  escaped: boolean;
  /** Newline bytes seen. */
  newlines: number;
  /** Colons seen outside strings (how many keys): tells a pretty-printed opener line from a cut one. */
  colons: number;
  /**
   * A raw newline occurred inside a string, which JSON forbids: the string was closed there so
   * that one damaged string cannot swallow the rest of a multi-line input.
   */
  brokenString: boolean;
}

export function createScanState(depth = 0): ScanState {
  return { depth, inString: false, escaped: false, newlines: 0, colons: 0, brokenString: false };
}

export function isJsonSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Index of the first non-whitespace byte at or after `i`, or `to`. */
export function skipSpace(buf: Uint8Array, i: number, to: number = buf.length): number {
  while (i < to && isJsonSpace(buf[i])) i++;
  return i;
}

/** Newline bytes in buf[from, to). */
export function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(NEWLINE, from);
  while (i !== -1 && i < to) {
    n++;
    i = buf.indexOf(NEWLINE, i + 1);
  }
  return n;
}

/**
 * Scans buf[from, to) from `state` (depth >= 1: inside a container). Returns the index just
 * past the byte that brings depth back to 0, or -1 when the range ends first (the state then
 * carries over to the next chunk).
 */
export function scanValue(buf: Buffer, from: number, to: number, state: ScanState): number {
  let depth = state.depth;
  let inString = state.inString;
  let newlines = state.newlines;
  let colons = state.colons;
  let i = from;
  let result = -1;
  // The next newline at or after i (-1: none): found once, reused until passed.
  let nextNewline = -2;
  if (inString && state.escaped && from < to) {
    state.escaped = false;
    i++;
  }
  outer: while (i < to) {
    if (inString) {
      // Strings are most of the bytes: jump from quote to quote.
      for (;;) {
        let q = buf.indexOf(QUOTE, i);
        if (q === -1 || q >= to) q = to;
        if (nextNewline !== -1 && nextNewline < i) nextNewline = buf.indexOf(NEWLINE, i);
        if (nextNewline !== -1 && nextNewline < q) {
          // A raw newline cannot be inside a JSON string: close the damaged string there.
          newlines++;
          inString = false;
          state.brokenString = true;
          i = nextNewline + 1;
          continue outer;
        }
        let k = q - 1;
        while (k >= i && buf[k] === BACKSLASH) k--;
        const backslashes = q - 1 - k;
        if (q === to) {
          state.escaped = (backslashes & 1) === 1;
          break outer;
        }
        i = q + 1;
        if ((backslashes & 1) === 0) {
          inString = false;
          continue outer;
        }
      }
    }
    const c = buf[i++];
    switch (c) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        depth++;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        depth--;
        if (depth <= 0) {
          depth = 0;
          result = i;
          break outer;
        }
        break;
      case COLON:
        colons++;
        break;
      case NEWLINE:
        newlines++;
        break;
      default:
        break;
    }
  }
  state.depth = depth;
  state.inString = inString;
  state.newlines = newlines;
  state.colons = colons;
  return result;
}

/** End of a string starting at buf[i] === '"': index past the closing quote, or -1. */
function stringEnd(buf: Uint8Array, i: number, to: number): number {
  i++;
  while (i < to) {
    const c = buf[i++];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
    else if (c === NEWLINE) return -1;
  }
  return -1;
}

/**
 * End of the complete JSON value starting at buf[i] (its first byte): the index past it, or -1
 * when the bytes end first. Scalars end at the next delimiter. Used on whole values in memory.
 */
export function valueEnd(buf: Buffer, i: number, to: number = buf.length): number {
  const c = buf[i];
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return scanValue(buf, i + 1, to, createScanState(1));
  if (c === QUOTE) return stringEnd(buf, i, to);
  let j = i;
  while (j < to) {
    const b = buf[j];
    if (b === COMMA || b === CLOSE_BRACKET || b === CLOSE_BRACE || isJsonSpace(b)) break;
    j++;
  }
  return j === i ? -1 : j;
}

/** The key of the object starting at buf[i] (`{"key": ...`), or undefined. */
export function firstKey(buf: Buffer, i: number, to: number = buf.length): string | undefined {
  if (buf[i] !== OPEN_BRACE) return undefined;
  const k = skipSpace(buf, i + 1, to);
  if (buf[k] !== QUOTE) return undefined;
  const end = stringEnd(buf, k, to);
  if (end === -1) return undefined;
  try {
    const key: unknown = JSON.parse(buf.toString('utf8', k, end));
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
