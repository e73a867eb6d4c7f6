/**
 * What the store backends share, whatever their SQL: the triage rules (status transitions,
 * closing needs a reason, tags and notes added and removed one by one), the input checks and
 * their limits, what one change does to one alert (planChange: the new state and one history
 * entry per field changed), the list's sorts and opaque keyset cursors, and tokens (created,
 * hashed, matched in constant time, last use written at most once a minute). The
 * SQLite (sqlite-alert-store.ts) and PostgreSQL (pg-alert-store.ts) stores both use these, so
 * the two cannot drift apart on what a change means.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LogSourceName } from '../core/envelope.ts';
import {
  ALERT_SORTS,
  CLOSE_REASONS,
  StoreError,
  TOKEN_ROLES,
  TRIAGE_STATUSES,
  type AlertFilter,
  type AlertNote,
  type AlertSort,
  type BulkTarget,
  type CloseReason,
  type ListRequest,
  type Suppression,
  type TokenRole,
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

export const invalid = (message: string): StoreError => new StoreError('TH_STORE_INVALID', message, 400);
export const notFound = (message: string): StoreError => new StoreError('TH_STORE_NOT_FOUND', message, 404);

/** No stored alert has this id (TH_STORE_NOT_FOUND). */
export function unknownAlert(id: unknown): StoreError {
  return notFound(`no stored alert has the id ${JSON.stringify(String(id).slice(0, 80))}`);
}

/** The change was made against another version than the alert's (TH_STORE_CONFLICT). */
export function staleVersion(id: string, current: number, version: number): StoreError {
  return new StoreError('TH_STORE_CONFLICT', `alert ${id} is at version ${current}, the change was made against version ${version}: reload it and try again`, 409);
}

/** The alert's version moved between reading and writing it (TH_STORE_CONFLICT). */
export function changedMeanwhile(id: string): StoreError {
  return new StoreError('TH_STORE_CONFLICT', `alert ${id} changed while being updated: reload it and try again`, 409);
}

export function checkTriageActor(actor: unknown): void {
  if (typeof actor !== 'string' || actor === '') throw invalid('a triage change needs an actor (the token name)');
}

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

/** The tags of a stored tags value (a JSON array): its strings. */
export function tagList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((tag): tag is string => typeof tag === 'string') : [];
}

/** tagList of the tags column's JSON text; none when it is not JSON. */
export function parseTags(text: string): string[] {
  try {
    return tagList(JSON.parse(text));
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

/** A list request checked: its sort (and the sort's column and direction), limit and filter (the filter's own checks are the backend's filterSql). */
export interface CheckedListRequest {
  sort: AlertSort;
  limit: number;
  filter: AlertFilter;
  descending: boolean;
  column: string;
  direction: 'ASC' | 'DESC';
}

export function checkListRequest(request: ListRequest): CheckedListRequest {
  if (request === null || typeof request !== 'object') throw invalid('a list request is an object');
  const sort = request.sort ?? '-time';
  if (!(ALERT_SORTS as readonly string[]).includes(sort)) throw invalid(`sort ${JSON.stringify(sort)} is not one of ${ALERT_SORTS.join(', ')}`);
  const limit = request.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalid(`limit is 1 to ${MAX_LIMIT}`);
  const descending = sort.startsWith('-');
  const { column } = SORT_COLUMNS[sort.replace(/^-/, '')] as { column: string };
  return { sort, limit, filter: request.filter ?? {}, descending, column, direction: descending ? 'DESC' : 'ASC' };
}

/** The list request's cursor, decoded; undefined for the first page. */
export function cursorOf(request: ListRequest, sort: AlertSort): Cursor | undefined {
  if (request.cursor === undefined || request.cursor === null || request.cursor === '') return undefined;
  return decodeCursor(request.cursor, sort);
}

/** A bulk target's shape: {ids} (a list of at most MAX_BULK_IDS ids) or {filter} (whose own checks are the backend's filterSql). */
export function checkBulkTarget(target: BulkTarget): void {
  if (target === null || typeof target !== 'object') throw invalid('a bulk target is {ids} or {filter}');
  if ('ids' in target) {
    if (!Array.isArray(target.ids) || target.ids.some((id) => typeof id !== 'string')) throw invalid('ids is a list of alert ids');
    if (target.ids.length > MAX_BULK_IDS) throw invalid(`at most ${MAX_BULK_IDS} ids at once`);
  } else if (!('filter' in target)) throw invalid('a bulk target is {ids} or {filter}');
}

/** checkChange for a bulk change: one that removes no notes (note ids belong to one alert). */
export function checkBulkChange(change: TriageChange): CheckedChange {
  const checked = checkChange(change);
  if (checked.notesRemove.length > 0) throw invalid('notes_remove names notes of one alert: not a bulk change');
  return checked;
}

/** A suppression checked: its expiry and creation time as ISO 8601 (created now when it has none). */
export function checkSuppression(suppression: Omit<Suppression, 'suppressed'>, now: () => string): { expires: string; createdAt: string } {
  if (suppression === null || typeof suppression !== 'object') throw invalid('a suppression is an object');
  for (const name of ['id', 'rule', 'file', 'created_by', 'reason'] as const) {
    const value = suppression[name];
    if (typeof value !== 'string' || value.trim() === '' || value.length > 4096) throw invalid(`a suppression needs ${name === 'created_by' ? 'an owner (created_by)' : `a ${name}`}`);
  }
  const expires = isoOf(String(suppression.expires ?? ''), 'expires');
  const createdAt = suppression.created_at === undefined || suppression.created_at === '' ? now() : isoOf(suppression.created_at, 'created_at');
  return { expires, createdAt };
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A new token's secret, once its name and role are checked. */
export function newToken(name: string, role: TokenRole): string {
  if (typeof name !== 'string' || !TOKEN_NAME.test(name)) throw invalid('a token name is 1 to 64 letters, digits, and . _ @ - (starting with a letter or digit)');
  if (!(TOKEN_ROLES as readonly unknown[]).includes(role)) throw invalid(`role ${JSON.stringify(role)} is not one of ${TOKEN_ROLES.join(', ')}`);
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The hash a presented token is looked up by; undefined when it cannot be a token. */
export function presentedHash(token: string): Buffer | undefined {
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  return hashToken(token);
}

/** The stored token of this hash: every token's hash is compared, in constant time, without stopping at a match. */
export function matchToken(hash: Buffer, rows: Iterable<{ name: string; role: TokenRole; hash: string }>): { name: string; role: TokenRole } | undefined {
  let found: { name: string; role: TokenRole } | undefined;
  for (const row of rows) {
    const stored = Buffer.from(row.hash, 'hex');
    if (stored.length === hash.length && timingSafeEqual(stored, hash) && found === undefined) found = { name: row.name, role: row.role };
  }
  return found;
}

/** When each token's last_used_at was last written by this store: at most once per LAST_USED_EVERY_MS. */
export class LastUsedThrottle {
  private readonly written = new Map<string, number>();

  /** Whether to write the token's last_used_at now (and, when so, noted as written). */
  due(name: string, now: Date): boolean {
    const last = this.written.get(name);
    if (last !== undefined && now.getTime() - last < LAST_USED_EVERY_MS) return false;
    this.written.set(name, now.getTime());
    return true;
  }

  forget(name: string): void {
    this.written.delete(name);
  }
}

