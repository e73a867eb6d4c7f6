/**
 * The service's state in SQLite (WAL, synchronous=FULL: a committed transaction survives a
 * crash or a power loss; checked whole at every open, state-integrity.ts): which objects are processed, poisoned or failing; engine state
 * (correlation windows); the alerts, which are also the outbox the sinks deliver from.
 *
 * Processing an object commits, in one transaction, its processed mark, its alerts and the
 * engine state after it. Hence after any crash the state is that of some prefix of the objects:
 * nothing half-done, no alert lost, no object counted twice.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Alert } from '../core/alert.ts';
import { located, TrailhoundError } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { ObjectCommit, ObjectStatus, SinkCursor, StoredAlert, WatchState } from './watch-state.ts';
import { alertJson } from '../engine/alerts/build.ts';
import { AlertRowWriter } from './alert-rows.ts';
import { migrate } from './schema.ts';
import { StateLock } from './state-lock.ts';
import { checkOpenedState, checkStateFile, isCorruptionError, moveAside, syncDirectory } from './state-integrity.ts';

export const STATE_FILE = 'trailhound.sqlite';

export interface StateOpenOptions {
  /**
   * A damaged state (TH_STATE_DAMAGED) is moved aside as `<file>.damaged-<time>` and a new one
   * started instead of refused (`watch --reset-state`). A whole state is kept either way.
   */
  resetState?: boolean;
}

/** What an open with resetState did to a damaged state. */
export interface StateReset {
  /** Where the damaged file went. */
  movedTo: string;
  /** What was wrong with it. */
  reason: string;
}

/** The connection settings: WAL (readers never block the writer), every commit synced to disk. */
export function connect(file: string, mustExist: boolean): Database.Database {
  const db = new Database(file, { fileMustExist: mustExist });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * A new state database, created under a temporary name and renamed once it holds its schema:
 * a crash while creating it leaves no empty or half-made file under the real name (an empty
 * state file is always damage).
 */
export function createState(file: string, directory: string): void {
  const temp = `${file}.new`;
  for (const leftover of [temp, `${temp}-wal`, `${temp}-shm`]) rmSync(leftover, { force: true });
  const db = connect(temp, false);
  try {
    migrate(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  if (existsSync(`${temp}-wal`)) renameSync(`${temp}-wal`, `${file}-wal`);
  rmSync(`${temp}-shm`, { force: true });
  renameSync(temp, file);
  syncDirectory(directory);
}

/** An open, whole state database, or what is wrong with it. */
function openExisting(file: string): { db: Database.Database } | { damage: string } {
  const check = checkStateFile(file);
  if (check.state === 'damaged') return { damage: check.reason };
  if (check.state === 'missing') throw new Error('the state file disappeared while being opened');
  let db: Database.Database | undefined;
  try {
    db = connect(file, true);
    const damage = checkOpenedState(db, true);
    if (damage === undefined) return { db };
    db.close();
    return { damage };
  } catch (error) {
    db?.close();
    if (isCorruptionError(error)) return { damage: `SQLite cannot read it: ${(error as Error).message}` };
    throw error;
  }
}

export type { ObjectCommit, ObjectStatus, SinkCursor, StoredAlert } from './watch-state.ts';

export class StateStore implements WatchState {
  readonly directory: string;
  readonly where: string;
  private readonly db: Database.Database;
  private readonly lock: StateLock;
  /** Set when this open moved a damaged state aside and started afresh (resetState). */
  readonly reset: StateReset | undefined;
  private closed = false;
  private writer: AlertRowWriter | undefined;

  private constructor(directory: string, db: Database.Database, lock: StateLock, reset: StateReset | undefined) {
    this.directory = directory;
    this.where = directory;
    this.db = db;
    this.lock = lock;
    this.reset = reset;
  }

  /**
   * Opens the state under `directory`, creating it when the directory holds none. An existing
   * database is checked first (state-integrity.ts: the file, `PRAGMA quick_check`, the schema);
   * a damaged one throws TH_STATE_DAMAGED naming the file, unless `resetState` moves it aside.
   * Anything else that prevents opening throws TH_STATE_OPEN.
   */
  static open(directory: string, options: StateOpenOptions = {}): StateStore {
    const lock = new StateLock(directory);
    const file = join(directory, STATE_FILE);
    let db: Database.Database | undefined;
    try {
      mkdirSync(directory, { recursive: true });
      lock.acquire();
      let reset: StateReset | undefined;
      if (checkStateFile(file).state !== 'missing') {
        const opened = openExisting(file);
        if ('damage' in opened) {
          if (options.resetState !== true) {
            throw new TrailhoundError(
              located('TH_STATE_DAMAGED', `the state database is damaged: ${opened.damage}. Restore it from a backup, or start afresh with trailhound watch --reset-state (every object is then read again)`, file),
            );
          }
          reset = { movedTo: moveAside(file), reason: opened.damage };
        } else {
          db = opened.db;
        }
      }
      if (db === undefined) {
        createState(file, directory);
        const created = openExisting(file);
        if ('damage' in created) throw new TrailhoundError(located('TH_STATE_DAMAGED', `the new state database is damaged at once: ${created.damage}`, file));
        db = created.db;
      }
      migrate(db);
      return new StateStore(directory, db, lock, reset);
    } catch (error) {
      db?.close();
      lock.release();
      if (error instanceof TrailhoundError) throw error;
      if (isCorruptionError(error)) throw new TrailhoundError(located('TH_STATE_DAMAGED', `the state database is damaged: ${(error as Error).message}`, file));
      throw new TrailhoundError(located('TH_STATE_OPEN', `cannot open the state: ${(error as Error).message}`, directory));
    }
  }

  /** What is known of an object: exact version when given, else any version of the URI. */
  objectStatus(uri: string, version?: string): ObjectStatus {
    const rows = (
      version === undefined || version === ''
        ? this.db.prepare('SELECT status, attempts FROM objects WHERE uri = ?').all(uri)
        : this.db.prepare("SELECT status, attempts FROM objects WHERE uri = ? AND version IN (?, '')").all(uri, version)
    ) as { status: 'processed' | 'poisoned' | 'failing'; attempts: number }[];
    const done = rows.find((row) => row.status !== 'failing');
    if (done !== undefined) return { status: done.status as 'processed' | 'poisoned' };
    const failing = rows.find((row) => row.status === 'failing');
    return failing === undefined ? undefined : { status: 'failing', attempts: failing.attempts };
  }

  /**
   * Commits one processed object: its mark, its alerts and the engine state, atomically.
   * Returns the ids of the alerts queued for delivery: the new ones, and the known GuardDuty
   * findings this object brought a newer version of (alert-rows.ts). An alert already stored
   * is seen again (hits, last_seen, detection fields), never stored twice, and keeps its triage state.
   */
  commitObject(commit: ObjectCommit): string[] {
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    const upsertObject = this.db.prepare(
      `INSERT INTO objects (uri, version, status, attempts, records, alerts, errors, last_error, updated_at)
       VALUES (@uri, @version, 'processed', 0, @records, @alerts, @errors, NULL, @now)
       ON CONFLICT (uri, version) DO UPDATE SET status = 'processed', records = excluded.records, alerts = excluded.alerts, errors = excluded.errors, last_error = NULL, updated_at = excluded.updated_at`,
    );
    const clearFailing = this.db.prepare("DELETE FROM objects WHERE uri = ? AND status = 'failing' AND version <> ?");
    const saveState = this.db.prepare('INSERT INTO engine_state (name, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at');
    this.writer ??= new AlertRowWriter(this.db);
    const writer = this.writer;
    // Serialised before the transaction: a record too deep for JSON.stringify is truncated and
    // reported, never a failed commit (which would fail the object at every attempt).
    let truncated = 0;
    const onLimit = (error: LocatedError): void => {
      truncated += 1;
      commit.onLimit?.(error);
    };
    const bodies = commit.alerts.map((alert) => alertJson(alert, onLimit));
    return this.db.transaction(() => {
      const queued = new Set<string>();
      for (let i = 0; i < commit.alerts.length; i++) {
        const alert = commit.alerts[i] as Alert;
        const outcome = writer.put(alert, bodies[i] as string, 'watch', commit.object, nowIso, now);
        if (outcome !== 'seen') queued.add(alert.id);
      }
      upsertObject.run({ uri: commit.uri, version: commit.version, records: commit.records, alerts: queued.size, errors: commit.errors + truncated, now });
      clearFailing.run(commit.uri, commit.version);
      for (const [name, state] of commit.engineState) saveState.run(name, state, now);
      return [...queued];
    }).immediate();
  }

  /** Counts one more failed attempt at an object; returns the attempts so far. */
  recordFailure(uri: string, version: string, error: string): number {
    const row = this.db
      .prepare(
        `INSERT INTO objects (uri, version, status, attempts, last_error, updated_at) VALUES (?, ?, 'failing', 1, ?, ?)
         ON CONFLICT (uri, version) DO UPDATE SET attempts = attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
         RETURNING attempts`,
      )
      .get(uri, version, error, Date.now()) as { attempts: number };
    return row.attempts;
  }

  /** Sets an object aside for good: it is never read again by the service. */
  markPoisoned(uri: string, version: string, error: string): void {
    this.db
      .prepare(
        `INSERT INTO objects (uri, version, status, attempts, last_error, updated_at) VALUES (?, ?, 'poisoned', 0, ?, ?)
         ON CONFLICT (uri, version) DO UPDATE SET status = 'poisoned', last_error = excluded.last_error, updated_at = excluded.updated_at`,
      )
      .run(uri, version, error, Date.now());
  }

  poisonedObjects(): { uri: string; version: string; error: string | null }[] {
    return this.db.prepare("SELECT uri, version, last_error AS error FROM objects WHERE status = 'poisoned' ORDER BY updated_at").all() as { uri: string; version: string; error: string | null }[];
  }

  /** A component's saved engine state (JSON text), if any. */
  engineState(name: string): string | undefined {
    const row = this.db.prepare('SELECT state FROM engine_state WHERE name = ?').get(name) as { state: string } | undefined;
    return row?.state;
  }

  /**
   * Registers a sink by name. A sink seen for the first time starts after the alerts already
   * stored (adding a sink does not replay history).
   */
  registerSink(name: string): SinkCursor {
    this.db.prepare('INSERT OR IGNORE INTO sinks (name, cursor, updated_at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM alerts), ?)').run(name, Date.now());
    return this.sinkCursor(name);
  }

  sinkCursor(name: string): SinkCursor {
    const row = this.db.prepare('SELECT cursor, file_offset, file_id FROM sinks WHERE name = ?').get(name) as { cursor: number; file_offset: number | null; file_id: string | null } | undefined;
    if (row === undefined) throw new Error(`sink ${name} is not registered`);
    return { cursor: row.cursor, fileOffset: row.file_offset ?? undefined, fileId: row.file_id ?? undefined };
  }

  /** Alerts after the sink's cursor, oldest first. */
  pendingAlerts(sink: string, limit: number): StoredAlert[] {
    return this.db
      .prepare('SELECT a.seq, a.id, a.level, b.body FROM alerts a JOIN alert_bodies b ON b.id = a.id WHERE a.seq > (SELECT cursor FROM sinks WHERE name = ?) ORDER BY a.seq LIMIT ?')
      .all(sink, limit) as StoredAlert[];
  }

  pendingCount(sink: string): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM alerts WHERE seq > (SELECT cursor FROM sinks WHERE name = ?)').get(sink) as { n: number };
    return row.n;
  }

  /** Marks every alert up to `seq` as done for the sink (and where its file now ends). */
  advanceSink(name: string, seq: number, file?: { offset: number; id: string }): void {
    this.db
      .prepare('UPDATE sinks SET cursor = MAX(cursor, ?), file_offset = COALESCE(?, file_offset), file_id = COALESCE(?, file_id), updated_at = ? WHERE name = ?')
      .run(seq, file?.offset ?? null, file?.id ?? null, Date.now(), name);
  }

  /** Forgets file position (the file was rotated or truncated). */
  resetSinkFile(name: string, offset: number, id: string): void {
    this.db.prepare('UPDATE sinks SET file_offset = ?, file_id = ?, updated_at = ? WHERE name = ?').run(offset, id, Date.now(), name);
  }

  /** Alert count, for tests and `config check`. */
  alertCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n;
  }

  /**
   * Drops what is older than the retention: processed marks (SQS keeps a message 14 days at
   * most, so a retention above that never rescans) and the alerts every sink has delivered
   * that detection has not seen again for that long (last_seen), whatever their triage
   * status, with their tags, notes and ATT&CK rows. Their history stays: it is append-only.
   */
  prune(retentionMs: number): { objects: number; alerts: number } {
    const before = Date.now() - retentionMs;
    const beforeIso = new Date(before).toISOString();
    const expired = "SELECT id FROM alerts WHERE last_seen < @before AND seq <= (SELECT COALESCE(MIN(cursor), 0) FROM sinks)";
    return this.db.transaction(() => {
      const objects = this.db.prepare("DELETE FROM objects WHERE status <> 'poisoned' AND updated_at < ?").run(before).changes;
      for (const table of ['alert_attack', 'alert_tags', 'alert_notes']) this.db.prepare(`DELETE FROM ${table} WHERE alert_id IN (${expired})`).run({ before: beforeIso });
      this.db.prepare(`DELETE FROM alert_bodies WHERE id IN (${expired})`).run({ before: beforeIso });
      const alerts = this.db.prepare(`DELETE FROM alerts WHERE id IN (${expired})`).run({ before: beforeIso }).changes;
      return { objects, alerts };
    }).immediate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } finally {
      this.lock.release();
    }
  }
}
