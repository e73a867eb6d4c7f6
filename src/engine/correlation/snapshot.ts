import type { CorrelationEntry, EntryContext } from './entry.ts';
import type { LogRecord } from '../../core/envelope.ts';

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
  if (entry.records !== undefined) out.records = Array.isArray(entry.records) ? [...(entry.records as readonly LogRecord[])] : (entry.records as LogRecord);
  return out;
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
  };
}
