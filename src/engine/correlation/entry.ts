import type { LogRecord, LogSourceName, Origin } from '../../core/envelope.ts';

/** Who, where and from which address an entry came from: what the correlation alert reports. */
export interface EntryContext {
  readonly source: LogSourceName;
  readonly account: string | null;
  readonly region: string | null;
  readonly actor: string | null;
  readonly source_ip: string | null;
}

/**
 * One input of a correlation, kept in its group's buffer: an event matched by a referenced
 * detection rule, or a burst of a referenced correlation (chaining). Holds only what windows
 * and alerts need, never the whole record unless events are embedded in alerts.
 */
export interface CorrelationEntry {
  /** Event time, epoch ms (for a chained burst: when its condition first held). */
  readonly time: number;
  /** Event id (or the inner alert id): the tie-break that makes the order deterministic, and duplicate detection. */
  readonly key: string;
  /** Index of the referenced rule in `correlation.rules`. */
  readonly input: number;
  /** The aggregated field's value: a string key for value_count, a number for the numeric types; undefined when absent. */
  readonly value: string | number | undefined;
  readonly eventIds: string | readonly string[];
  /** Events behind the entry: 1, or the inner burst's count. */
  readonly count: number;
  readonly context: EntryContext;
  /** The raw record(s), kept only when alerts embed events. */
  readonly records: LogRecord | readonly LogRecord[] | undefined;
  /** Where the event's record is, kept instead of the record by a cluster node (CorrelatorOptions.keepOrigins). */
  readonly origin?: Origin;
}

export function sameContext(a: EntryContext, b: EntryContext): boolean {
  return a.source === b.source && a.account === b.account && a.region === b.region && a.actor === b.actor && a.source_ip === b.source_ip;
}

/** Orders entries by time, then key, then input: the same order whatever the arrival order. */
export function compareEntries(a: CorrelationEntry, b: CorrelationEntry): number {
  if (a.time !== b.time) return a.time - b.time;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.input - b.input;
}
