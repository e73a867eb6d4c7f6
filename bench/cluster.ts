/**
 * The cluster benchmark (issue 14): `scan --job` with 1, 2 and 3 processes on this machine, on a
 * throw-away PostgreSQL database each, against the one-process scan of the same corpus; what the
 * shared state costs (rows, bytes, correlation entries and transactions per million records,
 * PostgreSQL's CPU per million records, per state row and per alert) and the projected ceiling:
 * how many nodes one PostgreSQL feeds before it is the limit.
 *
 *   cd bench && npm run cluster -- [--records 300000] [--processes 1,2,3] [--no-write]
 *
 * PostgreSQL: $TRAILHOUND_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres, the
 * server of this project's machines). Its CPU is read from /proc (every postgres process, sampled
 * every 100 ms), so run it on the machine that runs the server. The corpus is the benchmark's
 * generator in bench/data-cluster (CloudTrail in the S3 layout with the planted attacks, and a
 * flow log with a feed it hits). Writes the table into RESULTS.md under "Cluster mode".
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defaultOptions, existingCorpus, generateCorpus } from './generate.ts';
import { describeMachine } from './measure.ts';
import { replaceSection } from './results.ts';

const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/trailhound.js', import.meta.url));
const ADMIN = process.env['TRAILHOUND_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const records = Number(flag('--records') ?? 300_000);
const counts = (flag('--processes') ?? '1,2,3').split(',').map(Number);
const write = !process.argv.includes('--no-write');
/** --no-events: alerts without their raw records (and so entries without them: much less state). */
const events = !process.argv.includes('--no-events');
const dataDir = join(BENCH_DIR, 'data-cluster');

function dbUrl(name: string): string {
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function rows<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** CPU seconds of every postgres process, by pid (utime + stime). */
function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  const tick = 100;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      if (name !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / tick);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Samples postgres CPU while `work` runs; the CPU seconds the server spent (backends that ended keep their last sample). */
async function withPostgresCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const before = postgresCpu();
  const last = new Map(before);
  const timer = setInterval(() => {
    for (const [pid, cpu] of postgresCpu()) last.set(pid, cpu);
  }, 100);
  try {
    const result = await work();
    for (const [pid, cpu] of postgresCpu()) last.set(pid, cpu);
    let cpu = 0;
    for (const [pid, value] of last) cpu += value - (before.get(pid) ?? 0);
    return { result, cpu };
  } finally {
    clearInterval(timer);
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(stderr).toString('utf8') }));
  });
}

interface Run {
  label: string;
  processes: number;
  wall: number;
  postgresCpu: number;
  alerts: number;
  fingerprint: string;
  parts?: { rows: number; bytes: number; entries: number; units: number; partitions: number };
}

async function storeFingerprint(url: string): Promise<{ alerts: number; fingerprint: string }> {
  const found = await rows<{ n: string; f: string | null }>(url, "SELECT count(*) AS n, md5(string_agg(a.id || ':' || a.count || ':' || a.hits || ':' || md5(b.body), ',' ORDER BY a.id)) AS f FROM alerts a JOIN alert_bodies b ON b.id = a.id");
  return { alerts: Number(found[0]?.n ?? 0), fingerprint: found[0]?.f ?? '' };
}

async function measure(label: string, processes: number, inputs: string[], extra: string[], job: boolean): Promise<Run> {
  const name = `trailhound_bench_${process.pid}_${label.replace(/\W/g, '_')}`;
  await admin(`DROP DATABASE IF EXISTS ${name}`);
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  try {
    const args = ['scan', ...inputs, ...extra, '--store', url, '--quiet', ...(job ? ['--job', 'bench'] : [])];
    const started = performance.now();
    const { result, cpu } = await withPostgresCpu(() => Promise.all(Array.from({ length: processes }, () => runCli(args))));
    const wall = (performance.now() - started) / 1000;
    for (const outcome of result) if (outcome.code !== 0) throw new Error(`${label}: exit ${outcome.code}: ${outcome.stderr.slice(-2000)}`);
    const { alerts, fingerprint } = await storeFingerprint(url);
    const run: Run = { label, processes, wall, postgresCpu: cpu, alerts, fingerprint };
    if (job) {
      const stats = await rows<{ rows: string; bytes: string; entries: string; units: string; partitions: string }>(
        url,
        // The parts themselves are deleted once decided; each unit keeps their counts.
        `SELECT (SELECT COALESCE(sum(parts), 0) FROM cluster_units) AS rows, (SELECT COALESCE(sum(part_bytes), 0) FROM cluster_units) AS bytes,
                (SELECT COALESCE(sum(entries), 0) FROM cluster_units) AS entries,
                (SELECT count(*) FROM cluster_units) AS units, (SELECT count(*) FROM cluster_partitions) AS partitions`,
      );
      const row = stats[0];
      if (row !== undefined) run.parts = { rows: Number(row.rows), bytes: Number(row.bytes), entries: Number(row.entries), units: Number(row.units), partitions: Number(row.partitions) };
    }
    return run;
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const options = defaultOptions({ out: dataDir, records, seed: 20261203, flowLines: Math.round(records / 3), indicators: 10_000 });
  const manifest = existingCorpus(options) ?? (await generateCorpus(options, (line) => process.stderr.write(`${line}\n`)));
  const corpusRecords = manifest.records + (manifest.flows?.lines ?? 0);
  const inputs = [join(dataDir, 'AWSLogs'), join(dataDir, 'flows')];
  const extra = ['--cti', join(dataDir, 'indicators.txt'), '--filters', join(BENCH_DIR, 'filters'), '--vars', join(BENCH_DIR, 'vars.yml'), ...(events ? [] : ['--no-events'])];
  process.stderr.write(`corpus: ${fmt(manifest.records)} CloudTrail records in ${fmt(manifest.files)} files, ${fmt(manifest.flows?.lines ?? 0)} flow lines\n`);

  const runs: Run[] = [];
  runs.push(await measure('one process, --workers 1', 1, inputs, [...extra, '--workers', '1'], false));
  runs.push(await measure('one process, every core', 1, inputs, extra, false));
  for (const n of counts) runs.push(await measure(`--job, ${n} process${n === 1 ? '' : 'es'}`, n, inputs, extra, true));
  const reference = runs[0] as Run;

  const lines = [
    `| run | wall s | records/s | vs --workers 1 | PostgreSQL CPU s | alerts | same alerts as one process |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...runs.map((run) => `| ${run.label} | ${fmt(run.wall, 2)} | ${fmt(corpusRecords / run.wall)} | ${fmt(reference.wall / run.wall, 2)}x | ${fmt(run.postgresCpu, 2)} | ${fmt(run.alerts)} | ${run.fingerprint === reference.fingerprint ? 'yes' : '**no**'} |`),
  ];
  const jobRuns = runs.filter((run) => run.parts !== undefined);
  const last = jobRuns[jobRuns.length - 1];
  const perMillion = (n: number): string => fmt((n * 1e6) / corpusRecords);
  const cost: string[] = [];
  if (last?.parts !== undefined) {
    const p = last.parts;
    const cpuPerMillion = (last.postgresCpu * 1e6) / corpusRecords;
    const nodeRate = corpusRecords / ((jobRuns[0] as Run).wall);
    const serverRate = corpusRecords / last.postgresCpu;
    cost.push(
      `| per million records (${fmt(corpusRecords)} scanned) | value |`,
      `| --- | ---: |`,
      `| state rows written (correlation groups, baselines, findings, intel buckets; one row per key per unit) | ${perMillion(p.rows)} |`,
      `| bytes of those rows | ${fmt((p.bytes * 1e6) / corpusRecords / 1e6, 1)} MB |`,
      `| correlation entries inside them (events that feed a correlation) | ${perMillion(p.entries)} |`,
      `| transactions (one per unit, one per decision partition) | ${perMillion(p.units + p.partitions)} |`,
      `| PostgreSQL CPU (${last.processes} processes) | ${fmt(cpuPerMillion, 2)} s |`,
      `| PostgreSQL CPU per state row | ${fmt((last.postgresCpu * 1e6) / Math.max(1, p.rows), 0)} µs |`,
      `| PostgreSQL CPU per correlation entry | ${fmt((last.postgresCpu * 1e6) / Math.max(1, p.entries), 1)} µs |`,
      `| PostgreSQL CPU per alert (all of it charged to alerts: an upper bound) | ${fmt((last.postgresCpu * 1e3) / Math.max(1, last.alerts), 2)} ms |`,
      '',
      `Projected ceiling: one PostgreSQL core absorbs the state of about ${fmt(serverRate)} records/s (${fmt((p.entries / corpusRecords) * serverRate)} correlation entries/s); ` +
        `one node scans ${fmt(nodeRate)} records/s here (single-threaded per job process), so a PostgreSQL core keeps up with about ${fmt(serverRate / nodeRate, 1)} such nodes before it is the limit.`,
    );
  }
  const m = describeMachine();
  const body = [
    `## Cluster mode (\`scan --job\`)`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`cd bench && npm run cluster -- --records ${records}\`: ${m.cpuModel} (${m.nproc} cores), ${m.memoryGiB} GiB, Node ${process.version}, PostgreSQL on the same machine.`,
    `Corpus: ${fmt(manifest.records)} CloudTrail records in ${fmt(manifest.files)} files and ${fmt(manifest.flows?.lines ?? 0)} flow lines in ${fmt(manifest.flows?.files ?? 0)} files (the generator, seed 20261203), the built-in pack with the bench's filters and vars, \`--cti\` with 10,000 indicators. Each run starts on an empty database; wall clock is from the first process's start to the last one's exit, start-up included.`,
    '',
    ...lines,
    '',
    ...cost,
    '',
    'On this 2-core machine the processes and PostgreSQL share the cores, so more processes cannot scale past 2 here; the rows above say what each added process and the server cost, the ceiling what one server would feed on machines of their own.',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (write) replaceSection(join(BENCH_DIR, 'RESULTS.md'), 'cluster', body);
}

await main();
