/** What a feed parser reports to the loader besides the indicators it returns. */
import type { IndicatorValue } from './indicator-value.ts';
import { DEFAULT_NETWORK_LIMITS, type NetworkLimits } from './network-limits.ts';

export interface FeedContext {
  /** Feed name, written into each indicator. */
  feed: string;
  /** Path or URI of the feed, the base of every location. */
  file: string;
  /** The broadest networks accepted (DEFAULT_NETWORK_LIMITS when omitted). */
  limits?: NetworkLimits;
  /** A line or indicator that is malformed (TH_INTEL_INDICATOR, counted as invalid). */
  invalid(location: string, message: string): void;
  /** An indicator of a kind or pattern we do not match (TH_INTEL_INDICATOR, counted as unsupported). */
  unsupported(location: string, message: string): void;
  /**
   * A network indicator broader than the limits, or an unspecified or IPv4-mapped-range address
   * (TH_INTEL_TOO_BROAD, counted as refused). Reported as invalid when the context has no such
   * method.
   */
  tooBroad?(location: string, message: string): void;
  /** A value deliberately not loaded: MISP `to_ids: false`, deleted, or non-network attributes. */
  skip(): void;
  /** The feed as a whole cannot be used (TH_INTEL_FEED). */
  fail(location: string, message: string): void;
}

/** The limits a parser applies to the values it reads. */
export function feedLimits(ctx: FeedContext): NetworkLimits {
  return ctx.limits ?? DEFAULT_NETWORK_LIMITS;
}

/** Reports an indicator value that did not parse, by why: refused, unsupported or invalid. */
export function reportValue(ctx: FeedContext, location: string, value: Extract<IndicatorValue, { ok: false }>): void {
  if (value.tooBroad === true) {
    if (ctx.tooBroad !== undefined) ctx.tooBroad(location, value.message);
    else ctx.invalid(location, value.message);
  } else if (value.unsupported) {
    ctx.unsupported(location, value.message);
  } else {
    ctx.invalid(location, value.message);
  }
}
