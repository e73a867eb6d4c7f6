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
import { BUCKET, eventually, idsInFile, s3Event, send, startHarness, startReceiver } from './harness.ts';
import type { Harness, WebhookReceiver } from './harness.ts';
import { cloudTrailFile, cloudTrailKey, cloudTrailRecord, stopLogging } from './cloudtrail-fixtures.ts';
import { parseWatchConfig } from '../../src/service/config.ts';
import type { WatchConfig } from '../../src/service/config.ts';
import { setUpEngine } from '../../src/service/engine-setup.ts';
import { scan } from '../../src/scan/scan.ts';
import type { Alert } from '../../src/core/alert.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const ACCOUNT = '111122223333';
const T0 = Date.parse('2026-11-05T10:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString().replace('.000Z', 'Z');

let h: Harness;
let receiver: WebhookReceiver;
const children: ChildProcess[] = [];

before(async () => {
  h = await startHarness();
  receiver = await startReceiver();
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver?.close();
  await h?.close();
});

interface Child {
  process: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWatch(configPath: string): Child {
  const child = spawn(process.execPath, [join(ROOT, 'bin/trailhound.js'), 'watch', '--config', configPath], { cwd: ROOT, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { process: child, stderr: () => stderr, exited };
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
  const body = cloudTrailFile(records);
  await h.s3.put(BUCKET, key, body);
  const local = join(localDir, `${String(order.length).padStart(3, '0')}.json.gz`);
  await writeFile(local, body);
  order.push(local);
}

const recon = (id: string, minute: number, eventName: string): Record<string, unknown> => cloudTrailRecord({ id, time: at(minute), eventName, user: 'recon', sourceIp: '203.0.113.50' });

test('a killed and restarted watch neither loses nor duplicates alerts, and a correlation spanning the restart fires', { timeout: 60_000 }, async () => {
  const queue = 'restart-queue';
  const queueUrl = h.sqs.createQueue(queue, 30);
  const base = join(h.dir, 'restart');
  const localDir = join(base, 'local');
  await mkdir(localDir, { recursive: true });
  const alertsFile = join(base, 'alerts.jsonl');
  const configPath = join(base, 'trailhound.yml');
  await writeFile(
    configPath,
    `state_dir: ./state
correlation:
  lateness: 15m
aws:
  region: us-east-1
  s3_endpoint_url: ${h.s3.endpoint}
sources:
  - type: sqs
    queue_url: ${queueUrl}
    wait_time: 1s
    visibility_timeout: 2s
sinks:
  - type: file
    path: ./alerts.jsonl
  - type: webhook
    url: ${receiver.url}
    max_attempts: 3
`,
  );
  const order: string[] = [];
  const key = (name: string): string => cloudTrailKey(ACCOUNT, 'us-east-1', '2026-11-05', name);

  // Phase A: the first half of a discovery burst, and a few single-event alerts.
  await putObject(localDir, key('recon-1'), [recon('recon-1', 0, 'DescribeInstances'), recon('recon-2', 1, 'DescribeSecurityGroups'), recon('recon-3', 2, 'DescribeKeyPairs')], order);
  const phaseA = [key('recon-1')];
  for (let i = 0; i < 4; i++) {
    await putObject(localDir, key(`a${i}`), [stopLogging(`stop-a${i}`, at(3))], order);
    phaseA.push(key(`a${i}`));
  }
  // Phase B: objects in flight when the process is killed (each read slowed down a little).
  const phaseB: string[] = [];
  for (let i = 0; i < 10; i++) {
    const filler = Array.from({ length: 40 }, (_, j) => cloudTrailRecord({ id: `fill-b${i}-${j}`, time: at(4), eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' }));
    await putObject(localDir, key(`b${i}`), [...filler, stopLogging(`stop-b${i}`, at(4))], order);
    phaseB.push(key(`b${i}`));
  }
  // Phase C, after the restart: the second half of the burst, then an event two hours later
  // that moves event time past the burst's window (plus lateness), so that it is decided.
  await putObject(localDir, key('recon-2'), [recon('recon-4', 5, 'DescribeRegions'), recon('recon-5', 6, 'DescribeImages'), recon('recon-6', 7, 'DescribeSnapshots')], order);
  await putObject(localDir, key('clock'), [cloudTrailRecord({ id: 'clock', time: at(120), eventName: 'DescribeAlarms', eventSource: 'monitoring.amazonaws.com' })], order);

  // The expected alerts: the same objects, in the same order, through the same detector.
  const parsed = parseWatchConfig(await readFile(configPath, 'utf8'), configPath);
  assert.deepEqual(parsed.errors, []);
  const setup = await setUpEngine(parsed.config as WatchConfig);
  const expectedAlerts: Alert[] = [];
  await scan({ inputs: order, detector: setup.build(), onAlert: (alert) => void expectedAlerts.push(alert), onError: (error) => assert.fail(`${error.location}: ${error.message}`) });
  const expected = new Set(expectedAlerts.map((alert) => alert.id));
  const burst = expectedAlerts.find((alert) => alert.rule.name === 'aws-ct-ec2-discovery-burst');
  assert.ok(burst !== undefined, 'the scan finds the burst');
  assert.deepEqual([...(burst?.event_ids ?? [])].sort(), ['recon-1', 'recon-2', 'recon-3', 'recon-4', 'recon-5', 'recon-6']);
  assert.equal(expectedAlerts.filter((alert) => alert.rule.name === 'aws-ct-cloudtrail-stopped-or-deleted').length, 14);

  const first = startWatch(configPath);
  try {
    for (const item of phaseA) await send(h, queueUrl, s3Event([item]));
    await h.sqs.waitUntilEmpty(queue, 20_000);

    h.s3.delay = (request) => (phaseB.includes(request.key) ? 60 : 0);
    for (const item of phaseB) await send(h, queueUrl, s3Event([item]));
    const aIds = new Set(await idsInFile(alertsFile));
    await eventually('a phase B alert is written', async () => (await idsInFile(alertsFile)).some((id) => !aIds.has(id)), 20_000);
  } catch (error) {
    first.process.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstderr of the first run:\n${first.stderr()}`, { cause: error });
  }
  first.process.kill('SIGKILL');
  const killed = await withTimeout(first.exited, 5000, 'the killed process exits');
  assert.equal(killed.signal, 'SIGKILL');
  h.s3.delay = () => 0;
  const beforeRestart = h.sqs.stats(queue);
  assert.ok(beforeRestart.visible + beforeRestart.inFlight > 0, 'the kill left work behind');

  const second = startWatch(configPath);
  try {
    await h.sqs.waitUntilEmpty(queue, 20_000);
    await send(h, queueUrl, s3Event([key('recon-2')]));
    await h.sqs.waitUntilEmpty(queue, 10_000);
    await send(h, queueUrl, s3Event([key('clock')]));
    await h.sqs.waitUntilEmpty(queue, 10_000);
    await eventually('the burst alert is written', async () => (await idsInFile(alertsFile)).includes(burst?.id ?? ''), 10_000);
    await eventually('the webhook got everything', () => expected.size === new Set(receiver.bodies.map((body) => body.id)).size, 10_000);
  } catch (error) {
    second.process.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstderr of the second run:\n${second.stderr()}`, { cause: error });
  }
  second.process.kill('SIGTERM');
  const stopped = await withTimeout(second.exited, 15_000, 'the graceful stop');
  assert.equal(stopped.code, 0, second.stderr());

  const inFile = await idsInFile(alertsFile);
  assert.equal(inFile.length, new Set(inFile).size, 'no alert id twice in the file');
  assert.deepEqual([...inFile].sort(), [...expected].sort(), 'the file holds exactly the expected alerts');
  const received = receiver.bodies.map((body) => String(body.id));
  assert.deepEqual([...new Set(received)].sort(), [...expected].sort(), 'the webhook got every expected alert');
  const burstInFile = (await readFile(alertsFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Alert).find((alert) => alert.rule.name === 'aws-ct-ec2-discovery-burst');
  assert.deepEqual([...(burstInFile?.event_ids ?? [])].sort(), ['recon-1', 'recon-2', 'recon-3', 'recon-4', 'recon-5', 'recon-6'], 'the burst spans both runs');
  for (const line of second.stderr().trim().split('\n')) {
    const entry = JSON.parse(line) as { time?: unknown; level?: unknown; msg?: unknown };
    assert.ok(typeof entry.time === 'string' && typeof entry.level === 'string' && typeof entry.msg === 'string', `structured log line: ${line}`);
  }
  const duplicates = received.length - new Set(received).size;
  process.stdout.write(`# webhook: ${received.length} deliveries for ${expected.size} alerts (${duplicates} duplicates, allowed: at-least-once)\n`);
});
