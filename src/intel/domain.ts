/**
 * Domain names as indicators: lowercase ASCII (IDNs converted to punycode), no trailing dot,
 * no leading `*.` wildcard (a feed domain matches its subdomains anyway).
 */
import { domainToASCII } from 'node:url';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The canonical form of a domain name, or undefined when it is not one. */
export function normaliseDomain(text: string): string | undefined {
  let name = text.trim().toLowerCase();
  if (name.startsWith('*.')) name = name.slice(2);
  else if (name.startsWith('.')) name = name.slice(1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) {
    name = domainToASCII(name);
    if (name === '') return undefined;
  }
  const labels = name.split('.');
  if (labels.length < 2) return undefined;
  for (const label of labels) if (!LABEL.test(label)) return undefined;
  // A numeric top-level label means an IP address or a typo, not a domain.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return name;
}
