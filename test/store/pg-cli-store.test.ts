/**
 * `scan --store postgres://...` as a user runs it: the alerts go to the PostgreSQL store, a
 * re-scan adds nothing new (cli-store-scenario.ts, as cli-store.test.ts checks for SQLite). Skipped, with a message,
 * when no server is reachable (pg-test-db.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../cli/run-cli.ts';
import { createTestDatabase, skipMessage, unreachable, type TestDatabase } from './pg-test-db.ts';
import { PgAlertStore } from '../../src/store/pg-alert-store.ts';
import { rescanScenario } from './cli-store-scenario.ts';

const reason = await unreachable();

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('postgres: scan --store postgres://... and a re-scan', { skip: message }, () => undefined);
} else {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  test('postgres: scan --store postgres://... puts every alert into the store, still prints them, and a re-scan adds nothing new', async () => {
    assert.ok(db !== undefined);
    await rescanScenario({ store: db.url, open: (url) => PgAlertStore.open(url) });
  });

  test('postgres: tokens create / list / revoke --store postgres://...', async () => {
    assert.ok(db !== undefined);
    const url = db.url;
    const created = await runCli(['tokens', 'create', '--role', 'triager', '--name', 'ci', '--store', url]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^th_[A-Za-z0-9_-]{43}$/);
    const listed = await runCli(['tokens', 'list', '--store', url]);
    assert.match(listed.stdout, /^ci\ttriager\tcreated /);
    assert.equal((await runCli(['tokens', 'revoke', 'ci', '--store', url])).code, 0);
    const store = await PgAlertStore.open(url);
    assert.equal(await store.verifyToken(token), undefined);
    await store.close();
  });

  test('postgres: the store URL is printed without its password (scan summary, tokens)', async (t) => {
    assert.ok(db !== undefined);
    const url = new URL(db.url);
    if (url.password === '') {
      // The project's server trusts 127.0.0.1 (any password is accepted); another server may not.
      if (process.env.TRAILHOUND_TEST_PG_URL !== undefined) return t.skip('TRAILHOUND_TEST_PG_URL has no password to hide');
      url.password = 'trust-ignores-this-s3cret';
    }
    const secret = decodeURIComponent(url.password);
    const scan = await runCli(['scan', 'samples/', '--store', url.toString()]);
    assert.equal(scan.code, 0, scan.stderr.split(secret).join('***'));
    assert.match(scan.stderr, /store: \d+ new, \d+ seen again \(postgres:\/\/[^:]+:\*\*\*@/);
    const created = await runCli(['tokens', 'create', '--role', 'reader', '--name', 'pw-check', '--store', url.toString()]);
    assert.equal(created.code, 0);
    for (const output of [scan.stderr, created.stderr]) assert.ok(!output.includes(secret), 'no password printed');
  });

  test('postgres: scan --store with an unreachable server is TH_STORE_OPEN, exit 2, before anything is scanned, and prints no password', async () => {
    const result = await runCli(['scan', 'samples/', '--store', 'postgres://trailhound:s3cret-pw@127.0.0.1:1/trailhound']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /TH_STORE_OPEN/);
    assert.ok(!result.stderr.includes('s3cret-pw'), result.stderr);
    assert.equal(result.stdout, '');
  });
}
