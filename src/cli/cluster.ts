/**
 * `trailhound cluster status --store postgres://...`: what the cluster's PostgreSQL knows of its
 * nodes (each `scan --job` and `watch` on a PostgreSQL store beats every few seconds) and of its
 * scan jobs (units pending, in flight, done; decision partitions left). A node whose last
 * heartbeat is older than `--stale` is shown as `silent`: it may have died, and its units go to
 * the others when their leases run out. For `watch` nodes, also which node decides correlations
 * (by lease), how many objects' parts wait for it and how old the oldest is (the decision lag),
 * and which node delivers to each sink. docs/cluster.md.
 */
import { Command } from 'commander';
import { located } from '../core/errors.ts';
import { terminalText } from '../core/terminal-text.ts';
import { StoreError } from '../store/alert-store.ts';
import { listJobs, listNodes } from '../store/cluster/node-registry.ts';
import { JobTable } from '../store/cluster/job-table.ts';
import { watchClusterStatus } from '../store/cluster/pg-watch-state.ts';
import { displayStoreSpec, isPostgresSpec } from '../store/index.ts';
import { PgAlertStore } from '../store/pg-alert-store.ts';
import { Diagnostics } from './diagnostics.ts';
import { EXIT } from './exit-codes.ts';
import { parseDuration } from './intel-feeds.ts';

interface StatusFlags {
  store: string;
  format?: string;
  stale?: string;
}

function ago(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return `${(seconds / 3600).toFixed(1)}h ago`;
}

/** Rows as aligned columns (two spaces apart). */
function columns(rows: readonly (readonly (string | number)[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? String(cell) : String(cell).padEnd(widths[i] ?? 0))).join('  '));
}

export function clusterCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('cluster').description('The nodes and scan jobs of a cluster sharing a PostgreSQL store (docs/cluster.md)').exitOverride();
  command
    .command('status')
    .description('List the nodes (last heartbeat, units in flight, lag), the scan jobs (units by state), and for watch the decider and the sinks\' owners')
    .requiredOption('--store <url>', 'the cluster\'s store: postgres://user@host/db')
    .option('--format <format>', 'text (default) or jsonl', 'text')
    .option('--stale <duration>', 'a node silent for longer is shown as silent (default 30s)', '30s')
    .action(async (flags: StatusFlags) => {
      setExitCode(await status(flags));
    });
  return command;
}

async function status(flags: StatusFlags): Promise<number> {
  const diagnostics = new Diagnostics({ quiet: false });
  if (!isPostgresSpec(flags.store)) {
    diagnostics.error(located('TH_CONFIG', 'cluster status needs --store postgres://...: only a PostgreSQL store is shared by several nodes', '--store'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const staleMs = parseDuration(flags.stale ?? '30s');
  if (staleMs === undefined || (flags.format !== 'text' && flags.format !== 'jsonl')) {
    diagnostics.error(located('TH_CONFIG', staleMs === undefined ? `--stale ${JSON.stringify(flags.stale)} is not a duration (30s, 2m)` : `--format ${JSON.stringify(flags.format)}: text or jsonl`, staleMs === undefined ? '--stale' : '--format'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  let store: PgAlertStore;
  try {
    store = await PgAlertStore.open(flags.store);
  } catch (error) {
    diagnostics.error(located('TH_STORE_OPEN', (error as Error).message, '--store'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  try {
    await new JobTable(store, '', '').migrate();
    const nodes = await listNodes(store);
    const jobs = await listJobs(store);
    const watch = await watchClusterStatus(store);
    const now = Date.now();
    const nodeState = (node: (typeof nodes)[number]): string => (node.stopped_at !== null ? 'stopped' : node.age * 1000 > staleMs ? 'silent' : 'alive');
    if (flags.format === 'jsonl') {
      for (const node of nodes) {
        const lag = node.newest_event === null || node.role !== 'watch' ? null : Math.max(0, (now - node.newest_event.getTime()) / 1000);
        process.stdout.write(`${JSON.stringify({ kind: 'node', node: node.node, host: node.host, pid: node.pid, role: node.role, job: node.job, state: nodeState(node), heartbeat_at: node.heartbeat_at.toISOString(), heartbeat_age_s: node.age, in_flight: node.in_flight, units_done: Number(node.units_done), records: Number(node.records), alerts: Number(node.alerts), lag_s: lag })}\n`);
      }
      for (const job of jobs) {
        process.stdout.write(`${JSON.stringify({ kind: 'job', job: job.job, created_at: job.created_at.toISOString(), listed: job.listed_at !== null, units: job.units, pending: Number(job.pending), in_flight: Number(job.claimed), done: Number(job.done), partitions_left: Number(job.partitions_left), decided: job.decided_at !== null, records: Number(job.records), alerts: Number(job.alerts) })}\n`);
      }
      if (watch !== undefined) {
        process.stdout.write(
          `${JSON.stringify({
            kind: 'watch',
            decider: watch.decider,
            decider_lease_left_s: watch.leaseLeft,
            decisions: watch.generation,
            parts_decided: watch.parts,
            parts_waiting: watch.waiting,
            oldest_waiting_s: watch.oldestWaiting,
            newest_decided_event: watch.newestEvent?.toISOString() ?? null,
            decided_at: watch.decidedAt?.toISOString() ?? null,
          })}\n`,
        );
        for (const sink of watch.sinks) process.stdout.write(`${JSON.stringify({ kind: 'sink', sink: sink.sink, owner: sink.owner, lease_left_s: sink.leaseLeft, cursor: sink.cursor, pending: sink.pending })}\n`);
      }
      return EXIT.OK;
    }
    const out: string[] = [`cluster ${displayStoreSpec(flags.store)}: ${nodes.length} node(s), ${jobs.length} scan job(s)`];
    const nodeRows: (string | number)[][] = [['NODE', 'ROLE', 'STATE', 'LAST HEARTBEAT', 'IN FLIGHT', 'UNITS DONE', 'RECORDS', 'ALERTS', 'LAG']];
    for (const node of nodes) {
      const lag = node.newest_event === null || node.role !== 'watch' ? '-' : `${Math.round(Math.max(0, now - node.newest_event.getTime()) / 1000)}s`;
      nodeRows.push([terminalText(node.node), node.role + (node.job === null ? '' : ` ${terminalText(node.job)}`), nodeState(node), ago(node.age), node.in_flight, node.units_done, node.records, node.alerts, lag]);
    }
    const jobRows: (string | number)[][] = [['JOB', 'UNITS', 'PENDING', 'IN FLIGHT', 'DONE', 'DECISION', 'RECORDS', 'ALERTS']];
    for (const job of jobs) {
      const decision = job.listed_at === null ? 'listing' : job.decided_at !== null ? 'decided' : `${job.partitions_left} partition(s) left`;
      jobRows.push([terminalText(job.job), job.units, job.pending, job.claimed, job.done, decision, job.records, job.alerts]);
    }
    out.push('', ...columns(nodeRows), '', ...columns(jobRows));
    if (watch !== undefined) {
      const decider = watch.decider === null || (watch.leaseLeft ?? 0) <= 0 ? 'no node (the next to claim the lease decides)' : `${terminalText(watch.decider)} (lease ${Math.max(0, watch.leaseLeft ?? 0).toFixed(0)}s left)`;
      const waiting = watch.waiting === 0 ? 'nothing waiting' : `${watch.waiting} object part(s) waiting, the oldest ${ago(watch.oldestWaiting ?? 0).replace(' ago', '')} old`;
      out.push('', `watch: decided by ${decider}; ${watch.generation} decision(s) over ${watch.parts} object(s); ${waiting}`);
      const sinkRows: (string | number)[][] = [['SINK', 'DELIVERED BY', 'LEASE', 'PENDING']];
      for (const sink of watch.sinks) sinkRows.push([terminalText(sink.sink), terminalText(sink.owner), sink.leaseLeft > 0 ? `${sink.leaseLeft.toFixed(0)}s left` : 'lapsed', sink.pending]);
      if (watch.sinks.length > 0) out.push('', ...columns(sinkRows));
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    diagnostics.error(located(error.code, error.message, displayStoreSpec(flags.store)));
    return EXIT.RULE_OR_CONFIG_ERROR;
  } finally {
    await store.close();
  }
}
