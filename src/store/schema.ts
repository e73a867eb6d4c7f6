/**
 * The SQLite schema of the service state, which is also the alert store (docs/store.md): one
 * database for `watch`, `scan --store` and `serve`. One version number in `meta`; each
 * migration moves it up by one, in a transaction. A database from a newer trailhound is
 * refused, not guessed at.
 *
 * Version 1: the watch state (objects, engine state, alerts as the delivery outbox, sinks).
 * Version 2: the alert store: the alerts table gains the list's columns and the triage state
 * (backfilled from `body`, which moves to `alert_bodies`), and the tables of attack ids, tags,
 * notes, the append-only history, suppressions and API tokens.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 2;

/** Every migration, in order: MIGRATIONS[n] moves a database from version n to n + 1. Exported for the migration tests. */
export const MIGRATIONS: readonly string[] = [
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
  `
  -- The list's columns: copies of the alert JSON's fields (body stays the alert as stored).
  ALTER TABLE alerts ADD COLUMN rule_name TEXT;
  ALTER TABLE alerts ADD COLUMN rule_title TEXT;
  ALTER TABLE alerts ADD COLUMN level_rank INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT '';
  ALTER TABLE alerts ADD COLUMN account TEXT;
  ALTER TABLE alerts ADD COLUMN region TEXT;
  ALTER TABLE alerts ADD COLUMN actor TEXT;
  ALTER TABLE alerts ADD COLUMN source_ip TEXT;
  ALTER TABLE alerts ADD COLUMN event_ids TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE alerts ADD COLUMN techniques TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE alerts ADD COLUMN tactics TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  -- What free text searches (LIKE): rule name, title and id, actor, source IP, account and the
  -- event ids, one per line (alert-rows.ts writes it the same way).
  ALTER TABLE alerts ADD COLUMN search TEXT NOT NULL DEFAULT '';
  -- The event time as sorted: time, or '' when the alert has none (sorts first).
  ALTER TABLE alerts ADD COLUMN sort_time TEXT NOT NULL DEFAULT '';
  -- Sightings: ISO 8601 UTC, and how many times detection stored the alert.
  ALTER TABLE alerts ADD COLUMN first_seen TEXT NOT NULL DEFAULT '';
  ALTER TABLE alerts ADD COLUMN last_seen TEXT NOT NULL DEFAULT '';
  ALTER TABLE alerts ADD COLUMN hits INTEGER NOT NULL DEFAULT 1;
  -- Triage state, never touched by detection.
  ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed'));
  ALTER TABLE alerts ADD COLUMN reason TEXT CHECK (reason IS NULL OR reason IN ('true_positive', 'false_positive', 'benign_positive', 'duplicate', 'other'));
  ALTER TABLE alerts ADD COLUMN assignee TEXT;
  ALTER TABLE alerts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE alerts ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';

  UPDATE alerts SET
    rule_name = json_extract(body, '$.rule.name'),
    rule_title = json_extract(body, '$.rule.title'),
    source = COALESCE(json_extract(body, '$.source'), ''),
    account = json_extract(body, '$.account'),
    region = json_extract(body, '$.region'),
    actor = json_extract(body, '$.actor'),
    source_ip = json_extract(body, '$.source_ip'),
    event_ids = COALESCE(json_extract(body, '$.event_ids'), '[]'),
    techniques = COALESCE(json_extract(body, '$.attack.techniques'), '[]'),
    tactics = COALESCE(json_extract(body, '$.attack.tactics'), '[]'),
    count = COALESCE(json_extract(body, '$.count'), 1)
  WHERE json_valid(body);
  UPDATE alerts SET
    level_rank = CASE level WHEN 'informational' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END,
    sort_time = COALESCE(time, ''),
    first_seen = strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
    last_seen = strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
    search = COALESCE(rule_name, '') || char(10) || COALESCE(rule_title, '') || char(10) || rule_id || char(10) || COALESCE(actor, '') || char(10) || COALESCE(source_ip, '') || char(10) || COALESCE(account, '') || char(10) || event_ids;

  -- The alert JSON in a table of its own: the alerts rows stay narrow (about 300 bytes, not
  -- the 2 to 3 KB of an alert with its events), so the list's counts and scans read a tenth of the pages.
  CREATE TABLE alert_bodies (id TEXT PRIMARY KEY, body TEXT NOT NULL);
  INSERT INTO alert_bodies (id, body) SELECT id, body FROM alerts;
  ALTER TABLE alerts DROP COLUMN body;

  -- The list's filters and sorts; id breaks ties (keyset paging). The filter indexes end with
  -- (status, level_rank) so the counts by status and level are read from the index alone.
  CREATE INDEX alerts_status_time ON alerts (status, sort_time, id);
  CREATE INDEX alerts_time ON alerts (sort_time, id);
  CREATE INDEX alerts_level ON alerts (level_rank, id);
  CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
  CREATE INDEX alerts_hits ON alerts (hits, id);
  CREATE INDEX alerts_rule ON alerts (rule_id, status, level_rank);
  CREATE INDEX alerts_rule_name ON alerts (rule_name, status, level_rank);
  CREATE INDEX alerts_actor ON alerts (actor, status, level_rank);
  CREATE INDEX alerts_source_ip ON alerts (source_ip, status, level_rank);
  CREATE INDEX alerts_account ON alerts (account, status, level_rank);
  CREATE INDEX alerts_assignee ON alerts (assignee) WHERE assignee IS NOT NULL;
  -- By id with the triage columns: the technique, tactic and tag filters (alert ids from their tables) count from it.
  CREATE INDEX alerts_id_triage ON alerts (id, status, level_rank, sort_time);
  -- Free text: a scan of this index, never of the table (and the counts by status and level from it).
  CREATE INDEX alerts_search ON alerts (status, level_rank, search);

  -- ATT&CK ids of each alert, for the technique and tactic filters (kind 'technique' | 'tactic').
  CREATE TABLE alert_attack (
    kind TEXT NOT NULL CHECK (kind IN ('technique', 'tactic')),
    value TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    PRIMARY KEY (kind, value, alert_id)
  ) WITHOUT ROWID;
  CREATE INDEX alert_attack_alert ON alert_attack (alert_id);
  INSERT OR IGNORE INTO alert_attack (kind, value, alert_id)
    SELECT 'technique', j.value, a.id FROM alerts a, json_each(a.techniques) j WHERE json_valid(a.techniques) AND j.type = 'text';
  INSERT OR IGNORE INTO alert_attack (kind, value, alert_id)
    SELECT 'tactic', j.value, a.id FROM alerts a, json_each(a.tactics) j WHERE json_valid(a.tactics) AND j.type = 'text';

  -- Tags of each alert, for the tag filter (alerts.tags holds the same, in the order added).
  CREATE TABLE alert_tags (
    tag TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    PRIMARY KEY (tag, alert_id)
  ) WITHOUT ROWID;
  CREATE INDEX alert_tags_alert ON alert_tags (alert_id);

  -- Notes: added and removed, never edited.
  CREATE TABLE alert_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX alert_notes_alert ON alert_notes (alert_id, id);

  -- What happened to each alert, append-only: the triggers refuse any change or removal.
  CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT
  );
  CREATE INDEX alert_history_alert ON alert_history (alert_id, id);
  CREATE TRIGGER alert_history_no_update BEFORE UPDATE ON alert_history
    BEGIN SELECT RAISE(ABORT, 'alert_history is append-only'); END;
  CREATE TRIGGER alert_history_no_delete BEFORE DELETE ON alert_history
    BEGIN SELECT RAISE(ABORT, 'alert_history is append-only'); END;
  INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value)
    SELECT id, first_seen, 'watch', 'created', NULL, 'open' FROM alerts ORDER BY seq;

  -- Suppressions written from an alert, and the matches each kept out since.
  CREATE TABLE suppressions (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    file TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires TEXT NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0
  );

  -- API tokens: the SHA-256 of the secret, never the secret.
  CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('reader', 'triager', 'admin')),
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
  );
  `,
];

/** Brings the database to SCHEMA_VERSION; returns the version found, or throws for a newer one. */
export function migrate(db: Database.Database): number {
  const found = currentVersion(db);
  if (found > SCHEMA_VERSION) throw new Error(`the state was written by a newer trailhound (schema ${found}, this one knows ${SCHEMA_VERSION})`);
  for (let version = found; version < SCHEMA_VERSION; version++) {
    // IMMEDIATE: two processes opening one old database migrate it once (the second one
    // waits for the write lock, then sees the new version and does nothing).
    db.transaction(() => {
      const current = currentVersion(db);
      if (current > version) return;
      db.exec(MIGRATIONS[version] as string);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(version + 1));
    }).immediate();
  }
  return found;
}

function currentVersion(db: Database.Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  const row = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined) : undefined;
  return row === undefined ? 0 : Number(row.value);
}
