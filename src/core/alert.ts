import type { LogRecord, LogSourceName } from './envelope.ts';
import type { SigmaLevel } from './levels.ts';

/** The alert contract (docs/architecture.md, Alert; README, alert JSON). snake_case, stable: additions are fine, renames break users. */
export interface Alert {
  id: string;
  time: string | null;
  /** `tuned`/`tuning` only when a tuning file changed the rule: the overrides applied, in words. */
  rule: { id: string; name: string | null; title: string; level: SigmaLevel; tuned?: true; tuning?: string[] };
  attack: { techniques: string[]; tactics: string[] };
  source: LogSourceName;
  account: string | null;
  region: string | null;
  actor: string | null;
  source_ip: string | null;
  event_ids: string[];
  count: number;
  correlation?: {
    type: string;
    group: Record<string, string | null>;
    window: { start: string; end: string };
    value_count?: number;
    /** The number the condition held for: count, distinct values, sum, average, percentile, or rules seen. */
    value?: number;
    /** value_count: the distinct values behind the alert (at most 100), for triage. */
    values?: string[];
    /** Correlations with a per-principal baseline (engine/correlation/baseline.ts): what the group had done before. */
    baseline?: {
      source: string;
      /** Whether the group had any history apart from this window. */
      history: boolean;
      /** Whose history was used, when not the group's own (the role behind a session). */
      principal?: string;
      /** The values new for the group (at most 100); the condition held on their number. */
      novel_values: string[];
      novel_count: number;
      usual_count: number;
      /** Services (eventSource) of this window the group never used apart from it. */
      new_services?: string[];
    };
  };
  cti?: AlertCti;
  guardduty?: AlertGuardDuty;
  /** Flow-log threat-intel matches: what the flow records behind the alert carried. */
  flow?: AlertFlow;
  /**
   * True when an alert with this `id` was already emitted and this one replaces it: a newer
   * version of a GuardDuty finding, or more matches in a threat-intel time bucket that had
   * been closed. Receivers keep the latest alert per id.
   */
  update?: true;
  events?: LogRecord[];
}

/** A threat-intelligence match (the `cti` member), plus where the indicator came from. */
export interface AlertCti {
  /** The indicator as the feed gives it, canonical: `203.0.113.7`, `198.51.100.0/24`. */
  indicator: string;
  /** The value of the log that matched it. */
  matched: string;
  /** The field that held it: `srcaddr`, `pkt-dstaddr`, `sourceIPAddress`, a GuardDuty path. */
  field: string;
  feed: string;
  /** Who opened the connection: `egress` our side, to the indicator; `ingress` the indicator, to us. */
  direction?: 'ingress' | 'egress';
  /** Where in the feed: `line 17`, `stix:indicator--<uuid>`, `misp:event 1234 attr <uuid>`. */
  provenance?: string;
  /** Every feed holding a matching indicator, when more than one does. */
  feeds?: string[];
  confidence?: number;
  /** Aggregated matches: the time bucket the alert covers. */
  window?: { start: string; end: string };
}

/** A GuardDuty finding raised as an alert (the `guardduty` member), plus what it is about (the optional members are additions). */
export interface AlertGuardDuty {
  id: string;
  type: string;
  severity: number;
  /** `service.count`: how many times GuardDuty saw the activity. */
  count: number;
  updated_at: string | null;
  resource_type?: string | null;
  resource_id?: string | null;
  archived?: boolean;
}

/** Summary of the flow records behind a threat-intel alert. */
export interface AlertFlow {
  /** `interface-id`, or `tgw-attachment-id` for Transit Gateway flow logs. */
  interface_id: string | null;
  /** Records by action (Transit Gateway records have none and count as accepted). */
  accepted: number;
  rejected: number;
  bytes: number;
  packets: number;
  /** Bytes of the records sent toward the indicator. */
  bytes_to_indicator: number;
  /** Distinct destination ports of the connections (a reply's source port) and IANA protocol numbers, at most 20 each. */
  dstports: number[];
  protocols: number[];
  /** The TCP flags of every record OR-ed together (2 SYN, 18 SYN-ACK, 1 FIN, 4 RST); null when absent. */
  tcp_flags: number | null;
  /** Our side of the flows: the addresses facing the indicator, at most 20. */
  local_addresses: string[];
}

/** What an alert needs to know about the rule that raised it. */
export interface AlertRule {
  id: string;
  name?: string;
  title: string;
  level: SigmaLevel;
  attack: { techniques: string[]; tactics: string[] };
  /** The tuning overrides applied to the rule (src/pack/tuning.ts), when any. */
  tuning?: readonly string[];
}

export interface AlertOptions {
  /** Embed the raw records (`events`); off with --no-events. */
  includeEvents: boolean;
}
