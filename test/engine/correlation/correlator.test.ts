/**
 * Conformance suite for Sigma correlation rules (sigma-correlation-rules-specification.md), on
 * event time: for every correlation type, cases that must fire and cases that must not,
 * window edges, out-of-order input, ranges, group-by with missing fields, aliases, chaining and
 * generate. Events are CloudTrail-shaped; rules are real Sigma YAML compiled by the loader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsOf, event, HOUR, loadSet, MINUTE, run, SECOND } from './helpers.ts';
import type { LogRecord } from '../../../src/core/envelope.ts';

const C = 'c0000000-0000-4000-8000-000000000001';
const OUTER = 'c0000000-0000-4000-8000-000000000002';

/** Detection rules a, b, c (eventName A, B, C) and `any` (eventName starting with X). */
const BASE = `
title: Rule A
id: a0000000-0000-4000-8000-00000000000a
name: rule_a
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: A}
    condition: selection
level: low
---
title: Rule B
id: a0000000-0000-4000-8000-00000000000b
name: rule_b
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: B}
    condition: selection
level: low
---
title: Rule C
id: a0000000-0000-4000-8000-00000000000c
name: rule_c
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: C}
    condition: selection
level: low
---
title: Any X call
id: a0000000-0000-4000-8000-0000000000ff
name: any_x
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: X}
    condition: selection
level: low
`;

function withCorrelation(section: string, extra = ''): string {
  return `${BASE}---\ntitle: The correlation\nid: ${C}\nname: the_correlation\nlevel: high\n${extra}correlation:\n${section}`;
}

function fires(yaml: string, records: readonly LogRecord[], id = C): number {
  const set = loadSet(yaml);
  assert.deepEqual(set.errors, []);
  assert.ok(set.correlations.some((rule) => rule.id === id), 'the correlation loaded');
  return alertsOf(run(set, records), id).length;
}

const user = (arn: string): LogRecord => ({ userIdentity: { arn } });
const alice = user('arn:aws:iam::111122223333:user/alice');
const bob = user('arn:aws:iam::111122223333:user/bob');

// ---------------------------------------------------------------- event_count

const EVENT_COUNT = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {gte: 3}\n');

test('event_count: fires on 3 events of one group within the timespan, not on 2', () => {
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X1', ...alice }), event(MINUTE, { eventName: 'X1', ...alice }), event(2 * MINUTE, { eventName: 'X2', ...alice })]), 1);
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X1', ...alice }), event(MINUTE, { eventName: 'X1', ...alice })]), 0);
});

test('event_count: window edges: exactly the timespan apart fires, one millisecond over does not', () => {
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X', ...alice }), event(5 * MINUTE, { eventName: 'X', ...alice }), event(10 * MINUTE, { eventName: 'X', ...alice })]), 1);
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X', ...alice }), event(5 * MINUTE, { eventName: 'X', ...alice }), event(10 * MINUTE + 1, { eventName: 'X', ...alice })]), 0);
});

test('event_count: the window slides: 3 events straddling a clock boundary (10:08-10:12) fire', () => {
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X', ...alice }), event(8 * MINUTE, { eventName: 'X', ...alice }), event(11 * MINUTE, { eventName: 'X', ...alice }), event(12 * MINUTE, { eventName: 'X', ...alice })]), 1);
});

test('event_count: groups are separate; rules not referenced do not count', () => {
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...bob }), event(2 * MINUTE, { eventName: 'X', ...alice })]), 0);
  assert.equal(fires(EVENT_COUNT, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(2 * MINUTE, { eventName: 'X', ...alice })]), 0);
});

test('event_count: a range (gt 2, lte 4) fires on 3 or 4 events in a window, not on 6', () => {
  const range = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {gt: 2, lte: 4}\n');
  const burst = (n: number): LogRecord[] => Array.from({ length: n }, (_, i) => event(i * SECOND, { eventName: 'X', ...alice }));
  assert.equal(fires(range, burst(2)), 0);
  assert.equal(fires(range, burst(3)), 1);
  assert.equal(fires(range, burst(4)), 1);
  assert.equal(fires(range, burst(6)), 0, 'a sub-window of 6 events is not a window of 4');
});

test('event_count: lt, eq and neq', () => {
  const rare = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {lt: 2}\n');
  assert.equal(fires(rare, [event(0, { eventName: 'X', ...alice })]), 1, 'a lone event is fewer than 2');
  assert.equal(fires(rare, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...alice })]), 0);
  const exactly = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {eq: 2}\n');
  assert.equal(fires(exactly, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...alice })]), 1);
  assert.equal(fires(exactly, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...alice }), event(2 * MINUTE, { eventName: 'X', ...alice })]), 0);
  const not = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {neq: 1}\n');
  assert.equal(fires(not, [event(0, { eventName: 'X', ...alice })]), 0);
  assert.equal(fires(not, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...alice })]), 1);
});

// ---------------------------------------------------------------- value_count

const VALUE_COUNT = withCorrelation('    type: value_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {field: eventName, gte: 3}\n');

test('value_count: counts distinct values, not events', () => {
  assert.equal(fires(VALUE_COUNT, ['X1', 'X2', 'X3'].map((name, i) => event(i * MINUTE, { eventName: name, ...alice }))), 1);
  assert.equal(fires(VALUE_COUNT, Array.from({ length: 50 }, (_, i) => event(i * SECOND, { eventName: i % 2 ? 'X1' : 'X2', ...alice }))), 0);
});

test('value_count: a missing field is not a value', () => {
  const yaml = withCorrelation('    type: value_count\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {field: awsRegion, gte: 2}\n');
  assert.equal(fires(yaml, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', awsRegion: 'eu-west-1', ...alice })]), 0);
  assert.equal(fires(yaml, [event(0, { eventName: 'X', awsRegion: 'us-east-1', ...alice }), event(MINUTE, { eventName: 'X', awsRegion: 'eu-west-1', ...alice })]), 1);
});

test('value_count: several fields count distinct combinations', () => {
  const yaml = withCorrelation('    type: value_count\n    rules: [any_x]\n    timespan: 10m\n    condition: {field: [eventName, awsRegion], gte: 3}\n');
  const records = [['X1', 'a'], ['X1', 'b'], ['X2', 'a']].map(([name, region], i) => event(i * SECOND, { eventName: name, awsRegion: region }));
  assert.equal(fires(yaml, records), 1);
  assert.equal(fires(yaml, records.slice(0, 2)), 0);
});

test('value_count: the alert carries the distinct values and value_count', () => {
  const set = loadSet(VALUE_COUNT);
  const [alert] = alertsOf(run(set, ['X3', 'X1', 'X2', 'X1'].map((name, i) => event(i * MINUTE, { eventName: name, ...alice }))), C);
  assert.ok(alert?.correlation);
  assert.equal(alert.correlation.type, 'value_count');
  assert.equal(alert.correlation.value_count, 3);
  assert.deepEqual((alert.correlation as { values?: string[] }).values, ['X1', 'X2', 'X3']);
  assert.equal(alert.count, 4);
});

// ---------------------------------------------------------------- temporal / temporal_ordered

const TEMPORAL = withCorrelation('    type: temporal\n    rules: [rule_a, rule_b, rule_c]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n');
const ORDERED = withCorrelation('    type: temporal_ordered\n    rules: [rule_a, rule_b, rule_c]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n');

test('temporal: all referenced rules within the timespan, in any order', () => {
  assert.equal(fires(TEMPORAL, [event(0, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(2 * MINUTE, { eventName: 'B', ...alice })]), 1);
  assert.equal(fires(TEMPORAL, [event(0, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(2 * MINUTE, { eventName: 'A', ...alice })]), 0, 'B never happened');
  assert.equal(fires(TEMPORAL, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'B', ...alice }), event(5 * MINUTE + 1, { eventName: 'C', ...alice })]), 0, 'C one ms too late');
  assert.equal(fires(TEMPORAL, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'B', ...bob }), event(2 * MINUTE, { eventName: 'C', ...alice })]), 0, 'B by someone else');
});

test('temporal: a condition relaxes "all rules" (gte 2 of 3)', () => {
  const yaml = withCorrelation('    type: temporal\n    rules: [rule_a, rule_b, rule_c]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n    condition: {gte: 2}\n');
  assert.equal(fires(yaml, [event(0, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'A', ...alice })]), 1);
  assert.equal(fires(yaml, [event(0, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'C', ...alice })]), 0);
});

test('temporal_ordered: the rules must occur in the order listed', () => {
  assert.equal(fires(ORDERED, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'B', ...alice }), event(2 * MINUTE, { eventName: 'C', ...alice })]), 1);
  assert.equal(fires(ORDERED, [event(0, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'B', ...alice }), event(2 * MINUTE, { eventName: 'A', ...alice })]), 0);
  assert.equal(fires(ORDERED, [event(0, { eventName: 'B', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(2 * MINUTE, { eventName: 'C', ...alice })]), 0);
  assert.equal(fires(ORDERED, [event(0, { eventName: 'B', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(2 * MINUTE, { eventName: 'B', ...alice }), event(3 * MINUTE, { eventName: 'C', ...alice })]), 1, 'A, then B, then C can be picked among others');
});

test('temporal_ordered: equal timestamps count as in order (CloudTrail has one-second resolution)', () => {
  assert.equal(fires(ORDERED, [event(0, { eventName: 'A', ...alice }), event(0, { eventName: 'B', ...alice }), event(0, { eventName: 'C', ...alice })]), 1);
});

test('temporal_ordered: the order is event time, not arrival: reversed delivery still fires', () => {
  assert.equal(fires(ORDERED, [event(2 * MINUTE, { eventName: 'C', ...alice }), event(MINUTE, { eventName: 'B', ...alice }), event(0, { eventName: 'A', ...alice })]), 1);
});

// ---------------------------------------------------------------- value_sum / value_avg / value_percentile / value_median

const bytes = (n: unknown, offset: number): LogRecord => event(offset, { eventName: 'X', ...alice, additionalEventData: { bytesTransferredOut: n } });

test('value_sum: sums a numeric field (numbers and numeric strings), ignoring non-numbers', () => {
  const yaml = withCorrelation('    type: value_sum\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {field: additionalEventData.bytesTransferredOut, gt: 1000}\n');
  assert.equal(fires(yaml, [bytes(600, 0), bytes('500', MINUTE)]), 1);
  assert.equal(fires(yaml, [bytes(600, 0), bytes('n/a', MINUTE), bytes(400, 2 * MINUTE)]), 0, '1000 is not gt 1000');
  assert.equal(fires(yaml, [bytes(600, 0), bytes(500, HOUR + 1)]), 0, 'outside the timespan');
});

test('value_avg: the average of the field in a window', () => {
  const yaml = withCorrelation('    type: value_avg\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {field: additionalEventData.bytesTransferredOut, gt: 500}\n');
  assert.equal(fires(yaml, [bytes(400, 0), bytes(700, MINUTE)]), 1);
  assert.equal(fires(yaml, [bytes(400, 0), bytes(550, MINUTE), bytes(100, 2 * MINUTE)]), 0);
  assert.equal(fires(yaml, [bytes(2000, 0), ...Array.from({ length: 10 }, (_, i) => bytes(10, (i + 1) * MINUTE))]), 0, 'one large value among many small ones (avg 190): no sub-window starting at a later event counts');
  assert.equal(fires(yaml, [...Array.from({ length: 10 }, (_, i) => bytes(10, i * MINUTE)), bytes(2000, 10 * MINUTE)]), 0, 'nor a large value at the end (avg 190)');
});

test('value_percentile: the given percentile of the field (linear interpolation)', () => {
  const yaml = withCorrelation('    type: value_percentile\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {field: additionalEventData.bytesTransferredOut, percentile: 90, gte: 91}\n');
  const values = Array.from({ length: 11 }, (_, i) => i * 10); // 0..100; p90 = 90
  assert.equal(fires(yaml, values.map((v, i) => bytes(v, i * SECOND))), 0);
  assert.equal(fires(yaml, values.map((v, i) => bytes(v === 90 ? 95 : v, i * SECOND))), 1, 'p90 becomes 95');
});

test('value_median: the 50th percentile', () => {
  const yaml = withCorrelation('    type: value_median\n    rules: [any_x]\n    group-by: [userIdentity.arn]\n    timespan: 1h\n    condition: {field: additionalEventData.bytesTransferredOut, gt: 100}\n');
  assert.equal(fires(yaml, [bytes(1, 0), bytes(1000, SECOND), bytes(1000, 2 * SECOND)]), 1);
  assert.equal(fires(yaml, [bytes(1, 0), bytes(1, SECOND), bytes(100_000, 2 * SECOND)]), 0, 'a single outlier does not move the median');
  assert.equal(fires(yaml, [bytes(50, 0), bytes(151, SECOND)]), 1, 'median of two values is their mean (100.5)');
});

// ---------------------------------------------------------------- group-by

test('group-by: several fields are ANDed; a missing field is its own group value (null), never a crash', () => {
  const yaml = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [recipientAccountId, userIdentity.arn]\n    timespan: 10m\n    condition: {gte: 2}\n');
  const set = loadSet(yaml);
  const alerts = alertsOf(run(set, [
    event(0, { eventName: 'X', recipientAccountId: '1', ...alice }),
    event(MINUTE, { eventName: 'X', recipientAccountId: '2', ...alice }),
    event(2 * MINUTE, { eventName: 'X' }),
    event(3 * MINUTE, { eventName: 'X', userIdentity: null }),
  ]), C);
  assert.equal(alerts.length, 1, 'only the two events without account and principal group together');
  assert.deepEqual(alerts[0]?.correlation?.group, { recipientAccountId: null, 'userIdentity.arn': null });
});

test('group-by: without group-by every event is in one group', () => {
  const yaml = withCorrelation('    type: event_count\n    rules: [any_x]\n    timespan: 10m\n    condition: {gte: 2}\n');
  assert.equal(fires(yaml, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...bob })]), 1);
});

test('group-by: a field holding several values puts the event in each value\'s group', () => {
  const yaml = withCorrelation('    type: event_count\n    rules: [any_x]\n    group-by: [requestParameters.instancesSet.items.instanceId]\n    timespan: 10m\n    condition: {gte: 2}\n');
  const stop = (offset: number, ids: string[]): LogRecord => event(offset, { eventName: 'X', requestParameters: { instancesSet: { items: ids.map((instanceId) => ({ instanceId })) } } });
  const set = loadSet(yaml);
  const alerts = alertsOf(run(set, [stop(0, ['i-1', 'i-2']), stop(MINUTE, ['i-2', 'i-3'])]), C);
  assert.deepEqual(alerts.map((alert) => alert.correlation?.group), [{ 'requestParameters.instancesSet.items.instanceId': 'i-2' }]);
});

test('group values are compared as Sigma does: numbers and strings of the same digits are one group', () => {
  assert.equal(fires(EVENT_COUNT.replace('group-by: [userIdentity.arn]', 'group-by: [recipientAccountId]'), [
    event(0, { eventName: 'X', recipientAccountId: '111122223333' }),
    event(MINUTE, { eventName: 'X', recipientAccountId: 111122223333 }),
    event(2 * MINUTE, { eventName: 'X', recipientAccountId: '111122223333' }),
  ]), 1);
});

// ---------------------------------------------------------------- aliases

const ALIASES = withCorrelation(`    type: temporal
    rules: [rule_a, rule_b]
    group-by: [internal_ip]
    timespan: 10s
    aliases:
        internal_ip:
            rule_a: destination.ip
            rule_b: source.ip
`);

test('aliases: a group-by name reads a different field in each rule\'s events (spec example)', () => {
  assert.equal(fires(ALIASES, [event(0, { eventName: 'A', destination: { ip: '10.0.0.5' } }), event(5 * SECOND, { eventName: 'B', source: { ip: '10.0.0.5' } })]), 1);
  assert.equal(fires(ALIASES, [event(0, { eventName: 'A', destination: { ip: '10.0.0.5' } }), event(5 * SECOND, { eventName: 'B', source: { ip: '10.0.0.6' }, destination: { ip: '10.0.0.5' } })]), 0);
  const set = loadSet(ALIASES);
  const [alert] = alertsOf(run(set, [event(0, { eventName: 'A', destination: { ip: '10.0.0.5' } }), event(SECOND, { eventName: 'B', source: { ip: '10.0.0.5' } })]), C);
  assert.deepEqual(alert?.correlation?.group, { internal_ip: '10.0.0.5' });
});

test('aliases: an alias naming a rule the correlation does not reference, or missing a referenced rule, is an error', () => {
  const unknown = loadSet(withCorrelation('    type: temporal\n    rules: [rule_a, rule_b]\n    group-by: [ip]\n    timespan: 10s\n    aliases:\n        ip: {rule_a: x, rule_c: y}\n'));
  assert.ok(unknown.errors.some((error) => error.code === 'TH_RULE_REFERENCE' && /rule_c/.test(error.message)));
  const missing = loadSet(withCorrelation('    type: temporal\n    rules: [rule_a, rule_b]\n    group-by: [ip]\n    timespan: 10s\n    aliases:\n        ip: {rule_a: x}\n'));
  assert.ok(missing.errors.some((error) => error.code === 'TH_RULE_SCHEMA' && /gives no field for rule rule_b/.test(error.message)));
  assert.equal(missing.correlations.length, 0);
});

// ---------------------------------------------------------------- references

test('rules are referenced by name or by id, and rule files may mix detection and correlation documents', () => {
  const byId = withCorrelation('    type: event_count\n    rules: [a0000000-0000-4000-8000-0000000000ff]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {gte: 2}\n');
  assert.equal(fires(byId, [event(0, { eventName: 'X', ...alice }), event(MINUTE, { eventName: 'X', ...alice })]), 1);
});

test('an unknown reference is a located TH_RULE_REFERENCE and the correlation is left out', () => {
  const set = loadSet(withCorrelation('    type: event_count\n    rules: [any_x, no_such_rule]\n    timespan: 10m\n    condition: {gte: 2}\n'));
  const error = set.errors.find((candidate) => candidate.code === 'TH_RULE_REFERENCE');
  assert.ok(error);
  assert.match(error.message, /no_such_rule/);
  assert.match(error.location, /^test\.yml:\d+:\d+$/);
  assert.equal(set.correlations.length, 0);
  assert.equal(set.rules.length, 4, 'the detection rules still load');
});

test('a cycle of correlations is rejected', () => {
  const yaml = `${BASE}---
title: One
id: ${C}
name: one
correlation: {type: temporal, rules: [rule_a, two], group-by: [x], timespan: 1m}
---
title: Two
id: ${OUTER}
name: two
correlation: {type: temporal, rules: [rule_b, one], group-by: [x], timespan: 1m}
`;
  const set = loadSet(yaml);
  assert.equal(set.correlations.length, 0);
  assert.ok(set.errors.some((error) => error.code === 'TH_RULE_REFERENCE' && /itself/.test(error.message)));
});

// ---------------------------------------------------------------- chaining and generate

const CHAIN = `${BASE}---
title: Many failures then success
id: ${OUTER}
name: failures_then_success
level: critical
correlation:
    type: temporal_ordered
    rules: [many_failures, rule_b]
    group-by: [userIdentity.arn]
    timespan: 10m
---
title: Many failures
id: ${C}
name: many_failures
correlation:
    type: event_count
    rules: [rule_a]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {gte: 3}
`;

test('chaining: a correlation of a correlation (spec example: many failed logins, then a success)', () => {
  const set = loadSet(CHAIN);
  assert.deepEqual(set.errors, []);
  const failures = [0, 1, 2].map((m) => event(m * MINUTE, { eventName: 'A', ...alice }));
  const alerts = run(set, [...failures, event(4 * MINUTE, { eventName: 'B', ...alice })]);
  assert.equal(alertsOf(alerts, OUTER).length, 1);
  assert.equal(alertsOf(alerts, C).length, 0, 'the inner correlation does not alert (generate: false)');
  assert.equal(alerts.length, 1, 'nor do the rules it references');
  const outer = alertsOf(alerts, OUTER)[0];
  assert.equal(outer?.count, 4, 'three failures and the success');
  assert.equal(outer?.event_ids.length, 4);
  assert.equal(outer?.rule.level, 'critical');
});

test('chaining: the success before the third failure, or by another principal, does not fire', () => {
  const set = loadSet(CHAIN);
  const early = run(set, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'A', ...alice }), event(90 * SECOND, { eventName: 'B', ...alice }), event(2 * MINUTE, { eventName: 'A', ...alice })]);
  assert.equal(alertsOf(early, OUTER).length, 0);
  const other = run(set, [0, 1, 2].map((m) => event(m * MINUTE, { eventName: 'A', ...alice })).concat(event(4 * MINUTE, { eventName: 'B', ...bob })));
  assert.equal(alertsOf(other, OUTER).length, 0);
});

test('chaining: order-independent and with a finite lateness (inner windows close before the outer one decides)', () => {
  const set = loadSet(CHAIN);
  const records = [...[0, 1, 2].map((m) => event(m * MINUTE, { eventName: 'A', ...alice })), event(4 * MINUTE, { eventName: 'B', ...alice })];
  assert.equal(alertsOf(run(set, [...records].reverse()), OUTER).length, 1);
  const streaming = [...records, event(2 * HOUR, { eventName: 'Z' })];
  assert.equal(alertsOf(run(set, streaming, { lateness: 5 * MINUTE }), OUTER).length, 1);
});

test('generate: true makes the referenced rules alert as well', () => {
  const yaml = withCorrelation('    type: event_count\n    rules: [rule_a]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {gte: 2}\n', 'generate: true\n');
  const set = loadSet(yaml);
  const alerts = run(set, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'A', ...alice })]);
  assert.equal(alertsOf(alerts, C).length, 1);
  assert.equal(alertsOf(alerts, 'a0000000-0000-4000-8000-00000000000a').length, 2);
});

test('generate: by default a referenced rule raises no alert of its own; unreferenced rules still do', () => {
  const set = loadSet(withCorrelation('    type: event_count\n    rules: [rule_a]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition: {gte: 2}\n'));
  const alerts = run(set, [event(0, { eventName: 'A', ...alice }), event(MINUTE, { eventName: 'B', ...alice })]);
  assert.deepEqual(alerts.map((alert) => alert.rule.name), ['rule_b']);
});
