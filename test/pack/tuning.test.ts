/**
 * Tuning files (src/pack/tuning.ts): checked with located errors, applied before correlations
 * are parsed and indexes built, recorded on the alert; through loadRuleSet and the CLI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTuningText, overrideExpired } from '../../src/pack/tuning.ts';
import { loadRuleSet } from '../../src/pack/rule-set.ts';
import { alertLines, runCli } from '../cli/run-cli.ts';

let dir = '';
let rulesDir = '';
let events = '';

const CALL = `title: Test Describe Call
id: 0b7d6c1e-31a4-4c55-9a0e-6a1d2c3b4e01
name: test-describe-call
status: test
logsource: { product: aws, service: cloudtrail }
tags: [attack.discovery, attack.t1580]
detection:
  selection:
    eventName|startswith: Describe
  condition: selection
level: informational
`;
const BURST = `title: Test Describe Burst
id: 0b7d6c1e-31a4-4c55-9a0e-6a1d2c3b4e02
name: test-describe-burst
status: test
tags: [attack.discovery, attack.t1580]
correlation:
  type: value_count
  rules: [test-describe-call]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: { field: eventName, gte: 4 }
level: low
`;
const KEYPAIR = `title: Test Key Pair
id: 0b7d6c1e-31a4-4c55-9a0e-6a1d2c3b4e03
name: test-keypair
status: test
logsource: { product: aws, service: cloudtrail }
tags: [attack.persistence, attack.t1098]
detection:
  selection:
    eventName: CreateKeyPair
  condition: selection
level: medium
`;

function record(index: number, eventName: string, minute: number, user = 'alice'): string {
  return JSON.stringify({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${user}`, accountId: '111122223333' },
    eventTime: new Date(Date.parse('2026-11-04T10:00:00Z') + minute * 60_000).toISOString().replace('.000', ''),
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    eventID: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'th-tuning-'));
  rulesDir = join(dir, 'rules');
  await import('node:fs/promises').then((fs) => fs.mkdir(rulesDir));
  await writeFile(join(rulesDir, 'test-describe-call.yml'), CALL);
  await writeFile(join(rulesDir, 'test-describe-burst.yml'), BURST);
  await writeFile(join(rulesDir, 'test-keypair.yml'), KEYPAIR);
  // Three distinct Describe calls in 3 minutes and two more 20 minutes later, then a key pair.
  const names = ['DescribeInstances', 'DescribeVpcs', 'DescribeSubnets', 'DescribeImages', 'DescribeVolumes'];
  const lines = names.map((name, index) => record(index, name, index < 3 ? index : 20 + index));
  lines.push(record(9, 'CreateKeyPair', 30));
  events = join(dir, 'events.jsonl');
  await writeFile(events, lines.join('\n') + '\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tuningFile(text: string): Promise<string> {
  const file = join(dir, `tuning-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, text);
  return file;
}

// Invalid files, as data: the text, and the location and words each error must carry.
const INVALID: Array<{ description: string; text: string; location: string; says: RegExp }> = [
  { description: 'not a mapping', text: '- a\n- b\n', location: ':1:1', says: /must be a mapping/ },
  { description: 'no rules key', text: 'rule:\n  x: {}\n', location: ':1:1', says: /did you mean 'rules'/ },
  { description: 'unknown override key, with did-you-mean', text: 'rules:\n  test-keypair:\n    levle: high\n', location: ':3:5', says: /unknown key 'levle' \(did you mean 'level'\?\)/ },
  { description: 'level not a Sigma level', text: 'rules:\n  test-keypair:\n    level: urgent\n', location: ':3:12', says: /'level' must be one of/ },
  { description: 'disabled not a boolean', text: "rules:\n  test-keypair:\n    disabled: 'yes'\n    reason: x\n", location: ':3:15', says: /'disabled' must be true or false/ },
  { description: 'disabled without a reason', text: 'rules:\n  test-keypair:\n    disabled: true\n', location: ':2:3', says: /needs a 'reason'/ },
  { description: 'expires not a date', text: 'rules:\n  test-keypair:\n    level: high\n    expires: next-week\n', location: ':4:14', says: /YYYY-MM-DD/ },
  { description: 'bad timespan', text: 'rules:\n  test-describe-burst:\n    correlation: { timespan: 1h30m }\n', location: ':3:30', says: /timespan/ },
  { description: 'threshold not a number', text: 'rules:\n  test-describe-burst:\n    correlation:\n      condition: { gte: many }\n', location: ':4:25', says: /must be a number/ },
  { description: 'unknown correlation key', text: 'rules:\n  test-describe-burst:\n    correlation:\n      window: 1h\n', location: ':4:7', says: /unknown key 'window'/ },
  { description: 'an override that changes nothing', text: 'rules:\n  test-keypair:\n    owner: me\n', location: ':2:3', says: /changes nothing/ },
  { description: 'the same rule twice', text: 'rules:\n  test-keypair:\n    level: high\n  test-keypair:\n    level: low\n', location: ':4:3', says: /keys must be unique/ },
];

for (const item of INVALID) {
  test(`tuning file: ${item.description} is a located TH_TUNING error`, () => {
    const { errors } = parseTuningText(item.text, 'tune.yml');
    assert.ok(errors.length > 0, 'no error');
    const error = errors[0]!;
    assert.equal(error.code, 'TH_TUNING');
    assert.equal(error.location, `tune.yml${item.location}`, error.message);
    assert.match(error.message, item.says);
  });
}

test('tuning file: a valid file reads into overrides', () => {
  const { tuning, errors } = parseTuningText(
    'rules:\n  test-describe-burst:\n    correlation: { timespan: 1h, condition: { gte: 12 }, group-by: [recipientAccountId] }\n    level: medium\n  test-keypair:\n    disabled: true\n    reason: pipeline\n    owner: sec@example.com\n    expires: 2027-03-01\n',
    'tune.yml',
  );
  assert.deepEqual(errors, []);
  assert.equal(tuning.overrides.length, 2);
  const [burst, keypair] = tuning.overrides;
  assert.equal(burst!.level, 'medium');
  assert.ok(burst!.correlation?.timespan !== undefined && burst!.correlation.condition !== undefined && burst!.correlation.groupBy !== undefined);
  assert.deepEqual({ disabled: keypair!.disabled, reason: keypair!.reason, owner: keypair!.owner, expires: keypair!.expires }, { disabled: true, reason: 'pipeline', owner: 'sec@example.com', expires: '2027-03-01' });
});

test('tuning: an override holds through its expiry day and stops the day after', () => {
  assert.equal(overrideExpired('2027-03-01', new Date('2027-03-01T23:59:59Z')), false);
  assert.equal(overrideExpired('2027-03-01', new Date('2027-03-02T00:00:00Z')), true);
  assert.equal(overrideExpired(undefined, new Date('2999-01-01T00:00:00Z')), false);
});

test('loadRuleSet: an unknown rule name is an error with a did-you-mean', async () => {
  const file = await tuningFile('rules:\n  test-key-pair:\n    level: high\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file });
  const error = set.errors.find((item) => item.code === 'TH_TUNING');
  assert.ok(error, 'no TH_TUNING error');
  assert.equal(error.location, `${file}:2:3`);
  assert.match(error.message, /did you mean test-keypair\?/);
});

test('loadRuleSet: a disabled rule is not loaded, and says why', async () => {
  const file = await tuningFile('rules:\n  test-keypair:\n    disabled: true\n    reason: golden-AMI pipeline\n    owner: sec@example.com\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file });
  assert.deepEqual(set.errors, []);
  assert.equal(set.rules.some((rule) => rule.name === 'test-keypair'), false);
  assert.deepEqual(set.disabled.map((rule) => [rule.name, rule.reason, rule.owner]), [['test-keypair', 'golden-AMI pipeline', 'sec@example.com']]);
});

test('loadRuleSet: disabling a building block turns off its correlations, with a warning', async () => {
  const file = await tuningFile('rules:\n  test-describe-call:\n    disabled: true\n    reason: noisy\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file });
  assert.deepEqual(set.errors, [], 'a correlation left without its rule must not be a reference error');
  assert.equal(set.correlations.length, 0);
  assert.ok(set.warnings.some((warning) => warning.code === 'TH_TUNING' && /also turns off the correlation test-describe-burst/.test(warning.message)));
  assert.deepEqual(set.disabled.map((rule) => rule.name).sort(), ['test-describe-burst', 'test-describe-call']);
});

test('loadRuleSet: an expired override does not apply, with a warning', async () => {
  const file = await tuningFile('rules:\n  test-keypair:\n    level: critical\n    expires: 2026-01-31\n    owner: sec@example.com\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file, now: new Date('2026-02-01T00:00:00Z') });
  assert.equal(set.rules.find((rule) => rule.name === 'test-keypair')?.level, 'medium');
  assert.ok(set.warnings.some((warning) => /expired on 2026-01-31 \(owner: sec@example.com\)/.test(warning.message)));
  const early = await loadRuleSet({ paths: [rulesDir], tuningFile: file, now: new Date('2026-01-31T12:00:00Z') });
  assert.equal(early.rules.find((rule) => rule.name === 'test-keypair')?.level, 'critical');
});

test('loadRuleSet: a correlation override on a detection rule is refused', async () => {
  const file = await tuningFile('rules:\n  test-keypair:\n    correlation: { timespan: 1h }\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file });
  assert.ok(set.errors.some((error) => error.code === 'TH_TUNING' && /is a detection rule/.test(error.message)));
});

test('loadRuleSet: a tuned correlation keeps its field and changes window and threshold', async () => {
  const file = await tuningFile('rules:\n  test-describe-burst:\n    correlation: { timespan: 1h, condition: { gte: 5 } }\n');
  const set = await loadRuleSet({ paths: [rulesDir], tuningFile: file });
  assert.deepEqual(set.errors, []);
  const burst = set.correlations[0]!;
  assert.equal(burst.timespanMs, 3_600_000);
  assert.deepEqual(burst.condition.fields, ['eventName']);
  assert.deepEqual(burst.condition.terms, [{ operator: 'gte', threshold: 5 }]);
  assert.deepEqual(burst.tuning, ['timespan: 10m -> 1h', 'condition: gte 4 -> gte 5']);
});

test('scan --tuning: the window and threshold change what fires, and the alert says it was tuned', async () => {
  const base = ['scan', events, '--no-default-rules', '--rules', rulesDir, '--format', 'jsonl', '--workers', '1'];
  const plain = await runCli(base);
  assert.equal(plain.code, 0, plain.stderr);
  // Untuned: 3 distinct calls within 10 minutes, then 2 more: no burst of 4.
  assert.deepEqual(alertLines(plain.stdout).map((alert) => alert.rule.name), ['test-keypair']);

  const file = await tuningFile('rules:\n  test-describe-burst:\n    correlation: { timespan: 1h, condition: { gte: 5 } }\n    level: high\n  test-keypair:\n    level: low\n');
  const tuned = await runCli([...base, '--tuning', file]);
  assert.equal(tuned.code, 0, tuned.stderr);
  const alerts = alertLines(tuned.stdout) as Array<{ rule: { name: string; level: string; tuned?: boolean; tuning?: string[] } }>;
  const burst = alerts.find((alert) => alert.rule.name === 'test-describe-burst');
  assert.ok(burst, `the 1h window must see 5 distinct calls: ${tuned.stdout}`);
  assert.equal(burst.rule.level, 'high');
  assert.equal(burst.rule.tuned, true);
  assert.deepEqual(burst.rule.tuning, ['timespan: 10m -> 1h', 'condition: gte 4 -> gte 5', 'level: low -> high']);
  const keypair = alerts.find((alert) => alert.rule.name === 'test-keypair');
  assert.deepEqual([keypair?.rule.level, keypair?.rule.tuning], ['low', ['level: medium -> low']]);
});

test('scan --tuning: a disabled rule raises nothing, on the main thread and in worker threads', async () => {
  const file = await tuningFile('rules:\n  test-keypair:\n    disabled: true\n    reason: pipeline\n');
  for (const workers of ['1', '2']) {
    const result = await runCli(['scan', events, '--no-default-rules', '--rules', rulesDir, '--format', 'jsonl', '--workers', workers, '--tuning', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(alertLines(result.stdout), [], `--workers ${workers}`);
    assert.match(result.stderr, /tuning: 1 rule\(s\) disabled: test-keypair \(pipeline\)/);
  }
});

test('scan --tuning: a bad tuning file exits 2 with the located error', async () => {
  const file = await tuningFile('rules:\n  test-keypair:\n    level: urgent\n');
  const result = await runCli(['scan', events, '--no-default-rules', '--rules', rulesDir, '--format', 'jsonl', '--tuning', file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:12: TH_TUNING`));
});

test('rules list --tuning shows the effective level, window and threshold, and which rules are off and why', async () => {
  const file = await tuningFile('rules:\n  test-describe-burst:\n    correlation: { timespan: 1h, condition: { gte: 5 } }\n    level: low\n  test-keypair:\n    disabled: true\n    reason: pipeline keys\n    owner: sec@example.com\n    expires: 2999-01-01\n');
  const result = await runCli(['rules', 'list', rulesDir, '--tuning', file, '--format', 'jsonl']);
  assert.equal(result.code, 0, result.stderr);
  const rows = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const burst = rows.find((row) => row['name'] === 'test-describe-burst');
  assert.deepEqual(burst?.['correlation'], { timespan: '1h', condition: 'gte 5', group_by: ['userIdentity.arn'] });
  assert.deepEqual(burst?.['tuning'], ['timespan: 10m -> 1h', 'condition: gte 4 -> gte 5'], 'a level equal to the rule\'s is not a change');
  assert.deepEqual(rows.find((row) => row['name'] === 'test-keypair'), { id: '0b7d6c1e-31a4-4c55-9a0e-6a1d2c3b4e03', name: 'test-keypair', enabled: false, reason: 'pipeline keys', owner: 'sec@example.com', expires: '2999-01-01' });
  const table = await runCli(['rules', 'list', rulesDir, '--tuning', file]);
  assert.match(table.stdout, /test-keypair\s+off\s+disabled: pipeline keys \(sec@example.com\) until 2999-01-01/);
  assert.match(table.stdout, /test-describe-burst\s+low\s+1h gte 5/);
});

test('rules test --tuning runs the tests against the tuned rules and skips the disabled ones', async () => {
  await writeFile(join(rulesDir, 'test-keypair.tests.yml'), `- description: a key pair\n  expect: match\n  event: ${record(50, 'CreateKeyPair', 0)}\n`);
  const file = await tuningFile('rules:\n  test-keypair:\n    disabled: true\n    reason: pipeline keys\n');
  const plain = await runCli(['rules', 'test', rulesDir]);
  assert.match(plain.stdout, /ok {4}test-keypair: a key pair/);
  const tuned = await runCli(['rules', 'test', rulesDir, '--tuning', file]);
  assert.doesNotMatch(tuned.stdout, /test-keypair: a key pair/);
  assert.match(tuned.stderr, /skip {2}test-keypair: disabled by the tuning file \(pipeline keys\)/);
});
