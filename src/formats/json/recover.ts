/**
 * Recovery of a damaged JSON value: when JSON.parse rejects a whole value, the intact records
 * in it are still worth reading. The value is split with the byte scanner, element by element,
 * for a top-level array and for the record arrays a format names (`Records`, `Events`, ...).
 * A damaged element becomes `undefined` in the rebuilt array (JSON never produces undefined,
 * so formats can tell "already reported" apart) and is listed in `damage`.
 *
 * Only containers are recovered. A damaged member anywhere else (inside a record, or a
 * non-record member of the container) loses the whole value: a record with a field silently
 * missing would mislead the rules.
 */
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  firstKey,
  skipSpace,
  valueEnd,
} from './scanner.ts';

/** One damaged element: its path in the value (`.Records[3]`, `[7]`) and byte range. */
export interface Damage {
  path: string;
  start: number;
  end: number;
  reason: string;
}

export interface Recovered {
  value: unknown;
  damage: Damage[];
  /** The bytes end inside the value (a cut file): the records before the cut are in `value`. */
  truncated: boolean;
}

/** A candidate record is at most this long when searching for where records resume. */
const MAX_RESYNC_RECORD = 4 * 1024 * 1024;
/** How many candidate element starts to try before giving the rest of the array up. */
const MAX_RESYNC_CANDIDATES = 10_000;

function parseError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function tryParse(buf: Buffer, start: number, end: number): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8', start, end)) as unknown };
  } catch (error) {
    return { ok: false, reason: parseError(error) };
  }
}

interface ArrayResult {
  items: unknown[];
  damage: Damage[];
  /** Index past the closing bracket, or -1 when the bytes ended first. */
  end: number;
}

/** True when an element that parses starts at `start` and is followed by `,` or `]`. */
function elementAt(buf: Buffer, start: number, keys: ReadonlySet<string>): boolean {
  const to = Math.min(buf.length, start + MAX_RESYNC_RECORD);
  if (buf[start] === OPEN_BRACE) {
    const afterBrace = skipSpace(buf, start + 1, to);
    if (buf[afterBrace] !== QUOTE && buf[afterBrace] !== CLOSE_BRACE) return false;
    if (keys.size > 0) {
      const key = firstKey(buf, start, to);
      if (key === undefined || !keys.has(key)) return false;
    }
  }
  const end = valueEnd(buf, start, to);
  if (end === -1) return false;
  const next = buf[skipSpace(buf, end)];
  if (next !== COMMA && next !== CLOSE_BRACKET) return false;
  return tryParse(buf, start, end).ok;
}

/**
 * Where the elements resume after a damaged one that starts at `from`: the first `{` after a
 * comma that begins an element which parses, is followed by `,` or `]`, and (when the intact
 * elements so far share first keys, as CloudTrail records do) starts with one of those keys.
 */
function resync(buf: Buffer, from: number, keys: ReadonlySet<string>): number {
  let tries = 0;
  let i = buf.indexOf(OPEN_BRACE, from);
  while (i !== -1 && tries < MAX_RESYNC_CANDIDATES) {
    let p = i - 1;
    while (p > from && (buf[p] === 0x20 || buf[p] === 0x0a || buf[p] === 0x0d || buf[p] === 0x09)) p--;
    if (buf[p] === COMMA) {
      tries++;
      if (elementAt(buf, i, keys)) return i;
    }
    i = buf.indexOf(OPEN_BRACE, i + 1);
  }
  return -1;
}

/** Recovers the elements of the array whose `[` is at buf[start]. */
function recoverArray(buf: Buffer, start: number, path: string, out: Recovered): ArrayResult {
  const items: unknown[] = [];
  const damage: Damage[] = [];
  const keys = new Set<string>();
  const len = buf.length;
  let i = start + 1;
  for (;;) {
    i = skipSpace(buf, i);
    if (i >= len) {
      out.truncated = true;
      return { items, damage, end: -1 };
    }
    if (buf[i] === CLOSE_BRACKET) return { items, damage, end: i + 1 };
    const index = items.length;
    const elementStart = i;
    const elementEnd = valueEnd(buf, i);
    if (elementEnd === -1) {
      // The bytes end inside this element (or a damaged string hides the rest).
      const at = resync(buf, elementStart + 1, keys);
      if (at === -1) {
        out.truncated = true;
        return { items, damage, end: -1 };
      }
      items.push(undefined);
      damage.push({ path: `${path}[${index}]`, start: elementStart, end: at, reason: 'the element is not complete JSON' });
      i = at;
      continue;
    }
    const parsed = tryParse(buf, elementStart, elementEnd);
    if (parsed.ok) {
      items.push(parsed.value);
      if (keys.size < 8 && buf[elementStart] === OPEN_BRACE) {
        const key = firstKey(buf, elementStart, elementEnd);
        if (key !== undefined) keys.add(key);
      }
      i = skipSpace(buf, elementEnd);
      if (buf[i] === COMMA) {
        i++;
        continue;
      }
      if (buf[i] === CLOSE_BRACKET) return { items, damage, end: i + 1 };
      if (i >= len) {
        out.truncated = true;
        return { items, damage, end: -1 };
      }
      if (buf[i] === OPEN_BRACE || buf[i] === OPEN_BRACKET) {
        // A missing comma: nothing is lost, but the JSON is invalid; say where.
        damage.push({ path: `${path}[${index + 1}]`, start: i, end: i, reason: "missing ',' before this element" });
        continue;
      }
      // Stray bytes after an intact element: keep it, and resume at the next element.
      const at = resync(buf, i, keys);
      damage.push({ path: `${path}[${index}]`, start: i, end: at === -1 ? len : at, reason: 'unexpected bytes after this element' });
      if (at === -1) return { items, damage, end: -1 };
      i = at;
      continue;
    }
    // A damaged element. Go on after it when what follows is an intact element; otherwise the
    // scanner lost track (a lost quote flips strings), so search where the elements resume.
    items.push(undefined);
    const reason = parsed.reason;
    const after = skipSpace(buf, elementEnd);
    if (buf[after] === CLOSE_BRACKET) {
      damage.push({ path: `${path}[${index}]`, start: elementStart, end: elementEnd, reason });
      return { items, damage, end: after + 1 };
    }
    if (buf[after] === COMMA) {
      const nextStart = skipSpace(buf, after + 1);
      if (buf[nextStart] === CLOSE_BRACKET || elementAt(buf, nextStart, new Set())) {
        damage.push({ path: `${path}[${index}]`, start: elementStart, end: elementEnd, reason });
        i = nextStart;
        continue;
      }
    }
    const at = resync(buf, elementStart + 1, keys);
    if (at === -1) {
      damage.push({ path: `${path}[${index}]`, start: elementStart, end: len, reason });
      return { items, damage, end: -1 };
    }
    damage.push({ path: `${path}[${index}]`, start: elementStart, end: at, reason });
    i = at;
  }
}

/**
 * Recovers what can be read of the damaged value held in buf (from its first byte). Returns
 * undefined when nothing can be saved: the caller reports the whole value.
 */
export function recoverValue(buf: Buffer, recordArrays: ReadonlySet<string>): Recovered | undefined {
  const out: Recovered = { value: undefined, damage: [], truncated: false };
  const start = skipSpace(buf, 0);
  if (buf[start] === OPEN_BRACKET) {
    const result = recoverArray(buf, start, '', out);
    out.value = result.items;
    out.damage = result.damage;
    return out;
  }
  if (buf[start] !== OPEN_BRACE) return undefined;

  const object: Record<string, unknown> = {};
  let recoveredArray = false;
  let i = start + 1;
  const len = buf.length;
  for (;;) {
    i = skipSpace(buf, i);
    if (i >= len) {
      out.truncated = true;
      break;
    }
    if (buf[i] === CLOSE_BRACE) break;
    if (buf[i] !== QUOTE) return recoveredArray ? finish() : undefined;
    const keyEnd = valueEnd(buf, i);
    if (keyEnd === -1) return recoveredArray ? finish(true) : undefined;
    const key = tryParse(buf, i, keyEnd);
    if (!key.ok || typeof key.value !== 'string') return recoveredArray ? finish() : undefined;
    i = skipSpace(buf, keyEnd);
    if (buf[i] !== COLON) return recoveredArray ? finish(i >= len) : undefined;
    i = skipSpace(buf, i + 1);
    if (i >= len) return recoveredArray ? finish(true) : undefined;
    if (buf[i] === OPEN_BRACKET && recordArrays.has(key.value)) {
      const result = recoverArray(buf, i, `.${key.value}`, out);
      set(key.value, result.items);
      out.damage.push(...result.damage);
      recoveredArray = true;
      if (result.end === -1) break;
      i = result.end;
    } else {
      const end = valueEnd(buf, i);
      if (end === -1) return recoveredArray ? finish(true) : undefined;
      const member = tryParse(buf, i, end);
      if (!member.ok) return recoveredArray ? finish() : undefined;
      set(key.value, member.value);
      i = end;
    }
    i = skipSpace(buf, i);
    if (buf[i] === COMMA) {
      i++;
      continue;
    }
    if (buf[i] === CLOSE_BRACE) break;
    if (i >= len) {
      out.truncated = true;
      break;
    }
    return recoveredArray ? finish() : undefined;
  }
  return recoveredArray ? finish() : undefined;

  /** Sets a member as JSON.parse would: an own property, even for `__proto__`. */
  function set(key: string, value: unknown): void {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }

  function finish(truncated = false): Recovered {
    if (truncated) out.truncated = true;
    out.value = object;
    return out;
  }
}
