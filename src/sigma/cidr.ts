/**
 * The `|cidr` modifier: IPv4 and IPv6 networks, parsed by hand into numbers and 16-bit groups.
 * Event addresses are parsed without allocating (a shared scratch buffer) and compared by prefix.
 * An IPv4 network only matches IPv4 addresses and an IPv6 network only IPv6 addresses. IPv4
 * text is read by src/core/ipv4.ts (parseIPv4), the parser threat intelligence shares.
 */
import { parseIPv4 } from '../core/ipv4.ts';

export interface CidrNetwork {
  readonly family: 4 | 6;
  readonly prefix: number;
  /** IPv4: the network address as an unsigned 32-bit number. */
  readonly v4: number;
  /** IPv6: the network address as eight 16-bit groups. */
  readonly v6: Uint16Array;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parse IPv6 text (with `::` and an optional trailing dotted IPv4) into `out`; false when invalid. */
export function parseIPv6Into(text: string, out: Uint16Array): boolean {
  const end = text.length;
  if (end < 2) return false;
  let groups = 0;
  let doubleColonAt = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    doubleColonAt = 0;
    i = 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (groups === 8) return false;
    // Find the extent of this group.
    let j = i;
    let value = 0;
    let isDotted = false;
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c === 58) break;
      if (c === 46) {
        isDotted = true;
        break;
      }
      const h = hexValue(c);
      if (h < 0) return false;
      value = value * 16 + h;
      j++;
      if (j - i > 4) return false;
    }
    if (isDotted) {
      if (groups > 6) return false;
      const v4 = parseIPv4(text, i, end);
      if (v4 < 0) return false;
      out[groups++] = Math.floor(v4 / 65536);
      out[groups++] = v4 % 65536;
      break;
    }
    if (j === i) return false;
    out[groups++] = value;
    if (j === end) break;
    // j points at ':'
    if (j + 1 < end && text.charCodeAt(j + 1) === 58) {
      if (doubleColonAt >= 0) return false;
      doubleColonAt = groups;
      i = j + 2;
      if (i === end) break;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  if (doubleColonAt < 0) return groups === 8;
  if (groups === 8) return false;
  // Shift the groups after '::' to the end and zero the gap.
  const tail = groups - doubleColonAt;
  for (let k = 0; k < tail; k++) out[7 - k] = out[groups - 1 - k] as number;
  for (let k = doubleColonAt; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/** Parse `address/prefix` (or a bare address: a host network); undefined when invalid. */
export function parseCidr(text: string): CidrNetwork | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? undefined : trimmed.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const v4 = parseIPv4(address);
  if (v4 >= 0) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    return { family: 4, prefix, v4: maskV4(v4, prefix), v6: new Uint16Array(8) };
  }
  const groups = new Uint16Array(8);
  if (!parseIPv6Into(address, groups)) return undefined;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return undefined;
  for (let g = 0; g < 8; g++) {
    const bits = Math.min(16, Math.max(0, prefix - g * 16));
    groups[g] = (groups[g] as number) & groupMask(bits);
  }
  return { family: 6, prefix, v4: 0, v6: groups };
}

function maskV4(address: number, prefix: number): number {
  if (prefix === 0) return 0;
  return Math.floor(address / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
}

function groupMask(bits: number): number {
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}

const scratch = new Uint16Array(8);

/** True when `address` (IPv4 or IPv6 text) lies in `network`. */
export function cidrContains(network: CidrNetwork, address: string): boolean {
  if (network.family === 4) {
    const v4 = parseIPv4(address);
    return v4 >= 0 && maskV4(v4, network.prefix) === network.v4;
  }
  if (address.indexOf(':') < 0 || !parseIPv6Into(address, scratch)) return false;
  for (let g = 0; g < 8; g++) {
    const bits = Math.min(16, Math.max(0, network.prefix - g * 16));
    if (bits === 0) return true;
    if (((scratch[g] as number) & groupMask(bits)) !== network.v6[g]) return false;
  }
  return true;
}
