/**
 * The SQLite schema of the service state. One version number in `meta`; each migration moves
 * it up by one, in a transaction. A database from a newer trailhound is refused, not guessed at.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- One row per object version seen: processed, poisoned, or failing (attempts so far).
  CREATE TABLE objects (
    uri TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('processed', 'poisoned', 'failing')),
    attempts INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    alerts INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (uri, version)
  );
  CREATE INDEX objects_updated ON objects (updated_at);
  -- Engine state snapshots by component name ('correlation', and later 'guardduty').
  CREATE TABLE engine_state (name TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL);
  -- The alerts, and the outbox: seq orders deliveries; id is the alert's stable id.
  CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    rule_id TEXT NOT NULL,
    level TEXT NOT NULL,
    time TEXT,
    object TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX alerts_created ON alerts (created_at);
  -- Per sink: every alert with seq <= cursor is delivered (or dead-lettered, or below the sink's level).
  CREATE TABLE sinks (
    name TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL,
    file_offset INTEGER,
    file_id TEXT,
    updated_at INTEGER NOT NULL
  );
  `,
];

/** Brings the database to SCHEMA_VERSION; returns the version found, or throws for a newer one. */
export function migrate(db: Database.Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  const row = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined) : undefined;
  const found = row === undefined ? 0 : Number(row.value);
  if (found > SCHEMA_VERSION) throw new Error(`the state was written by a newer trailhound (schema ${found}, this one knows ${SCHEMA_VERSION})`);
  for (let version = found; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(version + 1));
    })();
  }
  return found;
}
