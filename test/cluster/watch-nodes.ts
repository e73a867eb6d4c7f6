/**
 * The watch cluster tests' harness (watch-cluster.test.ts, watch-cluster-restart.test.ts): the
 * cluster scan's corpus (cluster-corpus.ts) put in the test S3 server with a "clock" object a
 * week later, configurations that differ only in `store:`, `trailhound watch` child processes
 * with their JSON logs, feeding a queue, the reference run of one process on SQLite, and the
 * comparison of two stores' alerts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { makeClusterCorpus } from './cluster-corpus.ts';
import { BUCKET, eventually, idsInFile, s3Event, send, startServiceHarness, type ServiceHarness } from '../service/harness.ts';
import { cloudTrailFile, cloudTrailRecord } from '../service/cloudtrail-fixtures.ts';
import { listItem } from '../service/config-fixtures.ts';
import { CLI, jsonLines, REPO_ROOT } from '../service/files.ts';

export interface Node {
  name: string;
  process: ChildProcess;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Row {
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
export function detection(body: unknown): unknown {
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


/** The object a week after the corpus: every window, baseline and bucket closes. */
const CLOCK = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/12/111122223333_CloudTrail_us-east-1_20261112T0000Z_clock.json.gz';

export interface WatchHarness {
  h: ServiceHarness;
  /** The corpus's object keys, interleaved by kind; the clock object is not among them. */
  keys: string[];
  config(name: string, queueUrl: string, store: string | undefined): Promise<{ path: string; alerts: string; state: string }>;
  startNode(name: string, configPath: string, env?: NodeJS.ProcessEnv): Node;
  stop(node: Node): Promise<void>;
  /** Sends every object, waits until the queue is empty, then the clock object, and waits again. */
  feedQueue(queue: string, queueUrl: string, during?: () => Promise<void>): Promise<void>;
  /** One watch process on SQLite over the same notifications: its stored alerts. */
  reference(): Promise<Row[]>;
  close(): Promise<void>;
}

export async function startWatchHarness(): Promise<WatchHarness> {
  const h = await startServiceHarness();
  const nodes: Node[] = [];
  let keys: string[] = [];
  const work = join(h.dir, 'watch-cluster');
  const corpus = await makeClusterCorpus(join(work, 'corpus'));
  const feed = corpus.feed;
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
  await h.s3.put(BUCKET, CLOCK, cloudTrailFile([cloudTrailRecord({ id: 'clock', time: '2026-11-12T00:00:00Z', eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' })]));
  // Interleave the kinds, so that every node sees some of each.
  keys = keys.sort((a, b) => (a.length % 7) - (b.length % 7) || a.localeCompare(b));

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


  async function reference(): Promise<Row[]> {
    const queue = h.sqs.createQueue('single', 3);
    const single = await config('single', queue, undefined);
    const one = startNode('single', single.path);
    await feedQueue('single', queue);
    await eventually('the single node delivers the clock object\'s decisions', async () => (await idsInFile(single.alerts)).length > 0 && one.lines().some((line) => line.msg === 'object processed' && String(line.uri).includes('clock')), 30_000);
    // Event time moved on with the clock object: let the file sink catch up, then stop.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await stop(one);
    const expected = sqliteAlerts(single.state);
    const rules = new Set(expected.map((row) => (row.body as { rule: { name?: string } }).rule.name));
    for (const rule of ['aws-ct-discovery-burst', 'aws-gd-finding-passthrough', 'aws-vpcflow-cti-ip-match', 'aws-ct-cti-source-ip-match']) assert.ok(rules.has(rule), `the reference raises ${rule}: ${[...rules].join(', ')}`);
    // A newer version of a GuardDuty finding is delivered again (docs/store.md): ids, not lines, are unique.
    assert.deepEqual([...new Set(await idsInFile(single.alerts))].sort(), expected.map((row) => row.id), 'the reference file sink holds every stored alert');
    return expected;
  }

  return {
    h,
    keys,
    config,
    startNode,
    stop,
    feedQueue,
    reference,
    async close() {
      for (const node of nodes) if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGKILL');
      await Promise.all(nodes.map((node) => node.exited));
      await h.close();
    },
  };
}

/** The store's alerts are the reference's: ids, counts, hits (a finding's: 1 to 3, see docs/cluster.md) and detection content. */
export function assertSameAlerts(stored: readonly Row[], expected: readonly Row[]): void {
  // A finding's hits count the versions that arrived newer than the one stored: they depend on
  // the order objects are read in, in one process as in a cluster (docs/cluster.md). The
  // finding itself is the newest version either way.
  const finding = (row: Row): boolean => (row.body as { guardduty?: unknown }).guardduty !== undefined;
  const brief = (row: Row): string => `${(row.body as { rule: { name?: string } }).rule.name} ${row.id.slice(0, 8)} x${row.count} hits ${finding(row) ? 'n' : row.hits}`;
  assert.deepEqual(stored.map(brief), expected.map(brief), 'the same alerts, counts and hits as one watch process');
  for (const row of stored.filter(finding)) assert.ok(row.hits >= 1 && row.hits <= 3, `${brief(row)}: one hit per newer version at most (3 versions)`);
  for (let i = 0; i < expected.length; i++) assert.deepEqual(detection((stored[i] as Row).body), detection((expected[i] as Row).body), brief(expected[i] as Row));
}
