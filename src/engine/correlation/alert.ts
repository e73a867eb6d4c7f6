import type { Alert, AlertRule } from '../../core/alert.ts';
import { alertRuleField, isoTime, MAX_EMBEDDED_EVENTS, stableAlertId } from '../alerts/build.ts';
import type { CorrelationEntry } from './entry.ts';
import type { LogRecord } from '../../core/envelope.ts';
import type { CorrelationType } from '../../sigma/correlation.ts';

/** Event ids listed in one correlation alert at most; `count` stays exact. */
export const MAX_ALERT_EVENT_IDS = 100;

/** Distinct values listed in a value_count alert at most. */
export const MAX_ALERT_VALUES = 100;

/** The `correlation` member of an alert, with trailhound's additions to the contract (docs/architecture.md, Contracts). */
export interface CorrelationDetails {
  type: CorrelationType;
  group: Record<string, string | null>;
  window: { start: string; end: string };
  /** value_count: distinct values in the window. */
  value_count?: number;
  /** The number the condition held for: count, distinct values, sum, average, percentile, or rules seen. */
  value: number;
  /** value_count: the distinct values (at most MAX_ALERT_VALUES), for triage. */
  values?: string[];
}

/** A window that satisfied a correlation's condition: the entries behind one alert. */
export interface Burst {
  type: CorrelationType;
  group: Readonly<Record<string, string | null>>;
  start: number;
  end: number;
  entries: readonly CorrelationEntry[];
  value: number;
  distinct?: string[];
}

export interface BurstSummary {
  id: string;
  /** Every event id behind the burst, in entry order. */
  eventIds: string[];
  count: number;
  records: LogRecord[];
}

/** Ids, count and (when kept) the first raw records behind a burst. */
export function summarizeBurst(ruleId: string, entries: readonly CorrelationEntry[]): BurstSummary {
  const eventIds: string[] = [];
  const records: LogRecord[] = [];
  let count = 0;
  for (const entry of entries) {
    count += entry.count;
    if (typeof entry.eventIds === 'string') eventIds.push(entry.eventIds);
    else for (const id of entry.eventIds) eventIds.push(id);
    if (records.length < MAX_EMBEDDED_EVENTS && entry.records !== undefined) {
      if (Array.isArray(entry.records)) {
        for (const record of entry.records as readonly LogRecord[]) if (records.length < MAX_EMBEDDED_EVENTS) records.push(record);
      } else {
        records.push(entry.records as LogRecord);
      }
    }
  }
  return { id: stableAlertId(ruleId, eventIds), eventIds, count, records };
}

/** The alert for one burst: time of its last event, context of its last event, the first ids. */
export function correlationAlert(rule: AlertRule, burst: Burst, summary: BurstSummary, includeEvents: boolean): Alert {
  const last = burst.entries[burst.entries.length - 1] as CorrelationEntry;
  const details: CorrelationDetails = {
    type: burst.type,
    group: { ...burst.group },
    window: { start: isoTime(burst.start) ?? '', end: isoTime(burst.end) ?? '' },
    value: burst.value,
  };
  if (burst.type === 'value_count') {
    details.value_count = burst.value;
    if (burst.distinct !== undefined) details.values = burst.distinct.slice(0, MAX_ALERT_VALUES);
  }
  const { source, ...context } = last.context;
  const alert: Alert = {
    id: summary.id,
    time: isoTime(last.time),
    rule: alertRuleField(rule),
    attack: rule.attack,
    source,
    ...context,
    event_ids: summary.eventIds.slice(0, MAX_ALERT_EVENT_IDS),
    count: summary.count,
    correlation: details,
  };
  if (includeEvents && summary.records.length > 0) alert.events = summary.records;
  return alert;
}
