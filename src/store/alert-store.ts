/**
 * The alert store: every alert trailhound raised, once per id, with its triage state. One
 * interface for every command (`scan --store`, `watch`, `serve`) and every backend (SQLite
 * embedded by default; PostgreSQL in cluster mode, same schema and semantics). Asynchronous
 * so that a networked backend fits behind it.
 *
 * Semantics users depend on (../shared/DESIGN.md §4):
 * - An alert is stored once per id. Storing it again (a re-scan, a redelivered object, a
 *   GuardDuty finding update) updates `last_seen`, `hits` and the detection fields (level,
 *   count, events, the finding version) of the stored alert; it never adds a second row and never
 *   resets triage state.
 * - Triage state is separate from detection: status open -> acknowledged -> closed (closing
 *   needs a reason, and reopening is allowed), assignee, tags and notes (added and removed one by
 *   one, never replaced), and an append-only history per alert (who, when, what, from -> to).
 * - Optimistic concurrency: every triage change names the `version` it was made against; a
 *   stale version is refused (StoreError TH_STORE_CONFLICT, HTTP 409), not applied.
 */
import type { Alert } from '../core/alert.ts';
import type { LogSourceName } from '../core/envelope.ts';
import type { SigmaLevel } from '../core/levels.ts';

export const TRIAGE_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];

export const CLOSE_REASONS = ['true_positive', 'false_positive', 'benign_positive', 'duplicate', 'other'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** A note on an alert: added and removed, never edited. */
export interface AlertNote {
  id: number;
  at: string;
  author: string;
  text: string;
}

/** An alert as stored: the alert JSON of today plus its triage state and sightings. */
export interface StoredAlert extends Alert {
  status: TriageStatus;
  reason: CloseReason | null;
  assignee: string | null;
  tags: string[];
  notes: AlertNote[];
  /** Bumped by every triage change; what a change must name. */
  version: number;
  first_seen: string;
  last_seen: string;
  /** How many times detection stored this alert (1 on first sight). */
  hits: number;
}

/** The list's filters (the UI's URL and the API's query parameters use the same names). */
export interface AlertFilter {
  /** Default (undefined): open and acknowledged. An empty list: every status (so for every list field: empty means no restriction). */
  status?: readonly TriageStatus[];
  level?: readonly SigmaLevel[];
  /** Rule names or ids. */
  rule?: readonly string[];
  /** ATT&CK technique ids (T1098 matches its sub-techniques too). */
  technique?: readonly string[];
  tactic?: readonly string[];
  source?: readonly LogSourceName[];
  account?: readonly string[];
  region?: readonly string[];
  actor?: string;
  source_ip?: string;
  assignee?: string;
  tag?: string;
  /** ISO 8601; on the alert's event time. */
  since?: string;
  until?: string;
  /** Free text over rule name and title, actor, source IP, account and the event ids. */
  q?: string;
  /** The alerts of one cluster scan job (`scan --job NAME`; PostgreSQL stores only: elsewhere nothing matches). */
  job?: string;
}

export const ALERT_SORTS = ['time', '-time', 'level', '-level', 'last_seen', '-last_seen', 'hits', '-hits'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

export interface ListRequest {
  filter: AlertFilter;
  /** Default `-time` (newest first). */
  sort?: AlertSort;
  /** 1-500; default 50. */
  limit?: number;
  /** Opaque, from a previous page's `next_cursor`. */
  cursor?: string;
}

export interface AlertPage {
  alerts: StoredAlert[];
  next_cursor: string | null;
  /** Alerts matching the filter, over every page. */
  total: number;
  /** Over the filter without its own status (resp. level) part: what the status and level tabs show. */
  counts: { status: Record<TriageStatus, number>; level: Record<SigmaLevel, number> };
}

/** A triage change. Fields left out are left alone. */
export interface TriageChange {
  status?: TriageStatus;
  /** Required when closing; cleared when reopening. */
  reason?: CloseReason;
  /** Added as a note with the change. */
  note?: string;
  /** null unassigns. */
  assignee?: string | null;
  tags_add?: readonly string[];
  tags_remove?: readonly string[];
  /** Note ids to remove. */
  notes_remove?: readonly number[];
}

/** One entry of an alert's history: append-only. */
export interface HistoryEntry {
  id: number;
  alert_id: string;
  at: string;
  /** The token's name (or `scan` / `watch` for detection). */
  actor: string;
  /** `created`, `seen_again`, `status`, `reason`, `assignee`, `tag_added`, `tag_removed`, `note_added`, `note_removed`, `closed_by_suppression`... */
  action: string;
  from: string | null;
  to: string | null;
}

/** One sink's progress on one alert. */
export interface DeliveryState {
  sink: string;
  state: 'pending' | 'done';
  /** When the sink last moved its cursor. */
  updated_at: string;
}

/** Which alerts a bulk action changes: explicit ids, or everything a filter matches. */
export type BulkTarget = { ids: readonly string[] } | { filter: AlertFilter };

/** A suppression written from an alert ("Suppress from this alert"). */
export interface Suppression {
  id: string;
  rule: string;
  /** The Sigma filter document written, and where. */
  file: string;
  created_at: string;
  created_by: string;
  reason: string;
  expires: string;
  /** Matches the filter kept out since it was written (counted by scan / watch). */
  suppressed: number;
}

export const TOKEN_ROLES = ['reader', 'triager', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface TokenInfo {
  name: string;
  role: TokenRole;
  created_at: string;
  last_used_at: string | null;
}

/** One rule's closed alerts, and how many of them were false positives. */
export interface RuleOutcome {
  rule_id: string;
  rule_name: string | null;
  closed: number;
  false_positive: number;
}

export interface StoreResult {
  inserted: number;
  updated: number;
}

/** Every store backend implements this; tests run the same cases against each (test/store/alert-store-contract.ts). */
export interface AlertStore {
  /** Stores detection's alerts: new ones inserted open, known ones seen again. */
  putAlerts(alerts: readonly Alert[], actor: string, now?: Date): Promise<StoreResult>;
  get(id: string): Promise<StoredAlert | undefined>;
  list(request: ListRequest): Promise<AlertPage>;
  /** One alert's triage change at `version`: the updated alert, or a StoreError (not found, conflict, invalid). */
  update(id: string, version: number, change: TriageChange, actor: string): Promise<StoredAlert>;
  history(id: string): Promise<HistoryEntry[]>;
  /**
   * Where the alert stands in each sink that delivers from this store (watch's outbox): `done`
   * (delivered, dead-lettered, or below the sink's level: the sink's log and dead-letter file say
   * which) or `pending`. Empty when no sink delivers from the store (`scan --store`). Optional: a
   * backend without an outbox leaves it out.
   */
  deliveries?(id: string): Promise<DeliveryState[]>;
  /** How many alerts a bulk action would change (those it would leave as they are not counted). */
  bulkPreview(target: BulkTarget, change: TriageChange): Promise<number>;
  /** Applies one change to every target alert, each with its own history entry. */
  bulkUpdate(target: BulkTarget, change: TriageChange, actor: string): Promise<{ changed: number }>;
  addSuppression(suppression: Omit<Suppression, 'suppressed'>): Promise<void>;
  listSuppressions(): Promise<Suppression[]>;
  /** Counts matches a suppression (a filter, by its Sigma id) kept out. */
  countSuppressed(filterId: string, matches: number): Promise<void>;
  /** Per rule: closed alerts and how many of them were false positives. */
  ruleOutcomes(): Promise<RuleOutcome[]>;
  /** A new token: the secret is returned once and stored hashed. */
  createToken(name: string, role: TokenRole): Promise<{ token: string }>;
  /** The token's name and role, or undefined. Constant-time on the hash. */
  verifyToken(token: string): Promise<{ name: string; role: TokenRole } | undefined>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Errors a store reports, with the HTTP status the API maps them to. */
export class StoreError extends Error {
  constructor(
    readonly code: 'TH_STORE_NOT_FOUND' | 'TH_STORE_CONFLICT' | 'TH_STORE_INVALID' | 'TH_STORE_OPEN',
    message: string,
    readonly status: 404 | 409 | 400 | 500,
    /** The server or the connection failed (a restart, a network cut): worth retrying. */
    readonly transient = false,
  ) {
    super(message);
  }
}
