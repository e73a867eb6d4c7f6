/**
 * `watch` on three nodes sharing one SQS queue and one PostgreSQL state, as users run it: the
 * same configuration with `store: postgres://...`. One node is killed (SIGKILL) in the middle of
 * an object; the others finish its objects after the visibility timeout and take its leases
 * over. The store then holds exactly the alerts of one `watch` process over the same
 * notifications (SQLite state): the same ids, detection content and hits (nothing counted
 * twice), every object committed once, the file sink holding each alert once; and
 * `trailhound cluster status` lists the nodes, the killed one silent.
 *
 * The corpus is the cluster scan's (cluster-corpus.ts: discovery bursts spread over files and
 * accounts, GuardDuty findings updated across files, flow logs and API calls hitting a feed),
 * put in the test S3 server. Correlation lateness is 7 days, so that no node's order of
 * objects makes an event late; a last object a week later moves event time past every window
 * and bucket, which the decider then decides.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, skipMessage, unreachable, type TestDatabase } from '../store/pg-test-db.ts';
import { makeClusterCorpus, query, startCli, storedAlerts } from './cluster-corpus.ts';
import { BUCKET, eventually, idsInFile, s3Event, send, startServiceHarness, type ServiceHarness } from '../service/harness.ts';
import { cloudTrailFile, cloudTrailRecord } from '../service/cloudtrail-fixtures.ts';
import { listItem } from '../service/config-fixtures.ts';
import { CLI, jsonLines, REPO_ROOT } from '../service/files.ts';

const reason = await unreachable();

interface Node {
  name: string;
  process: ChildProcess;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Row {
  id: string;
  rule: string;
  level: string;
  count: number;
  hits: number;
  body: unknown;
}

/**
 * The detection content of an alert body (what does not depend on when or by whom it was
 * stored). A threat-intel bucket sums what arrived in the order the objects were read in: its
 * lists are compared as sets, and which of its first events it embeds is left out (docs/cluster.md).
 */
function detection(body: unknown): unknown {
  const alert = body as Record<string, unknown>;
  const content = { rule: alert.rule, count: alert.count, event_ids: alert.event_ids, correlation: alert.correlation, cti: alert.cti, guardduty: alert.guardduty, flow: alert.flow, time: alert.time, events: alert.events };
  if (alert.cti === undefined || alert.guardduty !== undefined) return content;
  const sets = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((item) => JSON.stringify(sets(item))).sort();
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, sets(item)]));
    return value;
  };
  return sets({ ...content, events: (content.events as unknown[] | undefined)?.length });
}

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('cluster: watch on three nodes', { skip: message }, () => undefined);
} else {
  let h: ServiceHarness;
  const nodes: Node[] = [];
  const databases: TestDatabase[] = [];
  let keys: string[] = [];
  let work: string;
  let feed: string;
  const CLOCK = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/12/111122223333_CloudTrail_us-east-1_20261112T0000Z_clock.json.gz';

  before(async () => {
    h = await startServiceHarness();
    work = join(h.dir, 'watch-cluster');
    const corpus = await makeClusterCorpus(join(work, 'corpus'));
    feed = corpus.feed;
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    for (const dir of [join(corpus.dir, 'AWSLogs'), join(corpus.dir, 'flows'), join(corpus.dir, 'guardduty'), join(corpus.dir, 'extra')]) walk(dir);
    for (const file of files) {
      const key = relative(corpus.dir, file);
      await h.s3.put(BUCKET, key, readFileSync(file));
      keys.push(key);
    }
    // A week later: every window, baseline and bucket of the corpus closes.
    await h.s3.put(BUCKET, CLOCK, cloudTrailFile([cloudTrailRecord({ id: 'clock', time: '2026-11-12T00:00:00Z', eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' })]));
    // Interleave the kinds, so that every node sees some of each.
    keys = keys.sort((a, b) => (a.length % 7) - (b.length % 7) || a.localeCompare(b));
  });

  after(async () => {
    for (const node of nodes) if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    for (const db of databases) await db.drop();
    await h?.close();
  });

  async function config(name: string, queueUrl: string, store: string | undefined): Promise<{ path: string; alerts: string; state: string }> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    const lines = [
      'state_dir: ./state',
      ...(store === undefined ? [] : [`store: ${store}`]),
      `feeds: [${feed}]`,
      'correlation:',
      '  lateness: 7d',
      'aws:',
      '  region: us-east-1',
      `  s3_endpoint_url: ${h.s3.endpoint}`,
      'sources:',
      listItem('sqs', { queue_url: queueUrl, wait_time: '1s', visibility_timeout: '3s', max_messages: 2 }),
      'sinks:',
      listItem('file', { path: './alerts.jsonl' }),
    ];
    const path = join(dir, 'trailhound.yml');
    await writeFile(path, `${lines.join('\n')}\n`);
    return { path, alerts: join(dir, 'alerts.jsonl'), state: join(dir, 'state', 'trailhound.sqlite') };
  }

  function startNode(name: string, configPath: string, env: NodeJS.ProcessEnv = {}): Node {
    const child = spawn(process.execPath, [join(REPO_ROOT, CLI), 'watch', '--config', configPath, '--log-level', 'debug', '--metrics-port', '0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TRAILHOUND_TEST_WATCH_LEASE_MS: '3000', TRAILHOUND_TEST_HEARTBEAT_MS: '300', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const node: Node = { name, process: child, stderr: () => stderr, lines: () => jsonLines<Record<string, unknown>>(stderr.split('\n').filter((line) => line.startsWith('{')).join('\n')), exited };
    nodes.push(node);
    return node;
  }

  async function stop(node: Node): Promise<void> {
    node.process.kill('SIGTERM');
    const exit = await node.exited;
    assert.equal(exit.code, 0, `${node.name} stops cleanly:\n${node.stderr().slice(-3000)}`);
  }

  /** Sends every object, waits until the queue is empty, then the clock object, and waits again. */
  async function feedQueue(queue: string, queueUrl: string, during?: () => Promise<void>): Promise<void> {
    for (const key of keys) await send(h, queueUrl, s3Event([key]));
    await during?.();
    await h.sqs.waitUntilEmpty(queue, 120_000);
    await send(h, queueUrl, s3Event([CLOCK]));
    await h.sqs.waitUntilEmpty(queue, 60_000);
  }

  function sqliteAlerts(file: string): Row[] {
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT a.id, a.rule_id, a.level, a.count, a.hits, b.body FROM alerts a JOIN alert_bodies b ON b.id = a.id ORDER BY a.id').all() as { id: string; rule_id: string; level: string; count: number; hits: number; body: string }[];
      return rows.map((row) => ({ id: row.id, rule: row.rule_id, level: row.level, count: Number(row.count), hits: Number(row.hits), body: JSON.parse(row.body) as unknown }));
    } finally {
      db.close();
    }
  }

  test('three watch nodes on one queue and one PostgreSQL state, one killed mid-object, store the alerts of one watch process', { timeout: 300_000 }, async () => {
    // One process, SQLite state: the reference.
    const singleQueue = h.sqs.createQueue('single', 3);
    const single = await config('single', singleQueue, undefined);
    const one = startNode('single', single.path);
    await feedQueue('single', singleQueue);
    await eventually('the single node delivers the clock object\'s decisions', async () => (await idsInFile(single.alerts)).length > 0 && one.lines().some((line) => line.msg === 'object processed' && String(line.uri).includes('clock')), 30_000);
    // Event time moved on with the clock object: let the file sink catch up, then stop.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await stop(one);
    const expected = sqliteAlerts(single.state);
    const rules = new Set(expected.map((row) => (row.body as { rule: { name?: string } }).rule.name));
    for (const rule of ['aws-ct-discovery-burst', 'aws-gd-finding-passthrough', 'aws-vpcflow-cti-ip-match', 'aws-ct-cti-source-ip-match']) assert.ok(rules.has(rule), `the reference raises ${rule}: ${[...rules].join(', ')}`);
    // A newer version of a GuardDuty finding is delivered again (docs/store.md): ids, not lines, are unique.
    assert.deepEqual([...new Set(await idsInFile(single.alerts))].sort(), expected.map((row) => row.id), 'the reference file sink holds every stored alert');

    // Three nodes, one configuration, one PostgreSQL state.
    const db = await createTestDatabase();
    databases.push(db);
    const clusterQueue = h.sqs.createQueue('cluster', 3);
    const shared = await config('cluster', clusterQueue, db.url);
    const victim = startNode('victim', shared.path, { TRAILHOUND_TEST_OBJECT_DELAY_MS: '150' });
    const others = [startNode('b', shared.path), startNode('c', shared.path)];
    for (const node of [victim, ...others]) await eventually(`${node.name} is watching`, () => node.lines().some((line) => line.msg === 'watching'), 30_000);

    let killedIn: string | undefined;
    await feedQueue('cluster', clusterQueue, async () => {
      // Killed while it reads an object: after "reading object", before that object's "object processed".
      await eventually('the victim is in the middle of an object', () => {
        const lines = victim.lines();
        const reading = lines.filter((line) => line.msg === 'reading object').map((line) => String(line.uri));
        const done = new Set(lines.filter((line) => line.msg === 'object processed').map((line) => String(line.uri)));
        killedIn = reading.find((uri) => !done.has(uri));
        return killedIn !== undefined && done.size >= 1;
      }, 60_000);
      victim.process.kill('SIGKILL');
      assert.equal((await victim.exited).signal, 'SIGKILL');
    });
    assert.ok(killedIn !== undefined);

    // Every object is committed once, by a live node, the one the victim was reading included.
    await eventually('the decider absorbed every part', async () => Number((await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM cluster_watch_parts'))[0]?.n) === 0, 30_000);
    const objects = await query<{ uri: string; status: string }>(db.url, 'SELECT uri, status FROM objects ORDER BY uri');
    assert.equal(objects.length, keys.length + 1, 'one mark per object');
    assert.ok(objects.every((row) => row.status === 'processed'), 'every object processed');
    assert.ok(objects.some((row) => row.uri === killedIn), 'the object the victim was reading is done');
    const processedBy = new Map<string, number>();
    for (const node of [victim, ...others]) for (const line of node.lines()) if (line.msg === 'object processed') processedBy.set(node.name, (processedBy.get(node.name) ?? 0) + 1);
    assert.ok([...processedBy.values()].filter((count) => count > 0).length >= 2, `the work was shared: ${JSON.stringify([...processedBy])}`);

    await eventually('the file sink caught up with the store', async () => {
      const max = Number((await query<{ seq: string }>(db.url, 'SELECT COALESCE(MAX(seq), 0) AS seq FROM alerts'))[0]?.seq);
      const cursor = Number((await query<{ cursor: string }>(db.url, 'SELECT cursor FROM sinks'))[0]?.cursor);
      return max > 0 && cursor === max;
    }, 30_000);

    const stored: Row[] = await storedAlerts(db.url);
    // A finding's hits count the versions that arrived newer than the one stored: they depend on
    // the order objects are read in, in one process as in a cluster (docs/cluster.md). The
    // finding itself is the newest version either way.
    const finding = (row: Row): boolean => (row.body as { guardduty?: unknown }).guardduty !== undefined;
    const brief = (row: Row): string => `${(row.body as { rule: { name?: string } }).rule.name} ${row.id.slice(0, 8)} x${row.count} hits ${finding(row) ? 'n' : row.hits}`;
    assert.deepEqual(stored.map(brief), expected.map(brief), 'the same alerts, counts and hits as one watch process');
    for (const row of stored.filter(finding)) assert.ok(row.hits >= 1 && row.hits <= 3, `${brief(row)}: one hit per newer version at most (3 versions)`);
    for (let i = 0; i < expected.length; i++) assert.deepEqual(detection((stored[i] as Row).body), detection((expected[i] as Row).body), brief(expected[i] as Row));
    const lines = jsonLines<{ id: string; guardduty?: unknown }>(readFileSync(shared.alerts, 'utf8'));
    assert.deepEqual([...new Set(lines.map((line) => line.id))].sort(), stored.map((row) => row.id), 'the shared file sink holds every alert, whichever node delivered it');
    const versions = lines.map((line) => `${line.id} ${JSON.stringify(line.guardduty ?? null)}`);
    assert.equal(new Set(versions).size, versions.length, 'and each alert (each finding version) once');

    // The nodes as the cluster sees them; /metrics on every live node.
    type Listed = { kind: string; role?: string; state?: string; node?: string };
    let status = await startCli(['cluster', 'status', '--store', db.url, '--format', 'jsonl', '--stale', '3s']).done;
    const silent = (text: string): number => jsonLines<Listed>(text).filter((row) => row.kind === 'node' && row.state === 'silent').length;
    // The victim's last heartbeat ages past --stale.
    for (let i = 0; i < 20 && status.code === 0 && silent(status.stdout) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await startCli(['cluster', 'status', '--store', db.url, '--format', 'jsonl', '--stale', '3s']).done;
    }
    assert.equal(status.code, 0, status.stderr);
    const listed = jsonLines<Listed>(status.stdout).filter((row) => row.kind === 'node' && row.role === 'watch');
    assert.equal(listed.length, 3, status.stdout);
    assert.equal(listed.filter((row) => row.state === 'alive').length, 2, status.stdout);
    assert.equal(listed.filter((row) => row.state === 'silent').length, 1, status.stdout);
    const ids = (list: Node[]): string[] => list.map((node) => String(node.lines().find((line) => line.msg === 'watching')?.node));
    assert.equal(listed.find((row) => row.state === 'silent')?.node, ids([victim])[0], 'the silent node is the killed one');
    const watchRow = jsonLines<{ kind: string; decider?: string; parts_waiting?: number; parts_decided?: number }>(status.stdout).find((row) => row.kind === 'watch');
    assert.ok(watchRow !== undefined && ids(others).includes(String(watchRow.decider)), `a live node decides: ${status.stdout}`);
    assert.equal(watchRow.parts_waiting, 0);
    assert.equal(watchRow.parts_decided, keys.length + 1, 'every object\'s part was absorbed once');
    const sinkRows = jsonLines<{ kind: string; owner?: string; pending?: number }>(status.stdout).filter((row) => row.kind === 'sink');
    assert.equal(sinkRows.length, 1);
    assert.ok(ids(others).includes(String(sinkRows[0]?.owner)) && sinkRows[0]?.pending === 0, `a live node delivers the sink, caught up: ${status.stdout}`);
    const text = await startCli(['cluster', 'status', '--store', db.url]).done;
    assert.match(text.stdout, /watch: decided by .+; \d+ decision\(s\) over \d+ object\(s\); nothing waiting/);
    let deciding = 0;
    for (const node of others) {
      const port = node.lines().find((line) => line.msg === 'watching')?.metrics_port;
      const scraped = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      assert.match(scraped, /^trailhound_objects_total\{[^}]*outcome="processed"[^}]*\} [1-9]/m, `${node.name} counts the objects it processed`);
      const gauge = /^trailhound_cluster_deciding (\d)$/m.exec(scraped);
      assert.ok(gauge !== null, 'the cluster gauge is exposed');
      deciding += Number(gauge[1]);
    }
    assert.equal(deciding, 1, 'one live node decides');
    for (const node of others) await stop(node);
  });
}
