import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runAlertStoreContract, makeAlert } from './alert-store-contract.ts';
import { SqliteAlertStore } from '../../src/store/sqlite-alert-store.ts';
import { openAlertStore } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/alert-store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.ts';
import { STATE_FILE, StateStore } from '../../src/store/state-store.ts';
import type { Alert } from '../../src/core/alert.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-alert-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(root, `store-${++n}.db`);

runAlertStoreContract('sqlite', async () => ({ store: SqliteAlertStore.open(file()) }));

const isStoreOpen = (error: unknown): boolean => error instanceof StoreError && error.code === 'TH_STORE_OPEN' && error.status === 500;

/** A database as trailhound wrote it before the alert store: schema version 1, with state in every table. */
function versionOneDatabase(path: string, alerts: Alert[]): void {
  const db = new Database(path);
  db.exec(MIGRATIONS[0] as string);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run();
  const insert = db.prepare('INSERT INTO alerts (id, rule_id, level, time, object, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const [i, alert] of alerts.entries()) insert.run(alert.id, alert.rule.id, alert.rule.level, alert.time, 's3://b/k', JSON.stringify(alert), Date.parse('2026-11-01T00:00:00Z') + i * 1000);
  db.prepare("INSERT INTO objects (uri, version, status, attempts, records, alerts, errors, updated_at) VALUES ('s3://b/k', 'e1', 'processed', 0, 10, 2, 0, 1)").run();
  db.prepare("INSERT INTO engine_state (name, state, updated_at) VALUES ('correlation', '{\"n\":1}', 1)").run();
  db.prepare("INSERT INTO sinks (name, cursor, updated_at) VALUES ('file', 1, 1)").run();
  db.close();
}

test('a version-1 database migrates to version 2 with its data intact, and is then a working alert store', async () => {
  const path = file();
  const old = [makeAlert('old-1', { attack: { techniques: ['T1098.001'], tactics: ['persistence'] } }), makeAlert('old-2', { time: null, account: '444455556666', attack: { techniques: ['T1087'], tactics: ['discovery'] } })];
  versionOneDatabase(path, old);
  const store = SqliteAlertStore.open(path);
  const alert = await store.get('old-1');
  assert.ok(alert !== undefined);
  assert.equal(alert.status, 'open');
  assert.equal(alert.hits, 1);
  assert.equal(alert.version, 1);
  assert.equal(alert.first_seen, '2026-11-01T00:00:00.000Z', 'first_seen from created_at');
  assert.equal(alert.last_seen, '2026-11-01T00:00:00.000Z');
  assert.deepEqual({ ...alert, status: undefined, reason: undefined, assignee: undefined, tags: undefined, notes: undefined, version: undefined, first_seen: undefined, last_seen: undefined, hits: undefined }, { ...old[0], status: undefined, reason: undefined, assignee: undefined, tags: undefined, notes: undefined, version: undefined, first_seen: undefined, last_seen: undefined, hits: undefined });
  assert.deepEqual((await store.list({ filter: { technique: ['T1098'] } })).alerts.map((item) => item.id), ['old-1'], 'the technique rows are backfilled');
  assert.deepEqual((await store.list({ filter: { account: ['444455556666'] } })).alerts.map((item) => item.id), ['old-2'], 'the list columns are backfilled');
  assert.deepEqual((await store.history('old-2')).map((entry) => [entry.action, entry.actor]), [['created', 'watch']]);
  const updated = await store.update('old-2', 1, { status: 'closed', reason: 'duplicate' }, 'alice');
  assert.equal(updated.version, 2);
  await store.close();

  const db = new Database(path, { readonly: true });
  assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, String(SCHEMA_VERSION));
  assert.deepEqual(db.prepare('SELECT uri, version, status, records, alerts FROM objects').all(), [{ uri: 's3://b/k', version: 'e1', status: 'processed', records: 10, alerts: 2 }]);
  assert.deepEqual(db.prepare('SELECT name, state FROM engine_state').all(), [{ name: 'correlation', state: '{"n":1}' }]);
  assert.deepEqual(db.prepare('SELECT name, cursor FROM sinks').all(), [{ name: 'file', cursor: 1 }]);
  assert.deepEqual((db.prepare('SELECT seq, id, object FROM alerts ORDER BY seq').all() as { seq: number; id: string; object: string }[]).map((row) => [row.seq, row.id, row.object]), [[1, 'old-1', 's3://b/k'], [2, 'old-2', 's3://b/k']]);
  db.close();
});

test('the watch state migrates too: a version-1 state directory opens, and its alerts keep their outbox order', () => {
  const directory = join(root, 'watch-v1');
  mkdirSync(directory);
  versionOneDatabase(join(directory, STATE_FILE), [makeAlert('w1'), makeAlert('w2')]);
  const state = StateStore.open(directory);
  assert.deepEqual(state.pendingAlerts('file', 10).map((row) => row.id), ['w2']);
  assert.equal(state.engineState('correlation'), '{"n":1}');
  state.close();
});

test('a database of a newer trailhound is refused (TH_STORE_OPEN) and left as it is', async () => {
  const path = file();
  SqliteAlertStore.open(path).close();
  const db = new Database(path);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
  db.close();
  assert.throws(() => SqliteAlertStore.open(path), (error: unknown) => isStoreOpen(error) && /newer trailhound/.test((error as Error).message));
  const check = new Database(path, { readonly: true });
  assert.equal((check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, String(SCHEMA_VERSION + 1));
  check.close();
});

test('a file that is not a trailhound store is refused, never migrated into', () => {
  const foreign = file();
  const db = new Database(foreign);
  db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
  db.close();
  assert.throws(() => SqliteAlertStore.open(foreign), (error: unknown) => isStoreOpen(error) && /not a trailhound store/.test((error as Error).message));
  const check = new Database(foreign, { readonly: true });
  assert.deepEqual((check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name), ['customers']);
  check.close();
  const text = file();
  writeFileSync(text, 'id,name\n1,alice\n');
  assert.throws(() => SqliteAlertStore.open(text), isStoreOpen);
  assert.equal(readFileSync(text, 'utf8'), 'id,name\n1,alice\n');
  assert.throws(() => SqliteAlertStore.open(root), isStoreOpen, 'a folder');
});

test('an empty file becomes a new store; missing parent folders are created', async () => {
  const empty = file();
  writeFileSync(empty, '');
  const store = SqliteAlertStore.open(empty);
  await store.putAlerts([makeAlert('e1')], 'scan');
  await store.close();
  assert.ok(statSync(empty).size > 0);
  const nested = join(root, 'deep', 'er', 'alerts.db');
  const opened = await openAlertStore(nested);
  await opened.close();
  assert.ok(existsSync(nested));
});

test('openAlertStore: postgres:// is the PostgreSQL store; one that cannot be reached is TH_STORE_OPEN, no secret echoed', async () => {
  for (const spec of ['postgres://user:s3cret@127.0.0.1:1/trailhound', 'postgresql://127.0.0.1:1/trailhound?password=s3cret']) {
    await assert.rejects(openAlertStore(spec), (error: unknown) => isStoreOpen(error) && /cannot open the alert store postgres(ql)?:\/\//.test((error as Error).message) && !(error as Error).message.includes('s3cret'));
  }
  await assert.rejects(openAlertStore(''), isStoreOpen);
});

test('the history is append-only in the database itself: UPDATE and DELETE on alert_history raise', async () => {
  const path = file();
  const store = SqliteAlertStore.open(path);
  await store.putAlerts([makeAlert('h1')], 'scan');
  await store.close();
  const db = new Database(path);
  assert.throws(() => db.prepare("UPDATE alert_history SET actor = 'mallory'").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM alert_history').run(), /append-only/);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM alert_history').get() as { n: number }).n, 1);
  db.close();
});

test('no code updates or deletes history rows', () => {
  const sources: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) sources.push(path);
    }
  };
  walk(new URL('../../src', import.meta.url).pathname);
  for (const path of sources) {
    const text = readFileSync(path, 'utf8').replace(/CREATE TRIGGER[^;]*;[^;]*;/g, '');
    assert.doesNotMatch(text, /(UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+alert_history/i, path);
  }
});

test('tokens are stored as their SHA-256 only', async () => {
  const path = file();
  const store = SqliteAlertStore.open(path);
  const { token } = await store.createToken('ci', 'reader');
  await store.close();
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
  db.close();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(token.slice(3)));
  assert.match(String(rows[0]?.hash), /^[0-9a-f]{64}$/);
});

test('the watch state is the store: what watch commits is listed, triaged, and keeps its triage state when the finding is updated and redelivered', async () => {
  const directory = join(root, 'watch-store');
  const state = StateStore.open(directory);
  state.registerSink('file');
  const finding = (count: number, updated: string): Alert => makeAlert('gd-1', { source: 'guardduty', guardduty: { id: 'f1', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5, count, updated_at: updated } });
  const commit = (uri: string, alerts: Alert[]): string[] => state.commitObject({ uri, version: 'e', object: uri, records: alerts.length, errors: 0, alerts, engineState: new Map() });
  assert.deepEqual(commit('u1', [finding(1, '2026-11-05T10:00:00Z'), makeAlert('ct-1')]), ['gd-1', 'ct-1']);
  state.advanceSink('file', 2);

  const store = SqliteAlertStore.open(join(directory, STATE_FILE));
  const listed = await store.list({ filter: {} });
  assert.deepEqual(listed.alerts.map((alert) => [alert.id, alert.status, alert.hits]).sort(), [['ct-1', 'open', 1], ['gd-1', 'open', 1]]);
  const acknowledged = await store.update('gd-1', 1, { status: 'acknowledged', assignee: 'alice' }, 'alice');

  assert.deepEqual(commit('u2', [finding(3, '2026-11-05T11:00:00Z'), makeAlert('ct-1')]), ['gd-1'], 'the newer finding is queued again; the CloudTrail alert is only seen again');
  assert.deepEqual(state.pendingAlerts('file', 10).map((row) => row.id), ['gd-1'], 'delivered to the sinks again');
  assert.equal((JSON.parse(state.pendingAlerts('file', 10)[0]?.body ?? '{}') as Alert).guardduty?.count, 3);
  const after = await store.get('gd-1');
  assert.equal(after?.status, 'acknowledged');
  assert.equal(after?.assignee, 'alice');
  assert.equal(after?.version, acknowledged.version);
  assert.equal(after?.hits, 2);
  assert.equal(after?.guardduty?.count, 3);
  assert.equal((await store.get('ct-1'))?.hits, 2);
  assert.equal(state.alertCount(), 2);
  assert.deepEqual((await store.history('gd-1')).map((entry) => [entry.action, entry.actor]), [['created', 'watch'], ['status', 'alice'], ['assignee', 'alice'], ['seen_again', 'watch']]);

  // A seq is never reused, even after the requeued alert is pruned: the next alert is delivered.
  const requeued = state.pendingAlerts('file', 10)[0]?.seq ?? 0;
  assert.ok(requeued > 2);
  state.advanceSink('file', requeued);
  assert.equal(state.prune(-1000).alerts, 2);
  assert.deepEqual(commit('u3', [makeAlert('ct-2')]), ['ct-2']);
  assert.deepEqual(state.pendingAlerts('file', 10).map((row) => [row.id, row.seq > requeued]), [['ct-2', true]]);
  await store.close();
  state.close();
});

test('prune removes the delivered alerts not seen for the retention, with their side rows; their history stays', async () => {
  const directory = join(root, 'watch-prune');
  const state = StateStore.open(directory);
  state.registerSink('s');
  state.commitObject({ uri: 'u', version: 'e', object: 'u', records: 2, errors: 0, alerts: [makeAlert('p1'), makeAlert('p2')], engineState: new Map() });
  const store = SqliteAlertStore.open(join(directory, STATE_FILE));
  await store.update('p1', 1, { tags_add: ['x'], note: 'n' }, 'alice');
  state.advanceSink('s', 1);
  assert.deepEqual(state.prune(24 * 3600_000), { objects: 0, alerts: 0 }, 'nothing is older than a day');
  assert.deepEqual(state.prune(-1000), { objects: 1, alerts: 1 });
  assert.equal(await store.get('p1'), undefined);
  assert.ok((await store.get('p2')) !== undefined, 'not yet delivered');
  assert.deepEqual((await store.list({ filter: { tag: 'x', status: [] } })).alerts, []);
  assert.deepEqual((await store.history('p1')).map((entry) => entry.action), ['created', 'tag_added', 'note_added']);
  await store.close();
  state.close();
});

test('a store opened by two connections: a change made through one is a conflict for a stale change through the other', async () => {
  const path = file();
  const one = SqliteAlertStore.open(path);
  const two = SqliteAlertStore.open(path);
  await one.putAlerts([makeAlert('k1')], 'scan');
  await one.update('k1', 1, { status: 'acknowledged' }, 'alice');
  await assert.rejects(two.update('k1', 1, { status: 'closed', reason: 'other' }, 'bob'), (error: unknown) => error instanceof StoreError && error.code === 'TH_STORE_CONFLICT');
  assert.equal((await two.get('k1'))?.status, 'acknowledged');
  await one.close();
  await two.close();
});

test('deliveries: per sink delivering from the store, done up to its cursor, pending after; none without sinks', async () => {
  const path = file();
  const store = SqliteAlertStore.open(path);
  await store.putAlerts([makeAlert('d0000000000000000000000000000001'), makeAlert('d0000000000000000000000000000002')], 'watch');
  assert.deepEqual(await store.deliveries('d0000000000000000000000000000001'), [], 'scan --store: no sink');
  const db = new Database(path);
  const first = (db.prepare('SELECT seq FROM alerts WHERE id = ?').get('d0000000000000000000000000000001') as { seq: number }).seq;
  db.prepare('INSERT INTO sinks (name, cursor, updated_at) VALUES (?, ?, ?)').run('siem', first, Date.parse('2026-12-01T10:00:00Z'));
  db.close();
  assert.deepEqual(await store.deliveries('d0000000000000000000000000000001'), [{ sink: 'siem', state: 'done', updated_at: '2026-12-01T10:00:00.000Z' }]);
  assert.deepEqual(await store.deliveries('d0000000000000000000000000000002'), [{ sink: 'siem', state: 'pending', updated_at: '2026-12-01T10:00:00.000Z' }]);
  assert.deepEqual(await store.deliveries('no-such-alert'), []);
  await store.close();
});
