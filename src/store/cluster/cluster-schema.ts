/**
 * The cluster's own tables on PostgreSQL, beside the alert store's (pg-schema.ts): nodes and
 * their heartbeats, scan jobs with their units and decision partitions, and the undecided
 * state each unit handed over; for watch, each object's undecided state, the decider's lease
 * and state, and the sinks' leases (docs/cluster.md). Versioned in `cluster_meta`; created on first
 * use, under a transaction-level advisory lock so that nodes starting together create them once.
 */
import type { PgTransaction } from '../pg-alert-store.ts';

/** 1: nodes and scan jobs. 2: watch on several nodes (parts for the decider, its lease and state, sink leases). */
export const CLUSTER_SCHEMA_VERSION = 2;
/** The advisory lock space (first int4 key) of the cluster's locks. */
export const CLUSTER_LOCK_SPACE = 0x74686331; // 'thc1'

const DDL = [
  `CREATE TABLE IF NOT EXISTS cluster_meta (key text PRIMARY KEY, value text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS cluster_nodes (
     node text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, role text NOT NULL, job text,
     started_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL, stopped_at timestamptz,
     in_flight integer NOT NULL DEFAULT 0, units_done bigint NOT NULL DEFAULT 0, records bigint NOT NULL DEFAULT 0,
     alerts bigint NOT NULL DEFAULT 0, newest_event timestamptz, metrics_url text)`,
  `CREATE TABLE IF NOT EXISTS cluster_jobs (
     job text PRIMARY KEY, identity jsonb NOT NULL, created_at timestamptz NOT NULL, created_by text NOT NULL,
     listed_at timestamptz, units integer NOT NULL DEFAULT 0, list_errors integer NOT NULL DEFAULT 0,
     partitions integer NOT NULL, decided_at timestamptz, baseline text)`,
  `CREATE TABLE IF NOT EXISTS cluster_units (
     job text NOT NULL REFERENCES cluster_jobs (job) ON DELETE CASCADE, ordinal integer NOT NULL, uri text NOT NULL,
     size bigint, state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'done')),
     owner text, lease_until timestamptz, attempts integer NOT NULL DEFAULT 0,
     records bigint NOT NULL DEFAULT 0, skipped bigint NOT NULL DEFAULT 0, outside bigint NOT NULL DEFAULT 0,
     errors integer NOT NULL DEFAULT 0, alerts integer NOT NULL DEFAULT 0, parts integer NOT NULL DEFAULT 0,
     part_bytes bigint NOT NULL DEFAULT 0, entries bigint NOT NULL DEFAULT 0,
     done_by text, done_at timestamptz, PRIMARY KEY (job, ordinal))`,
  `CREATE INDEX IF NOT EXISTS cluster_units_open ON cluster_units (job, ordinal) WHERE state <> 'done'`,
  `CREATE TABLE IF NOT EXISTS cluster_partitions (
     job text NOT NULL REFERENCES cluster_jobs (job) ON DELETE CASCADE, partition integer NOT NULL,
     state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'done')),
     owner text, lease_until timestamptz, attempts integer NOT NULL DEFAULT 0, alerts integer NOT NULL DEFAULT 0,
     done_by text, done_at timestamptz, PRIMARY KEY (job, partition))`,
  // Keys and payloads are JSON text (control characters escaped: a log value may hold a NUL,
  // which a PostgreSQL text value cannot). One row per (kind, key) per unit: idempotent (a unit redone after a crash writes the same
  // rows, and a unit's rows commit with its mark, so there is never a second copy).
  `CREATE TABLE IF NOT EXISTS cluster_parts (
     job text NOT NULL REFERENCES cluster_jobs (job) ON DELETE CASCADE, kind text NOT NULL, key text NOT NULL,
     ordinal integer NOT NULL, partition integer NOT NULL, payload text NOT NULL,
     PRIMARY KEY (job, kind, key, ordinal))`,
  // Stored as written, not compressed: pglz costs the server more CPU than the disk it saves
  // on rows read once (bench/RESULTS.md, Cluster mode).
  `ALTER TABLE cluster_parts ALTER COLUMN payload SET STORAGE EXTERNAL`,
  `CREATE INDEX IF NOT EXISTS cluster_parts_partition ON cluster_parts (job, partition, kind)`,
  `CREATE TABLE IF NOT EXISTS cluster_job_alerts (
     job text NOT NULL REFERENCES cluster_jobs (job) ON DELETE CASCADE, alert_id text NOT NULL, PRIMARY KEY (job, alert_id))`,
  `CREATE TABLE IF NOT EXISTS cluster_job_suppressed (
     job text NOT NULL REFERENCES cluster_jobs (job) ON DELETE CASCADE, filter text NOT NULL, matches bigint NOT NULL,
     PRIMARY KEY (job, filter))`,
  // watch: what each processed object left undecided, in commit order, until the decider absorbs it.
  `CREATE TABLE IF NOT EXISTS cluster_watch_parts (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, node text NOT NULL, object text NOT NULL,
     newest double precision, part text, created_at timestamptz NOT NULL DEFAULT now())`,
  `ALTER TABLE cluster_watch_parts ALTER COLUMN part SET STORAGE EXTERNAL`,
  // watch: the one node that decides, by lease, and the decider's state after its last decision.
  `CREATE TABLE IF NOT EXISTS cluster_watch_decider (
     name text PRIMARY KEY, owner text, lease_until timestamptz NOT NULL, generation bigint NOT NULL DEFAULT 0,
     state text, parts bigint NOT NULL DEFAULT 0, newest_event timestamptz, decided_at timestamptz)`,
  // watch: the one node that delivers to each sink, by lease.
  `CREATE TABLE IF NOT EXISTS cluster_sink_leases (sink text PRIMARY KEY, owner text NOT NULL, lease_until timestamptz NOT NULL)`,
];

/** Creates the cluster tables when missing; refuses a database whose cluster schema is newer. */
export async function migrateCluster(tx: PgTransaction): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::int4, 0)', [CLUSTER_LOCK_SPACE]);
  const exists = await tx.query<{ found: boolean }>("SELECT to_regclass('cluster_meta') IS NOT NULL AS found");
  if (exists[0]?.found === true) {
    const version = await tx.query<{ value: string }>("SELECT value FROM cluster_meta WHERE key = 'version'");
    const found = Number(version[0]?.value ?? '0');
    if (found > CLUSTER_SCHEMA_VERSION) throw new Error(`the cluster tables are of a newer trailhound (schema ${found}, this one knows ${CLUSTER_SCHEMA_VERSION}); upgrade trailhound`);
    if (found === CLUSTER_SCHEMA_VERSION) return;
  }
  for (const statement of DDL) await tx.query(statement);
  await tx.query("INSERT INTO cluster_meta (key, value) VALUES ('version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(CLUSTER_SCHEMA_VERSION)]);
}
