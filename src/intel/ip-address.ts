/**
 * IPv4 and IPv6 addresses and CIDR blocks as numbers: IPv4 as an unsigned 32-bit integer,
 * IPv6 as four big-endian 32-bit words. Parsers are strict (no octal, no leading zeros in
 * IPv4 octets, no zone ids) and never throw: they return -1 or undefined on bad input. IPv4
 * text is read by src/core/ipv4.ts (parseIPv4), the parser Sigma's `|cidr` shares.
 */
import { parseIPv4 } from '../core/ipv4.ts';

/**
 * A parsed address or CIDR block, with its canonical text (address alone for /32 and /128).
 * `mapped` marks IPv4 read from IPv4-mapped IPv6 text (`::ffff:10.0.0.0/104` is 10.0.0.0/8).
 */
export type ParsedNetwork =
  | { kind: 'ipv4'; start: number; end: number; prefix: number; canonical: string; mapped?: true }
  | { kind: 'ipv6'; start: Uint32Array; end: Uint32Array; prefix: number; canonical: string };

/** An unsigned 32-bit integer as `a.b.c.d`. */
export function formatIPv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * An IPv6 address (RFC 4291 text forms, including `::` and a dotted IPv4 tail) as four
 * big-endian 32-bit words written into `out` (a new array when omitted), or undefined.
 */
export function parseIPv6(text: string, out: Uint32Array = new Uint32Array(4)): Uint32Array | undefined {
  const n = text.length;
  if (n < 2 || n > 45) return undefined;
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0);
      return out;
    }
  }
  while (i < n) {
    if (count === 8) return undefined;
    // An IPv4 tail: the rest holds a dot before the next colon.
    let j = i;
    let value = 0;
    let digits = 0;
    while (j < n) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      if (count > 6) return undefined;
      const v4 = parseIPv4(text, i);
      if (v4 < 0) return undefined;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (digits === 0 || digits > 4) return undefined;
    groups[count++] = value;
    if (j === n) break;
    if (text.charCodeAt(j) !== 58) return undefined;
    if (j + 1 < n && text.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return undefined;
      gap = count;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return undefined; // trailing single colon
    }
  }
  if (gap >= 0) {
    if (count > 7) return undefined;
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k] ?? 0;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  } else if (count !== 8) {
    return undefined;
  }
  for (let w = 0; w < 4; w++) out[w] = (((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)) >>> 0;
  return out;
}

/** Four words as RFC 5952 text: lowercase, zeros suppressed, the longest zero run as `::`. */
export function formatIPv6(words: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const v = words[w] ?? 0;
    groups.push(v >>> 16, v & 0xffff);
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && groups[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** True for ::ffff:0:0/96, the IPv4-mapped IPv6 addresses. */
export function isIPv4Mapped(words: ArrayLike<number>): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

function maskV4(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function parsePrefix(text: string, max: number): number {
  if (!/^\d{1,3}$/.test(text)) return -1;
  const p = Number(text);
  return p <= max ? p : -1;
}

/**
 * An address or CIDR block (`1.2.3.4`, `198.51.100.0/24`, `2001:db8::/32`). Host bits in a
 * CIDR are cleared (`10.1.2.3/8` is `10.0.0.0/8`). IPv4-mapped IPv6 is returned as IPv4.
 */
export function parseNetwork(text: string): ParsedNetwork | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    const prefix = slash < 0 ? 32 : parsePrefix(text.slice(slash + 1), 32);
    if (prefix < 0) return undefined;
    const mask = maskV4(prefix);
    const start = (v4 & mask) >>> 0;
    const end = (start | ~mask) >>> 0;
    const canonical = prefix === 32 ? formatIPv4(start) : `${formatIPv4(start)}/${prefix}`;
    return { kind: 'ipv4', start, end, prefix, canonical };
  }
  const words = parseIPv6(addr);
  if (!words) return undefined;
  let prefix = slash < 0 ? 128 : parsePrefix(text.slice(slash + 1), 128);
  if (prefix < 0) return undefined;
  if (isIPv4Mapped(words) && prefix >= 96) {
    prefix -= 96;
    const mask = maskV4(prefix);
    const start = ((words[3] ?? 0) & mask) >>> 0;
    const end = (start | ~mask) >>> 0;
    const canonical = prefix === 32 ? formatIPv4(start) : `${formatIPv4(start)}/${prefix}`;
    return { kind: 'ipv4', start, end, prefix, canonical, mapped: true };
  }
  const start = new Uint32Array(4);
  const end = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const bits = Math.min(32, Math.max(0, prefix - 32 * w));
    const mask = maskV4(bits);
    const v = words[w] ?? 0;
    start[w] = (v & mask) >>> 0;
    end[w] = (v | ~mask) >>> 0;
  }
  const canonical = prefix === 128 ? formatIPv6(start) : `${formatIPv6(start)}/${prefix}`;
  return { kind: 'ipv6', start, end, prefix, canonical };
}
