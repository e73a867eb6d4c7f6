/**
 * The alert store on SQLite (better-sqlite3): the embedded default, and the same database as
 * the watch state (schema.ts), so a watch state file is an alert store. WAL (readers never
 * block the writer: `serve` reads while `watch` or `scan --store` writes), busy_timeout 5 s,
 * every write in an IMMEDIATE transaction (takes the write lock first: no deadlock between two
 * processes upgrading a read). Every value from a user or a log is a bound parameter; the SQL
 * text is built only from constant fragments (docs/store.md).
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Alert } from '../core/alert.ts';
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
  type DeliveryState,
  type StoredAlert,
  type Suppression,
  type TokenInfo,
  type TokenRole,
  type TriageChange,
} from './alert-store.ts';
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
  parseTags,
  planChange,
  presentedHash,
  singleText,
  staleVersion,
  stringList,
  unknownAlert,
  type Plan,
  type TriageRow,
} from './triage-rules.ts';
import { historyEntry, pageOfKeys, storedAlert, tallyCounts, type CountRow, type HistoryRow, type StoredRow } from './alert-row-mapping.ts';
import { AlertRowWriter } from './alert-rows.ts';
import { migrate, SCHEMA_VERSION } from './schema.ts';
import { connect, createState } from './state-store.ts';
import { checkStateFile, isCorruptionError } from './state-integrity.ts';

/** Prepared statements kept (the list's SQL varies with the filter's shape, never its values). */
const STATEMENT_CACHE = 200;

interface AlertRow extends StoredRow {
  id: string;
  tags: string;
  sort_time: string;
  level_rank: number;
}

interface SqlPart {
  sql: string;
  params: unknown[];
}

export interface SqliteAlertStoreOptions {
  /** The clock for triage changes and history (tests). */
  clock?: () => Date;
}

function placeholders(count: number): string {
  return new Array<string>(count).fill('?').join(', ');
}

/** The WHERE clause of a filter (alias `a`), leaving out its status or level part for the counts. */
function filterSql(filter: AlertFilter, omit?: 'status' | 'level' | 'both'): SqlPart {
  if (filter === null || typeof filter !== 'object') throw invalid('the filter must be an object');
  const clauses: string[] = [];
  const params: unknown[] = [];
  const statuses = filter.status === undefined ? DEFAULT_STATUSES : oneOf(filter.status, TRIAGE_STATUSES, 'status');
  if (omit !== 'status' && omit !== 'both' && statuses !== undefined) {
    clauses.push(`a.status IN (${placeholders(statuses.length)})`);
    params.push(...statuses);
  }
  const levels = oneOf(filter.level, SIGMA_LEVELS, 'level');
  if (omit !== 'level' && omit !== 'both' && levels !== undefined) {
    clauses.push(`a.level_rank IN (${placeholders(levels.length)})`);
    params.push(...levels.map((level) => levelRank(level)));
  }
  const rules = stringList(filter.rule, 'rule');
  if (rules !== undefined) {
    clauses.push(`(a.rule_id IN (${placeholders(rules.length)}) OR a.rule_name IN (${placeholders(rules.length)}))`);
    params.push(...rules, ...rules);
  }
  const techniques = stringList(filter.technique, 'technique');
  if (techniques !== undefined) {
    const parts: string[] = [];
    for (const raw of techniques) {
      const technique = raw.trim().toUpperCase();
      if (!/^T\d{4}(\.\d{3})?$/.test(technique)) throw invalid(`technique ${JSON.stringify(raw)} is not an ATT&CK technique id (T1098, T1098.001)`);
      if (technique.includes('.')) {
        parts.push('value = ?');
        params.push(technique);
      } else {
        // A technique matches its sub-techniques too.
        parts.push("(value = ? OR value LIKE ? ESCAPE '\\')");
        params.push(technique, `${escapeLike(technique)}.%`);
      }
    }
    clauses.push(`a.id IN (SELECT alert_id FROM alert_attack WHERE kind = 'technique' AND (${parts.join(' OR ')}))`);
  }
  const tactics = stringList(filter.tactic, 'tactic');
  if (tactics !== undefined) {
    clauses.push(`a.id IN (SELECT alert_id FROM alert_attack WHERE kind = 'tactic' AND value IN (${placeholders(tactics.length)}))`);
    params.push(...tactics.map((tactic) => tacticSlug(tactic) ?? tactic.trim().toLowerCase()));
  }
  const sources = oneOf(filter.source, SOURCES, 'source');
  if (sources !== undefined) {
    clauses.push(`a.source IN (${placeholders(sources.length)})`);
    params.push(...sources);
  }
  for (const [name, column] of [['account', 'a.account'], ['region', 'a.region']] as const) {
    const values = stringList(filter[name], name);
    if (values === undefined) continue;
    clauses.push(`${column} IN (${placeholders(values.length)})`);
    params.push(...values);
  }
  for (const [name, column] of [['actor', 'a.actor'], ['source_ip', 'a.source_ip'], ['assignee', 'a.assignee']] as const) {
    const value = singleText(filter[name], name);
    if (value === undefined || value === '') continue;
    clauses.push(`${column} = ?`);
    params.push(value);
  }
  const tag = singleText(filter.tag, 'tag');
  if (tag !== undefined && tag !== '') {
    clauses.push('a.id IN (SELECT alert_id FROM alert_tags WHERE tag = ?)');
    params.push(tag);
  }
  const since = singleText(filter.since, 'since');
  if (since !== undefined && since !== '') {
    clauses.push("a.sort_time >= ? AND a.sort_time <> ''");
    params.push(isoOf(since, 'since'));
  }
  const until = singleText(filter.until, 'until');
  if (until !== undefined && until !== '') {
    clauses.push("a.sort_time <= ? AND a.sort_time <> ''");
    params.push(isoOf(until, 'until'));
  }
  // Scan jobs live on PostgreSQL only (store/cluster/): no SQLite alert belongs to one.
  const job = singleText(filter.job, 'job');
  if (job !== undefined && job !== '') clauses.push('0');
  const q = singleText(filter.q, 'q')?.trim();
  if (q !== undefined && q !== '') {
    // One column holds the searched fields (schema.ts, alerts.search).
    clauses.push("a.search LIKE ? ESCAPE '\\'");
    params.push(`%${escapeLike(q)}%`);
  }
  return { sql: clauses.length === 0 ? '1' : clauses.join(' AND '), params };
}

export class SqliteAlertStore implements AlertStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly clock: () => Date;
  private readonly writer: AlertRowWriter;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lastUsed = new LastUsedThrottle();
  private closed = false;

  private constructor(file: string, db: Database.Database, options: SqliteAlertStoreOptions) {
    this.file = file;
    this.db = db;
    this.clock = options.clock ?? (() => new Date());
    this.writer = new AlertRowWriter(db);
  }

  /**
   * Opens (creating when missing, with its parent folders) the store at `path`: a watch state
   * file or a file of its own. A file that is not a trailhound database, is damaged, or was
   * written by a newer trailhound is refused (TH_STORE_OPEN); an older schema is migrated.
   */
  static open(path: string, options: SqliteAlertStoreOptions = {}): SqliteAlertStore {
    const file = resolve(path);
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const check = checkStateFile(file);
      const emptyFile = check.state === 'damaged' && existsSync(file) && statSync(file).size === 0 && !existsSync(`${file}-wal`);
      if (check.state === 'damaged' && !emptyFile) throw new Error(check.reason);
      if (check.state === 'missing' || emptyFile) {
        // An empty file (`touch alerts.db`) holds nothing: it becomes a new store.
        if (emptyFile) rmSync(file);
        createState(file, dirname(file));
      }
      db = connect(file, true);
      // A larger page cache than SQLite's 2 MiB: the list's counts walk indexes of every alert.
      db.pragma('cache_size = -65536');
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
      if (!tables.has('meta') || !tables.has('alerts')) throw new Error('the database is not a trailhound store (no meta and alerts tables)');
      const found = migrate(db);
      if (found > SCHEMA_VERSION) throw new Error(`written by a newer trailhound (schema ${found})`);
      return new SqliteAlertStore(file, db, options);
    } catch (error) {
      db?.close();
      const message = isCorruptionError(error) ? `the database is damaged: ${(error as Error).message}` : (error as Error).message;
      throw new StoreError('TH_STORE_OPEN', `cannot open the alert store ${file}: ${message}`, 500);
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value as string);
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private open(): void {
    if (this.closed) throw new StoreError('TH_STORE_OPEN', 'the alert store is closed', 500);
  }

  private now(): string {
    return this.clock().toISOString();
  }

  async putAlerts(alerts: readonly Alert[], actor: string, now: Date = this.clock()): Promise<StoreResult> {
    this.open();
    if (typeof actor !== 'string' || actor === '') throw invalid('putAlerts needs an actor (scan, watch)');
    const nowIso = now.toISOString();
    const bodies = alerts.map((alert) => alertJson(alert));
    return this.db.transaction(() => {
      let inserted = 0;
      let updated = 0;
      for (let i = 0; i < alerts.length; i++) {
        const outcome = this.writer.put(alerts[i] as Alert, bodies[i] as string, actor, actor, nowIso, now.getTime());
        if (outcome === 'inserted') inserted += 1;
        else updated += 1;
      }
      return { inserted, updated };
    }).immediate();
  }

  private notesOf(ids: readonly string[]): Map<string, AlertNote[]> {
    const notes = new Map<string, AlertNote[]>();
    if (ids.length === 0) return notes;
    const rows = this.statement('SELECT id, alert_id, at, author, text FROM alert_notes WHERE alert_id IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(ids)) as (AlertNote & { alert_id: string })[];
    for (const row of rows) {
      const list = notes.get(row.alert_id) ?? [];
      list.push({ id: row.id, at: row.at, author: row.author, text: row.text });
      notes.set(row.alert_id, list);
    }
    return notes;
  }

  private stored(row: AlertRow, notes: AlertNote[]): StoredAlert {
    return storedAlert(row, parseTags(row.tags), notes);
  }

  /** An alert's row and its JSON (FROM ROWS_FROM). */
  private static readonly ROW_COLUMNS = 'a.id, b.body, a.status, a.reason, a.assignee, a.tags, a.version, a.first_seen, a.last_seen, a.hits, a.sort_time, a.level_rank';
  private static readonly ROWS_FROM = 'alerts a JOIN alert_bodies b ON b.id = a.id';

  async get(id: string): Promise<StoredAlert | undefined> {
    this.open();
    if (typeof id !== 'string') return undefined;
    const row = this.statement(`SELECT ${SqliteAlertStore.ROW_COLUMNS} FROM ${SqliteAlertStore.ROWS_FROM} WHERE a.id = ?`).get(id) as AlertRow | undefined;
    if (row === undefined) return undefined;
    return this.stored(row, this.notesOf([id]).get(id) ?? []);
  }

  async deliveries(id: string): Promise<DeliveryState[]> {
    this.open();
    if (typeof id !== 'string') return [];
    const rows = this.statement('SELECT s.name AS sink, s.cursor AS cursor, s.updated_at AS updated_at, a.seq AS seq FROM alerts a JOIN sinks s WHERE a.id = ? ORDER BY s.name').all(id) as Array<{ sink: string; cursor: number; updated_at: number; seq: number }>;
    return rows.map((row) => ({ sink: row.sink, state: row.seq <= row.cursor ? 'done' : 'pending', updated_at: new Date(row.updated_at).toISOString() }));
  }

  async list(request: ListRequest): Promise<AlertPage> {
    this.open();
    const { sort, limit, filter, descending, column, direction } = checkListRequest(request);
    const where = filterSql(filter);
    let keyset = '';
    const params = [...where.params];
    const cursor = cursorOf(request, sort);
    if (cursor !== undefined) {
      keyset = ` AND (a.${column}, a.id) ${descending ? '<' : '>'} (?, ?)`;
      params.push(cursor.v, cursor.i);
    }
    return this.db.transaction(() => {
      // The page's ids first (sorted on narrow rows, mostly from an index), then their alerts.
      const keys = this.statement(`SELECT a.id, a.${column} AS sort_key FROM alerts a WHERE ${where.sql}${keyset} ORDER BY a.${column} ${direction}, a.id ${direction} LIMIT ?`).all(
        ...params,
        limit + 1,
      ) as { id: string; sort_key: string | number }[];
      const { ids: pageIds, next_cursor } = pageOfKeys(keys, limit, sort);
      const rows = new Map(
        (this.statement(`SELECT ${SqliteAlertStore.ROW_COLUMNS} FROM ${SqliteAlertStore.ROWS_FROM} WHERE a.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(pageIds)) as AlertRow[]).map((row) => [row.id, row]),
      );
      const notes = this.notesOf(pageIds);
      const alerts = pageIds.flatMap((id) => {
        const row = rows.get(id);
        return row === undefined ? [] : [this.stored(row, notes.get(id) ?? [])];
      });
      const { counts, total } = this.counts(filter);
      return { alerts, next_cursor, total, counts };
    })();
  }

  /**
   * The counts by status (over the filter without its status part) and by level (without its
   * level part), and the total: one pass over the filter without either, grouped by both.
   */
  private counts(filter: AlertFilter): { counts: AlertPage['counts']; total: number } {
    const where = filterSql(filter, 'both');
    return tallyCounts(filter, this.statement(`SELECT a.status AS status, a.level_rank AS rank, COUNT(*) AS n FROM alerts a WHERE ${where.sql} GROUP BY a.status, a.level_rank`).all(...where.params) as CountRow[]);
  }

  private triageRow(id: string): TriageRow | undefined {
    return this.statement('SELECT id, status, reason, assignee, tags, version FROM alerts WHERE id = ?').get(id) as TriageRow | undefined;
  }

  private noteMap(id: string): Map<number, AlertNote> {
    return new Map((this.notesOf([id]).get(id) ?? []).map((note) => [note.id, note]));
  }

  /** Writes a plan for one alert (inside the caller's transaction): the row, tags, notes, one history entry per change. */
  private apply(row: TriageRow, plan: Plan, actor: string, at: string): void {
    const changed = this.statement('UPDATE alerts SET status = ?, reason = ?, assignee = ?, tags = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?').run(
      plan.status,
      plan.reason,
      plan.assignee,
      JSON.stringify(plan.tags),
      at,
      row.id,
      row.version,
    ).changes;
    if (changed !== 1) throw changedMeanwhile(row.id);
    for (const tag of plan.tagsAdded) this.statement('INSERT OR IGNORE INTO alert_tags (tag, alert_id) VALUES (?, ?)').run(tag, row.id);
    for (const tag of plan.tagsRemoved) this.statement('DELETE FROM alert_tags WHERE tag = ? AND alert_id = ?').run(tag, row.id);
    if (plan.note !== undefined) this.statement('INSERT INTO alert_notes (alert_id, at, author, text) VALUES (?, ?, ?, ?)').run(row.id, at, actor, plan.note);
    for (const note of plan.notesRemoved) this.statement('DELETE FROM alert_notes WHERE id = ? AND alert_id = ?').run(note.id, row.id);
    const history = this.statement('INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value) VALUES (?, ?, ?, ?, ?, ?)');
    for (const entry of plan.entries) history.run(row.id, at, actor, entry.action, entry.from, entry.to);
  }

  async update(id: string, version: number, change: TriageChange, actor: string): Promise<StoredAlert> {
    this.open();
    checkTriageActor(actor);
    if (!Number.isSafeInteger(version) || version < 1) throw invalid('version is the alert version the change was made against (a positive integer)');
    const checked = checkChange(change);
    const at = this.now();
    this.db.transaction(() => {
      const row = typeof id === 'string' ? this.triageRow(id) : undefined;
      if (row === undefined) throw unknownAlert(id);
      if (row.version !== version) throw staleVersion(id, row.version, version);
      const plan = planChange(row, checked, this.noteMap(id));
      if (typeof plan === 'string') throw invalid(plan);
      if (plan.entries.length > 0) this.apply(row, plan, actor, at);
    }).immediate();
    return (await this.get(id)) as StoredAlert;
  }

  async history(id: string): Promise<HistoryEntry[]> {
    this.open();
    const rows = this.statement('SELECT id, alert_id, at, actor, action, from_value, to_value FROM alert_history WHERE alert_id = ? ORDER BY id').all(id) as HistoryRow[];
    if (rows.length === 0 && this.triageRow(id) === undefined) throw unknownAlert(id);
    return rows.map(historyEntry);
  }

  /** The target alerts' triage rows. */
  private targets(target: BulkTarget): TriageRow[] {
    checkBulkTarget(target);
    if ('ids' in target) {
      return this.statement('SELECT id, status, reason, assignee, tags, version FROM alerts WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq').all(JSON.stringify(target.ids)) as TriageRow[];
    }
    const where = filterSql(target.filter ?? {});
    return this.statement(`SELECT a.id, a.status, a.reason, a.assignee, a.tags, a.version FROM alerts a WHERE ${where.sql} ORDER BY a.seq`).all(...where.params) as TriageRow[];
  }

  async bulkPreview(target: BulkTarget, change: TriageChange): Promise<number> {
    this.open();
    const checked = checkBulkChange(change);
    const empty = new Map<number, AlertNote>();
    return this.db.transaction(() => {
      let changes = 0;
      for (const row of this.targets(target)) {
        if (bulkChanges(planChange(row, checked, empty), checked)) changes += 1;
      }
      return changes;
    })();
  }

  async bulkUpdate(target: BulkTarget, change: TriageChange, actor: string): Promise<{ changed: number }> {
    this.open();
    checkTriageActor(actor);
    const checked = checkBulkChange(change);
    const empty = new Map<number, AlertNote>();
    const at = this.now();
    return this.db.transaction(() => {
      let changed = 0;
      for (const row of this.targets(target)) {
        const plan = planChange(row, checked, empty);
        if (!bulkChanges(plan, checked)) continue;
        this.apply(row, plan as Plan, actor, at);
        changed += 1;
      }
      return { changed };
    }).immediate();
  }

  async addSuppression(suppression: Omit<Suppression, 'suppressed'>): Promise<void> {
    this.open();
    const { expires, createdAt } = checkSuppression(suppression, () => this.now());
    this.db.transaction(() => {
      if (this.statement('SELECT 1 FROM suppressions WHERE id = ?').get(suppression.id) !== undefined) throw invalid(`a suppression with the id ${suppression.id} already exists`);
      this.statement('INSERT INTO suppressions (id, rule, file, created_at, created_by, reason, expires, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?, 0)').run(
        suppression.id,
        suppression.rule,
        suppression.file,
        createdAt,
        suppression.created_by,
        suppression.reason,
        expires,
      );
    }).immediate();
  }

  async listSuppressions(): Promise<Suppression[]> {
    this.open();
    return this.statement('SELECT id, rule, file, created_at, created_by, reason, expires, suppressed FROM suppressions ORDER BY created_at, id').all() as Suppression[];
  }

  async countSuppressed(filterId: string, matches: number): Promise<void> {
    this.open();
    if (!Number.isSafeInteger(matches) || matches < 0) throw invalid('matches is a count (a non-negative integer)');
    if (matches === 0) return;
    // A filter that no suppression wrote (a hand-written allowlist) is not counted here.
    this.statement('UPDATE suppressions SET suppressed = suppressed + ? WHERE id = ?').run(matches, filterId);
  }

  async ruleOutcomes(): Promise<RuleOutcome[]> {
    this.open();
    return this.statement(
      `SELECT rule_id, MAX(rule_name) AS rule_name, SUM(status = 'closed') AS closed, SUM(status = 'closed' AND reason = 'false_positive') AS false_positive
       FROM alerts GROUP BY rule_id ORDER BY COALESCE(MAX(rule_name), rule_id)`,
    ).all() as RuleOutcome[];
  }

  async createToken(name: string, role: TokenRole): Promise<{ token: string }> {
    this.open();
    const token = newToken(name, role);
    this.db.transaction(() => {
      if (this.statement('SELECT 1 FROM tokens WHERE name = ?').get(name) !== undefined) throw invalid(`a token named ${name} exists: revoke it first, or choose another name`);
      this.statement('INSERT INTO tokens (name, role, hash, created_at, last_used_at) VALUES (?, ?, ?, ?, NULL)').run(name, role, hashToken(token).toString('hex'), this.now());
    }).immediate();
    return { token };
  }

  async verifyToken(token: string): Promise<{ name: string; role: TokenRole } | undefined> {
    this.open();
    const hash = presentedHash(token);
    if (hash === undefined) return undefined;
    const found = matchToken(hash, this.statement('SELECT name, role, hash FROM tokens').all() as { name: string; role: TokenRole; hash: string }[]);
    if (found !== undefined) {
      const now = this.clock();
      if (this.lastUsed.due(found.name, now)) {
        this.statement('UPDATE tokens SET last_used_at = ? WHERE name = ?').run(now.toISOString(), found.name);
      }
    }
    return found;
  }

  async listTokens(): Promise<TokenInfo[]> {
    this.open();
    return this.statement('SELECT name, role, created_at, last_used_at FROM tokens ORDER BY name').all() as TokenInfo[];
  }

  async revokeToken(name: string): Promise<boolean> {
    this.open();
    this.lastUsed.forget(name);
    return this.statement('DELETE FROM tokens WHERE name = ?').run(name).changes > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }
}
