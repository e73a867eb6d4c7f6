/** What a feed parser reports to the loader besides the indicators it returns. */
export interface FeedContext {
  /** Feed name, written into each indicator. */
  feed: string;
  /** Path or URI of the feed, the base of every location. */
  file: string;
  /** A line or indicator that is malformed (TH_INTEL_INDICATOR, counted as invalid). */
  invalid(location: string, message: string): void;
  /** An indicator of a kind or pattern we do not match (TH_INTEL_INDICATOR, counted as unsupported). */
  unsupported(location: string, message: string): void;
  /** A value deliberately not loaded: MISP `to_ids: false`, deleted, or non-network attributes. */
  skip(): void;
  /** The feed as a whole cannot be used (TH_INTEL_FEED). */
  fail(location: string, message: string): void;
}
