/**
 * The done-when test of the service: a `trailhound watch` child process, killed with SIGKILL in
 * the middle of its work and started again, neither loses nor duplicates alerts, and a
 * correlation whose first half was seen before the kill and second half after still fires.
 *
 * Guarantee checked: the JSONL file sink holds exactly the expected alert ids, each once; the
 * webhook receiver got every expected id at least once (duplicates are allowed: at-least-once,
 * de-duplicated by the receiver on the alert id). The expected ids come from an in-process scan
 * of the same objects with the same detector settings.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, idsInFile, isLogLine, putLogFile, s3Event, send, startServiceHarness, waitForAlerts } from './harness.ts';
import type { ServiceHarness } from './harness.ts';
import { cloudTrailRecord, stopLogging, trailKey } from './cloudtrail-fixtures.ts';
import { listItem, validWatchConfig, watchYaml } from './config-fixtures.ts';
import { CLI, jsonLines, REPO_ROOT } from './files.ts';
import { setUpEngine } from '../../src/service/engine-setup.ts';
import { scan } from '../../src/scan/scan.ts';
import type { Alert } from '../../src/core/alert.ts';

const T0 = Date.parse('2026-11-05T10:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString().replace('.000Z', 'Z');

let h: ServiceHarness;
const children: ChildProcess[] = [];

before(async () => {
  h = await startServiceHarness();
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h?.close();
});

interface Child {
  process: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWatch(configPath: string): Child {
  const child = spawn(process.execPath, [join(REPO_ROOT, CLI), 'watch', '--config', configPath], { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { process: child, stderr: () => stderr, exited };
}

/** Runs `body` while the child runs; if it fails, kills the child and adds its stderr to the error. */
async function whileRunning(child: Child, run: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    child.process.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstderr of the ${run} run:\n${child.stderr()}`, { cause: error });
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An object in the bucket and, for the expected alerts, the same content in a local file. */
async function putObject(localDir: string, key: string, records: Record<string, unknown>[], order: string[]): Promise<void> {
  const body = await putLogFile(h, key, records);
  const local = join(localDir, `${String(order.length).padStart(3, '0')}.json.gz`);
  await writeFile(local, body);
  order.push(local);
}

const recon = (id: string, minute: number, eventName: string, eventSource = 'ec2.amazonaws.com'): Record<string, unknown> => cloudTrailRecord({ id, time: at(minute), eventName, eventSource, user: 'recon', sourceIp: '203.0.113.50' });

test('a killed and restarted watch neither loses nor duplicates alerts, and a correlation spanning the restart fires', { timeout: 60_000 }, async () => {
  const queue = 'restart-queue';
  const queueUrl = h.sqs.createQueue(queue, 30);
  const base = join(h.dir, 'restart');
  const localDir = join(base, 'local');
  await mkdir(localDir, { recursive: true });
  const alertsFile = join(base, 'alerts.jsonl');
  const configPath = join(base, 'trailhound.yml');
  const { receiver } = h;
  await writeFile(configPath, watchYaml({ stateDir: './state', s3Endpoint: h.s3.endpoint, queueUrl, visibility: '2s', alertsPath: './alerts.jsonl', sinks: [listItem('webhook', { url: receiver.url, max_attempts: 3 })] }));
  const order: string[] = [];

  // Phase A: the first half of a discovery burst, and a few single-event alerts.
  await putObject(localDir, trailKey('recon-1'), [recon('recon-1', 0, 'DescribeInstances'), recon('recon-2', 1, 'DescribeSecurityGroups'), recon('recon-3', 2, 'DescribeKeyPairs'), recon('recon-4', 2, 'ListBuckets', 's3.amazonaws.com'), recon('recon-5', 3, 'ListUsers', 'iam.amazonaws.com')], order);
  const phaseA = [trailKey('recon-1')];
  for (let i = 0; i < 4; i++) {
    await putObject(localDir, trailKey(`a${i}`), [stopLogging(`stop-a${i}`, at(3))], order);
    phaseA.push(trailKey(`a${i}`));
  }
  // Phase B: objects in flight when the process is killed (each read slowed down a little).
  const phaseB: string[] = [];
  for (let i = 0; i < 10; i++) {
    const filler = Array.from({ length: 40 }, (_, j) => cloudTrailRecord({ id: `fill-b${i}-${j}`, time: at(4), eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' }));
    await putObject(localDir, trailKey(`b${i}`), [...filler, stopLogging(`stop-b${i}`, at(4))], order);
    phaseB.push(trailKey(`b${i}`));
  }
  // Phase C, after the restart: the second half of the burst, then an event two hours later
  // that moves event time past the burst's window (plus lateness), so that it is decided.
  await putObject(localDir, trailKey('recon-2'), [recon('recon-6', 5, 'DescribeRegions'), recon('recon-7', 6, 'DescribeImages'), recon('recon-8', 7, 'DescribeSnapshots'), recon('recon-9', 7, 'GetCallerIdentity', 'sts.amazonaws.com'), recon('recon-10', 8, 'ListFunctions20150331', 'lambda.amazonaws.com')], order);
  await putObject(localDir, trailKey('clock'), [cloudTrailRecord({ id: 'clock', time: at(120), eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' })], order);

  // The expected alerts: the same objects, in the same order, through the same detector.
  const setup = await setUpEngine(validWatchConfig(await readFile(configPath, 'utf8'), configPath));
  const expectedAlerts: Alert[] = [];
  await scan({ inputs: order, detector: setup.build(), onAlert: (alert) => void expectedAlerts.push(alert), onError: (error) => assert.fail(`${error.location}: ${error.message}`) });
  const expected = new Set(expectedAlerts.map((alert) => alert.id));
  const burst = expectedAlerts.find((alert) => alert.rule.name === 'aws-ct-discovery-burst');
  assert.ok(burst !== undefined, 'the scan finds the burst');
  assert.deepEqual([...(burst?.event_ids ?? [])].sort(), ['recon-1', 'recon-10', 'recon-2', 'recon-3', 'recon-4', 'recon-5', 'recon-6', 'recon-7', 'recon-8', 'recon-9']);
  assert.equal(expectedAlerts.filter((alert) => alert.rule.name === 'aws-ct-cloudtrail-stopped-or-deleted').length, 14);

  const first = startWatch(configPath);
  await whileRunning(first, 'first', async () => {
    for (const item of phaseA) await send(h, queueUrl, s3Event([item]));
    await h.sqs.waitUntilEmpty(queue, 20_000);

    h.s3.delay = (request) => (phaseB.includes(request.key) ? 60 : 0);
    for (const item of phaseB) await send(h, queueUrl, s3Event([item]));
    const aIds = new Set(await idsInFile(alertsFile));
    await waitForAlerts('a phase B alert is written', alertsFile, (ids) => ids.some((id) => !aIds.has(id)), 20_000);
  });
  first.process.kill('SIGKILL');
  const killed = await withTimeout(first.exited, 5000, 'the killed process exits');
  assert.equal(killed.signal, 'SIGKILL');
  h.s3.delay = () => 0;
  const beforeRestart = h.sqs.stats(queue);
  assert.ok(beforeRestart.visible + beforeRestart.inFlight > 0, 'the kill left work behind');

  const second = startWatch(configPath);
  await whileRunning(second, 'second', async () => {
    await h.sqs.waitUntilEmpty(queue, 20_000);
    await send(h, queueUrl, s3Event([trailKey('recon-2')]));
    await h.sqs.waitUntilEmpty(queue, 10_000);
    await send(h, queueUrl, s3Event([trailKey('clock')]));
    await h.sqs.waitUntilEmpty(queue, 10_000);
    await waitForAlerts('the burst alert is written', alertsFile, (ids) => ids.includes(burst?.id ?? ''), 10_000);
    await eventually('the webhook got everything', () => expected.size === new Set(receiver.bodies.map((body) => body.id)).size, 10_000);
  });
  second.process.kill('SIGTERM');
  const stopped = await withTimeout(second.exited, 15_000, 'the graceful stop');
  assert.equal(stopped.code, 0, second.stderr());

  const inFile = await idsInFile(alertsFile);
  assert.equal(inFile.length, new Set(inFile).size, 'no alert id twice in the file');
  assert.deepEqual([...inFile].sort(), [...expected].sort(), 'the file holds exactly the expected alerts');
  const received = receiver.bodies.map((body) => String(body.id));
  assert.deepEqual([...new Set(received)].sort(), [...expected].sort(), 'the webhook got every expected alert');
  const burstInFile = jsonLines<Alert>(await readFile(alertsFile, 'utf8')).find((alert) => alert.rule.name === 'aws-ct-discovery-burst');
  assert.deepEqual([...(burstInFile?.event_ids ?? [])].sort(), ['recon-1', 'recon-10', 'recon-2', 'recon-3', 'recon-4', 'recon-5', 'recon-6', 'recon-7', 'recon-8', 'recon-9'], 'the burst spans both runs');
  for (const line of second.stderr().trim().split('\n')) {
    assert.ok(isLogLine(JSON.parse(line) as Record<string, unknown>), `structured log line: ${line}`);
  }
  const duplicates = received.length - new Set(received).size;
  process.stdout.write(`# webhook: ${received.length} deliveries for ${expected.size} alerts (${duplicates} duplicates, allowed: at-least-once)\n`);
});
