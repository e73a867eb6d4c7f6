/**
 * The corpus and the tools of the cluster tests: the benchmark's generator (CloudTrail in the S3
 * layout, across accounts, with the planted discovery bursts spread over its small files, VPC
 * Flow Logs and a feed they hit) plus GuardDuty findings whose versions are spread over three
 * files, out of order; a way to run `trailhound scan` processes, to read a store's alerts as
 * comparable rows, and to wait for a condition on the database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defaultOptions, generateCorpus } from '../../bench/generate.ts';

const BIN = fileURLToPath(new URL('../../bin/trailhound.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FINDING = fileURLToPath(new URL('../fixtures/guardduty/finding-raw.json', import.meta.url));

export interface ClusterCorpus {
  dir: string;
  feed: string;
  /** The scan's arguments for this corpus (inputs and feed). */
  args: string[];
}

function finding(id: string, count: number, updatedAt: string): Record<string, unknown> {
  const base = JSON.parse(readFileSync(FINDING, 'utf8')) as Record<string, unknown> & { service: Record<string, unknown> };
  return { ...base, id, arn: `arn:aws:guardduty:eu-west-1:111122223333:detector/d1/finding/${id}`, updatedAt, service: { ...base.service, count } };
}

/** Generates the corpus into `dir`: about 30 CloudTrail files, a flow log, 3 GuardDuty files, and 6 small files whose matches of one indicator add up across files. */
export async function makeClusterCorpus(dir: string): Promise<ClusterCorpus> {
  await generateCorpus(defaultOptions({ out: dir, seed: 11, records: 3000, minPerFile: 100, maxPerFile: 250, flowLines: 2000, indicators: 300 }));
  const gd = join(dir, 'guardduty');
  mkdirSync(gd, { recursive: true });
  const a = 'aa11aa11aa11aa11aa11aa11aa11aa11';
  const b = 'bb22bb22bb22bb22bb22bb22bb22bb22';
  const c = 'cc33cc33cc33cc33cc33cc33cc33cc33';
  const lines = (findings: Record<string, unknown>[]): string => `${findings.map((item) => JSON.stringify(item)).join('\n')}\n`;
  // Finding a: versions 1, 3 and 2 in files 1, 2, 3 (the newest in the middle); b: the same version twice; c: once.
  writeFileSync(join(gd, 'findings-1.jsonl'), lines([finding(a, 1, '2026-11-02T10:00:00.000Z'), finding(b, 4, '2026-11-02T11:00:00.000Z')]));
  writeFileSync(join(gd, 'findings-2.jsonl'), lines([finding(a, 7, '2026-11-02T12:00:00.000Z'), finding(c, 2, '2026-11-02T12:30:00.000Z')]));
  writeFileSync(join(gd, 'findings-3.jsonl'), lines([finding(a, 3, '2026-11-02T11:00:00.000Z'), finding(b, 4, '2026-11-02T11:00:00.000Z')]));
  const feed = join(dir, 'indicators.txt');
  // One indicator matched from several files, so that threat-intel buckets are summed across units:
  // flow records of one interface and direction in one hour, and API calls of one principal.
  const indicator = readFileSync(feed, 'utf8').split('\n').find((line) => line !== '' && !line.startsWith('#')) as string;
  const extra = join(dir, 'extra');
  mkdirSync(extra, { recursive: true });
  const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
  const start = Date.parse('2026-11-03T12:10:00Z') / 1000;
  for (let file = 0; file < 3; file++) {
    const rows = [0, 1].map((i) => `2 111122223333 eni-0c1a5e000000000aa 10.0.7.${10 + file} ${indicator} ${40000 + file * 10 + i} 443 6 12 ${2000 + file * 100 + i} ${start + file * 300 + i * 60} ${start + file * 300 + i * 60 + 50} ACCEPT OK`);
    writeFileSync(join(extra, `flows-${file}.log`), `${header}\n${rows.join('\n')}\n`);
    const calls = [0, 1].map((i) => ({
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', principalId: 'AIDACLUSTERTEST', arn: 'arn:aws:iam::111122223333:user/ci-intel', accountId: '111122223333', accessKeyId: 'AKIACLUSTERTEST', userName: 'ci-intel' },
      eventTime: new Date((start + file * 400 + i * 30) * 1000).toISOString().replace('.000', ''),
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      awsRegion: 'us-east-1',
      sourceIPAddress: indicator,
      userAgent: 'aws-cli/2.15.30',
      requestParameters: null,
      responseElements: null,
      requestID: `00000000-0000-4000-8000-0000000000${file}${i}`,
      eventID: `11111111-0000-4000-8000-0000000000${file}${i}`,
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '111122223333',
      eventCategory: 'Management',
    }));
    writeFileSync(join(extra, `calls-${file}.json`), JSON.stringify({ Records: calls }));
  }
  return { dir, feed, args: [join(dir, 'AWSLogs'), join(dir, 'flows'), gd, extra, '--cti', feed] };
}

export interface Running {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `trailhound ARGS` (stdout piped: jsonl). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
  return { child, done };
}

/** Every stored alert as a comparable row: detection content, hits, and the alert JSON (no times of storage). */
export async function storedAlerts(url: string): Promise<{ id: string; rule: string; level: string; count: number; hits: number; body: unknown }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ id: string; rule_id: string; level: string; count: number; hits: number; body: string }>(
      'SELECT a.id, a.rule_id, a.level, a.count, a.hits, b.body FROM alerts a JOIN alert_bodies b ON b.id = a.id ORDER BY a.id',
    );
    return rows.rows.map((row) => ({ id: row.id, rule: row.rule_id, level: row.level, count: Number(row.count), hits: Number(row.hits), body: JSON.parse(row.body) as unknown }));
  } finally {
    await client.end();
  }
}

/** Rows of one query on the database at `url`. */
export async function query<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls `check` every 50 ms until it is true (errors count as false), up to `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet (the tables may not exist, the server may be restarting)
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The alert ids printed as jsonl on stdout. */
export function printedIds(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { id: string }).id);
}
