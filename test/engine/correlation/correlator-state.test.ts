/**
 * The correlator's time and state semantics: bursts (one alert per group per burst), the
 * alert's fields, event-time windows under out-of-order delivery and a finite lateness, and the
 * bounds on state (eviction, caps, counters, warnings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsOf, envelopeOf, event, HOUR, loadSet, MINUTE, run, SECOND } from './helpers.ts';
import { Detector } from '../../../src/engine/detector.ts';
import type { DetectorOptions } from '../../../src/engine/detector.ts';
import type { Alert } from '../../../src/core/alert.ts';
import type { LogRecord } from '../../../src/core/envelope.ts';

const C = 'c0000000-0000-4000-8000-000000000001';

const YAML = `
title: Any X call
id: a0000000-0000-4000-8000-0000000000ff
name: any_x
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: X}
    condition: selection
---
title: Three X calls in ten minutes
id: ${C}
name: three_x
level: medium
tags: [attack.discovery, attack.t1580]
correlation:
    type: event_count
    rules: [any_x]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {gte: 3}
`;

const set = loadSet(YAML);
const arn = (name: string): LogRecord => ({ userIdentity: { arn: `arn:aws:iam::111122223333:user/${name}` } });
const x = (offset: number, who = 'alice', extra: LogRecord = {}): LogRecord => event(offset, { eventName: 'X', ...arn(who), recipientAccountId: '111122223333', awsRegion: 'eu-west-1', sourceIPAddress: '198.51.100.7', ...extra });

function detector(options: Partial<DetectorOptions> = {}): Detector {
  return new Detector({ rules: set.rules, correlations: set.correlations, filters: set.filters, includeEvents: false, ...options });
}

test('one alert per group per burst: extra events inside the window join it, they do not raise more alerts', () => {
  const records = Array.from({ length: 50 }, (_, i) => x(i * SECOND));
  const alerts = alertsOf(run(set, records), C);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.count, 50);
});

test('a persistent activity alerts once per timespan: the next burst starts after the previous window', () => {
  const records = Array.from({ length: 180 }, (_, i) => x(i * MINUTE)); // one a minute for three hours
  const alerts = alertsOf(run(set, records), C);
  assert.equal(alerts.length, 17, 'windows [0,10], [11,21], ..., [176,186] minutes');
  for (let i = 1; i < alerts.length; i++) {
    const previous = alerts[i - 1]?.correlation?.window.end ?? '';
    const start = alerts[i]?.correlation?.window.start ?? '';
    assert.ok(start > previous, 'windows of one group never overlap');
  }
});

test('alert fields: rule, ATT&CK, time of the last event, window, group, value, context, count', () => {
  const [alert] = alertsOf(run(set, [x(0), x(2 * MINUTE), x(3 * MINUTE)]), C);
  assert.ok(alert);
  assert.deepEqual(alert.rule, { id: C, name: 'three_x', title: 'Three X calls in ten minutes', level: 'medium' });
  assert.deepEqual(alert.attack.techniques, ['T1580']);
  assert.equal(alert.time, '2026-03-01T10:03:00.000Z');
  assert.deepEqual(alert.correlation?.window, { start: '2026-03-01T10:00:00.000Z', end: '2026-03-01T10:10:00.000Z' });
  assert.deepEqual(alert.correlation?.group, { 'userIdentity.arn': 'arn:aws:iam::111122223333:user/alice' });
  assert.equal((alert.correlation as { value?: number }).value, 3);
  assert.equal(alert.correlation?.value_count, undefined, 'value_count is for value_count correlations');
  assert.equal(alert.source, 'cloudtrail');
  assert.equal(alert.account, '111122223333');
  assert.equal(alert.actor, 'arn:aws:iam::111122223333:user/alice');
  assert.equal(alert.region, 'eu-west-1');
  assert.equal(alert.source_ip, '198.51.100.7');
  assert.equal(alert.count, 3);
  assert.equal(alert.event_ids.length, 3);
});

test('event_ids are capped at 100; count stays exact', () => {
  const [alert] = alertsOf(run(set, Array.from({ length: 250 }, (_, i) => x(i * 100))), C);
  assert.equal(alert?.event_ids.length, 100);
  assert.equal(alert?.count, 250);
});

test('the same events give the same alert (id, ids, window) whatever the delivery order', () => {
  const records = [x(0), x(MINUTE), x(90 * SECOND), x(2 * MINUTE), x(4 * MINUTE, 'bob'), x(5 * MINUTE, 'bob'), x(6 * MINUTE, 'bob')];
  const reference = alertsOf(run(set, records), C);
  assert.equal(reference.length, 2);
  let seed = 7;
  for (let round = 0; round < 20; round++) {
    const shuffled = [...records].sort(() => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    });
    assert.deepEqual(alertsOf(run(set, shuffled), C), reference);
  }
});

test('a duplicate delivery of the same event (same eventID) counts once', () => {
  const first = x(0);
  const second = x(MINUTE);
  assert.equal(alertsOf(run(set, [first, second, { ...second }]), C).length, 0);
  assert.equal(detectorStats([first, second, { ...second }]).duplicateEvents, 1);
});

test('events without an event time are not correlated, and counted', () => {
  const untimed = [x(0), x(MINUTE), { ...x(2 * MINUTE), eventTime: undefined }];
  assert.equal(alertsOf(run(set, untimed), C).length, 0);
  assert.equal(detectorStats(untimed).untimedEvents, 1);
});

function detectorStats(records: readonly LogRecord[], options: Partial<DetectorOptions> = {}): NonNullable<ReturnType<Detector['correlationStats']>> {
  const d = detector(options);
  const out: Alert[] = [];
  records.forEach((record, index) => d.process(envelopeOf(record, index), out));
  d.flush(out);
  const stats = d.correlationStats();
  assert.ok(stats);
  return stats;
}

// ------------------------------------------------------------------ event time, lateness

test('unbounded lateness (default): nothing is decided before the end of input; any order works', () => {
  const d = detector();
  const out: Alert[] = [];
  [x(3 * HOUR), x(0), x(2 * HOUR), x(MINUTE), x(5 * HOUR), x(2 * MINUTE)].forEach((record, i) => d.process(envelopeOf(record, i), out));
  assert.equal(out.length, 0);
  d.flush(out);
  assert.equal(alertsOf(out, C).length, 1);
});

test('finite lateness: a window is decided, and alerts, as soon as the watermark (latest time - lateness) passes its end', () => {
  const d = detector({ lateness: 5 * MINUTE });
  const out: Alert[] = [];
  [x(0), x(MINUTE), x(2 * MINUTE)].forEach((record, i) => d.process(envelopeOf(record, i), out));
  d.process(envelopeOf(x(15 * MINUTE, 'bob')), out);
  assert.equal(alertsOf(out, C).length, 0, 'watermark 10:10 is not past the window end 10:10');
  d.process(envelopeOf(x(15 * MINUTE + 1, 'bob')), out);
  assert.equal(alertsOf(out, C).length, 1, 'emitted before flush');
  d.flush(out);
  assert.equal(alertsOf(out, C).length, 1);
});

test('finite lateness: a burst split across two files delivered in reverse order is found when the disorder is within the lateness', () => {
  const file1 = [x(0), x(MINUTE)];
  const file2 = [x(4 * MINUTE), x(9 * MINUTE), x(14 * MINUTE, 'bob')];
  const alerts = run(set, [...file2, ...file1], { lateness: 15 * MINUTE });
  assert.equal(alertsOf(alerts, C).length, 1);
});

test('finite lateness: events later than the lateness are counted, warned about, and not correlated', () => {
  const warnings: string[] = [];
  const file1 = [x(0), x(MINUTE), x(2 * MINUTE)];
  const file2 = [x(HOUR, 'bob'), x(HOUR + MINUTE, 'bob')];
  const d = detector({ lateness: 15 * MINUTE, onWarning: (message) => warnings.push(message) });
  const out: Alert[] = [];
  [...file2, ...file1].forEach((record, i) => d.process(envelopeOf(record, i), out));
  d.flush(out);
  assert.equal(alertsOf(out, C).length, 0);
  assert.equal(d.correlationStats()?.lateEvents, 3);
  assert.equal(warnings.length, 1, 'warned once, when it first happened');
  assert.match(d.correlationWarnings().join('\n'), /3 events arrived more than 15m behind/);
});

test('finite lateness: memory does not grow with the length of the input (expired groups are evicted)', () => {
  const d = detector({ lateness: 5 * MINUTE });
  const out: Alert[] = [];
  let peakBuffered = 0;
  for (let i = 0; i < 20_000; i++) {
    d.process(envelopeOf(x(i * SECOND, `user-${i % 100}`), i), out);
    if (i % 1000 === 999) peakBuffered = Math.max(peakBuffered, d.correlationStats()?.bufferedEntries ?? 0);
  }
  const stats = d.correlationStats();
  assert.ok(stats);
  assert.ok(stats.liveGroups <= 100);
  assert.ok(peakBuffered <= 1000, `at most ~15 minutes of events are buffered (${peakBuffered})`);
  assert.equal(stats.groupsEvicted, 0, 'the cap never bit');
  assert.ok(alertsOf(out, C).length > 0);
});

// ------------------------------------------------------------------ caps

test('the live-group cap bounds state: the least recently active groups are closed early, counted, warned about', () => {
  const warnings: string[] = [];
  const d = detector({ maxGroups: 100, onWarning: (message) => warnings.push(message) });
  const out: Alert[] = [];
  for (let i = 0; i < 1000; i++) d.process(envelopeOf(x(i * SECOND, `user-${i}`), i), out);
  const stats = d.correlationStats();
  assert.ok(stats);
  assert.ok(stats.peakGroups <= 100, String(stats.peakGroups));
  assert.equal(stats.groupsEvicted, 900);
  assert.equal(warnings.length, 1);
  assert.match(d.correlationWarnings()[0] ?? '', /--max-groups/);
});

test('a group closed early by the cap still raises the burst it holds', () => {
  const d = detector({ maxGroups: 2 });
  const out: Alert[] = [];
  [x(0), x(SECOND), x(2 * SECOND), x(3 * SECOND, 'bob'), x(4 * SECOND, 'carol'), x(5 * SECOND, 'dave')].forEach((record, i) => d.process(envelopeOf(record, i), out));
  assert.equal(alertsOf(out, C).length, 1, 'alice was evicted, and her burst alerted on eviction');
  d.flush(out);
  assert.equal(alertsOf(out, C).length, 1);
});

test('the per-group cap decides the oldest windows early and keeps the buffer bounded', () => {
  const d = detector({ maxGroupEvents: 100 });
  const out: Alert[] = [];
  let peak = 0;
  for (let i = 0; i < 5000; i++) {
    d.process(envelopeOf(x(i * 20 * SECOND), i), out);
    peak = Math.max(peak, d.correlationStats()?.bufferedEntries ?? 0);
  }
  d.flush(out);
  assert.ok(peak <= 101, String(peak));
  assert.ok((d.correlationStats()?.earlyDecisions ?? 0) > 0);
  const alerts = alertsOf(out, C);
  assert.equal(alerts.length, Math.ceil(5000 / 31), 'a ten-minute window holds 31 events at 20 s intervals (both ends included); the last holds 9');
});
