/**
 * The alert store on PostgreSQL (node-postgres): the cluster mode's store, with the schema,
 * migrations (pg-schema.ts) and semantics of the SQLite store (sqlite-alert-store.ts, whose
 * checks, triage plans and cursors it shares: one definition of what a change does).
 *
 * - A pool (10 connections by default), a statement timeout (30 s), keep-alive; close() ends it.
 * - Once per id: a known id is locked (SELECT ... FOR UPDATE) and seen again; a new one is
 *   inserted with INSERT ... ON CONFLICT (id) DO NOTHING, and when another process inserted it
 *   first, it is seen again instead. A batch is one transaction, which first takes an advisory
 *   lock per alert id, in one order for every process (no deadlock between batches); a deadlock
 *   or serialization failure with another writer (a bulk change) is retried.
 * - Triage changes are optimistic: the row's version is checked, and the UPDATE names it
 *   (`WHERE id = $1 AND version = $2`): of two concurrent changes at one version, one applies
 *   and the other is refused (TH_STORE_CONFLICT, 409). A bulk change locks its targets.
 * - Every value is a bound parameter ($1, $2...); the SQL text is built from constant fragments
 *   only. Errors of the server or the connection are StoreError TH_STORE_OPEN, with the URL's
 *   password replaced by `***` (never printed).
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { Alert } from '../core/alert.ts';
import type { LocatedError } from '../core/errors.ts';
import { SIGMA_LEVELS, levelRank } from '../core/levels.ts';
import { tacticSlug } from '../attack/techniques.ts';
import { alertJson } from '../engine/alerts/build.ts';
import {
  StoreError,
  TRIAGE_STATUSES,
  type AlertFilter,
  type AlertNote,
  type AlertPage,
  type AlertStore,
  type BulkTarget,
  type HistoryEntry,
  type ListRequest,
  type RuleOutcome,
  type StoreResult,
  type StoredAlert,
  type Suppression,
  type TokenInfo,
  type TokenRole,
  type TriageChange,
} from './alert-store.ts';
import { comparable, detectionSummary, guardDutyOf, newerFinding } from './alert-rows.ts';
import { migratePg, type MigrationResult } from './pg-schema.ts';
import { redactUrl } from './store-url.ts';

export { redactUrl };
import {
  DEFAULT_STATUSES,
  LastUsedThrottle,
  SOURCES,
  bulkChanges,
  changedMeanwhile,
  checkBulkChange,
  checkBulkTarget,
  checkChange,
  checkListRequest,
  checkSuppression,
  checkTriageActor,
  cursorOf,
  escapeLike,
  hashToken,
  invalid,
  isoOf,
  matchToken,
  newToken,
  oneOf,
  planChange,
  presentedHash,
  singleText,
  staleVersion,
  stringList,
  tagList,
  unknownAlert,
  type Plan,
  type TriageRow,
} from './triage-rules.ts';
import { historyEntry, pageOfKeys, storedAlert, tallyCounts, type CountRow, type HistoryRow, type StoredRow } from './alert-row-mapping.ts';

/** A transaction retried this many times after a deadlock or a serialization failure. */
const RETRIES = 5;
const RETRIED_CODES = new Set(['40001', '40P01']);

/**
 * Server and connection failures that pass: the server restarting or shutting down (SQLSTATE
 * class 08 and 57P01-57P03), a refused or reset connection, a connection that ended.
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT')) return true;
  const message = messageOf(error);
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(message);
}
/** The advisory lock (first int4 key, second 0) between writers of outbox positions and the sinks' readers ('thob'). */
export const OUTBOX_LOCK_SPACE = 0x74686f62;

/** The first key of the per-alert advisory locks of putAlerts ('thad'); the second is hashtext(id). */
const ALERT_LOCK_SPACE = 0x74686164;

export interface PgAlertStoreOptions {
  /** The clock for triage changes and history (tests). */
  clock?: () => Date;
  /** Connections in the pool (default 10). */
  max?: number;
  /** Per statement, in milliseconds (default 30 000). */
  statementTimeoutMs?: number;
  /** To connect, in milliseconds (default 10 000). */
  connectTimeoutMs?: number;
}

/** The secrets of a URL (its password), to be scrubbed from any message. */
function secretsOf(url: string): string[] {
  const secrets: string[] = [];
  const user = /^[a-z][a-z0-9+.-]*:\/\/[^@/?#]*?:([^@/?#]*)@/i.exec(url)?.[1];
  if (user !== undefined && user !== '') secrets.push(user, safeDecode(user));
  for (const match of url.matchAll(/[?&](?:ssl)?password=([^&#]*)/gi)) if (match[1] !== undefined && match[1] !== '') secrets.push(match[1], safeDecode(match[1]));
  return [...new Set(secrets)].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** bigint (COUNT(*), SUM, ids) as a number: every count and id here is far below 2^53. */
const parseInt8 = (value: string): number => Number(value);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** Positional parameters: add() binds a value and returns its placeholder. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The WHERE clause of a filter (alias `a`), leaving out its status or level part for the counts. */
function filterSql(filter: AlertFilter, params: Params, omit?: 'status' | 'level' | 'both'): string {
  if (filter === null || typeof filter !== 'object') throw invalid('the filter must be an object');
  const clauses: string[] = [];
  const statuses = filter.status === undefined ? DEFAULT_STATUSES : oneOf(filter.status, TRIAGE_STATUSES, 'status');
  if (omit !== 'status' && omit !== 'both' && statuses !== undefined) clauses.push(`a.status = ANY(${params.add(statuses)}::text[])`);
  const levels = oneOf(filter.level, SIGMA_LEVELS, 'level');
  if (omit !== 'level' && omit !== 'both' && levels !== undefined) clauses.push(`a.level_rank = ANY(${params.add(levels.map((level) => levelRank(level)))}::int[])`);
  const rules = stringList(filter.rule, 'rule');
  if (rules !== undefined) {
    const list = params.add(rules);
    clauses.push(`(a.rule_id = ANY(${list}::text[]) OR a.rule_name = ANY(${list}::text[]))`);
  }
  const techniques = stringList(filter.technique, 'technique');
  if (techniques !== undefined) {
    const parts: string[] = [];
    for (const raw of techniques) {
      const technique = raw.trim().toUpperCase();
      if (!/^T\d{4}(\.\d{3})?$/.test(technique)) throw invalid(`technique ${JSON.stringify(raw)} is not an ATT&CK technique id (T1098, T1098.001)`);
      // A technique matches its sub-techniques too.
      if (technique.includes('.')) parts.push(`value = ${params.add(technique)}`);
      else parts.push(`(value = ${params.add(technique)} OR value LIKE ${params.add(`${escapeLike(technique)}.%`)} ESCAPE '\\')`);
    }
    clauses.push(`a.id IN (SELECT alert_id FROM alert_attack WHERE kind = 'technique' AND (${parts.join(' OR ')}))`);
  }
  const tactics = stringList(filter.tactic, 'tactic');
  if (tactics !== undefined) {
    clauses.push(`a.id IN (SELECT alert_id FROM alert_attack WHERE kind = 'tactic' AND value = ANY(${params.add(tactics.map((tactic) => tacticSlug(tactic) ?? tactic.trim().toLowerCase()))}::text[]))`);
  }
  const sources = oneOf(filter.source, SOURCES, 'source');
  if (sources !== undefined) clauses.push(`a.source = ANY(${params.add(sources)}::text[])`);
  for (const [name, column] of [['account', 'a.account'], ['region', 'a.region']] as const) {
    const values = stringList(filter[name], name);
    if (values !== undefined) clauses.push(`${column} = ANY(${params.add(values)}::text[])`);
  }
  for (const [name, column] of [['actor', 'a.actor'], ['source_ip', 'a.source_ip'], ['assignee', 'a.assignee']] as const) {
    const value = singleText(filter[name], name);
    if (value !== undefined && value !== '') clauses.push(`${column} = ${params.add(value)}`);
  }
  const tag = singleText(filter.tag, 'tag');
  if (tag !== undefined && tag !== '') clauses.push(`a.id IN (SELECT alert_id FROM alert_tags WHERE tag = ${params.add(tag)})`);
  const since = singleText(filter.since, 'since');
  if (since !== undefined && since !== '') clauses.push(`a.sort_time >= ${params.add(isoOf(since, 'since'))} AND a.sort_time <> ''`);
  const until = singleText(filter.until, 'until');
  if (until !== undefined && until !== '') clauses.push(`a.sort_time <= ${params.add(isoOf(until, 'until'))} AND a.sort_time <> ''`);
  const job = singleText(filter.job, 'job');
  if (job !== undefined && job !== '') clauses.push(`a.id IN (SELECT alert_id FROM cluster_job_alerts WHERE job = ${params.add(job)})`);
  const q = singleText(filter.q, 'q')?.trim();
  // One column holds the searched fields; ILIKE on a "C" column folds ASCII only, as SQLite's LIKE.
  if (q !== undefined && q !== '') clauses.push(`a.search ILIKE ${params.add(`%${escapeLike(q)}%`)} ESCAPE '\\'`);
  return clauses.length === 0 ? 'TRUE' : clauses.join(' AND ');
}

interface AlertRow extends StoredRow {
  id: string;
  tags: unknown;
  notes: AlertNote[];
}

interface ExistingRow {
  level: string;
  count: number;
  body: string;
  techniques: unknown;
  tactics: unknown;
}

/** An alert's row, its JSON and its notes (FROM ROWS_FROM), in one query. */
const ROW_COLUMNS = `a.id, b.body, a.status, a.reason, a.assignee, a.tags, a.version, a.first_seen, a.last_seen, a.hits,
  (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', n.id, 'at', n.at, 'author', n.author, 'text', n.text) ORDER BY n.id), '[]'::jsonb) FROM alert_notes n WHERE n.alert_id = a.id) AS notes`;
const ROWS_FROM = 'alerts a JOIN alert_bodies b ON b.id = a.id';
/** Clients that already have an 'error' listener (the pool reuses them). */
const QUIETED = new WeakSet<PoolClient>();

/**
 * A checked-out client with an 'error' listener: a connection that breaks while in use (the
 * server restarting) makes its query fail, which the caller handles; without a listener the
 * client's 'error' event would end the process. The pool listens only to idle clients.
 */
function quiet(client: PoolClient): PoolClient {
  if (!QUIETED.has(client)) {
    client.on('error', () => undefined);
    QUIETED.add(client);
  }
  return client;
}

/** A write's counts alone. */
function counts(result: StoreResult): StoreResult {
  return { inserted: result.inserted, updated: result.updated };
}

/** Counts of an empty page. */
function emptyCounts(): AlertPage['counts'] {
  return { status: Object.fromEntries(TRIAGE_STATUSES.map((status) => [status, 0])) as AlertPage['counts']['status'], level: Object.fromEntries(SIGMA_LEVELS.map((level) => [level, 0])) as AlertPage['counts']['level'] };
}

export interface PutQueuedOptions {
  /** Told of each record too deep to be stored whole (stored truncated). */
  onLimit?: (error: LocatedError) => void;
  /**
   * A GuardDuty finding version no newer than the stored one is dropped, not seen again: as one
   * watch process drops it before the store (a watch cluster's memory of versions is the store).
   */
  dropStaleFindings?: boolean;
}

/** One transaction of PgAlertStore.transact(): raw queries and the store's writes on one connection. */
export interface PgTransaction {
  query<R extends QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  putAlerts(alerts: readonly Alert[], actor: string, now?: Date): Promise<StoreResult>;
  /**
   * As putAlerts, for watch: `object` is where the alerts came from; returns the ids queued for
   * the sinks (new ones, and findings this batch brought a newer version of). `onLimit` is told
   * of each record too deep to be stored whole (stored truncated).
   */
  putQueued(alerts: readonly Alert[], actor: string, object: string, options?: PutQueuedOptions): Promise<string[]>;
  countSuppressed(filterId: string, matches: number): Promise<void>;
}

const TRIAGE_COLUMNS = 'a.id, a.status, a.reason, a.assignee, a.tags::text AS tags, a.version';

export class PgAlertStore implements AlertStore {
  /** The URL, its password redacted. */
  readonly url: string;
  /** What opening found and migrated (tests). */
  readonly migration: MigrationResult;
  private readonly pool: pg.Pool;
  private readonly clock: () => Date;
  private readonly secrets: string[];
  private readonly lastUsed = new LastUsedThrottle();
  private closed = false;

  private constructor(url: string, pool: pg.Pool, migration: MigrationResult, secrets: string[], options: PgAlertStoreOptions) {
    this.url = url;
    this.pool = pool;
    this.migration = migration;
    this.secrets = secrets;
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Connects to the database of `url` (postgres:// or postgresql://, libpq's URL form) and
   * migrates it: an empty database gets the whole schema, an older one is migrated, a newer one
   * or a foreign one (trailhound's table names without trailhound_meta) is refused (TH_STORE_OPEN).
   */
  static async open(url: string, options: PgAlertStoreOptions = {}): Promise<PgAlertStore> {
    const shown = redactUrl(url);
    const secrets = secretsOf(url);
    let pool: pg.Pool | undefined;
    try {
      pool = new pg.Pool({
        connectionString: url,
        max: options.max ?? 10,
        statement_timeout: options.statementTimeoutMs ?? 30_000,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        idleTimeoutMillis: 30_000,
        idle_in_transaction_session_timeout: 60_000,
        keepAlive: true,
        application_name: 'trailhound',
        types: TYPES,
      });
      // An idle connection that breaks (the server restarts) is dropped from the pool; the next query opens another.
      pool.on('error', () => undefined);
      const client = quiet(await pool.connect());
      let migration: MigrationResult;
      try {
        migration = await migratePg(client);
      } finally {
        client.release();
      }
      return new PgAlertStore(shown, pool, migration, secrets, options);
    } catch (error) {
      await pool?.end().catch(() => undefined);
      throw new StoreError('TH_STORE_OPEN', `cannot open the alert store ${shown}: ${scrub(messageOf(error), secrets)}`, 500, isTransient(error));
    }
  }

  private open(): void {
    if (this.closed) throw new StoreError('TH_STORE_OPEN', 'the alert store is closed', 500);
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** A store error as it is; anything else (the server, the connection) as TH_STORE_OPEN, redacted. */
  private failure(error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    return new StoreError('TH_STORE_OPEN', `the alert store ${this.url} failed: ${scrub(messageOf(error), this.secrets)}`, 500, isTransient(error));
  }

  /** One query outside a transaction. */
  private async query<R extends QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.open();
    try {
      return await this.pool.query<R>(sql, values);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** `work` in one transaction on one connection; retried after a deadlock or serialization failure when `retry`. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>, options: { readOnly?: boolean; retry?: boolean } = {}): Promise<T> {
    this.open();
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = quiet(await this.pool.connect());
      } catch (error) {
        throw this.failure(error);
      }
      let broken: Error | undefined;
      try {
        await client.query(options.readOnly === true ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollback) {
          broken = rollback as Error;
        }
        const code = (error as { code?: unknown } | null)?.code;
        if (options.retry === true && typeof code === 'string' && RETRIED_CODES.has(code) && attempt < RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.floor(Math.random() * 20)));
          continue;
        }
        throw this.failure(error);
      } finally {
        // A connection whose rollback failed is not given back to the pool.
        client.release(broken);
      }
    }
  }

  async putAlerts(alerts: readonly Alert[], actor: string, now: Date = this.clock()): Promise<StoreResult> {
    this.open();
    if (typeof actor !== 'string' || actor === '') throw invalid('putAlerts needs an actor (scan, watch)');
    if (alerts.length === 0) return { inserted: 0, updated: 0 };
    return this.transaction(async (client) => counts(await this.putIn(client, alerts, actor, now)), { retry: true });
  }

  /**
   * `work` in one transaction, with the store's writes on its connection: the cluster commits a
   * unit's alerts with the unit's mark and its state (store/cluster/). Retried from the start
   * after a deadlock or serialization failure, so `work` must only touch the database.
   */
  async transact<T>(work: (tx: PgTransaction) => Promise<T>): Promise<T> {
    return this.transaction(
      async (client) =>
        work({
          query: async <R extends QueryResultRow>(sql: string, values: unknown[] = []) => (await client.query<R>(sql, values)).rows,
          putAlerts: async (alerts, actor, now = this.clock()) => (alerts.length === 0 ? { inserted: 0, updated: 0 } : counts(await this.putIn(client, alerts, actor, now))),
          putQueued: async (alerts, actor, object, options = {}) => (alerts.length === 0 ? [] : (await this.putIn(client, alerts, actor, this.clock(), object, options)).queued),
          countSuppressed: async (filterId, matches) => {
            if (Number.isSafeInteger(matches) && matches > 0) await client.query('UPDATE suppressions SET suppressed = suppressed + $1 WHERE id = $2', [matches, String(filterId)]);
          },
        }),
      { retry: true },
    );
  }

  /** Rows of one query outside a transaction (the cluster's reads). */
  async rows<R extends QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
    return (await this.query<R>(sql, values)).rows;
  }

  private async putIn(client: PoolClient, alerts: readonly Alert[], actor: string, now: Date, object = actor, options: PutQueuedOptions = {}): Promise<StoreResult & { queued: string[] }> {
    const nowIso = now.toISOString();
    const bodies = alerts.map((alert) => alertJson(alert, options.onLimit));
    // Every writer of outbox positions holds this lock shared until it commits; a sink's reader
    // takes it exclusively (pendingAlerts), so that it never sees a later position committed
    // before an earlier one (a sequence hands out positions in the order of the inserts, not
    // of the commits) and skips it for good.
    await client.query('SELECT pg_advisory_xact_lock_shared($1::int4, 0)', [OUTBOX_LOCK_SPACE]);
    // The batch's ids locked first, in one order (of their hashes) for every process: two
    // batches sharing alerts wait for each other at most once, never in a cycle (a new id's
    // unique-index wait included). The lock space (two int4 keys) is the alerts' own.
    await client.query(
      'SELECT pg_advisory_xact_lock($1::int4, s.h) FROM (SELECT DISTINCT hashtext(id) AS h FROM unnest($2::text[]) AS id ORDER BY h) s',
      [ALERT_LOCK_SPACE, [...new Set(alerts.map((alert) => alert.id))]],
    );
    let inserted = 0;
    let updated = 0;
    const queued = new Set<string>();
    for (let i = 0; i < alerts.length; i++) {
      const alert = alerts[i] as Alert;
      const outcome = await this.put(client, alert, bodies[i] as string, actor, object, nowIso, now.getTime(), options.dropStaleFindings === true);
      if (outcome === 'inserted') inserted += 1;
      else updated += 1;
      if (outcome !== 'seen') queued.add(alert.id);
    }
    return { inserted, updated, queued: [...queued] };
  }

  /** One alert, as alert-rows.ts stores it on SQLite (inside the caller's transaction). */
  private async put(client: PoolClient, alert: Alert, body: string, actor: string, object: string, now: string, nowMs: number, dropStale = false): Promise<'inserted' | 'requeued' | 'seen'> {
    const eventIds = JSON.stringify(alert.event_ids);
    const techniques = JSON.stringify(alert.attack.techniques);
    const tactics = JSON.stringify(alert.attack.tactics);
    const detection = [
      alert.rule.id,
      alert.rule.level,
      alert.time,
      object,
      alert.rule.name,
      alert.rule.title,
      Math.max(0, levelRank(alert.rule.level)),
      alert.source,
      alert.account,
      alert.region,
      alert.actor,
      alert.source_ip,
      eventIds,
      techniques,
      tactics,
      alert.count,
      [alert.rule.name ?? '', alert.rule.title ?? '', alert.rule.id, alert.actor ?? '', alert.source_ip ?? '', alert.account ?? '', eventIds].join('\n'),
      alert.time ?? '',
    ];
    const existing = async (): Promise<ExistingRow | undefined> =>
      (await client.query<ExistingRow>("SELECT a.level, a.count, COALESCE(b.body, '') AS body, a.techniques, a.tactics FROM alerts a LEFT JOIN alert_bodies b ON b.id = a.id WHERE a.id = $1 FOR UPDATE OF a", [alert.id])).rows[0];
    let row = await existing();
    if (row === undefined) {
      const insert = await client.query(
        `INSERT INTO alerts (id, rule_id, level, time, object, rule_name, rule_title, level_rank, source, account, region, actor, source_ip,
           event_ids, techniques, tactics, count, search, sort_time, created_at, first_seen, last_seen, hits, status, reason, assignee, tags, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16::jsonb, $17, $18, $19, $20, $21, $21, 1, 'open', NULL, NULL, '[]'::jsonb, 1, $21)
         ON CONFLICT (id) DO NOTHING`,
        [alert.id, ...detection, nowMs, now],
      );
      if (insert.rowCount === 1) {
        await client.query('INSERT INTO alert_bodies (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body', [alert.id, body]);
        await this.writeAttack(client, alert);
        await client.query('INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value) VALUES ($1, $2, $3, $4, NULL, $5)', [alert.id, now, actor, 'created', 'open']);
        return 'inserted';
      }
      // Another process stored it first (and committed): this is a sighting of its alert.
      row = await existing();
      if (row === undefined) throw new Error(`alert ${alert.id} was neither inserted nor found`);
    }
    const isFinding = alert.guardduty !== undefined;
    const newer = isFinding && newerFinding(alert, row.body);
    const changed = isFinding ? newer : row.body !== body && comparable(row.body) !== comparable(body);
    if (isFinding && !newer && dropStale) return 'seen';
    if (!changed) {
      await client.query('UPDATE alerts SET hits = hits + 1, last_seen = $2 WHERE id = $1', [alert.id, now]);
      return 'seen';
    }
    await client.query(
      `UPDATE alerts SET hits = hits + 1, last_seen = $20, rule_id = $2, level = $3, time = $4, object = $5, rule_name = $6, rule_title = $7, level_rank = $8,
         source = $9, account = $10, region = $11, actor = $12, source_ip = $13, event_ids = $14::jsonb, techniques = $15::jsonb, tactics = $16::jsonb,
         count = $17, search = $18, sort_time = $19
       WHERE id = $1`,
      [alert.id, ...detection, now],
    );
    await client.query('INSERT INTO alert_bodies (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body', [alert.id, body]);
    if (JSON.stringify(row.techniques) !== techniques || JSON.stringify(row.tactics) !== tactics) {
      await client.query('DELETE FROM alert_attack WHERE alert_id = $1', [alert.id]);
      await this.writeAttack(client, alert);
    }
    await client.query('INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value) VALUES ($1, $2, $3, $4, $5, $6)', [
      alert.id,
      now,
      actor,
      'seen_again',
      detectionSummary(row.level, row.count, guardDutyOf(row.body)),
      detectionSummary(alert.rule.level, alert.count, alert.guardduty),
    ]);
    if (!newer) return 'seen';
    // A newer finding goes to the end of the outbox: a new seq from the sequence (never reused).
    await client.query("UPDATE alerts SET seq = nextval(pg_get_serial_sequence('alerts', 'seq')) WHERE id = $1", [alert.id]);
    return 'requeued';
  }

  private async writeAttack(client: PoolClient, alert: Alert): Promise<void> {
    const kinds = [...alert.attack.techniques.map(() => 'technique'), ...alert.attack.tactics.map(() => 'tactic')];
    if (kinds.length === 0) return;
    await client.query('INSERT INTO alert_attack (kind, value, alert_id) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v) ON CONFLICT DO NOTHING', [
      kinds,
      [...alert.attack.techniques, ...alert.attack.tactics],
      alert.id,
    ]);
  }

  private stored(row: AlertRow): StoredAlert {
    const notes = Array.isArray(row.notes) ? row.notes.map((note) => ({ id: Number(note.id), at: note.at, author: note.author, text: note.text })) : [];
    return storedAlert(row, tagList(row.tags), notes);
  }

  private async getWith(client: PoolClient | pg.Pool, id: string): Promise<StoredAlert | undefined> {
    const row = (await client.query<AlertRow>(`SELECT ${ROW_COLUMNS} FROM ${ROWS_FROM} WHERE a.id = $1`, [id])).rows[0];
    return row === undefined ? undefined : this.stored(row);
  }

  async get(id: string): Promise<StoredAlert | undefined> {
    this.open();
    if (typeof id !== 'string') return undefined;
    try {
      return await this.getWith(this.pool, id);
    } catch (error) {
      throw this.failure(error);
    }
  }

  async list(request: ListRequest): Promise<AlertPage> {
    this.open();
    const { sort, limit, filter, descending, column, direction } = checkListRequest(request);
    const params = new Params();
    const where = filterSql(filter, params);
    let keyset = '';
    const cursor = cursorOf(request, sort);
    if (cursor !== undefined) {
      keyset = ` AND (a.${column}, a.id) ${descending ? '<' : '>'} (${params.add(cursor.v)}, ${params.add(cursor.i)})`;
    }
    const limitParam = params.add(limit + 1);
    // Validated before any connection is taken.
    const countsParams = new Params();
    const countsWhere = filterSql(filter, countsParams, 'both');
    return this.transaction(
      async (client) => {
        if (!(await this.jobsKnown(client, filter))) return { alerts: [], next_cursor: null, total: 0, counts: emptyCounts() };
        // The page's ids first (sorted on narrow rows, mostly from an index), then their alerts: one snapshot for the page and its counts.
        const keys = (await client.query<{ id: string; sort_key: string | number }>(`SELECT a.id, a.${column} AS sort_key FROM alerts a WHERE ${where}${keyset} ORDER BY a.${column} ${direction}, a.id ${direction} LIMIT ${limitParam}`, params.values)).rows;
        const { ids: pageIds, next_cursor } = pageOfKeys(keys, limit, sort);
        const rows = new Map(
          pageIds.length === 0 ? [] : (await client.query<AlertRow>(`SELECT ${ROW_COLUMNS} FROM ${ROWS_FROM} WHERE a.id = ANY($1::text[])`, [pageIds])).rows.map((row) => [row.id, row] as const),
        );
        const alerts = pageIds.flatMap((id) => {
          const row = rows.get(id);
          return row === undefined ? [] : [this.stored(row)];
        });
        const { counts, total } = await this.counts(client, filter, countsWhere, countsParams);
        return { alerts, next_cursor, total, counts };
      },
      { readOnly: true },
    );
  }

  /** The counts by status (without the status filter) and by level (without the level filter), and the total: one grouped pass. */
  private async counts(client: PoolClient, filter: AlertFilter, where: string, params: Params): Promise<{ counts: AlertPage['counts']; total: number }> {
    return tallyCounts(filter, (await client.query<CountRow>(`SELECT a.status AS status, a.level_rank AS rank, COUNT(*) AS n FROM alerts a WHERE ${where} GROUP BY a.status, a.level_rank`, params.values)).rows);
  }

  private async noteMap(client: PoolClient, id: string): Promise<Map<number, AlertNote>> {
    const rows = (await client.query<AlertNote>('SELECT id, at, author, text FROM alert_notes WHERE alert_id = $1 ORDER BY id', [id])).rows;
    return new Map(rows.map((note) => [note.id, note]));
  }

  /** Writes a plan for one alert (inside the caller's transaction): the row at its version, tags, notes, one history entry per change. */
  private async apply(client: PoolClient, row: TriageRow, plan: Plan, actor: string, at: string): Promise<void> {
    const changed = await client.query('UPDATE alerts SET status = $1, reason = $2, assignee = $3, tags = $4::jsonb, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7', [
      plan.status,
      plan.reason,
      plan.assignee,
      JSON.stringify(plan.tags),
      at,
      row.id,
      row.version,
    ]);
    if (changed.rowCount !== 1) throw changedMeanwhile(row.id);
    if (plan.tagsAdded.length > 0) await client.query('INSERT INTO alert_tags (tag, alert_id) SELECT t, $2 FROM unnest($1::text[]) AS t ON CONFLICT DO NOTHING', [plan.tagsAdded, row.id]);
    if (plan.tagsRemoved.length > 0) await client.query('DELETE FROM alert_tags WHERE tag = ANY($1::text[]) AND alert_id = $2', [plan.tagsRemoved, row.id]);
    if (plan.note !== undefined) await client.query('INSERT INTO alert_notes (alert_id, at, author, text) VALUES ($1, $2, $3, $4)', [row.id, at, actor, plan.note]);
    if (plan.notesRemoved.length > 0) await client.query('DELETE FROM alert_notes WHERE id = ANY($1::bigint[]) AND alert_id = $2', [plan.notesRemoved.map((note) => note.id), row.id]);
    if (plan.entries.length > 0) {
      // One statement, the entries in order (WITH ORDINALITY): their ids follow the plan's order.
      await client.query(
        `INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value)
         SELECT $1, $2, $3, e.action, e.from_value, e.to_value FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(action, from_value, to_value, n) ORDER BY e.n`,
        [row.id, at, actor, plan.entries.map((entry) => entry.action), plan.entries.map((entry) => entry.from), plan.entries.map((entry) => entry.to)],
      );
    }
  }

  async update(id: string, version: number, change: TriageChange, actor: string): Promise<StoredAlert> {
    this.open();
    checkTriageActor(actor);
    if (!Number.isSafeInteger(version) || version < 1) throw invalid('version is the alert version the change was made against (a positive integer)');
    const checked = checkChange(change);
    const at = this.now();
    return this.transaction(async (client) => {
      const row = typeof id === 'string' ? (await client.query<TriageRow>(`SELECT ${TRIAGE_COLUMNS} FROM alerts a WHERE a.id = $1`, [id])).rows[0] : undefined;
      if (row === undefined) throw unknownAlert(id);
      if (row.version !== version) throw staleVersion(id, row.version, version);
      const plan = planChange(row, checked, await this.noteMap(client, id));
      if (typeof plan === 'string') throw invalid(plan);
      // The UPDATE names the version read: a change committed meanwhile by another connection makes it a conflict.
      if (plan.entries.length > 0) await this.apply(client, row, plan, actor, at);
      return (await this.getWith(client, id)) as StoredAlert;
    });
  }

  async history(id: string): Promise<HistoryEntry[]> {
    this.open();
    const rows = (
      await this.query<HistoryRow>(
        'SELECT id, alert_id, at, actor, action, from_value, to_value FROM alert_history WHERE alert_id = $1 ORDER BY id',
        [String(id)],
      )
    ).rows;
    if (rows.length === 0 && (await this.query('SELECT 1 FROM alerts WHERE id = $1', [String(id)])).rowCount === 0) throw unknownAlert(id);
    return rows.map(historyEntry);
  }

  /** The target alerts' triage rows, in outbox order; locked when `lock` (a bulk update). */
  /** False when the filter names a scan job and this database never ran one (no cluster tables): nothing matches. */
  private async jobsKnown(client: PoolClient, filter: AlertFilter): Promise<boolean> {
    if (filter.job === undefined || filter.job === '') return true;
    return (await client.query<{ found: boolean }>("SELECT to_regclass('cluster_job_alerts') IS NOT NULL AS found")).rows[0]?.found === true;
  }

  private async targets(client: PoolClient, target: BulkTarget, lock: boolean): Promise<TriageRow[]> {
    checkBulkTarget(target);
    const forUpdate = lock ? ' FOR UPDATE' : '';
    if ('ids' in target) {
      return (await client.query<TriageRow>(`SELECT ${TRIAGE_COLUMNS} FROM alerts a WHERE a.id = ANY($1::text[]) ORDER BY a.seq${forUpdate}`, [target.ids])).rows;
    }
    if (!(await this.jobsKnown(client, target.filter ?? {}))) return [];
    const params = new Params();
    const where = filterSql(target.filter ?? {}, params);
    return (await client.query<TriageRow>(`SELECT ${TRIAGE_COLUMNS} FROM alerts a WHERE ${where} ORDER BY a.seq${forUpdate}`, params.values)).rows;
  }

  /** A bulk target checked before any connection is taken. */
  private checkTarget(target: BulkTarget): void {
    checkBulkTarget(target);
    if (!('ids' in target)) filterSql(target.filter ?? {}, new Params());
  }

  async bulkPreview(target: BulkTarget, change: TriageChange): Promise<number> {
    this.open();
    const checked = checkBulkChange(change);
    this.checkTarget(target);
    const empty = new Map<number, AlertNote>();
    return this.transaction(
      async (client) => {
        let changes = 0;
        for (const row of await this.targets(client, target, false)) if (bulkChanges(planChange(row, checked, empty), checked)) changes += 1;
        return changes;
      },
      { readOnly: true },
    );
  }

  async bulkUpdate(target: BulkTarget, change: TriageChange, actor: string): Promise<{ changed: number }> {
    this.open();
    checkTriageActor(actor);
    const checked = checkBulkChange(change);
    this.checkTarget(target);
    const empty = new Map<number, AlertNote>();
    const at = this.now();
    return this.transaction(
      async (client) => {
        let changed = 0;
        for (const row of await this.targets(client, target, true)) {
          const plan = planChange(row, checked, empty);
          if (!bulkChanges(plan, checked)) continue;
          await this.apply(client, row, plan, actor, at);
          changed += 1;
        }
        return { changed };
      },
      { retry: true },
    );
  }

  async addSuppression(suppression: Omit<Suppression, 'suppressed'>): Promise<void> {
    this.open();
    const { expires, createdAt } = checkSuppression(suppression, () => this.now());
    const inserted = await this.query(
      'INSERT INTO suppressions (id, rule, file, created_at, created_by, reason, expires, suppressed) VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (id) DO NOTHING',
      [suppression.id, suppression.rule, suppression.file, createdAt, suppression.created_by, suppression.reason, expires],
    );
    if (inserted.rowCount !== 1) throw invalid(`a suppression with the id ${suppression.id} already exists`);
  }

  async listSuppressions(): Promise<Suppression[]> {
    return (await this.query<Suppression>('SELECT id, rule, file, created_at, created_by, reason, expires, suppressed FROM suppressions ORDER BY created_at, id')).rows;
  }

  async countSuppressed(filterId: string, matches: number): Promise<void> {
    this.open();
    if (!Number.isSafeInteger(matches) || matches < 0) throw invalid('matches is a count (a non-negative integer)');
    if (matches === 0) return;
    // A filter that no suppression wrote (a hand-written allowlist) is not counted here.
    await this.query('UPDATE suppressions SET suppressed = suppressed + $1 WHERE id = $2', [matches, String(filterId)]);
  }

  async ruleOutcomes(): Promise<RuleOutcome[]> {
    return (
      await this.query<RuleOutcome>(
        `SELECT rule_id, MAX(rule_name) AS rule_name, COUNT(*) FILTER (WHERE status = 'closed') AS closed, COUNT(*) FILTER (WHERE status = 'closed' AND reason = 'false_positive') AS false_positive
         FROM alerts GROUP BY rule_id ORDER BY COALESCE(MAX(rule_name), rule_id)`,
      )
    ).rows;
  }

  async createToken(name: string, role: TokenRole): Promise<{ token: string }> {
    this.open();
    const token = newToken(name, role);
    const inserted = await this.query('INSERT INTO tokens (name, role, hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (name) DO NOTHING', [name, role, hashToken(token).toString('hex'), this.now()]);
    if (inserted.rowCount !== 1) throw invalid(`a token named ${name} exists: revoke it first, or choose another name`);
    return { token };
  }

  async verifyToken(token: string): Promise<{ name: string; role: TokenRole } | undefined> {
    this.open();
    const hash = presentedHash(token);
    if (hash === undefined) return undefined;
    const found = matchToken(hash, (await this.query<{ name: string; role: TokenRole; hash: string }>('SELECT name, role, hash FROM tokens')).rows);
    if (found !== undefined) {
      const now = this.clock();
      if (this.lastUsed.due(found.name, now)) {
        await this.query('UPDATE tokens SET last_used_at = $1 WHERE name = $2', [now.toISOString(), found.name]);
      }
    }
    return found;
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.query<TokenInfo>('SELECT name, role, created_at, last_used_at FROM tokens ORDER BY name')).rows;
  }

  async revokeToken(name: string): Promise<boolean> {
    this.open();
    this.lastUsed.forget(name);
    return ((await this.query('DELETE FROM tokens WHERE name = $1', [String(name)])).rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map((inner: unknown) => messageOf(inner)).join('; ');
  if (error instanceof Error) return error.message !== '' ? error.message : String((error as { code?: unknown }).code ?? error.name);
  return String(error);
}

/** The message with every secret of the URL replaced by ***. */
function scrub(message: string, secrets: readonly string[]): string {
  let text = message;
  for (const secret of secrets) text = text.split(secret).join('***');
  return text;
}
