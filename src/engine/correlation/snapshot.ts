import type { CorrelationEntry, EntryContext } from './entry.ts';
import type { LogRecord, Origin } from '../../core/envelope.ts';
import { exceedsDepth, MAX_JSON_DEPTH, truncateDeep } from '../../core/json-depth.ts';

/**
 * The correlator's live state as plain JSON, so that a long-running service can persist it and
 * a restart in the middle of a window does not lose the events already seen. Only undecided
 * entries are kept (decided ones are gone already); heaps and deadlines are rebuilt on restore.
 */
export interface CorrelationSnapshot {
  version: 1;
  /** The latest event time seen (epoch ms), null before the first. */
  maxTime: number | null;
  /** Entry contexts, shared by index: most entries of a group have the same one. */
  contexts: EntryContext[];
  /** Every live group, least recently active first (the order cap eviction uses). */
  groups: SnapshotGroup[];
}

export interface SnapshotGroup {
  /** The correlation rule id. */
  correlation: string;
  /** The correlation's group-by names, to detect a rule that changed between runs. */
  groupBy: string[];
  key: string;
  values: Record<string, string | null>;
  /** Windows starting at or before this time are decided (null: none yet). */
  decidedThrough: number | null;
  entries: SnapshotEntry[];
}

export interface SnapshotEntry {
  time: number;
  key: string;
  input: number;
  value?: string | number;
  eventIds: string | string[];
  count: number;
  /** Index in CorrelationSnapshot.contexts. */
  context: number;
  records?: LogRecord | LogRecord[];
  /** Where the record is, when the entry keeps that instead (CorrelatorOptions.keepOrigins). */
  origin?: Origin;
}

/** What restore() kept and what it left out (a correlation removed or changed since the snapshot). */
export interface RestoreOutcome {
  groups: number;
  entries: number;
  droppedGroups: number;
}

/** Collects contexts by identity into a shared table. */
export class ContextTable {
  readonly contexts: EntryContext[] = [];
  private readonly index = new Map<EntryContext, number>();

  indexOf(context: EntryContext): number {
    let at = this.index.get(context);
    if (at === undefined) {
      at = this.contexts.length;
      this.contexts.push({ ...context });
      this.index.set(context, at);
    }
    return at;
  }
}

export function toSnapshotEntry(entry: CorrelationEntry, contexts: ContextTable): SnapshotEntry {
  const out: SnapshotEntry = {
    time: entry.time,
    key: entry.key,
    input: entry.input,
    eventIds: typeof entry.eventIds === 'string' ? entry.eventIds : [...entry.eventIds],
    count: entry.count,
    context: contexts.indexOf(entry.context),
  };
  if (entry.value !== undefined) out.value = entry.value;
  if (entry.origin !== undefined) out.origin = entry.origin;
  if (entry.records !== undefined) out.records = Array.isArray(entry.records) ? (entry.records as readonly LogRecord[]).map(savable) : savable(entry.records as LogRecord);
  return out;
}

/** Records checked and found within MAX_JSON_DEPTH levels (each record is checked once, however many snapshots hold it). */
const WITHIN_DEPTH = new WeakSet<LogRecord>();
/** The truncated copies of records nested deeper. */
const TRUNCATED = new WeakMap<LogRecord, LogRecord>();

/**
 * A record as the snapshot may hold it: the snapshot is written with JSON.stringify, which a
 * hostile record nested thousands of levels deep overflows, failing every commit. A record
 * nested deeper than MAX_JSON_DEPTH levels is saved with the deeper containers replaced by
 * TRUNCATED_MARKER (its live alerts, before a restart, are written by alertJson, which reports
 * it); a record of normal depth is saved as it is.
 */
function savable(record: LogRecord): LogRecord {
  if (WITHIN_DEPTH.has(record)) return record;
  const known = TRUNCATED.get(record);
  if (known !== undefined) return known;
  if (!exceedsDepth(record, MAX_JSON_DEPTH)) {
    WITHIN_DEPTH.add(record);
    return record;
  }
  const copy = truncateDeep(record, MAX_JSON_DEPTH).value;
  TRUNCATED.set(record, copy);
  return copy;
}

/** The entry back, or undefined when the snapshot entry is malformed. */
export function fromSnapshotEntry(entry: SnapshotEntry, contexts: readonly EntryContext[], inputs: number, includeEvents: boolean): CorrelationEntry | undefined {
  const context = contexts[entry.context];
  if (context === undefined || !Number.isFinite(entry.time) || !Number.isInteger(entry.input) || entry.input < 0 || entry.input >= inputs) return undefined;
  return {
    time: entry.time,
    key: entry.key,
    input: entry.input,
    value: entry.value,
    eventIds: entry.eventIds,
    count: entry.count,
    context,
    records: includeEvents ? entry.records : undefined,
    ...(entry.origin === undefined ? {} : { origin: entry.origin }),
  };
}
