import type { CorrelationEntry, EntryContext } from './entry.ts';
import { compareEntries } from './entry.ts';

/**
 * The state of one group of one correlation: its not-yet-decided entries, in time order.
 * Entries before `head` are decided and about to be dropped; every remaining entry is a future
 * window start (an anchor) or inside one.
 */
export class CorrelationGroup<Owner> {
  readonly owner: Owner;
  readonly key: string;
  /** The group-by values, by group-by name (alias or field path). */
  readonly values: Readonly<Record<string, string | null>>;
  entries: CorrelationEntry[] = [];
  head = 0;
  /** Windows starting at or before this time are decided; an entry at or before it arrived too late. */
  decidedThrough = Number.NEGATIVE_INFINITY;
  /** The deadline this group is scheduled at in its correlation's heap (NaN: not scheduled). */
  deadline = Number.NaN;
  /** Set while its windows are being decided, so that cap eviction never picks it. */
  busy = false;
  /** Removed from its correlation: stale heap entries pointing here are skipped. */
  closed = false;
  /** The context of the latest entry, shared by following entries that have the same one. */
  lastContext: EntryContext | undefined;
  /** Neighbours in the correlator's recency list (least recently active first). */
  newer: CorrelationGroup<Owner> | undefined;
  older: CorrelationGroup<Owner> | undefined;

  constructor(owner: Owner, key: string, values: Readonly<Record<string, string | null>>) {
    this.owner = owner;
    this.key = key;
    this.values = values;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  first(): CorrelationEntry | undefined {
    return this.entries[this.head];
  }

  /** Inserts in order (usually at the end). False when the same event already is in the buffer (a duplicate delivery). */
  insert(entry: CorrelationEntry): boolean {
    const entries = this.entries;
    let low = this.head;
    let high = entries.length;
    const last = entries[high - 1];
    if (last === undefined) {
      // Most groups hold one entry: a one-slot array, not the 17 slots of a first push.
      this.entries = [entry];
      this.head = 0;
      return true;
    }
    if (high === low || compareEntries(last, entry) < 0) {
      entries.push(entry);
      return true;
    }
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareEntries(entries[mid] as CorrelationEntry, entry) < 0) low = mid + 1;
      else high = mid;
    }
    const at = entries[low];
    if (at !== undefined && compareEntries(at, entry) === 0) return false;
    entries.splice(low, 0, entry);
    return true;
  }

  /** Drops decided entries once they are a good part of the buffer (amortised O(1)). */
  compact(): void {
    if (this.head === 0) return;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Groups by recency of their last input, least recent first: O(1) touch, removal and
 * eviction (a Map used this way slows down as deleted entries pile up at its head).
 */
export class RecencyList<Owner> {
  private oldest: CorrelationGroup<Owner> | undefined;
  private newest: CorrelationGroup<Owner> | undefined;
  size = 0;

  /** Marks the group as the most recently active (adding it when new). */
  touch(group: CorrelationGroup<Owner>): void {
    if (this.newest === group) return;
    if (group.newer !== undefined || group.older !== undefined || this.oldest === group) this.unlink(group);
    group.older = this.newest;
    group.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = group;
    this.newest = group;
    this.oldest ??= group;
    this.size += 1;
  }

  remove(group: CorrelationGroup<Owner>): void {
    if (group.newer === undefined && group.older === undefined && this.oldest !== group) return;
    this.unlink(group);
  }

  /** Every group, least recently active first. */
  *oldestFirst(): Generator<CorrelationGroup<Owner>> {
    for (let group = this.oldest; group !== undefined; group = group.newer) yield group;
  }

  /** The least recently active group that passes `eligible`. */
  oldestWhere(eligible: (group: CorrelationGroup<Owner>) => boolean): CorrelationGroup<Owner> | undefined {
    for (let group = this.oldest; group !== undefined; group = group.newer) if (eligible(group)) return group;
    return undefined;
  }

  private unlink(group: CorrelationGroup<Owner>): void {
    if (group.older !== undefined) group.older.newer = group.newer;
    else this.oldest = group.newer;
    if (group.newer !== undefined) group.newer.older = group.older;
    else this.newest = group.older;
    group.newer = undefined;
    group.older = undefined;
    this.size -= 1;
  }
}
