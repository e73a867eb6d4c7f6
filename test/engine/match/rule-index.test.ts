import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleIndex } from '../../../src/engine/match/rule-index.ts';
import { sourcesOfRule } from '../../../src/sigma/log-sources.ts';
import { cloudTrailEnvelope, fakeRule } from '../fake-rule.ts';
import { Detector } from '../../../src/engine/detector.ts';
import type { Alert } from '../../../src/core/alert.ts';
import type { CompiledDetectionRule } from '../../../src/sigma/types.ts';

const createKeyPair = fakeRule({
  id: 'keypair',
  service: 'cloudtrail',
  requiredValues: { eventName: ['createkeypair', 'importkeypair'] },
  match: (record) => record.eventName === 'CreateKeyPair' || record.eventName === 'ImportKeyPair',
});
const bySource = fakeRule({
  id: 'by-source',
  service: 'cloudtrail',
  requiredValues: { eventSource: ['guardduty.amazonaws.com'] },
  match: (record) => record.eventSource === 'guardduty.amazonaws.com',
});
const everything = fakeRule({ id: 'everything', service: 'cloudtrail', match: () => true });
const nested = fakeRule({
  id: 'nested-only',
  service: 'cloudtrail',
  requiredValues: { 'requestParameters.keyName': ['xg1'] },
  match: () => true,
});
const flowOnly = fakeRule({ id: 'flow', service: 'vpcflow', match: () => true });
const windows = fakeRule({ id: 'windows', product: 'windows', service: 'security', match: () => true });

function candidateIds(index: RuleIndex, record: Record<string, unknown>): string[] {
  const ids: string[] = [];
  index.forEachCandidate(cloudTrailEnvelope(record), (rule) => ids.push(rule.id));
  return ids.sort();
}

test('a record is offered only to rules filed under its own eventName, plus unindexed rules', () => {
  const index = new RuleIndex([createKeyPair, bySource, everything, nested, flowOnly]);
  assert.deepEqual(candidateIds(index, { eventName: 'CreateKeyPair', eventSource: 'ec2.amazonaws.com' }), ['everything', 'keypair', 'nested-only']);
  assert.deepEqual(candidateIds(index, { eventName: 'DescribeInstances', eventSource: 'ec2.amazonaws.com' }), ['everything', 'nested-only']);
  assert.deepEqual(candidateIds(index, { eventName: 'DeleteDetector', eventSource: 'guardduty.amazonaws.com' }), ['by-source', 'everything', 'nested-only']);
});

test('index lookups are case-insensitive like Sigma matching', () => {
  const index = new RuleIndex([createKeyPair]);
  assert.deepEqual(candidateIds(index, { eventName: 'createKEYpair' }), ['keypair']);
});

test('an array where a scalar is usual still reaches the rules filed under that field', () => {
  const index = new RuleIndex([createKeyPair, bySource]);
  assert.deepEqual(candidateIds(index, { eventName: ['ImportKeyPair'] }), ['keypair']);
});

test('rules of another log source or product are never candidates', () => {
  const index = new RuleIndex([flowOnly, windows]);
  assert.deepEqual(candidateIds(index, { eventName: 'CreateKeyPair' }), []);
  assert.deepEqual(index.inapplicableRules().map((rule) => rule.id), ['windows']);
  assert.deepEqual(sourcesOfRule(fakeRule({ id: 'any-aws', match: () => true })), ['cloudtrail', 'vpcflow', 'guardduty']);
});

test('matchingRules returns matches in rule load order whatever the index order', () => {
  const index = new RuleIndex([everything, createKeyPair]);
  const matched = index.matchingRules(cloudTrailEnvelope({ eventName: 'CreateKeyPair' }));
  assert.deepEqual(matched.map((rule) => rule.id), ['everything', 'keypair']);
});

test('ordinals and the fingerprint number rules by load order, so a worker and the main thread can agree', () => {
  const a = fakeRule({ id: 'a', service: 'cloudtrail', requiredValues: { eventName: ['x'] }, match: () => true });
  const b = fakeRule({ id: 'b', service: 'cloudtrail', match: () => true });
  const index = new RuleIndex([a, b]);
  assert.equal(index.ordinalOf(a), 0);
  assert.equal(index.ordinalOf(b), 1);
  assert.equal(index.ordinalOf(fakeRule({ id: 'c', match: () => true })), -1);
  assert.equal(new RuleIndex([a, b]).fingerprint(), index.fingerprint());
  assert.notEqual(new RuleIndex([b, a]).fingerprint(), index.fingerprint());
  assert.notEqual(new RuleIndex([a]).fingerprint(), index.fingerprint());
});

test("mayAct hands out the matching rules' ordinals, and process() given them alerts as if it matched itself", () => {
  const stop = fakeRule({ id: 'stop', name: 'stop', service: 'cloudtrail', requiredValues: { eventName: ['stoplogging'] }, match: (r) => r.eventName === 'StopLogging' });
  const any = fakeRule({ id: 'any', name: 'any', service: 'cloudtrail', match: (r) => r.eventSource === 'cloudtrail.amazonaws.com' });
  const detector = new Detector({ rules: [any, stop], includeEvents: false });
  const envelope = cloudTrailEnvelope({ eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', eventTime: '2026-11-03T00:00:00Z', eventID: 'e1' });
  const ordinals: number[] = [];
  assert.equal(detector.matcher.mayAct(envelope, ordinals), true);
  assert.deepEqual(ordinals, [0, 1]);
  const hinted: Alert[] = [];
  detector.process(envelope, hinted, ordinals.map((o) => detector.index.rules[o] as CompiledDetectionRule));
  const plain: Alert[] = [];
  new Detector({ rules: [any, stop], includeEvents: false }).process(envelope, plain);
  assert.deepEqual(hinted.map((alert) => alert.rule.id), ['any', 'stop']);
  assert.deepEqual(hinted, plain);
  // The given rules are taken as they are (the record is not matched again).
  const trusted: Alert[] = [];
  new Detector({ rules: [any, stop], includeEvents: false }).process(envelope, trusted, [stop]);
  assert.deepEqual(trusted.map((alert) => alert.rule.id), ['stop']);
});
