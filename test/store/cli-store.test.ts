import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertLines, runCli } from '../cli/run-cli.ts';
import { SqliteAlertStore } from '../../src/store/sqlite-alert-store.ts';
import { rescanScenario } from './cli-store-scenario.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-cli-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('scan --store puts every alert into the store, still prints them, and a re-scan adds nothing new', async () => {
  const db = join(root, 'sub', 'alerts.db');
  await rescanScenario({ store: db, open: (file) => SqliteAlertStore.open(file), shownAs: db });
});

test('scan --store that cannot be opened is TH_STORE_OPEN, exit 2, before anything is scanned', async () => {
  const plain = join(root, 'plain');
  writeFileSync(plain, 'x');
  for (const spec of [join(plain, 'alerts.db'), plain, 'postgres://db/trailhound']) {
    const result = await runCli(['scan', 'samples/', '--store', spec]);
    assert.equal(result.code, 2, spec);
    assert.match(result.stderr, /TH_STORE_OPEN/);
    assert.equal(result.stdout, '');
  }
});

test('tokens create prints the token once; list shows names and roles; revoke ends it', async () => {
  const db = join(root, 'tokens.db');
  const created = await runCli(['tokens', 'create', '--role', 'triager', '--name', 'ci', '--store', db]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^th_[A-Za-z0-9_-]{43}$/);
  assert.equal((await runCli(['tokens', 'create', '--role', 'reader', '--name', 'ci', '--store', db])).code, 2, 'a name is unique');
  assert.equal((await runCli(['tokens', 'create', '--role', 'root', '--name', 'x', '--store', db])).code, 2, 'unknown role');
  const listed = await runCli(['tokens', 'list', '--store', db]);
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, /^ci\ttriager\tcreated /);
  assert.ok(!listed.stdout.includes(token.slice(3)));
  const store = SqliteAlertStore.open(db);
  assert.deepEqual(await store.verifyToken(token), { name: 'ci', role: 'triager' });
  await store.close();
  assert.equal((await runCli(['tokens', 'revoke', 'ci', '--store', db])).code, 0);
  assert.equal((await runCli(['tokens', 'revoke', 'ci', '--store', db])).code, 2);
  const again = SqliteAlertStore.open(db);
  assert.equal(await again.verifyToken(token), undefined);
  await again.close();
});

test('scan --store --filters adds what each suppression kept out to its count in the store', async () => {
  const db = join(root, 'suppressed.db');
  const filters = join(root, 'filters');
  await import('node:fs/promises').then((fs) => fs.mkdir(filters, { recursive: true }));
  const id = '9a1b2c3d-0000-4000-8000-0000000000aa';
  writeFileSync(
    join(filters, 'export.yml'),
    `title: Exports by the backup user\nid: ${id}\nowner: alice\nreason: nightly export\nexpires: 2999-01-01\nlogsource: {product: aws, service: cloudtrail}\nfilter:\n    rules: [aws-ct-ec2-export-task]\n    selection:\n        eventName: CreateInstanceExportTask\n    condition: not selection\n`,
  );
  const store = SqliteAlertStore.open(db);
  await store.addSuppression({ id, rule: 'aws-ct-ec2-export-task', file: join(filters, 'export.yml'), created_at: '2026-12-01T00:00:00Z', created_by: 'alice', reason: 'nightly export', expires: '2999-01-01' });
  await store.close();
  const plain = await runCli(['scan', 'samples/', '--format', 'jsonl']);
  assert.ok(alertLines(plain.stdout).some((alert) => alert.rule.name === 'aws-ct-ec2-export-task'), 'the samples raise it without the filter');
  for (const round of [1, 2]) {
    const result = await runCli(['scan', 'samples/', '--store', db, '--filters', filters, '--format', 'jsonl']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!alertLines(result.stdout).some((alert) => alert.rule.name === 'aws-ct-ec2-export-task'));
    const reopened = SqliteAlertStore.open(db);
    const [suppression] = await reopened.listSuppressions();
    assert.equal(suppression?.suppressed, round, `after scan ${round}`);
    await reopened.close();
  }
});
