/**
 * How alerts are made: stable ids, who/where/from which address as each source writes it, the
 * alert of one rule matching one record, and the rule identity every alert carries.
 */
import { createHash } from 'node:crypto';
import type { Alert, AlertOptions, AlertRule } from '../../core/alert.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import { attackTagsToIds } from '../../attack/techniques.ts';
import { guardDutyRemoteIps } from '../../formats/guardduty/fields.ts';

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

/** The identity an alert carries for a Sigma rule (detection or correlation), ATT&CK ids parsed from its tags once. */
export function alertRuleOf(rule: { id: string; name?: string | undefined; title: string; level: AlertRule['level']; tags: readonly string[] }): AlertRule {
  return {
    id: rule.id,
    ...(rule.name === undefined ? {} : { name: rule.name }),
    title: rule.title,
    level: rule.level,
    attack: attackTagsToIds(rule.tags),
  };
}
