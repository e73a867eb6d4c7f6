/**
 * How alerts are made: stable ids, who/where/from which address as each source writes it, the
 * alert of one rule matching one record, and the rule identity every alert carries.
 */
import { createHash } from 'node:crypto';
import type { Alert, AlertOptions, AlertRule } from '../../core/alert.ts';
import type { Envelope, LogRecord, Origin } from '../../core/envelope.ts';
import { located, type LocatedError } from '../../core/errors.ts';
import { isStackOverflow, MAX_JSON_DEPTH, TRUNCATED_MARKER, truncateDeep } from '../../core/json-depth.ts';
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
    rule: alertRuleField(rule),
    attack: rule.attack,
    source: envelope.source,
    ...alertContext(envelope),
    event_ids: eventIds,
    count: 1,
  };
  if (options.includeEvents) {
    alert.events = [envelope.record];
    // Where the record came from, should it have to be truncated when written (alertJson).
    RECORD_ORIGINS.set(envelope.record, envelope.origin);
  }
  return alert;
}

/** The alert's `rule` object: identity and level, and the tuning applied when there was some. */
export function alertRuleField(rule: AlertRule): Alert['rule'] {
  const field: Alert['rule'] = { id: rule.id, name: rule.name ?? null, title: rule.title, level: rule.level };
  if (rule.tuning !== undefined && rule.tuning.length > 0) {
    field.tuned = true;
    field.tuning = [...rule.tuning];
  }
  return field;
}

/** The identity an alert carries for a Sigma rule (detection or correlation), ATT&CK ids parsed from its tags once. */
export function alertRuleOf(rule: { id: string; name?: string | undefined; title: string; level: AlertRule['level']; tags: readonly string[]; tuning?: readonly string[] | undefined }): AlertRule {
  return {
    id: rule.id,
    ...(rule.name === undefined ? {} : { name: rule.name }),
    title: rule.title,
    level: rule.level,
    attack: attackTagsToIds(rule.tags),
    ...(rule.tuning === undefined ? {} : { tuning: rule.tuning }),
  };
}

/** Where embedded records came from (alerts only, so never on the per-record path). */
const RECORD_ORIGINS = new WeakMap<LogRecord, Origin>();
/** Records already reported as truncated: one TH_INPUT_LIMIT per record, however many alerts embed it. */
const REPORTED = new WeakSet<object>();

function originLocation(origin: Origin): string {
  return origin.line === undefined ? `${origin.uri}#${origin.index}` : `${origin.uri}:${origin.line}`;
}

/**
 * The alert's JSON text, as JSON.stringify writes it. A record nested too deep for that (it
 * overflows the stack past a few thousand levels) is written with every container deeper than
 * MAX_JSON_DEPTH levels replaced by TRUNCATED_MARKER, and reported once, located where the
 * record came from (TH_INPUT_LIMIT). Never throws for a deep record: the alert is written.
 */
export function alertJson(alert: Alert, onLimit?: (error: LocatedError) => void): string {
  try {
    return JSON.stringify(alert);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return isStackOverflow(error) ? truncatedAlertJson(alert, onLimit) : withoutEventsJson(alert, error, onLimit);
  }
}

function reportTruncated(alert: Alert, record: object | undefined, onLimit: ((error: LocatedError) => void) | undefined): void {
  if (record !== undefined) {
    if (REPORTED.has(record)) return;
    REPORTED.add(record);
  }
  const origin = record === undefined ? undefined : RECORD_ORIGINS.get(record as LogRecord);
  const location = origin === undefined ? `alert:${alert.id}` : originLocation(origin);
  onLimit?.(
    located(
      'TH_INPUT_LIMIT',
      `a record of alert ${alert.id} (rule ${alert.rule.name ?? alert.rule.id}) is nested deeper than ${MAX_JSON_DEPTH} levels; the alert is written with the deeper parts replaced by "${TRUNCATED_MARKER}"`,
      location,
    ),
  );
}

function truncatedAlertJson(alert: Alert, onLimit: ((error: LocatedError) => void) | undefined): string {
  let reported = false;
  const events = alert.events?.map((record) => {
    const cut = truncateDeep(record, MAX_JSON_DEPTH);
    if (cut.truncated === 0) return record;
    reportTruncated(alert, record, onLimit);
    reported = true;
    return cut.value;
  });
  // Each record keeps MAX_JSON_DEPTH levels below `events` (alert, events, record); the rest of
  // the alert is bounded the same way, should anything else ever be that deep.
  const rest = truncateDeep(events === undefined ? alert : { ...alert, events }, MAX_JSON_DEPTH + 2);
  if (rest.truncated > 0 && !reported) reportTruncated(alert, undefined, onLimit);
  try {
    return JSON.stringify(rest.value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return withoutEventsJson(alert, error, onLimit);
  }
}

/** The last resort (the text would exceed what a string can hold): the alert without its records. */
function withoutEventsJson(alert: Alert, error: RangeError, onLimit: ((error: LocatedError) => void) | undefined): string {
  const record = alert.events?.[0];
  const origin = record === undefined ? undefined : RECORD_ORIGINS.get(record);
  onLimit?.(located('TH_INPUT_LIMIT', `alert ${alert.id} (rule ${alert.rule.name ?? alert.rule.id}) cannot be written with its records (${error.message}); it is written without them`, origin === undefined ? `alert:${alert.id}` : originLocation(origin)));
  return JSON.stringify(alert.events === undefined ? alert : { ...alert, events: [] });
}
