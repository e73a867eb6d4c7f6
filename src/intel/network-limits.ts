/**
 * How broad a network indicator may be. A feed is attacker-controlled (or simply wrong): one
 * `0.0.0.0/0` line matches every address, private ones included, and floods the alerts. So an
 * IP indicator whose prefix is shorter than the limit of its family is refused
 * (TH_INTEL_TOO_BROAD), by default anything wider than /8 for IPv4 or /32 for IPv6. The
 * unspecified addresses (`0.0.0.0`, `::`) and the whole IPv4-mapped range (`::ffff:0:0/96`)
 * are refused whatever the limits; a network inside the mapped range is judged as the IPv4
 * network it maps (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
 *
 * The limits are given as `v4=/N,v6=/M` (`--cti-max-prefix`, the watch key
 * `feed_max_prefix`); a family left out keeps its default, `v4=/0` allows any IPv4 width.
 */
import type { ParsedNetwork } from './ip-address.ts';

/** The shortest prefix length accepted, per address family. */
export interface NetworkLimits {
  v4: number;
  v6: number;
}

export const DEFAULT_NETWORK_LIMITS: Readonly<NetworkLimits> = Object.freeze({ v4: 8, v6: 32 });

/** `v4=/8,v6=/32` (the `/` is optional; either family alone keeps the other's default). */
export function formatNetworkLimits(limits: NetworkLimits): string {
  return `v4=/${limits.v4},v6=/${limits.v6}`;
}

/** Parses `v4=/N,v6=/M`; a message when the text is not that. */
export function parseNetworkLimits(text: string): NetworkLimits | string {
  const limits: NetworkLimits = { ...DEFAULT_NETWORK_LIMITS };
  const seen = new Set<string>();
  const parts = text.split(',').map((part) => part.trim());
  if (text.length > 100 || parts.length === 0 || parts.some((part) => part === '')) return `${JSON.stringify(text.slice(0, 100))} is not v4=/N,v6=/M`;
  for (const part of parts) {
    const m = /^(v4|v6|ipv4|ipv6)\s*=\s*\/?(\d{1,3})$/i.exec(part);
    if (m === null) return `${JSON.stringify(part)} is not v4=/N or v6=/M (for example v4=/8,v6=/32)`;
    const family = (m[1] ?? '').toLowerCase().endsWith('4') ? 'v4' : 'v6';
    const prefix = Number(m[2]);
    const max = family === 'v4' ? 32 : 128;
    if (prefix > max) return `${family} prefix /${prefix} is longer than /${max}`;
    if (seen.has(family)) return `${family} is given twice`;
    seen.add(family);
    limits[family] = prefix;
  }
  return limits;
}

const HOW = '(--cti-max-prefix; feed_max_prefix for watch)';

/**
 * Why the network cannot be an indicator under the limits (a phrase to follow the value in a
 * message), or undefined when it can.
 */
export function networkTooBroad(network: ParsedNetwork, limits: NetworkLimits): string | undefined {
  if (network.kind === 'ipv4') {
    if (network.mapped === true && network.prefix === 0) return 'is the whole IPv4-mapped range ::ffff:0:0/96, never accepted as an indicator';
    if (network.prefix === 32 && network.start === 0) return 'is the unspecified address 0.0.0.0, never accepted as an indicator';
    if (network.prefix < limits.v4) {
      const mapped = network.mapped === true ? ` (IPv4-mapped: ${network.canonical})` : '';
      return `covers ${(2 ** (32 - network.prefix)).toLocaleString('en-US')} addresses${mapped}: wider than /${limits.v4}, the broadest IPv4 network allowed ${HOW}`;
    }
    return undefined;
  }
  if (network.prefix === 128 && network.start.every((w) => w === 0)) return 'is the unspecified address ::, never accepted as an indicator';
  if (network.prefix < limits.v6) return `is a /${network.prefix} network: wider than /${limits.v6}, the broadest IPv6 network allowed ${HOW}`;
  return undefined;
}
