import { createHash } from 'node:crypto';
import type { Envelope, LogRecord, LogSourceName } from './envelope.ts';
import type { SigmaLevel } from '../sigma/types.ts';
import { guardDutyRemoteIps } from '../formats/guardduty/fields.ts';

/** The alert contract (DESIGN.md §3). snake_case, stable: additions are fine, renames break users. */
export interface Alert {
  id: string;
  time: string | null;
  rule: { id: string; name: string | null; title: string; level: SigmaLevel };
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

/** A threat-intelligence match (DESIGN.md §3), plus where the indicator came from. */
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

/** A GuardDuty finding raised as an alert (DESIGN.md §3), plus what it is about (the optional members are additions). */
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
}

export interface AlertOptions {
  /** Embed the raw records (`events`); off with --no-events. */
  includeEvents: boolean;
}

/** Raw records embedded in one alert at most: enough to investigate, never a dump. */
export const MAX_EMBEDDED_EVENTS = 5;

/** CloudTrail eventID, GuardDuty finding id, or `<uri>#<index>` where the record has no id. */
export function eventIdOf(envelope: Envelope): string {
  const { record } = envelope;
  if (envelope.source === 'cloudtrail' && typeof record.eventID === 'string') return record.eventID;
  if (envelope.source === 'guardduty' && typeof record.id === 'string') return record.id;
  return `${envelope.origin.uri}#${envelope.origin.line ?? envelope.origin.index}`;
}

/** Same rule and same events give the same id, whatever the run. */
export function stableAlertId(ruleId: string, eventIds: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(ruleId);
  for (const eventId of eventIds) hash.update('\n').update(eventId);
  return hash.digest('hex').slice(0, 32);
}

export function isoTime(epochMs: number): string | null {
  return Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : null;
}

function stringAt(record: LogRecord, ...path: string[]): string | null {
  let current: unknown = record;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return null;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' && current !== '' ? current : null;
}

/** Who, where and from which address, read from the record as its source writes it. */
export function alertContext(envelope: Envelope): Pick<Alert, 'account' | 'region' | 'actor' | 'source_ip'> {
  const { record } = envelope;
  switch (envelope.source) {
    case 'cloudtrail':
      return {
        account: stringAt(record, 'recipientAccountId') ?? stringAt(record, 'userIdentity', 'accountId'),
        region: stringAt(record, 'awsRegion'),
        actor: stringAt(record, 'userIdentity', 'arn') ?? stringAt(record, 'userIdentity', 'invokedBy'),
        source_ip: stringAt(record, 'sourceIPAddress'),
      };
    case 'guardduty':
      return {
        account: stringAt(record, 'accountId'),
        region: stringAt(record, 'region'),
        actor:
          stringAt(record, 'resource', 'accessKeyDetails', 'userName') ??
          stringAt(record, 'resource', 'accessKeyDetails', 'principalId') ??
          stringAt(record, 'resource', 'instanceDetails', 'instanceId'),
        source_ip: guardDutyRemoteIps(record)[0]?.ip ?? null,
      };
    case 'vpcflow':
      return {
        account: stringAt(record, 'account-id'),
        region: stringAt(record, 'region'),
        actor: stringAt(record, 'instance-id') ?? stringAt(record, 'interface-id'),
        source_ip: stringAt(record, 'srcaddr'),
      };
  }
}

/** The alert for one rule matching one record. */
export function singleEventAlert(rule: AlertRule, envelope: Envelope, options: AlertOptions): Alert {
  const eventIds = [eventIdOf(envelope)];
  const alert: Alert = {
    id: stableAlertId(rule.id, eventIds),
    time: isoTime(envelope.time),
    rule: { id: rule.id, name: rule.name ?? null, title: rule.title, level: rule.level },
    attack: rule.attack,
    source: envelope.source,
    ...alertContext(envelope),
    event_ids: eventIds,
    count: 1,
  };
  if (options.includeEvents) alert.events = [envelope.record];
  return alert;
}

const LEVEL_RANK: Record<SigmaLevel, number> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function levelAtLeast(level: SigmaLevel, threshold: SigmaLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[threshold];
}
