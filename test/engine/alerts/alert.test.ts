import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventIdOf, singleEventAlert, stableAlertId } from '../../../src/engine/alerts/build.ts';
import { levelAtLeast } from '../../../src/core/levels.ts';
import { cloudTrailEnvelope } from '../fake-rule.ts';

const rule = { id: 'r-1', name: 'aws-ct-test', title: 'Test', level: 'high' as const, attack: { techniques: ['T1098.001'], tactics: ['persistence'] } };
const record = {
  eventTime: '2026-11-02T09:14:05Z',
  eventID: '5c1f0a52-1111-4c1a-9d53-0c2b3a4d5e6f',
  eventName: 'CreateKeyPair',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.7',
  recipientAccountId: '111122223333',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ci-deploy', accountId: '111122223333' },
};

test('a single-event alert carries the contract fields from the CloudTrail record', () => {
  const alert = singleEventAlert(rule, cloudTrailEnvelope(record), { includeEvents: true });
  assert.equal(alert.time, '2026-11-02T09:14:05.000Z');
  assert.deepEqual(alert.rule, { id: 'r-1', name: 'aws-ct-test', title: 'Test', level: 'high' });
  assert.equal(alert.account, '111122223333');
  assert.equal(alert.region, 'us-east-1');
  assert.equal(alert.actor, 'arn:aws:iam::111122223333:user/ci-deploy');
  assert.equal(alert.source_ip, '203.0.113.7');
  assert.deepEqual(alert.event_ids, ['5c1f0a52-1111-4c1a-9d53-0c2b3a4d5e6f']);
  assert.equal(alert.count, 1);
  assert.deepEqual(alert.events, [record]);
  assert.equal(singleEventAlert(rule, cloudTrailEnvelope(record), { includeEvents: false }).events, undefined);
});

test('alert ids are stable for the same rule and events and differ otherwise', () => {
  const first = singleEventAlert(rule, cloudTrailEnvelope(record), { includeEvents: false });
  const again = singleEventAlert(rule, cloudTrailEnvelope({ ...record }), { includeEvents: false });
  assert.equal(first.id, again.id);
  assert.match(first.id, /^[0-9a-f]{32}$/);
  assert.notEqual(first.id, stableAlertId('r-2', first.event_ids));
  assert.notEqual(first.id, stableAlertId('r-1', ['another-event']));
});

test('records without an event id are identified by where they were read', () => {
  const envelope = cloudTrailEnvelope({ eventName: 'X' }, 7);
  assert.equal(eventIdOf(envelope), 'test.json#7');
  assert.equal(singleEventAlert(rule, { ...envelope, time: Number.NaN }, { includeEvents: false }).time, null);
});

test('levels compare in Sigma order', () => {
  assert.ok(levelAtLeast('critical', 'high'));
  assert.ok(levelAtLeast('high', 'high'));
  assert.ok(!levelAtLeast('medium', 'high'));
  assert.ok(levelAtLeast('informational', 'informational'));
});
