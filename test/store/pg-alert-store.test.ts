/**
 * The PostgreSQL alert store: the whole contract suite (alert-store-contract.ts), each case in a
 * schema of its own of one throw-away database, and what is PostgreSQL's own: migrations, a newer
 * schema refused, concurrent opens and updates from separate pools, the history triggers.
 * Skipped, with a message, when no server is reachable (pg-test-db.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { CONTRACT_CASES, makeAlert, runAlertStoreContract } from './alert-store-contract.ts';
import { ADMIN_URL, createTestDatabase, schemaUrl, skipMessage, unreachable, type TestDatabase } from './pg-test-db.ts';
import { PgAlertStore, redactUrl } from '../../src/store/pg-alert-store.ts';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/store/pg-schema.ts';
import { SCHEMA_VERSION } from '../../src/store/schema.ts';
import { displayStoreSpec, openAlertStore } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/alert-store.ts';
import type { Alert } from '../../src/core/alert.ts';

const reason = await unreachable();

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test(`postgres: the contract suite (${CONTRACT_CASES.length} cases) and the PostgreSQL store tests`, { skip: message }, () => undefined);
} else {
  registerTests();
}

function registerTests(): void {
  let db: TestDatabase | undefined;
  let schemas = 0;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  const database = (): TestDatabase => {
    assert.ok(db !== undefined, 'the test database was created');
    return db;
  };
  /** A new, empty schema of the test database, and the URL whose tables go there. */
  const freshSchema = async (): Promise<{ schema: string; url: string }> => {
    const schema = `case_${++schemas}`;
    await database().admin.query(`CREATE SCHEMA ${schema}`);
    return { schema, url: schemaUrl(database().name, schema) };
  };
  const isStoreOpen = (error: unknown): boolean => error instanceof StoreError && error.code === 'TH_STORE_OPEN' && error.status === 500;

  runAlertStoreContract('postgres', async () => ({ store: await PgAlertStore.open((await freshSchema()).url, { max: 4 }) }));

  test('postgres: an empty database is migrated to the whole schema: tables, indexes, history triggers, trailhound_meta', async () => {
    const { schema, url } = await freshSchema();
    const store = await PgAlertStore.open(url);
    assert.deepEqual(store.migration, { found: 0, applied: [1, 2] });
    assert.equal(PG_SCHEMA_VERSION, SCHEMA_VERSION, 'the PostgreSQL schema has the version of the SQLite one');
    await store.close();
    const admin = database().admin;
    const tables = (await admin.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [schema])).rows.map((row) => row.tablename);
    assert.deepEqual(tables, ['alert_attack', 'alert_bodies', 'alert_history', 'alert_notes', 'alert_tags', 'alerts', 'engine_state', 'objects', 'sinks', 'suppressions', 'tokens', 'trailhound_meta']);
    const indexes = new Set((await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema])).rows.map((row) => row.indexname));
    for (const name of ['alerts_status_time', 'alerts_time', 'alerts_level', 'alerts_last_seen', 'alerts_hits', 'alerts_rule', 'alerts_rule_name', 'alerts_actor', 'alerts_source_ip', 'alerts_account', 'alerts_assignee', 'alerts_id_triage', 'alerts_created', 'alert_attack_alert', 'alert_tags_alert', 'alert_notes_alert', 'alert_history_alert', 'objects_updated']) {
      assert.ok(indexes.has(name), `index ${name}`);
    }
    const triggers = (await admin.query<{ tgname: string }>("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'alert_history' AND NOT t.tgisinternal ORDER BY 1", [schema])).rows;
    assert.deepEqual(triggers.map((row) => row.tgname), ['alert_history_no_delete', 'alert_history_no_truncate', 'alert_history_no_update']);
    assert.deepEqual((await admin.query(`SELECT key, value FROM ${schema}.trailhound_meta`)).rows, [{ key: 'schema_version', value: String(PG_SCHEMA_VERSION) }]);
    const reopened = await PgAlertStore.open(url);
    assert.deepEqual(reopened.migration, { found: PG_SCHEMA_VERSION, applied: [] }, 'opened again: nothing to migrate');
    await reopened.close();
  });

  test('postgres: a version-1 database (the watch state before the alert store) migrates to version 2 with its data', async () => {
    const { schema, url } = await freshSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const old: Alert[] = [makeAlert('old-1', { attack: { techniques: ['T1098.001'], tactics: ['persistence'] } }), makeAlert('old-2', { time: null, account: '444455556666', attack: { techniques: ['T1087'], tactics: ['discovery'] } })];
    try {
      await client.query(PG_MIGRATIONS[0] as string);
      await client.query("INSERT INTO trailhound_meta (key, value) VALUES ('schema_version', '1')");
      for (const [i, alert] of old.entries()) {
        await client.query('INSERT INTO alerts (id, rule_id, level, time, object, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [alert.id, alert.rule.id, alert.rule.level, alert.time, 's3://b/k', JSON.stringify(alert), Date.parse('2026-11-01T00:00:00Z') + i * 1000]);
      }
      await client.query("INSERT INTO alerts (id, rule_id, level, time, object, body, created_at) VALUES ('broken', 'r', 'low', NULL, 'o', 'not json', 0)");
      await client.query("INSERT INTO sinks (name, cursor, updated_at) VALUES ('file', 1, 1)");
    } finally {
      await client.end();
    }
    const store = await PgAlertStore.open(url);
    assert.deepEqual(store.migration, { found: 1, applied: [2] });
    const alert = await store.get('old-1');
    assert.equal(alert?.status, 'open');
    assert.equal(alert?.first_seen, '2026-11-01T00:00:00.000Z', 'first_seen from created_at');
    assert.equal(alert?.hits, 1);
    assert.deepEqual((await store.list({ filter: { technique: ['T1098'] } })).alerts.map((item) => item.id), ['old-1'], 'the technique rows are backfilled');
    assert.deepEqual((await store.list({ filter: { account: ['444455556666'] } })).alerts.map((item) => item.id), ['old-2'], 'the list columns are backfilled');
    assert.deepEqual((await store.list({ filter: { q: '444455556666' } })).alerts.map((item) => item.id), ['old-2'], 'the search text is backfilled');
    assert.deepEqual((await store.history('old-2')).map((entry) => [entry.action, entry.actor]), [['created', 'watch']]);
    assert.equal((await store.update('old-2', 1, { status: 'closed', reason: 'duplicate' }, 'alice')).version, 2);
    await store.close();
    const admin = database().admin;
    assert.deepEqual((await admin.query(`SELECT seq, id FROM ${schema}.alerts ORDER BY seq`)).rows, [{ seq: '1', id: 'old-1' }, { seq: '2', id: 'old-2' }, { seq: '3', id: 'broken' }], 'the outbox order is kept');
    assert.deepEqual((await admin.query(`SELECT name, cursor FROM ${schema}.sinks`)).rows, [{ name: 'file', cursor: '1' }]);
  });

  test('postgres: a database of a newer trailhound is refused (TH_STORE_OPEN) and left as it is', async () => {
    const { schema, url } = await freshSchema();
    await (await PgAlertStore.open(url)).close();
    await database().admin.query(`UPDATE ${schema}.trailhound_meta SET value = $1 WHERE key = 'schema_version'`, [String(PG_SCHEMA_VERSION + 1)]);
    await assert.rejects(PgAlertStore.open(url), (error: unknown) => isStoreOpen(error) && /newer trailhound/.test((error as Error).message));
    assert.deepEqual((await database().admin.query(`SELECT value FROM ${schema}.trailhound_meta`)).rows, [{ value: String(PG_SCHEMA_VERSION + 1) }]);
  });

  test('postgres: a database with tables of its own named as trailhound\'s but no trailhound_meta is refused, never migrated into', async () => {
    const { schema, url } = await freshSchema();
    await database().admin.query(`CREATE TABLE ${schema}.alerts (id integer PRIMARY KEY, what text)`);
    await assert.rejects(PgAlertStore.open(url), (error: unknown) => isStoreOpen(error) && /not a trailhound store/.test((error as Error).message));
    const tables = (await database().admin.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema])).rows.map((row) => row.tablename);
    assert.deepEqual(tables, ['alerts']);
  });

  test('postgres: stores opening one empty database at once migrate it once (the advisory lock)', async () => {
    const { schema, url } = await freshSchema();
    const stores = await Promise.all(Array.from({ length: 6 }, () => PgAlertStore.open(url, { max: 2 })));
    try {
      const applied = stores.flatMap((store) => store.migration.applied).sort();
      assert.deepEqual(applied, [1, 2], 'each version applied by exactly one of them');
      assert.equal(stores.filter((store) => store.migration.applied.length > 0).length >= 1, true);
      assert.deepEqual((await database().admin.query(`SELECT value FROM ${schema}.trailhound_meta`)).rows, [{ value: String(PG_SCHEMA_VERSION) }]);
      // And they all work on the one schema.
      await Promise.all(stores.map((store, i) => store.putAlerts([makeAlert('shared'), makeAlert(`own-${i}`)], 'scan')));
      const page = await stores[0]?.list({ filter: { status: [] }, limit: 500 });
      assert.equal(page?.total, 7);
      assert.equal((await stores[1]?.get('shared'))?.hits, 6, 'stored once, seen six times');
      assert.deepEqual((await stores[2]?.history('shared'))?.map((entry) => entry.action), ['created']);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('postgres: concurrent changes of one alert at one version from two pools: exactly one applies, the others are 409', async () => {
    const { url } = await freshSchema();
    const one = await PgAlertStore.open(url, { max: 4 });
    const two = await PgAlertStore.open(url, { max: 4 });
    try {
      await one.putAlerts([makeAlert('k1')], 'scan');
      for (let round = 0; round < 5; round++) {
        const version = (await one.get('k1'))?.version as number;
        const changes = [
          one.update('k1', version, { tags_add: [`one-${round}`], note: `one ${round}` }, 'alice'),
          two.update('k1', version, { tags_add: [`two-${round}`], note: `two ${round}` }, 'bob'),
          one.update('k1', version, { assignee: `carol-${round}` }, 'carol'),
          two.update('k1', version, { assignee: `dave-${round}` }, 'dave'),
        ];
        const outcomes = await Promise.allSettled(changes);
        const applied = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
        assert.equal(applied.length, 1, `round ${round}: one change applies`);
        assert.equal(refused.length, 3);
        for (const outcome of refused) assert.ok(outcome.reason instanceof StoreError && outcome.reason.code === 'TH_STORE_CONFLICT' && outcome.reason.status === 409, String(outcome.reason));
        const after = await two.get('k1');
        assert.equal(after?.version, version + 1, 'bumped once');
      }
      const alert = await two.get('k1');
      assert.equal(alert?.version, 6);
      const history = await one.history('k1');
      for (let round = 0; round < 5; round++) {
        const markers = [`one-${round}`, `two-${round}`, `carol-${round}`, `dave-${round}`];
        assert.equal(history.filter((entry) => markers.includes(entry.to ?? '')).length, 1, `round ${round}: only the change that applied is in the history`);
      }
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('postgres: concurrent puts of the same new alerts from two pools store each once', async () => {
    const { url } = await freshSchema();
    const one = await PgAlertStore.open(url, { max: 4 });
    const two = await PgAlertStore.open(url, { max: 4 });
    try {
      const batch = Array.from({ length: 40 }, (_, i) => makeAlert(`c${i}`));
      const reversed = [...batch].reverse();
      const results = await Promise.all([one.putAlerts(batch, 'scan'), two.putAlerts(reversed, 'scan'), one.putAlerts(reversed, 'watch'), two.putAlerts(batch, 'watch')]);
      assert.equal(results.reduce((sum, result) => sum + result.inserted, 0), 40, 'each alert inserted once');
      assert.equal(results.reduce((sum, result) => sum + result.updated, 0), 120);
      const page = await one.list({ filter: { status: [] }, limit: 500 });
      assert.equal(page.total, 40);
      assert.ok(page.alerts.every((alert) => alert.hits === 4));
      assert.deepEqual((await two.history('c7')).map((entry) => entry.action), ['created']);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('postgres: the history is append-only in the database itself: UPDATE, DELETE and TRUNCATE raise', async () => {
    const { schema, url } = await freshSchema();
    const store = await PgAlertStore.open(url);
    await store.putAlerts([makeAlert('h1')], 'scan');
    await store.close();
    const admin = database().admin;
    await assert.rejects(admin.query(`UPDATE ${schema}.alert_history SET actor = 'mallory'`), /append-only/);
    await assert.rejects(admin.query(`DELETE FROM ${schema}.alert_history`), /append-only/);
    await assert.rejects(admin.query(`TRUNCATE ${schema}.alert_history`), /append-only/);
    assert.deepEqual((await admin.query(`SELECT actor FROM ${schema}.alert_history`)).rows, [{ actor: 'scan' }]);
  });

  test('postgres: tokens are stored as their SHA-256 only', async () => {
    const { schema, url } = await freshSchema();
    const store = await PgAlertStore.open(url);
    const { token } = await store.createToken('ci', 'reader');
    await store.close();
    const rows = (await database().admin.query(`SELECT * FROM ${schema}.tokens`)).rows as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(token.slice(3)));
    assert.match(String(rows[0]?.hash), /^[0-9a-f]{64}$/);
  });

  test('postgres: a newer GuardDuty finding moves to the end of the outbox (a new seq), an older one does not', async () => {
    const { schema, url } = await freshSchema();
    const store = await PgAlertStore.open(url);
    const finding = (count: number, updated: string): Alert => makeAlert('gd-1', { source: 'guardduty', guardduty: { id: 'f1', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 5, count, updated_at: updated } });
    await store.putAlerts([finding(1, '2026-11-05T10:00:00Z'), makeAlert('ct-1')], 'watch');
    const seqs = async (): Promise<Record<string, number>> => Object.fromEntries((await database().admin.query<{ id: string; seq: string }>(`SELECT id, seq FROM ${schema}.alerts`)).rows.map((row) => [row.id, Number(row.seq)]));
    const before = await seqs();
    await store.putAlerts([finding(3, '2026-11-05T11:00:00Z'), makeAlert('ct-1')], 'watch');
    const after = await seqs();
    assert.equal(after['ct-1'], before['ct-1']);
    assert.ok((after['gd-1'] as number) > (before['ct-1'] as number), 'requeued above every seq');
    await store.putAlerts([finding(2, '2026-11-05T12:00:00Z')], 'watch');
    assert.deepEqual(await seqs(), after, 'an older version is only a sighting');
    assert.equal((await store.get('gd-1'))?.guardduty?.count, 3);
    await store.close();
  });

  test('postgres: openAlertStore opens postgres:// and postgresql:// URLs; a store that is closed refuses work', async () => {
    const { url } = await freshSchema();
    for (const spec of [url, url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openAlertStore(spec);
      assert.ok(store instanceof PgAlertStore);
      await store.putAlerts([makeAlert('o1')], 'scan');
      assert.equal((await store.get('o1'))?.id, 'o1');
      await store.close();
      await store.close();
      await assert.rejects(store.get('o1'), isStoreOpen);
    }
  });

  test('postgres: a server that cannot be reached, or a database that does not exist, is TH_STORE_OPEN with the password redacted', async () => {
    const refused = 'postgres://trailhound:s3cret-Pa55@127.0.0.1:1/trailhound?sslpassword=k3y-s3cret';
    await assert.rejects(openAlertStore(refused), (error: unknown) => {
      assert.ok(isStoreOpen(error), String(error));
      const message = (error as Error).message;
      assert.ok(!message.includes('s3cret'), message);
      assert.match(message, /postgres:\/\/trailhound:\*\*\*@127\.0\.0\.1:1\/trailhound\?sslpassword=\*\*\*/);
      return true;
    });
    const missing = new URL(ADMIN_URL);
    missing.pathname = '/trailhound_test_does_not_exist';
    missing.password = 'hunter2secret';
    await assert.rejects(PgAlertStore.open(missing.toString()), (error: unknown) => isStoreOpen(error) && !(error as Error).message.includes('hunter2secret'));
    assert.equal(redactUrl('postgres://u:p%40ss@h/db'), 'postgres://u:***@h/db');
    assert.equal(redactUrl('postgresql://h/db?password=x&sslmode=require'), 'postgresql://h/db?password=***&sslmode=require');
    assert.equal(redactUrl('postgres://u@h/db'), 'postgres://u@h/db');
    assert.equal(displayStoreSpec('postgres://u:p@h/db'), 'postgres://u:***@h/db');
    assert.equal(displayStoreSpec('alerts.db'), 'alerts.db');
  });
}
