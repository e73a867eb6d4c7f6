/**
 * Classifies the text of an indicator: IP address or CIDR (v4 or v6), domain, another kind of
 * IOC we do not match (URL, e-mail, hash: "unsupported"), or garbage ("invalid").
 * Defanged forms (`1.2.3[.]4`, `evil(.)com`) are refanged first. With limits (every feed
 * parser passes them), a network broader than they allow, an unspecified address or the
 * IPv4-mapped range is refused ("tooBroad", TH_INTEL_TOO_BROAD): see network-limits.ts.
 */
import { normaliseDomain } from './domain.ts';
import { parseIPv4 } from '../core/ipv4.ts';
import { parseNetwork } from './ip-address.ts';
import { networkTooBroad, type NetworkLimits } from './network-limits.ts';

export type IndicatorValue =
  | { ok: true; kind: 'ipv4' | 'ipv6' | 'domain'; value: string }
  | { ok: false; unsupported: boolean; tooBroad?: true; message: string };

const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$/i;

/** Undoes the usual defanging of network indicators. */
export function refang(text: string): string {
  return text.replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]/gi, '.').replace(/\[:\]/g, ':');
}

/** The text of an indicator, classified; with `limits`, networks broader than they allow are refused. */
export function parseIndicatorValue(raw: string, limits?: NetworkLimits): IndicatorValue {
  let text = raw.trim();
  if (text.includes('[') || text.includes('(') || text.includes('{')) text = refang(text);
  if (text === '') return { ok: false, unsupported: false, message: 'empty indicator value' };
  // Fast path: a plain IPv4 address that parses strictly is already canonical.
  const plain = parseIPv4(text);
  if (plain > 0 || (plain === 0 && limits === undefined)) return { ok: true, kind: 'ipv4', value: text };
  if (/^[0-9a-f:.]+(\/\d+)?$/i.test(text) && /[.:]/.test(text) && !/[g-z]/i.test(text)) {
    const network = parseNetwork(text);
    if (network) {
      const broad = limits === undefined ? undefined : networkTooBroad(network, limits);
      if (broad !== undefined) return { ok: false, unsupported: false, tooBroad: true, message: `${JSON.stringify(text.slice(0, 80))} ${broad}` };
      return { ok: true, kind: network.kind, value: network.canonical };
    }
    if (/^[\d.]+(\/\d+)?$/.test(text) || text.includes(':')) {
      return { ok: false, unsupported: false, message: `${JSON.stringify(text.slice(0, 80))} is not a valid IP address or CIDR block` };
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { ok: false, unsupported: true, message: `URL indicators are not supported: ${JSON.stringify(text.slice(0, 80))}` };
  if (text.includes('@')) return { ok: false, unsupported: true, message: `e-mail indicators are not supported: ${JSON.stringify(text.slice(0, 80))}` };
  if (HASH.test(text)) return { ok: false, unsupported: true, message: `hash indicators are not supported: ${JSON.stringify(text.slice(0, 80))}` };
  if (/^\d{1,3}(\.\d{1,3}){3}\s*-\s*\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    return { ok: false, unsupported: true, message: `IP ranges are not supported (use CIDR blocks): ${JSON.stringify(text.slice(0, 80))}` };
  }
  if (text.includes('/') && !/\s/.test(text)) {
    return { ok: false, unsupported: true, message: `URL or path indicators are not supported: ${JSON.stringify(text.slice(0, 80))}` };
  }
  const domain = normaliseDomain(text);
  if (domain !== undefined) return { ok: true, kind: 'domain', value: domain };
  return { ok: false, unsupported: false, message: `${JSON.stringify(text.slice(0, 80))} is not an IP address, CIDR block or domain` };
}
