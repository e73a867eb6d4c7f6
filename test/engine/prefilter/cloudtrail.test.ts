/**
 * The raw pre-filter (src/engine/worker-prefilter.ts): record splitting, what sends a file back
 * to the ordinary decoder, and that a record a rule matches is never ruled out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanRecords } from '../../../src/formats/cloudtrail/record-scan.ts';
import { planPrefilter } from '../../../src/engine/prefilter/cloudtrail.ts';
import type { RawPrefilter } from '../../../src/formats/cloudtrail/record-scan.ts';
import { fakeRule } from '../fake-rule.ts';

function prefilter(fields: Record<string, string[]>): RawPrefilter {
  const plan = planPrefilter([fakeRule({ id: 'r1', service: 'cloudtrail', requiredValues: fields, match: () => true })]);
  if (plan.prefilter === undefined) throw new Error(plan.reason);
  return plan.prefilter;
}

const EVENT_NAME = prefilter({ eventName: ['stoplogging', 'deletetrail'] });

function spans(text: string, filter = EVENT_NAME): Array<[string, number]> | undefined {
  const buf = Buffer.from(text, 'utf8');
  const out = scanRecords(buf, filter);
  if (out === undefined) return undefined;
  const rows: Array<[string, number]> = [];
  for (let k = 0; k < out.length; k += 3) rows.push([buf.toString('utf8', out[k], out[k + 1]), out[k + 2] as number]);
  return rows;
}

test('splits a Records file and marks the records a rule may match', () => {
  const text = '{"Records":[{"eventVersion":"1.09","eventName":"StopLogging"},{"eventVersion":"1.09","eventName":"DescribeInstances","x":{"eventName":"nested"}}, {"eventName" : "deletetrail"}]}\n';
  assert.deepEqual(spans(text), [
    ['{"eventVersion":"1.09","eventName":"StopLogging"}', 1],
    ['{"eventVersion":"1.09","eventName":"DescribeInstances","x":{"eventName":"nested"}}', 0],
    ['{"eventName" : "deletetrail"}', 1],
  ]);
  assert.deepEqual(spans('{"Records":[]}'), []);
});

test('a wanted key whose value is not a plain string, or any escape, means parse', () => {
  for (const record of ['{"eventName":["StopLogging"]}', '{"eventName":{"a":1}}', '{"eventName":12}', '{"eventName":null}', '{"a":"x\\"y"}', '{"eventName":"Stop\\u004cogging"}', '{"eventName":"Ünïcode"}']) {
    assert.deepEqual(spans(`{"Records":[${record}]}`), [[record, 1]], record);
  }
  // The same key as a value, or inside another string, is not a key.
  assert.deepEqual(spans('{"Records":[{"a":"eventName","b":"StopLogging"}]}'), [['{"a":"eventName","b":"StopLogging"}', 0]]);
});

test('nested field paths: every key the path may end in', () => {
  const filter = prefilter({ 'userIdentity.type': ['root'] });
  assert.deepEqual(spans('{"Records":[{"userIdentity":{"type":"Root"}},{"userIdentity":{"type":"IAMUser"}},{"userIdentity.type":"ROOT"},{"resources":[{"type":"root"}]}]}', filter), [
    ['{"userIdentity":{"type":"Root"}}', 1],
    ['{"userIdentity":{"type":"IAMUser"}}', 0],
    ['{"userIdentity.type":"ROOT"}', 1],
    ['{"resources":[{"type":"root"}]}', 1],
  ]);
});

test('anything but one well-formed Records document goes back to the ordinary decoder', () => {
  for (const text of [
    '{"Records":[{"a":1}',
    '{"Records":[{"a":1}]',
    '{"Records":[{"a":1}]}{"Records":[]}',
    '{"Records":[{"a":1}],"x":1}',
    '{"Records":[{"a":"unterminated}]}',
    '{"Records":[{"a":[1}]}',
    '{"Records":[{"a":1}} ]}',
    '{"Records":[{"a":1},2]}',
    '{"Records":[{"a":1} {"b":2}]}',
    '{"Records":[{"a":@}]}',
    '{ "Records":[]}',
    '[{"eventName":"StopLogging"}]',
  ]) {
    assert.equal(spans(text), undefined, text);
  }
});

test('no plan when a CloudTrail rule is tried on every record', () => {
  const plan = planPrefilter([fakeRule({ id: 'r2', service: 'cloudtrail', match: () => true })]);
  assert.equal(plan.prefilter, undefined);
  assert.match(plan.reason ?? '', /requires no field value/);
  // Rules of other log sources do not count.
  assert.notEqual(planPrefilter([fakeRule({ id: 'r3', service: 'vpcflow', match: () => true })]).prefilter, undefined);
});

test('a rule pinned on an unselective field (userIdentity.type) is filed under a literal it requires elsewhere', () => {
  const keysOf = (rule: Parameters<typeof fakeRule>[0]): string[] => {
    const plan = planPrefilter([fakeRule(rule)]);
    if (plan.prefilter === undefined) throw new Error(plan.reason);
    return plan.prefilter.keys.map((key) => JSON.parse(key.key.toString('utf8')) as string);
  };
  const instanceSession = { id: 'r4', service: 'cloudtrail', requiredValues: { 'userIdentity.type': ['assumedrole'] }, requiredSubstrings: { 'userIdentity.principalId': [{ text: ':i-', caseSensitive: true }] }, match: () => true };
  assert.deepEqual(keysOf(instanceSession), ['principalId', 'userIdentity.principalId']);
  const filter = planPrefilter([fakeRule(instanceSession)]).prefilter as RawPrefilter;
  assert.deepEqual(spans('{"Records":[{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:i-0abc1234"}},{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:ci-run-7"}}]}', filter), [
    ['{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:i-0abc1234"}}', 1],
    ['{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:ci-run-7"}}', 0],
  ]);
  // With nothing else to go on, the unselective field still beats no pre-filter at all.
  assert.deepEqual(keysOf({ id: 'r5', service: 'cloudtrail', requiredValues: { 'userIdentity.type': ['root'] }, match: () => true }), ['type', 'userIdentity.type']);
});
