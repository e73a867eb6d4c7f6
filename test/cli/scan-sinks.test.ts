import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver, type WebhookReceiver } from '../service/harness.ts';
import { DEFAULT_DEAD_LETTER, parseSinkSpec } from '../../src/cli/scan-sinks.ts';
import { alertLines, REPO_DIR, runCli, type CliResult } from './run-cli.ts';

const SAMPLES = join(REPO_DIR, 'samples');
const FEED = join(REPO_DIR, 'samples', 'intel', 'feed.txt');

/** `trailhound ARGS` in `cwd` with `env` added, stdout piped (jsonl). */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd, env });
}

function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const SCAN = ['scan', SAMPLES, '--cti', FEED, '--workers', '1'];

let receiver: WebhookReceiver;
let dir: string;
before(async () => {
  receiver = await startReceiver();
  dir = await mkdtemp(join(tmpdir(), 'th-scan-sinks-'));
});
after(async () => {
  await receiver?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test('--sink delivers every alert to a webhook, a file and an OCSF file, and stdout still gets them all', async () => {
  receiver.status = () => 200;
  const cwd = await mkdtemp(join(dir, 'ok-'));
  const before = receiver.bodies.length;
  const result = await run([...SCAN, '--sink', `webhook=${receiver.url}`, '--sink', 'file=out/alerts.jsonl', '--sink', 'ocsf=out/findings.ocsf.jsonl,min-level=high'], cwd);
  assert.equal(result.code, 0, result.stderr);
  const alerts = alertLines(result.stdout);
  assert.ok(alerts.length >= 20, `${alerts.length} alerts`);

  // The webhook: every alert, as its JSON, with its id as the idempotency key.
  const bodies = receiver.bodies.slice(before);
  assert.deepEqual(bodies.map((body) => body.id), alerts.map((alert) => alert.id));
  assert.deepEqual(bodies, jsonLines(result.stdout));
  assert.equal(receiver.headers[receiver.headers.length - 1]?.['idempotency-key'], alerts[alerts.length - 1]?.id);

  // The file: the same lines as stdout.
  assert.equal(await readFile(join(cwd, 'out', 'alerts.jsonl'), 'utf8'), result.stdout);

  // The OCSF file: one Detection Finding per alert at or above high.
  const findings = jsonLines<{ class_uid: number; type_uid: number; severity_id: number; finding_info: { uid: string } }>(await readFile(join(cwd, 'out', 'findings.ocsf.jsonl'), 'utf8'));
  const high = alerts.filter((alert) => alert.rule.level === 'high' || alert.rule.level === 'critical');
  assert.deepEqual(findings.map((finding) => finding.finding_info.uid), high.map((alert) => alert.id));
  for (const finding of findings) {
    assert.equal(finding.class_uid, 2004);
    assert.equal(finding.type_uid, 200401);
    assert.ok(finding.severity_id >= 4);
  }
  assert.match(result.stderr, new RegExp(`sink webhook http://127\\.0\\.0\\.1:\\d+/…: ${alerts.length} delivered`));
  assert.match(result.stderr, /sink ocsf out\/findings\.ocsf\.jsonl: \d+ delivered \(min-level high\)/);
  assert.ok(!result.stderr.includes('secret-token'), 'the webhook URL is never printed in full');
  assert.ok(!existsSync(join(cwd, DEFAULT_DEAD_LETTER)), 'nothing dead-lettered');

  // A second scan to the same files does not repeat alerts already there.
  const again = await run([...SCAN, '--sink', 'file=out/alerts.jsonl', '--sink', 'ocsf=out/findings.ocsf.jsonl,min-level=high'], cwd);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await readFile(join(cwd, 'out', 'alerts.jsonl'), 'utf8'), result.stdout);
  assert.match(again.stderr, new RegExp(`sink file out/alerts\\.jsonl: 0 delivered, ${alerts.length} already in the file`));
});

test('a Slack sink gets one readable message per alert; its URL comes from the environment', async () => {
  receiver.status = () => 200;
  const cwd = await mkdtemp(join(dir, 'slack-'));
  const before = receiver.bodies.length;
  const result = await run([...SCAN, '--sink', 'slack=${TH_TEST_SLACK_URL},min-level=critical'], cwd, { TH_TEST_SLACK_URL: receiver.url });
  assert.equal(result.code, 0, result.stderr);
  const critical = alertLines(result.stdout).filter((alert) => alert.rule.level === 'critical');
  const messages = receiver.bodies.slice(before) as Array<{ text: string; blocks: unknown[] }>;
  assert.equal(messages.length, critical.length);
  assert.match(messages[0]?.text ?? '', /^\[CRITICAL\] /);
  assert.ok(!result.stderr.includes('secret-token'));
});

test('a failing webhook: dead-letter file, located errors, given up after 3 in a row, exit 3; the URL never shown', async () => {
  let calls = 0;
  receiver.status = () => {
    calls += 1;
    return 503;
  };
  const cwd = await mkdtemp(join(dir, 'fail-'));
  const result = await run([...SCAN, '--sink', `webhook=${receiver.url},max-attempts=1`, '--sink', 'file=alerts.jsonl'], cwd);
  receiver.status = () => 200;
  assert.equal(result.code, 3, result.stderr);
  const alerts = alertLines(result.stdout);
  assert.equal(calls, 3, 'three attempts, then the sink is given up');
  assert.match(result.stderr, /sink:webhook http:\/\/127\.0\.0\.1:\d+\/…: TH_SINK_DEAD_LETTER alert [0-9a-f]{32} could not be delivered \(HTTP 503/);
  assert.match(result.stderr, /TH_SINK_DELIVERY 3 alerts in a row could not be delivered: the sink is given up/);
  assert.match(result.stderr, new RegExp(`TH_SINK_DELIVERY ${alerts.length} alert\\(s\\) did not reach their sink`));
  assert.ok(!result.stderr.includes('secret-token'), result.stderr);
  // Every alert is in the dead-letter file, ready to replay; the file sink got them all anyway.
  const deadLetters = jsonLines<{ sink: string; error: string; alert: { id: string } }>(await readFile(join(cwd, DEFAULT_DEAD_LETTER), 'utf8'));
  assert.deepEqual(deadLetters.map((line) => line.alert.id), alerts.map((alert) => alert.id));
  assert.ok(deadLetters.every((line) => !line.error.includes('secret-token') && !line.sink.includes('secret-token')));
  assert.equal(jsonLines(await readFile(join(cwd, 'alerts.jsonl'), 'utf8')).length, alerts.length);
});

test('without a dead-letter file, undelivered alerts are counted failed and the scan exits 3', async () => {
  const cwd = await mkdtemp(join(dir, 'nodl-'));
  const result = await run([...SCAN, '--sink', 'webhook=http://127.0.0.1:1/hook/secret-token-xyz,max-attempts=1,dead-letter=none', '-q'], cwd);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /TH_SINK_DELIVERY 1 alert\(s\) could not be delivered/);
  assert.match(result.stderr, /did not reach their sink/);
  assert.ok(!existsSync(join(cwd, DEFAULT_DEAD_LETTER)));
  assert.ok(!result.stderr.includes('secret-token'), result.stderr);
});

test('a bad --sink is a located TH_CONFIG error (exit 2) before anything is scanned, secrets redacted', async () => {
  const cwd = await mkdtemp(join(dir, 'bad-'));
  const cases: Array<[string[], RegExp]> = [
    [['--sink', 'email=ops@example.com'], /--sink #1 \(email=ops@example.com\): TH_CONFIG unknown sink kind 'email'/],
    [['--sink', 'webhook=ftp://hooks.example.com/secret-token-1'], /the webhook URL must start with https:\/\//],
    [['--sink', 'file=a.jsonl', '--sink', 'webhook=https://hooks.example.com/secret-token-2,min-level=urgent'], /--sink #2 \(webhook=https:\/\/hooks\.example\.com\/…,…\): TH_CONFIG min-level must be one of/],
    [['--sink', 'slack=${TH_TEST_UNSET_VARIABLE}'], /the environment variable TH_TEST_UNSET_VARIABLE is not set/],
    [['--sink', 'file=a.jsonl,max-attempts=3'], /'max-attempts' does not apply to a file sink/],
    [['--sink', 'file=a.jsonl', '--sink', 'file=./a.jsonl'], /two --sink options write to/],
  ];
  for (const [args, expected] of cases) {
    const result = await run([...SCAN, ...args], cwd);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.equal(result.stdout, '', 'nothing scanned');
    assert.ok(!result.stderr.includes('secret-token'), result.stderr);
  }
});

test('parseSinkSpec: options read from the end (a URL may hold commas), headers, timeouts, dead-letter', () => {
  const { spec, errors } = parseSinkSpec('webhook=https://siem.example.com/in?tags=a,b,header=Authorization: Splunk ${TOKEN},timeout=30s,max-attempts=2,dead-letter=dl.jsonl,min-level=medium', 1, { env: { TOKEN: 't0k' }, cwd: '/tmp/x' });
  assert.deepEqual(errors, []);
  assert.equal(spec?.target, 'https://siem.example.com/in?tags=a,b');
  assert.deepEqual(spec?.headers, { authorization: 'Splunk t0k' });
  assert.equal(spec?.timeoutMs, 30_000);
  assert.equal(spec?.maxAttempts, 2);
  assert.equal(spec?.deadLetter, '/tmp/x/dl.jsonl');
  assert.equal(spec?.minLevel, 'medium');
  assert.equal(spec?.name, 'webhook https://siem.example.com/…');
  const file = parseSinkSpec('ocsf=findings.ocsf.jsonl', 1, { cwd: '/tmp/x' }).spec;
  assert.deepEqual([file?.kind, file?.target, file?.deadLetter], ['ocsf', '/tmp/x/findings.ocsf.jsonl', undefined]);
  assert.equal(parseSinkSpec('slack=https://hooks.slack.com/services/T/B/x', 1, { cwd: '/tmp/x' }).spec?.deadLetter, `/tmp/x/${DEFAULT_DEAD_LETTER}`);
  assert.match(parseSinkSpec('slack=https://hooks.slack.com/x,header=A: b', 1).errors[0]?.message ?? '', /'header' does not apply to a slack sink/);
  assert.match(parseSinkSpec('webhook=https://h.example.com/x,timeout=5h', 1).errors[0]?.message ?? '', /timeout must be a duration/);
  assert.match(parseSinkSpec('file', 1).errors[0]?.message ?? '', /a file sink needs its file path/);
});
