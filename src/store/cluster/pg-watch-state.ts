/**
 * `watch`'s state on PostgreSQL (`store: postgres://...`), shared by every node of a cluster
 * (docs/cluster.md): the objects processed (the alert store's `objects` table), the alerts and
 * their outbox positions, the sinks' cursors, and the cluster's own tables: each object's
 * undecided part for the decider, the decider's lease and state, the sinks' leases.
 *
 * - An object commits once: its mark is written only over a failing one (or none), so a node
 *   that finished an object another node committed meanwhile writes nothing and is told so.
 * - Outbox positions come from a sequence, which hands them out in the order of the inserts,
 *   not of the commits: every writer holds the outbox lock shared (pg-alert-store.ts), a sink's
 *   reader takes it exclusively, so it never reads past a position still uncommitted.
 * - One node delivers to each sink and one decides, by lease (`lease_until`, renewed while it
 *   works, taken over when it lapses). A write on behalf of a lease (a sink's cursor, a
 *   decision) is made only while this node still holds it: a node that stalled past its lease
 *   and wakes up changes nothing.
 */
import type { Alert } from '../../core/alert.ts';
import { PgAlertStore, OUTBOX_LOCK_SPACE, type PgTransaction } from '../pg-alert-store.ts';
import type { ObjectCommit, ObjectStatus, SinkCursor, StoredAlert, WatchState } from '../watch-state.ts';
import { migrateCluster } from './cluster-schema.ts';

/** How long a sink's or the decider's lease lasts without renewal (a dead node's is taken over after this). */
export const WATCH_LEASE_MS = 15_000;

const DECIDER = 'watch';

/** One part waiting for the decider. */
export interface WatchPart {
  seq: number;
  object: string;
  /** Newest event time of the object (epoch ms), null without one. */
  newest: number | null;
  /** Detector.drainPartial() as JSON, null when the object left nothing undecided. */
  part: string | null;
}

/** The decider's lease as this node holds it. */
export interface DeciderLease {
  /** Decisions committed so far: a node's state of an older generation is stale. */
  generation: number;
}

/** What the cluster's watch is doing (`trailhound cluster status`). */
export interface WatchClusterStatus {
  decider: string | null;
  leaseLeft: number | null;
  generation: number;
  /** Parts absorbed so far. */
  parts: number;
  /** Parts waiting, and the age of the oldest (seconds). */
  waiting: number;
  oldestWaiting: number | null;
  newestEvent: Date | null;
  decidedAt: Date | null;
  sinks: { sink: string; owner: string; leaseLeft: number; cursor: number | null; pending: number }[];
}

export class PgWatchState implements WatchState {
  readonly where: string;
  readonly store: PgAlertStore;
  readonly node: string;
  private readonly leaseMs: number;
  /** The sinks this node delivers to (by lease). */
  private readonly heldSinks = new Set<string>();

  private constructor(store: PgAlertStore, node: string, leaseMs: number) {
    this.store = store;
    this.where = store.url;
    this.node = node;
    this.leaseMs = leaseMs;
  }

  /** Opens the store (migrating it, the cluster tables included); throws StoreError TH_STORE_OPEN. */
  static async open(url: string, node: string, leaseMs = WATCH_LEASE_MS): Promise<PgWatchState> {
    const store = await PgAlertStore.open(url);
    try {
      await store.transact((tx) => migrateCluster(tx));
    } catch (error) {
      await store.close();
      throw error;
    }
    return new PgWatchState(store, node, leaseMs);
  }

  async objectStatus(uri: string, version?: string): Promise<ObjectStatus> {
    const rows =
      version === undefined || version === ''
        ? await this.store.rows<{ status: string; attempts: number }>('SELECT status, attempts FROM objects WHERE uri = $1', [uri])
        : await this.store.rows<{ status: string; attempts: number }>("SELECT status, attempts FROM objects WHERE uri = $1 AND version IN ($2, '')", [uri, version]);
    const done = rows.find((row) => row.status !== 'failing');
    if (done !== undefined) return { status: done.status as 'processed' | 'poisoned' };
    const failing = rows.find((row) => row.status === 'failing');
    return failing === undefined ? undefined : { status: 'failing', attempts: Number(failing.attempts) };
  }

  commitObject(commit: ObjectCommit): Promise<string[] | undefined> {
    return this.store.transact(async (tx) => {
      const now = Date.now();
      const marked = await tx.query(
        `INSERT INTO objects (uri, version, status, attempts, records, alerts, errors, last_error, updated_at)
         VALUES ($1, $2, 'processed', 0, $3, 0, $4, NULL, $5)
         ON CONFLICT (uri, version) DO UPDATE SET status = 'processed', attempts = 0, records = excluded.records, errors = excluded.errors, last_error = NULL, updated_at = excluded.updated_at
         WHERE objects.status = 'failing'
         RETURNING 1`,
        [commit.uri, commit.version, commit.records, commit.errors, now],
      );
      // Another node committed (or poisoned) this version first: nothing of this attempt is kept.
      if (marked.length === 0) return undefined;
      let truncated = 0;
      const queued = await tx.putQueued(commit.alerts, 'watch', commit.object, {
        dropStaleFindings: true,
        onLimit: (error) => {
          truncated += 1;
          commit.onLimit?.(error);
        },
      });
      await tx.query('UPDATE objects SET alerts = $3, errors = errors + $4 WHERE uri = $1 AND version = $2', [commit.uri, commit.version, queued.length, truncated]);
      await tx.query("DELETE FROM objects WHERE uri = $1 AND status = 'failing' AND version <> $2", [commit.uri, commit.version]);
      if (commit.part !== undefined) {
        await tx.query('INSERT INTO cluster_watch_parts (node, object, newest, part) VALUES ($1, $2, $3, $4)', [
          this.node,
          commit.uri,
          Number.isFinite(commit.part.newest) ? commit.part.newest : null,
          commit.part.text ?? null,
        ]);
      }
      return queued;
    });
  }

  async recordFailure(uri: string, version: string, error: string): Promise<number> {
    const rows = await this.store.rows<{ attempts: number }>(
      `INSERT INTO objects (uri, version, status, attempts, last_error, updated_at) VALUES ($1, $2, 'failing', 1, $3, $4)
       ON CONFLICT (uri, version) DO UPDATE SET attempts = objects.attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
       RETURNING attempts`,
      [uri, version, error, Date.now()],
    );
    return Number(rows[0]?.attempts ?? 1);
  }

  async markPoisoned(uri: string, version: string, error: string): Promise<void> {
    await this.store.rows(
      `INSERT INTO objects (uri, version, status, attempts, last_error, updated_at) VALUES ($1, $2, 'poisoned', 0, $3, $4)
       ON CONFLICT (uri, version) DO UPDATE SET status = 'poisoned', last_error = excluded.last_error, updated_at = excluded.updated_at`,
      [uri, version, error, Date.now()],
    );
  }

  async registerSink(name: string): Promise<SinkCursor> {
    await this.store.transact(async (tx) => {
      // Exclusive: the starting position is past every alert committed, none in flight.
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, 0)', [OUTBOX_LOCK_SPACE]);
      await tx.query('INSERT INTO sinks (name, cursor, updated_at) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) FROM alerts), $2) ON CONFLICT (name) DO NOTHING', [name, Date.now()]);
    });
    return this.sinkCursor(name);
  }

  async sinkCursor(name: string): Promise<SinkCursor> {
    const row = (await this.store.rows<{ cursor: string; file_offset: string | null; file_id: string | null }>('SELECT cursor, file_offset, file_id FROM sinks WHERE name = $1', [name]))[0];
    if (row === undefined) throw new Error(`sink ${name} is not registered`);
    return { cursor: Number(row.cursor), fileOffset: row.file_offset === null ? undefined : Number(row.file_offset), fileId: row.file_id ?? undefined };
  }

  pendingAlerts(sink: string, limit: number): Promise<StoredAlert[]> {
    return this.store.transact(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, 0)', [OUTBOX_LOCK_SPACE]);
      const rows = await tx.query<{ seq: string; id: string; level: string; body: string }>(
        'SELECT a.seq, a.id, a.level, b.body FROM alerts a JOIN alert_bodies b ON b.id = a.id WHERE a.seq > (SELECT cursor FROM sinks WHERE name = $1) ORDER BY a.seq LIMIT $2',
        [sink, limit],
      );
      return rows.map((row) => ({ seq: Number(row.seq), id: row.id, level: row.level, body: row.body }));
    });
  }

  async pendingCount(sink: string): Promise<number> {
    const rows = await this.store.rows<{ n: string }>('SELECT count(*) AS n FROM alerts WHERE seq > (SELECT cursor FROM sinks WHERE name = $1)', [sink]);
    return Number(rows[0]?.n ?? 0);
  }

  async advanceSink(name: string, seq: number, file?: { offset: number; id: string }): Promise<void> {
    await this.store.rows(
      `UPDATE sinks SET cursor = GREATEST(cursor, $2), file_offset = COALESCE($3, file_offset), file_id = COALESCE($4, file_id), updated_at = $5
       WHERE name = $1 AND EXISTS (SELECT 1 FROM cluster_sink_leases l WHERE l.sink = $1 AND l.owner = $6)`,
      [name, seq, file?.offset ?? null, file?.id ?? null, Date.now(), this.node],
    );
  }

  /** Claims or renews this node's lease on the sink: `taken` when it was someone else's (or no one's) until now. */
  async claimSink(name: string): Promise<'held' | 'taken' | 'other'> {
    const rows = await this.store.rows(
      `INSERT INTO cluster_sink_leases (sink, owner, lease_until) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (sink) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE cluster_sink_leases.owner = excluded.owner OR cluster_sink_leases.lease_until < now()
       RETURNING 1`,
      [name, this.node, this.leaseMs],
    );
    if (rows.length === 0) {
      this.heldSinks.delete(name);
      return 'other';
    }
    if (this.heldSinks.has(name)) return 'held';
    this.heldSinks.add(name);
    return 'taken';
  }

  /** Gives up this node's sink leases (a clean stop: another node takes over at once). */
  async releaseSinks(): Promise<void> {
    this.heldSinks.clear();
    await this.store.rows('DELETE FROM cluster_sink_leases WHERE owner = $1', [this.node]);
  }

  /** Claims or renews the decider's lease; undefined while another node holds it. */
  async claimDecider(): Promise<DeciderLease | undefined> {
    const rows = await this.store.rows<{ generation: string }>(
      `INSERT INTO cluster_watch_decider (name, owner, lease_until) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE cluster_watch_decider.owner = excluded.owner OR cluster_watch_decider.owner IS NULL OR cluster_watch_decider.lease_until < now()
       RETURNING generation`,
      [DECIDER, this.node, this.leaseMs],
    );
    const row = rows[0];
    return row === undefined ? undefined : { generation: Number(row.generation) };
  }

  /** The decider's state after its last decision (Detector.liveState() as JSON), and its generation. */
  async deciderState(): Promise<{ generation: number; state: string | null }> {
    const row = (await this.store.rows<{ generation: string; state: string | null }>('SELECT generation, state FROM cluster_watch_decider WHERE name = $1', [DECIDER]))[0];
    return { generation: Number(row?.generation ?? 0), state: row?.state ?? null };
  }

  /** The oldest parts waiting for the decider, in commit order. */
  async waitingParts(limit: number): Promise<WatchPart[]> {
    const rows = await this.store.rows<{ seq: string; object: string; newest: number | null; part: string | null }>('SELECT seq, object, newest, part FROM cluster_watch_parts ORDER BY seq LIMIT $1', [limit]);
    return rows.map((row) => ({ seq: Number(row.seq), object: row.object, newest: row.newest === null ? null : Number(row.newest), part: row.part }));
  }

  /**
   * Commits one decision, only while this node still holds the lease at `generation`: the
   * alerts decided, the parts absorbed (deleted), the decider's state after them. Returns the
   * alert ids queued, or undefined when the lease was lost (nothing written).
   */
  commitDecision(decision: { generation: number; parts: readonly number[]; alerts: readonly Alert[]; state: string; newest: number | undefined }): Promise<string[] | undefined> {
    return this.store.transact(async (tx: PgTransaction) => {
      const row = (await tx.query<{ owner: string | null; generation: string }>('SELECT owner, generation FROM cluster_watch_decider WHERE name = $1 FOR UPDATE', [DECIDER]))[0];
      if (row === undefined || row.owner !== this.node || Number(row.generation) !== decision.generation) return undefined;
      const queued = await tx.putQueued(decision.alerts, 'watch', 'correlation');
      if (decision.parts.length > 0) await tx.query('DELETE FROM cluster_watch_parts WHERE seq = ANY($1::bigint[])', [decision.parts]);
      await tx.query(
        `UPDATE cluster_watch_decider SET generation = generation + 1, state = $2, parts = parts + $3, lease_until = now() + $4 * interval '1 millisecond',
           newest_event = COALESCE(to_timestamp($5::double precision / 1000), newest_event), decided_at = now()
         WHERE name = $1`,
        [DECIDER, decision.state, decision.parts.length, this.leaseMs, decision.newest ?? null],
      );
      return queued;
    });
  }

  /** Gives up the decider's lease (a clean stop). */
  async releaseDecider(): Promise<void> {
    await this.store.rows("UPDATE cluster_watch_decider SET owner = NULL, lease_until = now() WHERE name = $1 AND owner = $2", [DECIDER, this.node]);
  }

  async prune(retentionMs: number): Promise<{ objects: number; alerts: number }> {
    const before = Date.now() - retentionMs;
    const beforeIso = new Date(before).toISOString();
    return this.store.transact(async (tx) => {
      const objects = (await tx.query("DELETE FROM objects WHERE status <> 'poisoned' AND updated_at < $1 RETURNING 1", [before])).length;
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, 0)', [OUTBOX_LOCK_SPACE]);
      const expired = await tx.query<{ id: string }>('SELECT id FROM alerts WHERE last_seen < $1 AND seq <= (SELECT COALESCE(MIN(cursor), 0) FROM sinks)', [beforeIso]);
      const ids = expired.map((row) => row.id);
      if (ids.length > 0) {
        await tx.query('DELETE FROM alert_attack WHERE alert_id = ANY($1::text[])', [ids]);
        await tx.query('DELETE FROM alert_tags WHERE alert_id = ANY($1::text[])', [ids]);
        await tx.query('DELETE FROM alert_notes WHERE alert_id = ANY($1::text[])', [ids]);
        await tx.query('DELETE FROM alert_bodies WHERE id = ANY($1::text[])', [ids]);
        await tx.query('DELETE FROM alerts WHERE id = ANY($1::text[])', [ids]);
      }
      return { objects, alerts: ids.length };
    });
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** The watch side of `trailhound cluster status`: the decider, what waits for it, the sinks' leases. */
export async function watchClusterStatus(store: PgAlertStore): Promise<WatchClusterStatus | undefined> {
  const present = await store.rows<{ found: boolean }>("SELECT to_regclass('cluster_watch_decider') IS NOT NULL AS found");
  if (present[0]?.found !== true) return undefined;
  const decider = (
    await store.rows<{ owner: string | null; left: number | null; generation: string; parts: string; newest_event: Date | null; decided_at: Date | null }>(
      'SELECT owner, EXTRACT(EPOCH FROM lease_until - now())::float8 AS left, generation, parts, newest_event, decided_at FROM cluster_watch_decider WHERE name = $1',
      [DECIDER],
    )
  )[0];
  const waiting = (await store.rows<{ n: string; oldest: number | null }>('SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM cluster_watch_parts'))[0];
  const sinks = await store.rows<{ sink: string; owner: string; left: number; cursor: string | null; pending: string }>(
    `SELECT l.sink, l.owner, EXTRACT(EPOCH FROM l.lease_until - now())::float8 AS left, s.cursor,
            (SELECT count(*) FROM alerts a WHERE a.seq > COALESCE(s.cursor, 0)) AS pending
     FROM cluster_sink_leases l LEFT JOIN sinks s ON s.name = l.sink ORDER BY l.sink`,
  );
  if (decider === undefined && Number(waiting?.n ?? 0) === 0 && sinks.length === 0) return undefined;
  return {
    decider: decider?.owner ?? null,
    leaseLeft: decider?.left ?? null,
    generation: Number(decider?.generation ?? 0),
    parts: Number(decider?.parts ?? 0),
    waiting: Number(waiting?.n ?? 0),
    oldestWaiting: waiting?.oldest ?? null,
    newestEvent: decider?.newest_event ?? null,
    decidedAt: decider?.decided_at ?? null,
    sinks: sinks.map((row) => ({ sink: row.sink, owner: row.owner, leaseLeft: row.left, cursor: row.cursor === null ? null : Number(row.cursor), pending: Number(row.pending) })),
  };
}
