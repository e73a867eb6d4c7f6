import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { alertLines, ruleCounts, runCli } from './run-cli.ts';
import { CLOUDTRAIL_STORY as SAMPLE_STORY } from './sample-story.ts';


const SAMPLE_CLOUDTRAIL = 'samples/cloudtrail/';

function record(eventName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ops', accountId: '111122223333' },
    eventTime: '2026-11-02T10:00:00Z',
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.10',
    eventID: `00000000-0000-4000-8000-${eventName.length.toString().padStart(12, '0')}`,
    recipientAccountId: '111122223333',
    ...extra,
  };
}

test('scan samples/ prints the sample story as JSON lines when piped, and a summary on stderr', async () => {
  const result = await runCli(['scan', SAMPLE_CLOUDTRAIL]);
  assert.equal(result.code, 0, result.stderr);
  const alerts = alertLines(result.stdout);
  assert.deepEqual(ruleCounts(alerts), SAMPLE_STORY);
  assert.match(result.stderr, /265 records from 4 inputs against \d+ rules/);
  assert.match(result.stderr, /14 alerts|13 alerts/);
  assert.match(result.stderr, /no input errors/);
  for (const alert of alerts) assert.ok((alert.events?.length ?? 0) >= 1, 'alerts embed their events by default');
});

test('the same input always yields the same alert ids, in the same order', async () => {
  const first = alertLines((await runCli(['scan', SAMPLE_CLOUDTRAIL])).stdout).map((alert) => alert.id);
  const second = alertLines((await runCli(['scan', SAMPLE_CLOUDTRAIL, '--no-events'])).stdout).map((alert) => alert.id);
  assert.equal(new Set(first).size, first.length);
  assert.deepEqual(second, first);
});

test('--format table prints a readable table; --output writes alerts to a file and nothing to stdout', async () => {
  const table = await runCli(['scan', SAMPLE_CLOUDTRAIL, '--format', 'table']);
  assert.match(table.stdout.split('\n')[0] ?? '', /^TIME\s+LEVEL\s+RULE/);
  assert.match(table.stdout, /CRITICAL\s+aws-ct-guardduty-detector-disabled/);

  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cli-'));
  const output = join(dir, 'alerts.jsonl');
  const toFile = await runCli(['scan', SAMPLE_CLOUDTRAIL, '--output', output]);
  assert.equal(toFile.stdout, '');
  assert.deepEqual(ruleCounts(alertLines(readFileSync(output, 'utf8'))), SAMPLE_STORY);
});

test('--fail-on sets exit code 1 only when an alert reaches the level', async () => {
  assert.equal((await runCli(['scan', SAMPLE_CLOUDTRAIL, '--fail-on', 'critical', '-q'])).code, 1);
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cli-'));
  const file = join(dir, 'keypair.jsonl');
  writeFileSync(file, JSON.stringify(record('CreateKeyPair', { requestParameters: { keyName: 'build-01' } })) + '\n');
  const medium = await runCli(['scan', file, '--fail-on', 'high']);
  assert.equal(medium.code, 0, medium.stderr);
  assert.deepEqual(ruleCounts(alertLines(medium.stdout)), { 'aws-ct-ec2-keypair-created-or-imported': 1 });
  assert.equal((await runCli(['scan', file, '--fail-on', 'medium'])).code, 1);
});

test('--since and --until keep only events inside the window', async () => {
  const result = await runCli(['scan', SAMPLE_CLOUDTRAIL, '--since', '2026-11-02T09:12:00Z', '--until', '2026-11-02T09:17:00Z']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(ruleCounts(alertLines(result.stdout)), {
    'aws-ct-cloudtrail-stopped-or-deleted': 1,
    'aws-ct-guardduty-detector-disabled': 1,
    'aws-ct-vpc-flow-logs-deleted': 1,
  });
  assert.match(result.stderr, /outside --since\/--until/);
  const bad = await runCli(['scan', SAMPLE_CLOUDTRAIL, '--since', 'yesterday']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /TH_CONFIG --since "yesterday"/);
});

test('damaged inputs are located on stderr, counted, exit 3, and everything else is still scanned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cli-'));
  mkdirSync(join(dir, 'logs'));
  const good = JSON.stringify({ Records: [record('CreateKeyPair')] });
  writeFileSync(join(dir, 'logs', 'a-good.json'), good);
  const zipped = gzipSync(JSON.stringify({ Records: [record('DeleteFlowLogs'), record('DescribeVpcs')] }));
  writeFileSync(join(dir, 'logs', 'b-truncated.json.gz'), zipped.subarray(0, zipped.length - 20));
  writeFileSync(
    join(dir, 'logs', 'c-lines.jsonl'),
    [JSON.stringify(record('ImportKeyPair')), '{"eventName": "Broken",', '42', JSON.stringify(record('CreateKeyPair', { eventID: 'second-file-keypair' }))].join('\n') + '\n',
  );
  const result = await runCli(['scan', join(dir, 'logs'), join(dir, 'missing.json')]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /b-truncated\.json\.gz: TH_INPUT_GZIP/);
  assert.match(result.stderr, /c-lines\.jsonl:2: TH_INPUT_JSON/);
  assert.match(result.stderr, /c-lines\.jsonl:3: TH_INPUT_RECORD/);
  assert.match(result.stderr, /missing\.json: TH_INPUT_READ/);
  assert.match(result.stderr, /input errors? in \d+ inputs?/);
  const counts = ruleCounts(alertLines(result.stdout));
  assert.equal(counts['aws-ct-ec2-keypair-created-or-imported'], 3, JSON.stringify(counts));
});

test('a broken rule is reported with file:line:col and exit 2, and the other rules still run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cli-'));
  writeFileSync(
    join(dir, 'broken.yml'),
    ['title: Broken', 'id: 2d0c8a4e-6c3b-4f7a-9e1d-0a1b2c3d4e5f', 'logsource: {product: aws, service: cloudtrail}', 'detection:', '  selection:', '    eventName|contians: Key', '  condition: selection', ''].join('\n'),
  );
  const result = await runCli(['scan', SAMPLE_CLOUDTRAIL, '--rules', dir]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /broken\.yml:6:\d+: TH_RULE_MODIFIER .*contians/);
  assert.deepEqual(ruleCounts(alertLines(result.stdout)), SAMPLE_STORY);
});

test('- reads stdin, gzip or not', async () => {
  const lines = [record('CreateKeyPair'), record('DescribeVpcs')].map((item) => JSON.stringify(item)).join('\n');
  for (const stdin of [Buffer.from(lines), gzipSync(lines)]) {
    const result = await runCli(['scan', '-'], { stdin });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ruleCounts(alertLines(result.stdout)), { 'aws-ct-ec2-keypair-created-or-imported': 1 });
  }
});

test('rules list shows every built-in rule with its level and ATT&CK techniques', async () => {
  const result = await runCli(['rules', 'list', '--format', 'jsonl']);
  assert.equal(result.code, 0, result.stderr);
  const rows = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; level: string; techniques: string[] });
  const ruleFiles = readdirSync('rules/aws/cloudtrail').filter((name) => name.endsWith('.yml') && !name.endsWith('.tests.yml'));
  assert.ok(rows.length >= ruleFiles.length, `${rows.length} rows for ${ruleFiles.length} rule files`);
  const quarantine = rows.find((row) => row.name === 'aws-ct-iam-compromised-key-quarantine');
  assert.deepEqual(quarantine?.techniques.includes('T1078.004'), true);
  assert.equal(quarantine?.level, 'high');
});
