/**
 * When an indicator matches. The rule, applied at load time and again at lookup time:
 *
 * 1. A revoked indicator never matches.
 * 2. Before `validFrom` it does not match yet ("pending").
 * 3. With `validUntil`, it matches until then (exclusive).
 * 4. Without `validUntil` ("undated"), it matches for `maxAgeMs` (default 30 days) counted
 *    from `seenAt` (when the feed last asserted it: STIX `modified`, MISP `last_seen` or
 *    `timestamp`, a CSV date column), else from the feed file's mtime, else from load time.
 *    Elastic's indicator-match rules use the same 30-day horizon because many feeds carry no
 *    expiry. Pass `maxAgeMs: Infinity` to keep undated indicators forever.
 */
import type { Indicator } from './indicator.ts';

export const DEFAULT_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

export interface ExpiryPolicy {
  /** Epoch ms; injectable for tests. */
  now: number;
  /** Lifetime of an undated indicator; DEFAULT_MAX_AGE_MS when omitted. */
  maxAgeMs?: number;
  /** The feed file's mtime (epoch ms): the age base of undated indicators without seenAt. */
  fileTime?: number;
}

export type IndicatorState = 'live' | 'pending' | 'expired' | 'revoked';

/** Epoch ms from which the indicator no longer matches (Infinity for never). */
export function indicatorExpiry(indicator: Indicator, policy: ExpiryPolicy): number {
  if (indicator.validUntil !== undefined) return indicator.validUntil;
  const base = indicator.seenAt ?? policy.fileTime ?? policy.now;
  return base + (policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
}

export function indicatorState(indicator: Indicator, policy: ExpiryPolicy): IndicatorState {
  if (indicator.revoked) return 'revoked';
  if (policy.now >= indicatorExpiry(indicator, policy)) return 'expired';
  if (indicator.validFrom !== undefined && policy.now < indicator.validFrom) return 'pending';
  return 'live';
}

/**
 * A feed timestamp in epoch ms: ISO 8601 (a date and time without a zone is UTC, as the
 * abuse.ch feeds write them), a date `YYYY-MM-DD`, or epoch seconds / milliseconds as a
 * number or digit string. Undefined when it is none of those.
 */
let lastText = '';
let lastTime: number | undefined;

export function parseFeedTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? (value < 1e11 ? value * 1000 : value) : undefined;
  if (typeof value !== 'string') return undefined;
  // Feeds repeat the same timestamps row after row: remember the last one.
  if (value === lastText) return lastTime;
  lastTime = parseTimeText(value.trim());
  lastText = value;
  return lastTime;
}

function parseTimeText(text: string): number | undefined {
  if (text === '') return undefined;
  if (/^\d{9,13}(\.\d+)?$/.test(text)) {
    const n = Number(text);
    return n < 1e11 ? n * 1000 : n;
  }
  let iso = text;
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso = `${iso.replace(' ', 'T')}Z`;
  else if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso = `${iso}T00:00:00Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
