/**
 * A scan job's shared state on PostgreSQL (docs/cluster.md): its identity, its units (one file
 * or S3 object each) claimed with leases by `FOR UPDATE SKIP LOCKED`, the undecided state each
 * unit handed over (cluster_parts), and the decision partitions claimed the same way once every
 * unit is done. Every write that matters commits in one transaction with the mark it belongs to
 * (a unit's alerts and parts with the unit's `done`; a partition's alerts with its `done`), and
 * only while this node still holds the lease: a node that was presumed dead and comes back
 * finds its unit taken, and its work is rolled back rather than written twice.
 */
import type { Alert } from '../../core/alert.ts';
import { levelRank, SIGMA_LEVELS, type SigmaLevel } from '../../core/levels.ts';
import type { PgAlertStore, PgTransaction } from '../pg-alert-store.ts';
import { migrateCluster } from './cluster-schema.ts';

/** What must be the same for every process of one job: inputs, rules, options. */
export type JobIdentity = Record<string, unknown>;

export interface ClaimedUnit {
  ordinal: number;
  uri: string;
  attempts: number;
}

export interface UnitResult {
  records: number;
  skipped: number;
  outsideTimeRange: number;
  errors: number;
  /** Alerts decided within the unit (single-event rules): stored now. */
  alerts: readonly Alert[];
  /** The unit's undecided state, by (kind, key): see partitionOf. */
  parts: readonly PartRow[];
  /** Correlation entries in those parts (what the shared state grows by; kept as a count, parts are deleted once decided). */
  entries: number;
  /** Matches each allowlist filter kept out in this unit. */
  suppressed: ReadonlyMap<string, number>;
}

export interface PartRow {
  kind: string;
  key: string;
  /** The decision partition; -1: read by every partition (baselines). */
  partition: number;
  payload: unknown;
}

export interface StoredPart {
  kind: string;
  key: string;
  ordinal: number;
  /** The uri of the unit that wrote it. */
  uri: string;
  payload: unknown;
}

/** The job's totals and this node's share of them. */
export interface JobTotals {
  units: number;
  unitsDone: number;
  unitsLeft: number;
  listErrors: number;
  records: number;
  skipped: number;
  outsideTimeRange: number;
  errors: number;
  alerts: number;
  alertsByLevel: Record<SigmaLevel, number>;
  mine: { units: number; records: number; alerts: number; partitions: number };
  partitions: number;
  partitionsDone: number;
  decided: boolean;
}

export class JobConflict extends Error {}

/** Decision partitions for a job of `units` units: at least `least`, one per 32 units, at most 4,096. */
export function partitionCount(units: number, least: number): number {
  return Math.min(4096, Math.max(least, Math.ceil(units / 32)));
}

/** A stable 32-bit hash (FNV-1a) of a key: its decision partition, the same on every node. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

const LEVELS_ZERO = (): Record<SigmaLevel, number> => Object.fromEntries(SIGMA_LEVELS.map((level) => [level, 0])) as Record<SigmaLevel, number>;

export class JobTable {
  readonly job: string;
  readonly node: string;
  private readonly store: PgAlertStore;
  partitions = 0;

  constructor(store: PgAlertStore, job: string, node: string) {
    this.store = store;
    this.job = job;
    this.node = node;
  }

  /** Creates the cluster tables when needed (every command that uses them calls it first). */
  async migrate(): Promise<void> {
    await this.store.transact((tx) => migrateCluster(tx));
  }

  /**
   * Registers the job, or joins it: a job of that name with another identity is refused
   * (JobConflict), since its units and state would mean something else. Returns whether this
   * call created it. `partitions` is the least number of decision partitions; the lister
   * raises it with the number of units (partitionCount), so that a partition's share of the
   * state stays about that of 32 units.
   */
  async register(identity: JobIdentity, partitions: number): Promise<boolean> {
    const text = JSON.stringify(identity);
    const registered = await this.store.transact(async (tx) => {
      const created = await tx.query<{ job: string }>(
        'INSERT INTO cluster_jobs (job, identity, created_at, created_by, partitions) VALUES ($1, $2::jsonb, now(), $3, $4) ON CONFLICT (job) DO NOTHING RETURNING job',
        [this.job, text, this.node, partitions],
      );
      const row = (await tx.query<{ identity: unknown; partitions: number }>('SELECT identity, partitions FROM cluster_jobs WHERE job = $1', [this.job]))[0];
      if (row === undefined) throw new Error(`job ${this.job} vanished while it was registered`);
      return { created: created.length === 1, identity: row.identity as JobIdentity, partitions: row.partitions };
    });
    const differs = differences(identity, registered.identity);
    if (differs.length > 0) throw new JobConflict(`a job named ${this.job} was started with other ${differs.join(', ')}; run the same command on every node, or name a new job`);
    this.partitions = registered.partitions;
    return registered.created;
  }

  /** True once some node listed the job's units; then `partitions` is the job's number of decision partitions. */
  async listed(): Promise<boolean> {
    const rows = await this.store.rows<{ listed: boolean; partitions: number }>('SELECT listed_at IS NOT NULL AS listed, partitions FROM cluster_jobs WHERE job = $1', [this.job]);
    if (rows[0]?.listed === true) this.partitions = rows[0].partitions;
    return rows[0]?.listed === true;
  }

  /**
   * Lists the units once for the whole job: the node that gets the job row's lock first runs
   * `list` and inserts what it yields, in input order (the ordinal); the others find the row
   * locked (SKIP LOCKED) and return false, to wait for listed(). The listing commits whole or
   * not at all (a lister that dies leaves the job unlisted for the next to take).
   */
  async listOnce(list: () => AsyncIterable<{ uri: string; size?: number }>, errors: () => number): Promise<boolean> {
    return this.store.transact(async (tx) => {
      const row = (await tx.query<{ listed: boolean }>('SELECT listed_at IS NOT NULL AS listed FROM cluster_jobs WHERE job = $1 FOR UPDATE SKIP LOCKED', [this.job]))[0];
      if (row === undefined) return false;
      if (row.listed) return true;
      let ordinal = 0;
      let batch: { uri: string; size?: number }[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await tx.query(
          'INSERT INTO cluster_units (job, ordinal, uri, size) SELECT $1, o, u, s FROM unnest($2::int[], $3::text[], $4::bigint[]) AS t(o, u, s) ON CONFLICT DO NOTHING',
          [this.job, batch.map((_, i) => ordinal - batch.length + i), batch.map((unit) => unit.uri), batch.map((unit) => unit.size ?? null)],
        );
        batch = [];
      };
      for await (const unit of list()) {
        batch.push(unit);
        ordinal += 1;
        if (batch.length >= 1000) await flush();
      }
      await flush();
      const partitions = (await tx.query<{ partitions: number }>('SELECT partitions FROM cluster_jobs WHERE job = $1', [this.job]))[0]?.partitions ?? 16;
      const count = partitionCount(ordinal, partitions);
      await tx.query('INSERT INTO cluster_partitions (job, partition) SELECT $1, p FROM generate_series(0, $2 - 1) AS p ON CONFLICT DO NOTHING', [this.job, count]);
      await tx.query('UPDATE cluster_jobs SET listed_at = now(), units = $2, list_errors = $3, partitions = $4 WHERE job = $1', [this.job, ordinal, errors(), count]);
      return true;
    });
  }

  /** The next unit no node holds (pending, or its lease ran out), in input order; undefined when none is left to take. */
  async claimUnit(leaseMs: number): Promise<ClaimedUnit | undefined> {
    const rows = await this.store.rows<ClaimedUnit>(
      `UPDATE cluster_units u SET state = 'claimed', owner = $2, lease_until = now() + $3 * interval '1 millisecond', attempts = u.attempts + 1
       WHERE (u.job, u.ordinal) = (SELECT job, ordinal FROM cluster_units WHERE job = $1 AND (state = 'pending' OR (state = 'claimed' AND lease_until < now()))
                                   ORDER BY ordinal LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING u.ordinal, u.uri, u.attempts`,
      [this.job, this.node, leaseMs],
    );
    return rows[0];
  }

  /** Extends the leases of the units (and partitions) this node holds: its heartbeat. */
  async renew(leaseMs: number): Promise<void> {
    await this.store.rows("UPDATE cluster_units SET lease_until = now() + $3 * interval '1 millisecond' WHERE job = $1 AND owner = $2 AND state = 'claimed'", [this.job, this.node, leaseMs]);
    await this.store.rows("UPDATE cluster_partitions SET lease_until = now() + $3 * interval '1 millisecond' WHERE job = $1 AND owner = $2 AND state = 'claimed'", [this.job, this.node, leaseMs]);
  }

  /**
   * Commits a unit: its mark, its alerts, its parts and its counts, in one transaction, only
   * while this node holds it. 'lost' when another node took the unit over (this node's lease
   * ran out): nothing is written. 'done' also when a previous attempt of this call committed
   * and only the answer was lost (the connection broke after COMMIT).
   */
  async commitUnit(ordinal: number, result: UnitResult): Promise<'done' | 'lost'> {
    return this.store.transact(async (tx) => {
      const payloads = result.parts.map((part) => JSON.stringify(part.payload));
      const bytes = payloads.reduce((sum, text) => sum + text.length, 0);
      const marked = await tx.query(
        `UPDATE cluster_units SET state = 'done', done_by = $3, done_at = now(), lease_until = NULL, records = $4, skipped = $5, outside = $6, errors = $7, alerts = $8, parts = $9,
           part_bytes = $10, entries = $11
         WHERE job = $1 AND ordinal = $2 AND state = 'claimed' AND owner = $3 RETURNING ordinal`,
        [this.job, ordinal, this.node, result.records, result.skipped, result.outsideTimeRange, result.errors, result.alerts.length, result.parts.length, bytes, result.entries],
      );
      if (marked.length === 0) {
        const now = (await tx.query<{ state: string; done_by: string | null }>('SELECT state, done_by FROM cluster_units WHERE job = $1 AND ordinal = $2', [this.job, ordinal]))[0];
        return now?.state === 'done' && now.done_by === this.node ? 'done' : 'lost';
      }
      await this.writeAlerts(tx, result.alerts);
      await this.writeParts(tx, ordinal, result.parts, payloads);
      await this.writeSuppressed(tx, result.suppressed);
      return 'done';
    });
  }

  private async writeAlerts(tx: PgTransaction, alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    await tx.putAlerts(alerts, 'scan');
    await tx.query('INSERT INTO cluster_job_alerts (job, alert_id) SELECT $1, id FROM unnest($2::text[]) AS id ON CONFLICT DO NOTHING', [this.job, [...new Set(alerts.map((alert) => alert.id))]]);
  }

  private async writeParts(tx: PgTransaction, ordinal: number, parts: readonly PartRow[], payloads: readonly string[]): Promise<void> {
    for (let i = 0; i < parts.length; i += 2000) {
      const slice = parts.slice(i, i + 2000);
      await tx.query(
        'INSERT INTO cluster_parts (job, kind, key, ordinal, partition, payload) SELECT $1, k, key, $2, p, v FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) AS t(k, key, p, v) ON CONFLICT DO NOTHING',
        [this.job, ordinal, slice.map((part) => part.kind), slice.map((part) => JSON.stringify(part.key)), slice.map((part) => part.partition), payloads.slice(i, i + 2000)],
      );
    }
  }

  private async writeSuppressed(tx: PgTransaction, suppressed: ReadonlyMap<string, number>): Promise<void> {
    for (const [filter, matches] of suppressed) {
      if (matches <= 0) continue;
      await tx.query('INSERT INTO cluster_job_suppressed (job, filter, matches) VALUES ($1, $2, $3) ON CONFLICT (job, filter) DO UPDATE SET matches = cluster_job_suppressed.matches + excluded.matches', [this.job, filter, matches]);
      await tx.countSuppressed(filter, matches);
    }
  }

  /** Units not done, and of those how many another node holds with a live lease. */
  async openUnits(): Promise<{ open: number; leased: number }> {
    const row = (
      await this.store.rows<{ open: string; leased: string }>(
        "SELECT count(*) FILTER (WHERE state <> 'done') AS open, count(*) FILTER (WHERE state = 'claimed' AND lease_until >= now()) AS leased FROM cluster_units WHERE job = $1",
        [this.job],
      )
    )[0];
    return { open: Number(row?.open ?? 0), leased: Number(row?.leased ?? 0) };
  }

  /** The next decision partition no node holds; only once every unit is done. */
  async claimPartition(leaseMs: number): Promise<number | undefined> {
    const rows = await this.store.rows<{ partition: number }>(
      `UPDATE cluster_partitions c SET state = 'claimed', owner = $2, lease_until = now() + $3 * interval '1 millisecond', attempts = c.attempts + 1
       WHERE (c.job, c.partition) = (SELECT job, partition FROM cluster_partitions WHERE job = $1 AND (state = 'pending' OR (state = 'claimed' AND lease_until < now()))
                                     ORDER BY partition LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING c.partition`,
      [this.job, this.node, leaseMs],
    );
    return rows[0]?.partition;
  }

  /** Partitions not done, and of those how many another node holds with a live lease. */
  async openPartitions(): Promise<{ open: number; leased: number }> {
    const row = (
      await this.store.rows<{ open: string; leased: string }>(
        "SELECT count(*) FILTER (WHERE state <> 'done') AS open, count(*) FILTER (WHERE state = 'claimed' AND lease_until >= now()) AS leased FROM cluster_partitions WHERE job = $1",
        [this.job],
      )
    )[0];
    return { open: Number(row?.open ?? 0), leased: Number(row?.leased ?? 0) };
  }

  /** A partition's parts and every baseline part, in input order (the order the merge needs). */
  async partsOf(partition: number): Promise<StoredPart[]> {
    const rows = await this.store.rows<{ kind: string; key: string; ordinal: number; uri: string; payload: string }>(
      `SELECT p.kind, p.key, p.ordinal, u.uri, p.payload FROM cluster_parts p JOIN cluster_units u ON u.job = p.job AND u.ordinal = p.ordinal
       WHERE p.job = $1 AND (p.partition = $2 OR p.partition = -1) ORDER BY p.ordinal, p.kind, p.key`,
      [this.job, partition],
    );
    return rows.map((row) => ({ kind: row.kind, key: JSON.parse(row.key) as string, ordinal: row.ordinal, uri: row.uri, payload: JSON.parse(row.payload) as unknown }));
  }

  /**
   * Commits a partition's decided alerts with its mark, only while this node holds it; and,
   * the first time, what the job's baselines learned (every partition merges all of it, so
   * any one of them holds the whole: `--save-baseline` reads it with baseline()).
   */
  async commitPartition(partition: number, alerts: readonly Alert[], baseline?: unknown): Promise<'done' | 'lost'> {
    return this.store.transact(async (tx) => {
      const marked = await tx.query(
        "UPDATE cluster_partitions SET state = 'done', done_by = $3, done_at = now(), lease_until = NULL, alerts = $4 WHERE job = $1 AND partition = $2 AND state = 'claimed' AND owner = $3 RETURNING partition",
        [this.job, partition, this.node, alerts.length],
      );
      if (marked.length === 0) {
        const now = (await tx.query<{ state: string; done_by: string | null }>('SELECT state, done_by FROM cluster_partitions WHERE job = $1 AND partition = $2', [this.job, partition]))[0];
        return now?.state === 'done' && now.done_by === this.node ? 'done' : 'lost';
      }
      await this.writeAlerts(tx, alerts);
      if (baseline !== undefined) await tx.query('UPDATE cluster_jobs SET baseline = $2 WHERE job = $1 AND baseline IS NULL', [this.job, JSON.stringify(baseline)]);
      // A decided partition's parts are not read again: the space goes back (the baselines,
      // read by every partition, with the last one).
      await tx.query('DELETE FROM cluster_parts WHERE job = $1 AND partition = $2', [this.job, partition]);
      const left = await tx.query<{ open: string }>("SELECT count(*) AS open FROM cluster_partitions WHERE job = $1 AND state <> 'done'", [this.job]);
      if (Number(left[0]?.open ?? 1) === 0) {
        await tx.query('DELETE FROM cluster_parts WHERE job = $1', [this.job]);
        await tx.query('UPDATE cluster_jobs SET decided_at = now() WHERE job = $1 AND decided_at IS NULL', [this.job]);
      }
      return 'done';
    });
  }

  /** What the job's baselines learned, once decided (undefined before, or without baselines). */
  async baseline(): Promise<unknown> {
    const rows = await this.store.rows<{ baseline: string | null }>('SELECT baseline FROM cluster_jobs WHERE job = $1', [this.job]);
    const text = rows[0]?.baseline;
    return text === null || text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  /** The job's totals, and this node's share. */
  async totals(): Promise<JobTotals> {
    const units = (
      await this.store.rows<Record<string, string | null>>(
        `SELECT count(*) AS units, count(*) FILTER (WHERE state = 'done') AS done, COALESCE(sum(records), 0) AS records, COALESCE(sum(skipped), 0) AS skipped,
                COALESCE(sum(outside), 0) AS outside, COALESCE(sum(errors), 0) AS errors,
                count(*) FILTER (WHERE done_by = $2) AS mine, COALESCE(sum(records) FILTER (WHERE done_by = $2), 0) AS mine_records,
                COALESCE(sum(alerts) FILTER (WHERE done_by = $2), 0) AS mine_alerts
         FROM cluster_units WHERE job = $1`,
        [this.job, this.node],
      )
    )[0] ?? {};
    const parts = (
      await this.store.rows<Record<string, string | null>>(
        `SELECT count(*) AS partitions, count(*) FILTER (WHERE state = 'done') AS done, count(*) FILTER (WHERE done_by = $2) AS mine,
                COALESCE(sum(alerts) FILTER (WHERE done_by = $2), 0) AS mine_alerts
         FROM cluster_partitions WHERE job = $1`,
        [this.job, this.node],
      )
    )[0] ?? {};
    const job = (await this.store.rows<{ list_errors: number; decided: boolean }>('SELECT list_errors, decided_at IS NOT NULL AS decided FROM cluster_jobs WHERE job = $1', [this.job]))[0];
    const levels = await this.store.rows<{ level: string; n: string }>('SELECT a.level, count(*) AS n FROM cluster_job_alerts j JOIN alerts a ON a.id = j.alert_id WHERE j.job = $1 GROUP BY a.level', [this.job]);
    const alertsByLevel = LEVELS_ZERO();
    let alerts = 0;
    for (const row of levels) {
      const count = Number(row.n);
      alerts += count;
      if (levelRank(row.level as SigmaLevel) >= 0) alertsByLevel[row.level as SigmaLevel] += count;
    }
    const n = (value: string | null | undefined): number => Number(value ?? 0);
    return {
      units: n(units['units']),
      unitsDone: n(units['done']),
      unitsLeft: n(units['units']) - n(units['done']),
      listErrors: job?.list_errors ?? 0,
      records: n(units['records']),
      skipped: n(units['skipped']),
      outsideTimeRange: n(units['outside']),
      errors: n(units['errors']),
      alerts,
      alertsByLevel,
      mine: { units: n(units['mine']), records: n(units['mine_records']), alerts: n(units['mine_alerts']) + n(parts['mine_alerts']), partitions: n(parts['mine']) },
      partitions: n(parts['partitions']),
      partitionsDone: n(parts['done']),
      decided: job?.decided === true,
    };
  }
}

/** The identity fields that differ between two jobs of one name (keys in a stable order). */
function differences(mine: JobIdentity, theirs: JobIdentity): string[] {
  const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])].sort();
  return keys.filter((key) => JSON.stringify(mine[key] ?? null) !== JSON.stringify(theirs[key] ?? null));
}
