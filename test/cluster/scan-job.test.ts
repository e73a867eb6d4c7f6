/**
 * `scan --job` on a real PostgreSQL server, as users run it: three processes on one corpus
 * (discovery bursts spread over files and accounts, GuardDuty findings updated across files,
 * flow logs hitting a feed) store exactly the alerts of a one-process scan: the same ids,
 * bodies, counts and hits (so nothing counted twice), each alert printed by one process only.
 * Then the same with one process killed (SIGKILL) in the middle of a unit and started again.
 * The PostgreSQL restart runs on a private server (restart.test.ts): this file uses the shared one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, skipMessage, unreachable, type TestDatabase } from '../store/pg-test-db.ts';
import { makeClusterCorpus, printedIds, query, startCli, storedAlerts, waitFor, type ClusterCorpus } from './cluster-corpus.ts';

const reason = await unreachable();

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('cluster: scan --job on three processes', { skip: message }, () => undefined);
} else {
  let work: string;
  let corpus: ClusterCorpus;
  const databases: TestDatabase[] = [];
  let single: Awaited<ReturnType<typeof storedAlerts>>;

  const database = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'th-cluster-'));
    corpus = await makeClusterCorpus(join(work, 'corpus'));
    const db = await database();
    const one = await startCli(['scan', ...corpus.args, '--store', db.url, '--format', 'jsonl', '--save-baseline', join(work, 'single-baseline.json')]).done;
    assert.equal(one.code, 0, one.stderr);
    single = await storedAlerts(db.url);
  });
  after(async () => {
    for (const db of databases) await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the one-process baseline has what the cluster must reproduce: bursts, finding versions, threat-intel buckets', () => {
    const rules = new Map<string, number>();
    for (const alert of single) {
      const body = alert.body as { rule: { name: string | null }; correlation?: unknown; guardduty?: { id: string; count: number }; cti?: unknown; count: number };
      rules.set(body.rule.name ?? alert.rule, (rules.get(body.rule.name ?? alert.rule) ?? 0) + 1);
    }
    assert.ok((rules.get('aws-ct-discovery-burst') ?? 0) >= 2, `discovery bursts: ${JSON.stringify([...rules])}`);
    const findings = single.map((alert) => alert.body as { guardduty?: { id: string; count: number } }).filter((body) => body.guardduty !== undefined);
    // Finding aa11...: versions 1, 7, 3 in three files; the alert carries the newest (7).
    assert.equal(findings.find((body) => body.guardduty?.id === 'aa11aa11aa11aa11aa11aa11aa11aa11')?.guardduty?.count, 7);
    // The indicator matched in three flow files and three CloudTrail files: one alert each, summed across the files.
    const summed = single.filter((alert) => (alert.body as { cti?: unknown }).cti !== undefined && alert.count === 6);
    assert.deepEqual(summed.map((alert) => (alert.body as { rule: { name: string } }).rule.name).sort(), ['aws-ct-cti-source-ip-match', 'aws-vpcflow-cti-ip-match']);
    assert.ok(single.every((alert) => alert.hits === 1));
  });

  test('three processes on one job store the alerts of one process, each printed once', async () => {
    const db = await database();
    // One of them also saves what the job's baselines learned (not part of the job's identity).
    const runs = [1, 2, 3].map((n) => startCli(['scan', ...corpus.args, '--store', db.url, '--job', 'three', '--format', 'jsonl', ...(n === 2 ? ['--save-baseline', join(work, 'job-baseline.json')] : [])]));
    const results = await Promise.all(runs.map((run) => run.done));
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /trailhound job three: [\d,]+ records from 34 inputs/);
      assert.match(result.stderr, /this node \(/);
    }
    assert.deepEqual(await storedAlerts(db.url), single);
    // The job's baseline file is the one-process scan's (but for when it was built).
    const learned = (file: string): unknown => {
      const { built: _built, ...rest } = JSON.parse(readFileSync(join(work, file), 'utf8')) as { built: string };
      return rest;
    };
    const baseline = learned('job-baseline.json') as { correlations: Record<string, Record<string, unknown>> };
    assert.ok(Object.values(baseline.correlations).some((groups) => Object.keys(groups).length > 0), 'the baselines learned something');
    assert.deepEqual(baseline, learned('single-baseline.json'));
    const printed = results.flatMap((result) => printedIds(result.stdout));
    assert.equal(printed.length, single.length, 'every alert printed by exactly one process');
    assert.deepEqual([...printed].sort(), single.map((alert) => alert.id));
    const units = await query<{ state: string; attempts: number }>(db.url, "SELECT state, attempts FROM cluster_units WHERE job = 'three'");
    assert.equal(units.length, 34);
    assert.ok(units.every((unit) => unit.state === 'done' && unit.attempts === 1));
    // Decided state is not kept: the parts are gone, their counts stay with the units.
    assert.deepEqual(await query(db.url, "SELECT count(*)::int AS n FROM cluster_parts WHERE job = 'three'"), [{ n: 0 }]);
    const written = await query<{ parts: number; entries: number }>(db.url, "SELECT sum(parts)::int AS parts, sum(entries)::int AS entries FROM cluster_units WHERE job = 'three'");
    assert.ok((written[0]?.parts ?? 0) > 0 && (written[0]?.entries ?? 0) > (written[0]?.parts ?? 0), JSON.stringify(written));
    assert.deepEqual(await query(db.url, "SELECT partitions FROM cluster_jobs WHERE job = 'three'"), [{ partitions: 16 }]);

    const listed = await startCli(['alerts', '--store', db.url, '--job', 'three', '--format', 'jsonl']).done;
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(printedIds(listed.stdout).sort(), single.map((alert) => alert.id));
    const status = await startCli(['cluster', 'status', '--store', db.url, '--format', 'jsonl']).done;
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; state?: string; job?: string; done?: number; decided?: boolean });
    assert.equal(lines.filter((line) => line.kind === 'node').length, 3);
    assert.ok(lines.filter((line) => line.kind === 'node').every((line) => line.state === 'stopped'));
    assert.deepEqual(lines.filter((line) => line.kind === 'job').map((line) => [line.job, line.done, line.decided]), [['three', 34, true]]);

    // The same job again: everything is done, nothing new is stored or printed.
    const again = await startCli(['scan', ...corpus.args, '--store', db.url, '--job', 'three', '--format', 'jsonl']).done;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(printedIds(again.stdout).length, 0);
    assert.deepEqual(await storedAlerts(db.url), single);
  });

  test('a process killed (SIGKILL) in the middle of a unit: another takes the unit over after its lease, nothing lost, nothing twice', async () => {
    const db = await database();
    const args = ['scan', ...corpus.args, '--store', db.url, '--job', 'killed', '--job-lease', '2s', '--format', 'jsonl'];
    const slow = { TRAILHOUND_TEST_UNIT_DELAY_MS: '150' };
    const victim = startCli(args, slow);
    const others = [startCli(args, slow), startCli(args, slow)];
    const pid = victim.child.pid as number;
    // Killed while it holds a unit it has read but not committed (the delay sits between the two).
    await waitFor(async () => (await query(db.url, "SELECT 1 FROM cluster_units WHERE job = 'killed' AND state = 'claimed' AND owner LIKE $1", [`%:${pid}:%`])).length > 0, 60_000, 'the victim to claim a unit');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const held = await query<{ ordinal: number }>(db.url, "SELECT ordinal FROM cluster_units WHERE job = 'killed' AND state = 'claimed' AND owner LIKE $1", [`%:${pid}:%`]);
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    assert.equal(killed.signal, 'SIGKILL');
    const restarted = startCli(args, slow);
    const results = await Promise.all([...others, restarted].map((run) => run.done));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedAlerts(db.url), single);
    const units = await query<{ ordinal: number; state: string; attempts: number }>(db.url, "SELECT ordinal, state, attempts FROM cluster_units WHERE job = 'killed' ORDER BY ordinal");
    assert.ok(units.every((unit) => unit.state === 'done'));
    assert.ok(held.length === 1, 'the victim held one unit when it was killed');
    assert.ok((units.find((unit) => unit.ordinal === held[0]?.ordinal)?.attempts ?? 0) >= 2, 'the unit it held was done again by another process');
    // What the victim printed before it died was committed; with the others' it is every alert once.
    const printed = [...printedIds(killed.stdout), ...results.flatMap((result) => printedIds(result.stdout))];
    assert.deepEqual([...printed].sort(), single.map((alert) => alert.id));
    assert.ok(results.some((result) => /taking over/.test(result.stderr)), 'a process says it took a unit over');
  });

  test('a job name is one command: other inputs or rules are refused with TH_CLUSTER_JOB, and --job needs a PostgreSQL store', async () => {
    const db = await database();
    const first = await startCli(['scan', ...corpus.args, '--store', db.url, '--job', 'pinned', '--format', 'jsonl']).done;
    assert.equal(first.code, 0, first.stderr);
    const other = await startCli(['scan', join(corpus.dir, 'guardduty'), '--store', db.url, '--job', 'pinned', '--format', 'jsonl']).done;
    assert.equal(other.code, 2);
    assert.match(other.stderr, /TH_CLUSTER_JOB.*other inputs/);
    const sqlite = await startCli(['scan', join(corpus.dir, 'guardduty'), '--store', join(work, 'alerts.db'), '--job', 'x']).done;
    assert.equal(sqlite.code, 2);
    assert.match(sqlite.stderr, /TH_CLUSTER_JOB.*postgres/);
    const stdin = await startCli(['scan', '-', '--store', db.url, '--job', 'x']).done;
    assert.equal(stdin.code, 2);
    assert.match(stdin.stderr, /TH_CLUSTER_JOB.*stdin/);
  });
}
