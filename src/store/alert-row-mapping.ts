/**
 * What the store backends share when reading, whatever their SQL: an alert's row (its JSON
 * body and triage columns) as a StoredAlert, history rows as HistoryEntry, the grouped rows of
 * the list's counts as its status and level tabs and total, and a page of sort keys as its ids
 * and next cursor. The SQLite (sqlite-alert-store.ts) and PostgreSQL (pg-alert-store.ts) stores
 * both use these, so the two read alike.
 */
import type { Alert } from '../core/alert.ts';
import { SIGMA_LEVELS, levelOfRank, type SigmaLevel } from '../core/levels.ts';
import { TRIAGE_STATUSES, type AlertFilter, type AlertNote, type AlertPage, type AlertSort, type CloseReason, type HistoryEntry, type StoredAlert, type TriageStatus } from './alert-store.ts';
import { encodeCursor, filterStatuses } from './triage-rules.ts';

/** The columns of an alert's row that every backend reads the same way (tags and notes are each backend's). */
export interface StoredRow {
  body: string;
  status: TriageStatus;
  reason: CloseReason | null;
  assignee: string | null;
  version: number;
  first_seen: string;
  last_seen: string;
  hits: number;
}

/** An alert as stored: its JSON (without the `update` flag detection sets), its triage state and sightings. */
export function storedAlert(row: StoredRow, tags: string[], notes: AlertNote[]): StoredAlert {
  const alert = JSON.parse(row.body) as Alert;
  delete alert.update;
  return {
    ...alert,
    status: row.status,
    reason: row.reason,
    assignee: row.assignee,
    tags,
    notes,
    version: row.version,
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    hits: row.hits,
  };
}

/** A row of alert_history (its columns `from_value` and `to_value`). */
export interface HistoryRow {
  id: number;
  alert_id: string;
  at: string;
  actor: string;
  action: string;
  from_value: string | null;
  to_value: string | null;
}

export function historyEntry(row: HistoryRow): HistoryEntry {
  return { id: row.id, alert_id: row.alert_id, at: row.at, actor: row.actor, action: row.action, from: row.from_value, to: row.to_value };
}

/** One group of the counts' query: alerts of one status at one level rank. */
export interface CountRow {
  status: TriageStatus;
  rank: number;
  n: number;
}

/**
 * The counts by status (over the filter without its status part) and by level (without its
 * level part), and the total, from one pass over the filter without either, grouped by both.
 */
export function tallyCounts(filter: AlertFilter, rows: Iterable<CountRow>): { counts: AlertPage['counts']; total: number } {
  const status = Object.fromEntries(TRIAGE_STATUSES.map((name) => [name, 0])) as Record<TriageStatus, number>;
  const level = Object.fromEntries(SIGMA_LEVELS.map((name) => [name, 0])) as Record<SigmaLevel, number>;
  const statuses = new Set<string>(filterStatuses(filter));
  const levels = filter.level === undefined || filter.level.length === 0 ? undefined : new Set<string>(filter.level);
  let total = 0;
  for (const row of rows) {
    const name = levelOfRank(row.rank);
    const levelKept = levels === undefined || levels.has(name);
    const statusKept = statuses.has(row.status);
    if (levelKept) status[row.status] += row.n;
    if (statusKept) level[name] += row.n;
    if (levelKept && statusKept) total += row.n;
  }
  return { counts: { status, level }, total };
}

/** A page from its sort keys (fetched `limit + 1`, to know whether another page follows): its ids and next cursor. */
export function pageOfKeys(keys: readonly { id: string; sort_key: string | number }[], limit: number, sort: AlertSort): { ids: string[]; next_cursor: string | null } {
  const more = keys.length > limit;
  const page = more ? keys.slice(0, limit) : keys;
  const last = page[page.length - 1];
  return { ids: page.map((key) => key.id), next_cursor: more && last !== undefined ? encodeCursor({ s: sort, v: last.sort_key, i: last.id }) : null };
}
