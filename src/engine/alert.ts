import { createHash } from 'node:crypto';
import type { Envelope, LogRecord, LogSourceName } from './envelope.ts';
import type { SigmaLevel } from '../sigma/types.ts';

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
  cti?: { indicator: string; matched: string; field: string; feed: string; direction?: string };
  guardduty?: { id: string; type: string; severity: number; count: number; updated_at: string | null };
  events?: LogRecord[];
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
          stringAt(record, 'resource', 'instanceDetails', 'instanceId'),
        source_ip:
          stringAt(record, 'service', 'action', 'awsApiCallAction', 'remoteIpDetails', 'ipAddressV4') ??
          stringAt(record, 'service', 'action', 'networkConnectionAction', 'remoteIpDetails', 'ipAddressV4'),
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
