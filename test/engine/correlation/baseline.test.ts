/**
 * Per-principal baselines of breadth correlations (src/engine/correlation/baseline.ts): routine
 * breadth stays quiet, new breadth and principals without history alert, whatever the history
 * came from (the scanned period, a baseline file, what a service saw before the window).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Detector } from '../../../src/engine/detector.ts';
import type { BaselineOptions } from '../../../src/engine/correlation/baseline.ts';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import type { RuleSet } from '../../../src/pack/rule-set.ts';
import { cloudTrailEnvelope } from '../../../src/formats/cloudtrail/format.ts';
import type { Alert } from '../../../src/core/alert.ts';

const CALL = `title: Test Read Call
id: 5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01
name: test-read-call
status: test
logsource: { product: aws, service: cloudtrail }
tags: [attack.discovery, attack.t1580]
detection:
  selection:
    eventName|startswith: [Describe, List, Get]
  condition: selection
level: informational
`;
const BURST = `title: Test Read Burst
id: 5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a02
name: test-read-burst
status: test
tags: [attack.discovery, attack.t1580]
correlation:
  type: value_count
  rules: [test-read-call]
  group-by: [userIdentity.arn]
  timespan: 30m
  condition: { field: eventName, gte: 5 }
baseline:
  services: eventSource
level: low
`;

const T0 = Date.parse('2026-11-04T00:00:00Z');
const MINUTE = 60_000;
const ROUTINE = [
  ['ec2', 'DescribeInstances'],
  ['ec2', 'DescribeVpcs'],
  ['ec2', 'DescribeSubnets'],
  ['iam', 'ListRoles'],
  ['s3', 'ListBuckets'],
  ['rds', 'DescribeDBInstances'],
] as const;
const NEW = [
  ['lambda', 'ListFunctions20150331'],
  ['secretsmanager', 'ListSecrets'],
  ['kms', 'ListKeys'],
  ['sts', 'GetCallerIdentity'],
  ['organizations', 'ListAccounts'],
] as const;

let dir = '';
let set: RuleSet;
let counter = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'th-baseline-'));
  await mkdir(join(dir, 'rules'));
  await writeFile(join(dir, 'rules', 'call.yml'), CALL);
  await writeFile(join(dir, 'rules', 'burst.yml'), BURST);
  set = await loadRuleSet({ paths: [join(dir, 'rules')] });
  assert.deepEqual(set.errors, []);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function call(user: string, service: string, eventName: string, time: number): ReturnType<typeof cloudTrailEnvelope> {
  counter += 1;
  const record = {
    eventVersion: '1.09',
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${user}/session`, accountId: '111122223333' },
    eventTime: new Date(time).toISOString().replace('.000', ''),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    eventID: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
  };
  return cloudTrailEnvelope(record, { uri: 'test', index: counter });
}

/** `calls` at one-minute steps from `start`. */
function sweep(user: string, calls: ReadonlyArray<readonly [string, string]>, start: number): ReturnType<typeof call>[] {
  return calls.map(([service, name], index) => call(user, service, name, start + index * MINUTE));
}

function run(envelopes: ReadonlyArray<ReturnType<typeof call>>, baseline?: BaselineOptions): { alerts: Alert[]; detector: Detector } {
  const detector = new Detector({ rules: set.rules, correlations: set.correlations, includeEvents: false, ...(baseline === undefined ? {} : { baseline }) });
  const alerts: Alert[] = [];
  for (const envelope of [...envelopes].sort((a, b) => a.time - b.time)) {
    detector.process(envelope, alerts);
    detector.advanceEventTime(envelope.time, alerts);
  }
  detector.flush(alerts);
  return { alerts: alerts.filter((alert) => alert.rule.name === 'test-read-burst'), detector };
}

/** The inventory role: the same six reads every hour of the day. */
function hourlyInventory(hours: number, start = T0): ReturnType<typeof call>[] {
  return Array.from({ length: hours }, (_, hour) => sweep('inventory', ROUTINE, start + hour * 60 * MINUTE)).flat();
}

test('scan period: routine breadth repeated every hour raises nothing; the same breadth from a principal without history does', () => {
  const attacker = sweep('intruder', ROUTINE, T0 + 5 * 60 * MINUTE + 7 * MINUTE);
  const { alerts, detector } = run([...hourlyInventory(12), ...attacker]);
  assert.deepEqual(
    alerts.map((alert) => alert.correlation?.group['userIdentity.arn']),
    ['arn:aws:sts::111122223333:assumed-role/intruder/session'],
  );
  const baseline = alerts[0]!.correlation!.baseline!;
  assert.equal(baseline.source, 'scan-period');
  assert.equal(baseline.history, false);
  assert.equal(baseline.novel_count, 6);
  assert.deepEqual(baseline.new_services, ['ec2.amazonaws.com', 'iam.amazonaws.com', 'rds.amazonaws.com', 's3.amazonaws.com']);
  assert.deepEqual(detector.baselineStats(), { raised: 1, suppressed: 12 });
});

test('without a baseline the same input raises every hourly sweep (what the gate removes)', () => {
  const plainSet = { ...set, correlations: set.correlations.map((rule) => ({ ...rule, source: { ...rule.source, baseline: undefined } })) };
  const detector = new Detector({ rules: plainSet.rules, correlations: plainSet.correlations, includeEvents: false });
  const alerts: Alert[] = [];
  for (const envelope of hourlyInventory(12)) detector.process(envelope, alerts);
  detector.flush(alerts);
  assert.equal(alerts.filter((alert) => alert.rule.name === 'test-read-burst').length, 12);
});

test('scan period: a routine principal that suddenly reads five APIs it never used alerts, naming them', () => {
  const widened = sweep('inventory', [...ROUTINE, ...NEW], T0 + 6 * 60 * MINUTE + 20 * MINUTE);
  const { alerts } = run([...hourlyInventory(12), ...widened]);
  assert.equal(alerts.length, 1);
  const baseline = alerts[0]!.correlation!.baseline!;
  assert.equal(baseline.history, true);
  assert.deepEqual([...baseline.novel_values].sort(), NEW.map(([, name]) => name).sort());
  assert.equal(baseline.usual_count, 6);
  assert.deepEqual(baseline.new_services, ['kms.amazonaws.com', 'lambda.amazonaws.com', 'organizations.amazonaws.com', 'secretsmanager.amazonaws.com', 'sts.amazonaws.com']);
});

test('scan period: four new APIs in services the principal already uses stay under a threshold of five', () => {
  const sameServices = [['ec2', 'DescribeKeyPairs'], ['ec2', 'DescribeImages'], ['iam', 'ListUsers'], ['s3', 'GetBucketPolicy']] as const;
  const widened = sweep('inventory', [...ROUTINE, ...sameServices], T0 + 6 * 60 * MINUTE + 20 * MINUTE);
  assert.deepEqual(run([...hourlyInventory(12), ...widened]).alerts, []);
});

test('scan period: reaching two services the principal never used, half the threshold in new APIs is enough', () => {
  const twoNew = sweep('inventory', [...ROUTINE, ...NEW.slice(0, 3)], T0 + 6 * 60 * MINUTE + 20 * MINUTE);
  const { alerts } = run([...hourlyInventory(12), ...twoNew]);
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.correlation!.baseline!.new_services, ['kms.amazonaws.com', 'lambda.amazonaws.com', 'secretsmanager.amazonaws.com']);
  const oneNewService = sweep('inventory', [...ROUTINE, ['ec2', 'DescribeKeyPairs'], ['ec2', 'DescribeImages'], ['lambda', 'ListFunctions20150331']], T0 + 6 * 60 * MINUTE + 20 * MINUTE);
  assert.deepEqual(run([...hourlyInventory(12), ...oneNewService]).alerts, [], 'one new service is not enough');
});

test('baseline.principal: sessions of one role share its history (a pipeline\'s fresh session names)', () => {
  const session = (run: number): ReturnType<typeof call>[] =>
    ROUTINE.map(([service, name], index) => {
      const envelope = call('ci-deploy', service, name, T0 + run * 60 * MINUTE + index * MINUTE);
      const identity = envelope.record['userIdentity'] as Record<string, unknown>;
      identity['arn'] = `arn:aws:sts::111122223333:assumed-role/ci-deploy/runner-${run}`;
      identity['sessionContext'] = { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/ci-deploy' } };
      return envelope;
    });
  const runs = Array.from({ length: 8 }, (_, index) => session(index)).flat();
  const byRole = { ...set, correlations: set.correlations.map((rule) => ({ ...rule, source: { ...rule.source, baseline: { services: 'eventSource', principal: ['userIdentity.sessionContext.sessionIssuer.arn', 'userIdentity.arn'] } } })) };
  const detector = new Detector({ rules: byRole.rules, correlations: byRole.correlations, includeEvents: false });
  const out: Alert[] = [];
  for (const envelope of runs) detector.process(envelope, out);
  detector.flush(out);
  assert.deepEqual(out.filter((alert) => alert.rule.name === 'test-read-burst'), [], 'each run has the role\'s other runs as history');
  assert.equal(run(runs).alerts.length, 8, 'judged by session, every run is new');
});

test('one principal polling one API, however often, raises nothing', () => {
  const polls = Array.from({ length: 500 }, (_, index) => call('dashboard', 'ec2', 'DescribeInstances', T0 + index * 10_000));
  assert.deepEqual(run(polls).alerts, []);
});

test('a baseline file carries the history: one sweep the next day is routine with it, and alerts without it', () => {
  const { detector } = run(hourlyInventory(24));
  const file = detector.baselineFile(new Date('2026-11-05T00:00:00Z'));
  assert.ok(file !== undefined);
  assert.equal(file.format, 'trailhound-baseline');
  assert.ok(Object.keys(file.correlations['test-read-burst'] ?? {}).length === 1);
  const nextDay = sweep('inventory', ROUTINE, T0 + 36 * 60 * MINUTE);
  assert.equal(run(nextDay).alerts.length, 1, 'alone, one sweep has no history');
  const { alerts } = run(nextDay, { mode: 'hold', file });
  assert.deepEqual(alerts, []);
  const intruder = run(sweep('intruder', ROUTINE, T0 + 36 * 60 * MINUTE), { mode: 'hold', file });
  assert.equal(intruder.alerts.length, 1);
  assert.equal(intruder.alerts[0]!.correlation!.baseline!.source, 'file+scan-period');
});

test('live (a service): history is what came before the window; the first sweep of a new principal alerts, its repeats do not', () => {
  const { alerts } = run(hourlyInventory(6), { mode: 'live' });
  assert.equal(alerts.length, 1, 'only the first hourly sweep: nothing was seen before it');
  assert.equal(alerts[0]!.correlation!.baseline!.source, 'live');
  assert.equal(alerts[0]!.time, new Date(T0 + 5 * MINUTE).toISOString());
});
