/**
 * Correlation state across a restart: a snapshot taken mid-window, through JSON, restored into
 * a new detector, gives the same alerts as an uninterrupted run; state of correlations that
 * are gone is dropped and counted; advanceEventTime closes windows on any record's time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsOf, envelopeOf, event, loadSet, MINUTE } from '../engine/correlation/helpers.ts';
import { Detector } from '../../src/engine/detector.ts';
import type { Alert } from '../../src/core/alert.ts';
import type { CorrelationSnapshot } from '../../src/engine/correlation/snapshot.ts';
import type { LogRecord } from '../../src/core/envelope.ts';

const C = 'c0000000-0000-4000-8000-0000000000aa';
const YAML = `
title: Describe
id: a0000000-0000-4000-8000-0000000000a1
name: describe_call
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: Describe}
    condition: selection
---
title: Many distinct Describe calls
id: ${C}
name: describe_burst
level: low
correlation:
    type: value_count
    rules: [describe_call]
    group-by: [userIdentity.arn]
    timespan: 30m
    condition: {field: eventName, gte: 4}
`;
const set = loadSet(YAML);
const detector = (loaded = set, includeEvents = true): Detector => new Detector({ rules: loaded.rules, correlations: loaded.correlations, includeEvents, lateness: 15 * MINUTE });
const call = (minute: number, name: string, who = 'recon'): LogRecord => event(minute * MINUTE, { eventName: name, userIdentity: { arn: `arn:aws:iam::111122223333:user/${who}` }, recipientAccountId: '111122223333' });

function feed(target: Detector, records: readonly LogRecord[], out: Alert[]): void {
  for (const record of records) {
    const envelope = envelopeOf(record);
    target.process(envelope, out);
    target.advanceEventTime(envelope.time, out);
  }
}

test('a snapshot taken mid-window and restored from JSON gives the same alerts as an uninterrupted run', () => {
  const first = [call(0, 'DescribeInstances'), call(1, 'DescribeVpcs'), call(2, 'DescribeInstances', 'other')];
  const second = [call(5, 'DescribeKeyPairs'), call(6, 'DescribeImages'), call(120, 'Nothing')];

  const whole: Alert[] = [];
  feed(detector(), [...first, ...second], whole);

  const before = detector();
  const out: Alert[] = [];
  feed(before, first, out);
  const snapshot = JSON.parse(JSON.stringify(before.correlationSnapshot())) as CorrelationSnapshot;
  assert.equal(snapshot.groups.length, 2);
  const after = detector();
  assert.deepEqual(after.restoreCorrelations(snapshot), { groups: 2, entries: 3, droppedGroups: 0 });
  feed(after, second, out);

  assert.equal(alertsOf(whole, C).length, 1);
  assert.deepEqual(out, whole);
  assert.equal(alertsOf(out, C)[0]?.count, 4);
  assert.equal(alertsOf(out, C)[0]?.events?.length, 4, 'embedded records survive the snapshot');
});

test('without advanceEventTime a window stays open until a correlated event comes; with it, any record closes it', () => {
  const records = [call(0, 'DescribeA'), call(1, 'DescribeB'), call(2, 'DescribeC'), call(3, 'DescribeD')];
  const quiet = detector();
  const out: Alert[] = [];
  for (const record of records) quiet.process(envelopeOf(record), out);
  quiet.process(envelopeOf(event(120 * MINUTE, { eventName: 'Unrelated' })), out);
  assert.equal(alertsOf(out, C).length, 0, 'an uncorrelated record does not move the correlator by itself');
  quiet.advanceEventTime(Date.parse('2026-03-01T12:00:00Z'), out);
  assert.equal(alertsOf(out, C).length, 1);
});

test('groups of correlations no longer loaded, or whose group-by changed, are dropped and counted', () => {
  const source = detector();
  feed(source, [call(0, 'DescribeInstances')], []);
  const snapshot = source.correlationSnapshot() as CorrelationSnapshot;
  const changed = loadSet(YAML.replace('group-by: [userIdentity.arn]', 'group-by: [recipientAccountId]'));
  const target = detector(changed, false);
  assert.deepEqual(target.restoreCorrelations(snapshot), { groups: 0, entries: 0, droppedGroups: 1 });
  const none = new Detector({ rules: set.rules, includeEvents: false });
  assert.deepEqual(none.restoreCorrelations(snapshot), { groups: 0, entries: 0, droppedGroups: 1 });
});
