import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../../src/store/state-store.ts';
import type { Alert } from '../../src/core/alert.ts';
import { TrailhoundError } from '../../src/core/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (): string => join(root, `s${++n}`);

function alert(id: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    time: '2026-11-05T10:00:00.000Z',
    rule: { id: 'r-1', name: 'rule-one', title: 'Rule one', level: 'high' },
    attack: { techniques: [], tactics: [] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: null,
    source_ip: null,
    event_ids: [id],
    count: 1,
    ...overrides,
  };
}

const commit = (store: StateStore, uri: string, alerts: Alert[], state = '{}', version = 'etag-1'): string[] =>
  store.commitObject({ uri, version, object: uri, records: alerts.length, errors: 0, alerts, engineState: new Map([['correlation', state]]) });

test('an object, its alerts and the engine state are committed together and survive a reopen', () => {
  const path = dir();
  let store = StateStore.open(path);
  assert.equal(store.objectStatus('s3://b/k'), undefined);
  assert.deepEqual(commit(store, 's3://b/k', [alert('a1'), alert('a2'), alert('a1')], '{"n":1}'), ['a1', 'a2']);
  assert.deepEqual(commit(store, 's3://b/k2', [alert('a2'), alert('a3')], '{"n":2}'), ['a3'], 'an alert id already stored is not stored again');
  store.close();
  store = StateStore.open(path);
  assert.deepEqual(store.objectStatus('s3://b/k'), { status: 'processed' });
  assert.deepEqual(store.objectStatus('s3://b/k', 'etag-1'), { status: 'processed' });
  assert.equal(store.objectStatus('s3://b/k', 'etag-2'), undefined, 'a new version of the object is new');
  assert.equal(store.engineState('correlation'), '{"n":2}');
  assert.equal(store.alertCount(), 3);
  store.close();
});

test('failures are counted per object version until it is poisoned', () => {
  const store = StateStore.open(dir());
  assert.equal(store.recordFailure('s3://b/x', '', 'AccessDenied'), 1);
  assert.equal(store.recordFailure('s3://b/x', '', 'AccessDenied'), 2);
  assert.deepEqual(store.objectStatus('s3://b/x'), { status: 'failing', attempts: 2 });
  store.markPoisoned('s3://b/x', '', 'AccessDenied');
  assert.deepEqual(store.objectStatus('s3://b/x'), { status: 'poisoned' });
  assert.deepEqual(store.objectStatus('s3://b/x', 'etag-9'), { status: 'poisoned' }, 'poisoned without a known version covers every version');
  assert.deepEqual(store.poisonedObjects(), [{ uri: 's3://b/x', version: '', error: 'AccessDenied' }]);
  store.recordFailure('s3://b/y', 'e', 'timeout');
  commit(store, 's3://b/y', [], '{}', 'e');
  assert.deepEqual(store.objectStatus('s3://b/y', 'e'), { status: 'processed' });
  store.close();
});

test('sink cursors: a new sink starts after the stored alerts; pending alerts come in order', () => {
  const store = StateStore.open(dir());
  commit(store, 'u1', [alert('old')]);
  assert.deepEqual(store.registerSink('late'), { cursor: 1, fileOffset: undefined, fileId: undefined });
  commit(store, 'u2', [alert('n1'), alert('n2')]);
  assert.deepEqual(store.pendingAlerts('late', 10).map((item) => item.id), ['n1', 'n2']);
  assert.equal(store.pendingCount('late'), 2);
  store.advanceSink('late', 2, { offset: 120, id: '1:2' });
  assert.deepEqual(store.sinkCursor('late'), { cursor: 2, fileOffset: 120, fileId: '1:2' });
  store.advanceSink('late', 1);
  assert.equal(store.sinkCursor('late').cursor, 2, 'a cursor never moves back');
  assert.deepEqual(store.pendingAlerts('late', 10).map((item) => item.id), ['n2']);
  store.close();
});

test('a newer version of a GuardDuty finding replaces its alert and is delivered again; an older one is ignored', () => {
  const store = StateStore.open(dir());
  store.registerSink('s');
  const finding = (count: number, updated: string): Alert => alert('gd-1', { source: 'guardduty', guardduty: { id: 'f1', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5, count, updated_at: updated } });
  assert.deepEqual(commit(store, 'u1', [finding(2, '2026-11-05T10:00:00Z')]), ['gd-1']);
  store.advanceSink('s', store.pendingAlerts('s', 10)[0]?.seq ?? 0);
  assert.deepEqual(commit(store, 'u2', [finding(1, '2026-11-05T09:00:00Z')]), [], 'older');
  assert.deepEqual(commit(store, 'u3', [finding(2, '2026-11-05T10:00:00Z')]), [], 'same');
  assert.deepEqual(commit(store, 'u4', [finding(5, '2026-11-05T11:00:00Z')]), ['gd-1'], 'newer');
  const pending = store.pendingAlerts('s', 10);
  assert.equal(pending.length, 1);
  assert.equal((JSON.parse(pending[0]?.body ?? '{}') as Alert).guardduty?.count, 5);
  assert.equal(store.alertCount(), 1);
  store.close();
});

test('one running service per state directory; a lock left by a dead process is taken over', () => {
  const path = dir();
  const store = StateStore.open(path);
  assert.throws(() => StateStore.open(path), (error: unknown) => error instanceof TrailhoundError && error.code === 'TH_STATE_OPEN');
  store.close();
  writeFileSync(join(path, 'lock'), '2147483646\n');
  StateStore.open(path).close();
});

test('prune drops old processed marks and delivered alerts, never poisoned marks or undelivered alerts', () => {
  const store = StateStore.open(dir());
  store.registerSink('s');
  commit(store, 'u1', [alert('a1'), alert('a2')]);
  store.markPoisoned('u-bad', '', 'x');
  store.advanceSink('s', 1);
  assert.deepEqual(store.prune(-1000), { objects: 1, alerts: 1 });
  assert.deepEqual(store.pendingAlerts('s', 10).map((item) => item.id), ['a2']);
  assert.deepEqual(store.objectStatus('u-bad'), { status: 'poisoned' });
  store.close();
});

test('a state directory that cannot be created is TH_STATE_OPEN', () => {
  const file = join(root, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(() => StateStore.open(join(file, 'state')), (error: unknown) => error instanceof TrailhoundError && error.code === 'TH_STATE_OPEN');
});
