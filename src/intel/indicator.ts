/**
 * An indicator of compromise as every feed format normalises it: an IP address or CIDR
 * block (v4 or v6) or a domain, with the feed's validity window and provenance.
 */

export type IndicatorKind = 'ipv4' | 'ipv6' | 'domain';

/**
 * Which side of a connection the feed says the indicator sits on. A hint only: feed
 * direction labels are unreliable, so matching checks both sides and uses the hint (and
 * the port) to raise severity, never to suppress a match.
 */
export type SideHint = 'src' | 'dst' | 'any';

export interface Indicator {
  kind: IndicatorKind;
  /** Canonical text: `1.2.3.4`, `198.51.100.0/24`, `2001:db8::/32` (RFC 5952), `evil.example`. */
  value: string;
  sideHint: SideHint;
  /** Port the feed pairs with the address (MISP `ip-dst|port`, STIX `dst_port`, CSV port column). */
  port?: number;
  /** Epoch ms before which the indicator does not match. */
  validFrom?: number;
  /** Epoch ms from which the indicator no longer matches. */
  validUntil?: number;
  revoked: boolean;
  /** 0 to 100 when the feed gives one (STIX `confidence`, CSV confidence/score column). */
  confidence?: number;
  /**
   * Epoch ms when the feed last asserted the indicator (STIX `modified`, MISP `last_seen` or
   * `timestamp`, a CSV last-seen/date column). The max-age rule for indicators without
   * `validUntil` counts from it (from the file's mtime when absent): see expiry.ts.
   */
  seenAt?: number;
  /** Feed name: the file's base name unless the caller named it. */
  feed: string;
  /** Where in the feed it came from: `line 17`, `stix:indicator--<uuid>`, `misp:event 1234 attr <uuid>`. */
  provenance: string;
}
