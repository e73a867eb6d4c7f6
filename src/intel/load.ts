/**
 * Loads threat-intelligence feeds into one IntelIndex. Each file's format is detected from
 * its content (gzip is undone first) unless given. Per feed: counts by kind, and of the
 * indicators left out (expired, revoked, unsupported, invalid, refused as too broad, skipped), plus the ones not
 * valid yet (kept: they start matching at their valid_from). Errors are located: `file:line`
 * for lists and CSV, `file#indicator--<uuid>` for STIX, `file#event-<id>/attribute-<uuid>`
 * for MISP, the file alone when the whole feed is unusable (TH_INTEL_FEED).
 */
import { located } from '../core/errors.ts';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LocatedError } from '../core/errors.ts';
import { isGzip } from '../core/bytes.ts';
import type { FeedContext } from './feed-context.ts';
import type { Indicator, IndicatorKind } from './indicator.ts';
import { parseCsvFeed } from './feed-csv.ts';
import { detectJsonFeed, detectTextFeed, looksLikeJson, type FeedFormat } from './feed-detect.ts';
import { parseListFeed } from './feed-list.ts';
import { parseMispFeed } from './feed-misp.ts';
import { parseStixFeed } from './feed-stix.ts';
import { DEFAULT_MAX_AGE_MS, indicatorExpiry, type ExpiryPolicy } from './expiry.ts';
import { IntelIndexBuilder, type IntelIndex } from './intel-index.ts';
import { DEFAULT_NETWORK_LIMITS, type NetworkLimits } from './network-limits.ts';

export interface FeedSource {
  path: string;
  /** Feed name in indicators and alerts; the file's base name by default. */
  name?: string;
  /** Skip detection. */
  format?: FeedFormat;
  /** CSV: header name of the indicator column. */
  column?: string;
  /** The broadest networks accepted from this feed; LoadFeedsOptions.limits when omitted. */
  limits?: NetworkLimits;
}

export interface LoadFeedsOptions {
  /** Epoch ms used for expiry; Date.now() by default. */
  now?: number;
  /** Lifetime of indicators without valid_until (default 30 days); see expiry.ts. */
  maxAgeMs?: number;
  /**
   * The broadest IP networks accepted (DEFAULT_NETWORK_LIMITS: /8 for IPv4, /32 for IPv6).
   * Broader ones, unspecified addresses and the IPv4-mapped range are refused, located
   * (TH_INTEL_TOO_BROAD), and counted in FeedStats.refused.
   */
  limits?: NetworkLimits;
  /** Located errors kept per feed before a single "N more" summary (default 100). */
  maxErrorsPerFeed?: number;
  /**
   * Where each indicator of a kind we do not match (URL, hash...) is reported, instead of
   * among the errors: real feeds mix kinds, and a scan should not fail on the ones it cannot
   * use. They are counted either way.
   */
  onUnsupported?: (notice: LocatedError) => void;
}

export interface FeedStats {
  feed: string;
  path: string;
  format: FeedFormat | undefined;
  /** Indicators in the index (live and not yet valid), by kind. */
  loaded: Record<IndicatorKind, number>;
  /** Loaded but not valid yet (valid_from in the future). */
  pending: number;
  expired: number;
  revoked: number;
  /** Indicators of kinds or patterns we do not match (URL, hash, AND of observations...). */
  unsupported: number;
  /** Malformed lines or indicators. */
  invalid: number;
  /** Networks broader than the limits, unspecified addresses, the IPv4-mapped range (TH_INTEL_TOO_BROAD). */
  refused: number;
  /** Deliberately not loaded: MISP attributes with to_ids false, or deleted. */
  skipped: number;
  /** The file's mtime (epoch ms), the age base of undated indicators without their own date. */
  fileTime?: number;
}

export interface LoadFeedsResult {
  index: IntelIndex;
  stats: FeedStats[];
  errors: LocatedError[];
}

function decodeText(bytes: Buffer): string {
  const raw = isGzip(bytes) ? gunzipSync(bytes) : bytes;
  return raw.toString('utf8').replace(/^\ufeff/, '');
}

/** Parses one feed's text into indicators, reporting through the context. */
export function parseFeed(text: string, ctx: FeedContext, source: Omit<FeedSource, 'path' | 'name'> = {}): { format: FeedFormat | undefined; indicators: Indicator[] } {
  let format = source.format;
  let doc: unknown;
  if (format === 'stix' || format === 'misp' || (format === undefined && looksLikeJson(text))) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      ctx.fail(ctx.file, `invalid JSON: ${(err as Error).message}`);
      return { format, indicators: [] };
    }
    if (format === undefined) {
      format = detectJsonFeed(doc);
      if (format === undefined) {
        ctx.fail(ctx.file, 'JSON feed is neither STIX 2.1 (bundle, envelope or indicators) nor MISP (Event, response, Attribute)');
        return { format, indicators: [] };
      }
    }
  }
  format ??= detectTextFeed(text, source.column === undefined ? {} : { column: source.column });
  switch (format) {
    case 'stix':
      return { format, indicators: parseStixFeed(doc, ctx) };
    case 'misp':
      return { format, indicators: parseMispFeed(doc, ctx) };
    case 'csv':
      return { format, indicators: parseCsvFeed(text, ctx, source.column === undefined ? {} : { column: source.column }) };
    case 'list':
      return { format, indicators: parseListFeed(text, ctx) };
  }
}

/** Reads, parses and indexes the feeds. Never throws for a bad feed: it is reported and skipped. */
export async function loadFeeds(paths: readonly (string | FeedSource)[], options: LoadFeedsOptions = {}): Promise<LoadFeedsResult> {
  const now = options.now ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxErrors = options.maxErrorsPerFeed ?? 100;
  const onUnsupported = options.onUnsupported;
  const builder = new IntelIndexBuilder();
  const errors: LocatedError[] = [];
  const stats: FeedStats[] = [];

  for (const entry of paths) {
    const source: FeedSource = typeof entry === 'string' ? { path: entry } : entry;
    const feed = source.name ?? basename(source.path);
    const s: FeedStats = {
      feed,
      path: source.path,
      format: source.format,
      loaded: { ipv4: 0, ipv6: 0, domain: 0 },
      pending: 0,
      expired: 0,
      revoked: 0,
      unsupported: 0,
      invalid: 0,
      refused: 0,
      skipped: 0,
    };
    stats.push(s);
    let feedErrors = 0;
    let suppressed = 0;
    const push = (error: LocatedError): void => {
      if (feedErrors++ < maxErrors) errors.push(error);
      else suppressed++;
    };
    let text: string;
    try {
      const [bytes, info] = await Promise.all([readFile(source.path), stat(source.path)]);
      s.fileTime = info.mtimeMs;
      text = decodeText(bytes);
    } catch (err) {
      push(located('TH_INTEL_FEED', `cannot read feed: ${(err as Error).message}`, source.path));
      continue;
    }
    const ctx: FeedContext = {
      feed,
      file: source.path,
      limits: source.limits ?? options.limits ?? DEFAULT_NETWORK_LIMITS,
      tooBroad(location, message) {
        s.refused++;
        push(located('TH_INTEL_TOO_BROAD', message, location));
      },
      invalid(location, message) {
        s.invalid++;
        push(located('TH_INTEL_INDICATOR', message, location));
      },
      unsupported(location, message) {
        s.unsupported++;
        if (onUnsupported === undefined) push(located('TH_INTEL_INDICATOR', message, location));
        else onUnsupported(located('TH_INTEL_INDICATOR', message, location));
      },
      skip() {
        s.skipped++;
      },
      fail(location, message) {
        push(located('TH_INTEL_FEED', message, location));
      },
    };
    const parsed = parseFeed(text, ctx, source);
    s.format = parsed.format;
    const policy: ExpiryPolicy = { now, maxAgeMs, ...(s.fileTime === undefined ? {} : { fileTime: s.fileTime }) };
    for (const indicator of parsed.indicators) {
      if (indicator.revoked) {
        s.revoked++;
        continue;
      }
      const expiresAt = indicatorExpiry(indicator, policy);
      if (now >= expiresAt) {
        s.expired++;
        continue;
      }
      if (!builder.add(indicator, expiresAt)) {
        ctx.invalid(`${source.path}#${indicator.provenance}`, `indicator value "${indicator.value}" is not canonical`);
        continue;
      }
      s.loaded[indicator.kind]++;
      if (indicator.validFrom !== undefined && now < indicator.validFrom) s.pending++;
    }
    if (suppressed > 0) {
      errors.push(located('TH_INTEL_INDICATOR', `${suppressed} more indicator errors in this feed not shown`, source.path));
    }
  }
  return { index: builder.build(now), stats, errors };
}
