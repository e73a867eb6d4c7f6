/**
 * Loading `--cti` feeds for a command: the options they share (`--cti-max-age`, `--cti-max-prefix`), located errors
 * on stderr, and the per-feed counts `intel check` prints. Feeds are configuration: an error in
 * one makes the exit code 2, but what loaded is still used.
 */
import { thousands } from '../core/thousands.ts';
import type { LocatedError } from '../core/errors.ts';
import { parseTimespan } from '../sigma/correlation.ts';
import type { Indicator } from '../intel/indicator.ts';
import type { FeedStats, LoadFeedsResult } from '../intel/load.ts';
import { loadFeeds } from '../intel/load.ts';
import { DEFAULT_MAX_AGE_MS } from '../intel/expiry.ts';
import { DEFAULT_NETWORK_LIMITS, formatNetworkLimits, parseNetworkLimits, type NetworkLimits } from '../intel/network-limits.ts';

/** `--cti-max-age`: a duration (`30d`, `12h`) or `unbounded`. Undefined when invalid. */
export function parseMaxAge(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unbounded' || trimmed === 'never') return Number.POSITIVE_INFINITY;
  return parseTimespan(trimmed);
}

/** A positive duration such as `1h` or `15m`. Undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  return parseTimespan(text.trim().toLowerCase());
}

export const DEFAULT_MAX_AGE = `${DEFAULT_MAX_AGE_MS / 86_400_000}d`;

/** `--cti-max-prefix`'s default: nothing wider than /8 for IPv4 or /32 for IPv6. */
export const DEFAULT_MAX_PREFIX = formatNetworkLimits(DEFAULT_NETWORK_LIMITS);

export const MAX_PREFIX_HELP = 'broadest IP network a feed may hold, per family: v4=/N,v6=/M (/0 allows any width; 0.0.0.0, :: and ::ffff:0:0/96 are always refused)';

/** `--cti-max-prefix v4=/N,v6=/M`: the limits, or a message saying what is wrong. */
export function parseMaxPrefix(text: string): NetworkLimits | string {
  return parseNetworkLimits(text);
}

/** Loaded indicators of one feed by the kinds `intel check` reports. */
export interface FeedKindCounts {
  ipv4: number;
  ipv6: number;
  cidr: number;
  domain: number;
}

export interface FeedReport {
  stats: FeedStats;
  kinds: FeedKindCounts;
}

/**
 * Loads the feeds; errors go to `onError`. Unsupported indicators are counted, and go to
 * `onUnsupported` when given.
 */
export async function loadCtiFeeds(
  paths: readonly string[],
  options: { maxAgeMs?: number; limits?: NetworkLimits; onUnsupported?: (notice: LocatedError) => void; now?: number },
  onError: (error: LocatedError) => void,
): Promise<LoadFeedsResult & { reports: FeedReport[] }> {
  const result = await loadFeeds(paths, {
    onUnsupported: options.onUnsupported ?? ((): void => {}),
    ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  for (const error of result.errors) onError(error);
  // The index holds the feeds' indicators in load order, each feed's loaded ones in a run.
  const reports: FeedReport[] = [];
  let offset = 0;
  for (const stats of result.stats) {
    const loaded = stats.loaded.ipv4 + stats.loaded.ipv6 + stats.loaded.domain;
    reports.push({ stats, kinds: kindCounts(result.index.indicators.slice(offset, offset + loaded)) });
    offset += loaded;
  }
  return { ...result, reports };
}

function kindCounts(indicators: readonly Indicator[]): FeedKindCounts {
  const counts: FeedKindCounts = { ipv4: 0, ipv6: 0, cidr: 0, domain: 0 };
  for (const indicator of indicators) {
    if (indicator.kind === 'domain') counts.domain++;
    else if (indicator.value.includes('/')) counts.cidr++;
    else counts[indicator.kind]++;
  }
  return counts;
}

/** One line for the scan's stderr: what the intel holds. */
export function describeLoadedFeeds(reports: readonly FeedReport[]): string {
  const total: FeedKindCounts = { ipv4: 0, ipv6: 0, cidr: 0, domain: 0 };
  let expired = 0;
  let revoked = 0;
  let unsupported = 0;
  let refused = 0;
  for (const { stats, kinds } of reports) {
    total.ipv4 += kinds.ipv4;
    total.ipv6 += kinds.ipv6;
    total.cidr += kinds.cidr;
    total.domain += kinds.domain;
    expired += stats.expired;
    revoked += stats.revoked;
    unsupported += stats.unsupported;
    refused += stats.refused;
  }
  const loaded = total.ipv4 + total.ipv6 + total.cidr + total.domain;
  const left = [expired > 0 ? `${expired} expired` : '', revoked > 0 ? `${revoked} revoked` : '', unsupported > 0 ? `${unsupported} unsupported` : '', refused > 0 ? `${refused} refused as too broad` : ''].filter(Boolean);
  return (
    `threat intel: ${thousands(loaded)} indicators from ${reports.length} feed${reports.length === 1 ? '' : 's'} ` +
    `(ipv4 ${total.ipv4}, ipv6 ${total.ipv6}, cidr ${total.cidr}, domain ${total.domain})` +
    (left.length > 0 ? `; left out: ${left.join(', ')}` : '')
  );
}
