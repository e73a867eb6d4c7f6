/**
 * The nodes of a cluster, as PostgreSQL sees them: each running `scan --job` or `watch` with a
 * PostgreSQL store registers itself, beats every few seconds (its units in flight, what it has
 * done, the newest event time it processed) and marks itself stopped when it ends. A node
 * that dies stops beating; `trailhound cluster status` shows how long ago it last did. The
 * registry only reports: leases, not heartbeats, decide who may take a unit over.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PgAlertStore } from '../pg-alert-store.ts';

export interface NodeBeat {
  inFlight: number;
  unitsDone: number;
  records: number;
  alerts: number;
  /** Newest event time processed, epoch ms. */
  newestEvent?: number;
}

export interface NodeRow {
  node: string;
  host: string;
  pid: number;
  role: string;
  job: string | null;
  started_at: Date;
  heartbeat_at: Date;
  stopped_at: Date | null;
  in_flight: number;
  units_done: string;
  records: string;
  alerts: string;
  newest_event: Date | null;
  metrics_url: string | null;
  /** Seconds since the last heartbeat, by the server's clock. */
  age: number;
}

/** A name for this process: host, pid and a random suffix (a pid is reused after a restart). */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export class NodeRegistry {
  readonly node: string;
  private readonly store: PgAlertStore;

  constructor(store: PgAlertStore, node: string) {
    this.store = store;
    this.node = node;
  }

  async register(role: 'scan' | 'watch', job: string | undefined, metricsUrl?: string): Promise<void> {
    await this.store.rows(
      `INSERT INTO cluster_nodes (node, host, pid, role, job, started_at, heartbeat_at, metrics_url) VALUES ($1, $2, $3, $4, $5, now(), now(), $6)
       ON CONFLICT (node) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL`,
      [this.node, hostname(), process.pid, role, job ?? null, metricsUrl ?? null],
    );
  }

  async beat(beat: NodeBeat): Promise<void> {
    await this.store.rows(
      'UPDATE cluster_nodes SET heartbeat_at = now(), in_flight = $2, units_done = $3, records = $4, alerts = $5, newest_event = COALESCE(to_timestamp($6::double precision / 1000), newest_event) WHERE node = $1',
      [this.node, beat.inFlight, beat.unitsDone, beat.records, beat.alerts, beat.newestEvent ?? null],
    );
  }

  async stopped(beat: NodeBeat): Promise<void> {
    await this.beat(beat);
    await this.store.rows('UPDATE cluster_nodes SET stopped_at = now(), in_flight = 0 WHERE node = $1', [this.node]);
  }
}

/** Every node the cluster knows, most recently beating first (`trailhound cluster status`). */
export async function listNodes(store: PgAlertStore): Promise<NodeRow[]> {
  return store.rows<NodeRow>(
    `SELECT node, host, pid, role, job, started_at, heartbeat_at, stopped_at, in_flight, units_done, records, alerts, newest_event, metrics_url,
            EXTRACT(EPOCH FROM now() - heartbeat_at)::float8 AS age
     FROM cluster_nodes ORDER BY heartbeat_at DESC, node`,
  );
}

export interface JobRow {
  job: string;
  created_at: Date;
  listed_at: Date | null;
  decided_at: Date | null;
  units: number;
  pending: string;
  claimed: string;
  done: string;
  partitions_left: string;
  records: string;
  alerts: string;
}

/** Every scan job with its units by state (`trailhound cluster status`). */
export async function listJobs(store: PgAlertStore): Promise<JobRow[]> {
  return store.rows<JobRow>(
    `SELECT j.job, j.created_at, j.listed_at, j.decided_at, j.units,
            (SELECT count(*) FROM cluster_units u WHERE u.job = j.job AND u.state = 'pending') AS pending,
            (SELECT count(*) FROM cluster_units u WHERE u.job = j.job AND u.state = 'claimed') AS claimed,
            (SELECT count(*) FROM cluster_units u WHERE u.job = j.job AND u.state = 'done') AS done,
            (SELECT count(*) FROM cluster_partitions p WHERE p.job = j.job AND p.state <> 'done') AS partitions_left,
            (SELECT COALESCE(sum(records), 0) FROM cluster_units u WHERE u.job = j.job) AS records,
            (SELECT count(*) FROM cluster_job_alerts a WHERE a.job = j.job) AS alerts
     FROM cluster_jobs j ORDER BY j.created_at DESC, j.job`,
  );
}
