/**
 * What the store backends share, whatever their SQL: the triage rules (status transitions,
 * closing needs a reason, tags and notes added and removed one by one), the input checks and
 * their limits, what one change does to one alert (planChange: the new state and one history
 * entry per field changed), the list's sorts and opaque keyset cursors, and token hashing. The
 * SQLite (sqlite-alert-store.ts) and PostgreSQL (pg-alert-store.ts) stores both use these, so
 * the two cannot drift apart on what a change means.
 */
import { createHash } from 'node:crypto';
import type { LogSourceName } from '../core/envelope.ts';
import {
  CLOSE_REASONS,
  StoreError,
  TRIAGE_STATUSES,
  type AlertFilter,
  type AlertNote,
  type AlertSort,
  type CloseReason,
  type TriageChange,
  type TriageStatus,
} from './alert-store.ts';

export const SOURCES: readonly LogSourceName[] = ['cloudtrail', 'vpcflow', 'guardduty'];
/** Default list filter on status: what still needs someone. */
export const DEFAULT_STATUSES: readonly TriageStatus[] = ['open', 'acknowledged'];
/** Status changes allowed (closed -> acknowledged goes through open). */
const TRANSITIONS: Readonly<Record<TriageStatus, readonly TriageStatus[]>> = {
  open: ['acknowledged', 'closed'],
  acknowledged: ['open', 'closed'],
  closed: ['open'],
};
export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
/** Values per list filter field, ids per bulk, tags per change. */
const MAX_VALUES = 1000;
export const MAX_BULK_IDS = 100_000;
const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 100;
const MAX_NOTE_LENGTH = 10_000;
const MAX_TEXT_LENGTH = 500;
export const TOKEN_PREFIX = 'th_';
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** last_used_at is written at most this often per token (not one write per request). */
export const LAST_USED_EVERY_MS = 60_000;

const invalid = (message: string): StoreError => new StoreError('TH_STORE_INVALID', message, 400);

export interface TriageRow {
  id: string;
  status: TriageStatus;
  reason: CloseReason | null;
  assignee: string | null;
  tags: string;
  version: number;
}

interface PlannedEntry {
  action: string;
  from: string | null;
  to: string | null;
}

/** What one change does to one alert: the new triage state and one history entry per field changed. */
export interface Plan {
  status: TriageStatus;
  reason: CloseReason | null;
  assignee: string | null;
  tags: string[];
  tagsAdded: string[];
  tagsRemoved: string[];
  note: string | undefined;
  notesRemoved: AlertNote[];
  entries: PlannedEntry[];
}

/** `%`, `_` and the escape character itself, escaped for LIKE ... ESCAPE '\'. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

export function isoOf(text: string, name: string): string {
  const time = Date.parse(text);
  if (!Number.isFinite(time)) throw invalid(`${name} ${JSON.stringify(text.slice(0, 60))} is not an ISO 8601 time`);
  return new Date(time).toISOString();
}

export function stringList(values: readonly unknown[] | undefined, name: string): string[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw invalid(`${name} must be a list`);
  if (values.length > MAX_VALUES) throw invalid(`${name} has ${values.length} values, more than the ${MAX_VALUES} a filter takes`);
  for (const value of values) {
    if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) throw invalid(`${name} values must be strings of at most ${MAX_TEXT_LENGTH} characters`);
  }
  return values.length === 0 ? undefined : (values as string[]);
}

export function oneOf<T extends string>(values: readonly unknown[] | undefined, allowed: readonly T[], name: string): T[] | undefined {
  const list = stringList(values, name);
  if (list === undefined) return undefined;
  for (const value of list) if (!(allowed as readonly string[]).includes(value)) throw invalid(`${name} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return list as T[];
}

export function singleText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) throw invalid(`${name} must be a string of at most ${MAX_TEXT_LENGTH} characters`);
  return value;
}

/** The statuses a filter keeps (the total is their share of the status counts). */
export function filterStatuses(filter: AlertFilter): readonly TriageStatus[] {
  if (filter.status === undefined) return DEFAULT_STATUSES;
  return filter.status.length === 0 ? TRIAGE_STATUSES : filter.status;
}

export const SORT_COLUMNS: Readonly<Record<string, { column: string; numeric: boolean }>> = {
  time: { column: 'sort_time', numeric: false },
  level: { column: 'level_rank', numeric: true },
  last_seen: { column: 'last_seen', numeric: false },
  hits: { column: 'hits', numeric: true },
};

interface Cursor {
  s: AlertSort;
  v: string | number;
  i: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(text: string, sort: AlertSort): Cursor {
  let value: unknown;
  try {
    if (typeof text !== 'string' || text.length > 2000 || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid('the cursor is not one this store gave out: start again from the first page');
  }
  const cursor = value as Partial<Cursor> | null;
  const numeric = SORT_COLUMNS[sort.replace(/^-/, '')]?.numeric ?? false;
  if (cursor === null || typeof cursor !== 'object' || cursor.s !== sort || typeof cursor.i !== 'string' || typeof cursor.v !== (numeric ? 'number' : 'string')) {
    throw invalid('the cursor does not belong to this sort: start again from the first page');
  }
  return cursor as Cursor;
}

export function parseTags(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((tag): tag is string => typeof tag === 'string') : [];
  } catch {
    return [];
  }
}

function cleanTags(values: readonly unknown[] | undefined, name: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) throw invalid(`${name} must be a list of tags`);
  if (values.length > MAX_TAGS) throw invalid(`${name} has more than ${MAX_TAGS} tags`);
  const tags: string[] = [];
  for (const value of values) {
    if (typeof value !== 'string') throw invalid(`${name}: a tag is a string`);
    const tag = value.trim();
    if (tag === '' || tag.length > MAX_TAG_LENGTH || [...tag].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)) throw invalid(`${name}: a tag is 1 to ${MAX_TAG_LENGTH} printable characters`);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** A change checked on its own (before any alert): what it asks, cleaned. */
export interface CheckedChange {
  status: TriageStatus | undefined;
  reason: CloseReason | undefined;
  note: string | undefined;
  assignee: string | null | undefined;
  tagsAdd: string[];
  tagsRemove: string[];
  notesRemove: number[];
}

export function checkChange(change: TriageChange): CheckedChange {
  if (change === null || typeof change !== 'object') throw invalid('a triage change is an object');
  const { status, reason, note, assignee } = change;
  if (status !== undefined && !(TRIAGE_STATUSES as readonly unknown[]).includes(status)) throw invalid(`status ${JSON.stringify(status)} is not one of ${TRIAGE_STATUSES.join(', ')}`);
  if (reason !== undefined && !(CLOSE_REASONS as readonly unknown[]).includes(reason)) throw invalid(`reason ${JSON.stringify(reason)} is not one of ${CLOSE_REASONS.join(', ')}`);
  if (status === 'closed' && reason === undefined) throw invalid(`closing an alert needs a reason: one of ${CLOSE_REASONS.join(', ')}`);
  if (reason !== undefined && status !== undefined && status !== 'closed') throw invalid('a reason goes with closing (status closed) only');
  let cleanNote: string | undefined;
  if (note !== undefined) {
    if (typeof note !== 'string' || note.trim() === '' || note.length > MAX_NOTE_LENGTH) throw invalid(`a note is 1 to ${MAX_NOTE_LENGTH} characters`);
    cleanNote = note.trim();
  }
  let cleanAssignee: string | null | undefined;
  if (assignee !== undefined) {
    if (assignee !== null && (typeof assignee !== 'string' || assignee.length > 200)) throw invalid('assignee is a name (at most 200 characters) or null');
    cleanAssignee = assignee === null || assignee.trim() === '' ? null : assignee.trim();
  }
  const tagsAdd = cleanTags(change.tags_add, 'tags_add');
  const tagsRemove = cleanTags(change.tags_remove, 'tags_remove');
  const both = tagsAdd.find((tag) => tagsRemove.includes(tag));
  if (both !== undefined) throw invalid(`tag ${JSON.stringify(both)} is both added and removed`);
  const notesRemove: number[] = [];
  if (change.notes_remove !== undefined) {
    if (!Array.isArray(change.notes_remove)) throw invalid('notes_remove is a list of note ids');
    for (const id of change.notes_remove) {
      if (!Number.isSafeInteger(id) || (id as number) < 1) throw invalid('notes_remove is a list of note ids (positive integers)');
      if (!notesRemove.includes(id)) notesRemove.push(id);
    }
  }
  return { status, reason, note: cleanNote, assignee: cleanAssignee, tagsAdd, tagsRemove, notesRemove };
}

/** What the change does to this alert, or why it cannot apply (undefined entries: nothing to do). */
export function planChange(row: TriageRow, change: CheckedChange, notes: ReadonlyMap<number, AlertNote>): Plan | string {
  const entries: PlannedEntry[] = [];
  let status = row.status;
  if (change.status !== undefined && change.status !== row.status) {
    if (!TRANSITIONS[row.status].includes(change.status)) return `a ${row.status} alert cannot become ${change.status}${row.status === 'closed' ? ': reopen it first (status open)' : ''}`;
    status = change.status;
    entries.push({ action: 'status', from: row.status, to: status });
  }
  let reason: CloseReason | null = row.reason;
  if (status === 'closed') {
    if (change.reason !== undefined) reason = change.reason;
  } else {
    if (change.reason !== undefined) return 'a reason goes with a closed alert only';
    // Reopening clears the reason.
    reason = null;
  }
  if (reason !== row.reason) entries.push({ action: 'reason', from: row.reason, to: reason });
  let assignee = row.assignee;
  if (change.assignee !== undefined && change.assignee !== row.assignee) {
    entries.push({ action: 'assignee', from: row.assignee, to: change.assignee });
    assignee = change.assignee;
  }
  const current = parseTags(row.tags);
  const tagsAdded = change.tagsAdd.filter((tag) => !current.includes(tag));
  const tagsRemoved = change.tagsRemove.filter((tag) => current.includes(tag));
  const tags = [...current.filter((tag) => !tagsRemoved.includes(tag)), ...tagsAdded];
  for (const tag of tagsAdded) entries.push({ action: 'tag_added', from: null, to: tag });
  for (const tag of tagsRemoved) entries.push({ action: 'tag_removed', from: tag, to: null });
  const notesRemoved: AlertNote[] = [];
  for (const id of change.notesRemove) {
    const note = notes.get(id);
    if (note === undefined) return `note ${id} is not a note of alert ${row.id}`;
    notesRemoved.push(note);
  }
  if (change.note !== undefined) entries.push({ action: 'note_added', from: null, to: change.note });
  for (const note of notesRemoved) entries.push({ action: 'note_removed', from: note.text, to: null });
  return { status, reason, assignee, tags, tagsAdded, tagsRemoved, note: change.note, notesRemoved, entries };
}

/**
 * Whether a bulk change changes this alert. Skipped: alerts it cannot apply to (a closed one
 * asked to be acknowledged), and those it would leave as they are; a note rides along with the
 * other parts of the change (an alert already closed as asked gets no "closing" note), and is
 * a change on its own only when the change is a note and nothing else.
 */
export function bulkChanges(plan: Plan | string, change: CheckedChange): plan is Plan {
  if (typeof plan === 'string' || plan.entries.length === 0) return false;
  const noteOnly = change.status === undefined && change.reason === undefined && change.assignee === undefined && change.tagsAdd.length === 0 && change.tagsRemove.length === 0;
  return noteOnly || plan.entries.some((entry) => entry.action !== 'note_added');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

