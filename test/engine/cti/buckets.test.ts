import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../../src/core/alert.ts';
import { BUCKET_LATENESS_MS, TimeBuckets, type Bucket } from '../../../src/engine/cti/buckets.ts';

const HOUR = 3_600_000;
const T = Date.parse('2026-11-02T09:00:00Z');

function buckets(options: { maxOpen?: number; maxClosed?: number } = {}): { b: TimeBuckets<string>; out: Alert[] } {
  const out: Alert[] = [];
  const close = (bucket: Bucket<string>): Alert =>
    ({ id: `${bucket.group}@${Number.isNaN(bucket.start) ? "-" : new Date(bucket.start).toISOString().slice(11, 16)}`, count: bucket.count, event_ids: [bucket.state] }) as unknown as Alert;
  return { b: new TimeBuckets<string>({ bucketMs: HOUR, ...options }, close, out), out };
}

const hit = (b: TimeBuckets<string>, group: string, time: number): void => {
  b.at(group, time, () => group).count++;
};
const seen = (out: Alert[]): string[] => out.map((a) => `${a.id} x${a.count}${a.update === true ? ' update' : ''}`);

test('a bucket closes when its group moves past its end plus the lateness, else at flush', () => {
  const { b, out } = buckets();
  hit(b, 'k', T);
  hit(b, 'k', T + 59 * 60_000);
  hit(b, 'k', T + HOUR + 1000); // the next bucket opens; 09:00 is still within lateness
  assert.deepEqual(seen(out), []);
  hit(b, 'other', T + 5 * HOUR); // another group never closes k's buckets
  assert.deepEqual(seen(out), []);
  hit(b, 'k', T + HOUR + BUCKET_LATENESS_MS);
  assert.deepEqual(seen(out), ['k@09:00 x2']);
  b.flush();
  assert.deepEqual(seen(out), ['k@09:00 x2', 'k@10:00 x2', 'other@14:00 x1']);
  assert.equal(b.openCount, 0);
});

test('a match for a closed bucket reopens it: the alert is emitted again with the cumulative count, as an update', () => {
  const { b, out } = buckets();
  hit(b, 'k', T);
  hit(b, 'k', T + 3 * HOUR);
  hit(b, 'k', T + 10 * 60_000); // late: 09:00 already closed
  b.flush();
  assert.deepEqual(seen(out), ['k@09:00 x1', 'k@12:00 x1', 'k@09:00 x2 update']);
  assert.deepEqual(b.stats, { opened: 3, evicted: 0, reopened: 1 });
});

test('open buckets are capped: the oldest opened closes first', () => {
  const { b, out } = buckets({ maxOpen: 2 });
  hit(b, 'a', T);
  hit(b, 'b', T);
  hit(b, 'c', T);
  assert.deepEqual(seen(out), ['a@09:00 x1']);
  hit(b, 'a', T);
  b.flush();
  assert.deepEqual(seen(out), ['a@09:00 x1', 'b@09:00 x1', 'c@09:00 x1', 'a@09:00 x2 update']);
  assert.equal(b.stats.evicted, 2);
});

test('matches without an event time share one bucket per group', () => {
  const { b, out } = buckets();
  hit(b, 'k', Number.NaN);
  hit(b, 'k', Number.NaN);
  b.flush();
  assert.deepEqual(out.map((a) => a.count), [2]);
});

test('a long-running consumer closes the buckets its event-time watermark has left behind', () => {
  const { b, out } = buckets();
  hit(b, 'a', T);
  hit(b, 'b', T + HOUR);
  b.closeBefore(T + HOUR + BUCKET_LATENESS_MS - 1);
  assert.deepEqual(seen(out), []);
  b.closeBefore(T + HOUR + BUCKET_LATENESS_MS);
  assert.deepEqual(seen(out), ['a@09:00 x1']);
  assert.equal(b.openCount, 1);
});
