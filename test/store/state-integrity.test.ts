/**
 * A damaged state database is refused at open (TH_STATE_DAMAGED naming the file), never taken
 * for a new one; `resetState` moves it aside and starts afresh. The damage is made to a real
 * state written by the store (a few hundred objects and alerts, so there are many pages).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STATE_FILE, StateStore } from '../../src/store/state-store.ts';
import type { Alert } from '../../src/core/alert.ts';
import { TrailhoundError } from '../../src/core/errors.ts';
import { checkStateFile } from '../../src/store/state-integrity.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-integrity-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `s${++n}`);

function alert(id: string): Alert {
  return {
    id,
    time: '2026-11-05T10:00:00.000Z',
    rule: { id: 'r-1', name: 'rule-one', title: 'Rule one', level: 'high' },
    attack: { techniques: [], tactics: [] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: null,
    source_ip: `203.0.113.${id.length}`,
    event_ids: [id],
    count: 1,
  };
}

const OBJECTS = 400;

/** Writes a real state through the store and closes it: OBJECTS objects, one alert each. */
function writeState(dir: string): void {
  const store = StateStore.open(dir);
  store.registerSink('file');
  for (let i = 0; i < OBJECTS; i++) {
    const uri = `s3://org-trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/object-${i}.json.gz`;
    store.commitObject({ uri, version: `etag-${i}`, object: uri, records: 10, errors: 0, alerts: [alert(`alert-${i}`)], engineState: new Map([['correlation', JSON.stringify({ n: i })]]) });
  }
  store.close();
}

/** A pristine written state, copied for each damage (writing it once keeps the tests quick). */
const pristine = freshDir();
writeState(pristine);
const pristineBytes = readFileSync(join(pristine, STATE_FILE));
const PAGE = pristineBytes.readUInt16BE(16);
const PAGES = pristineBytes.length / PAGE;

function stateCopy(): { dir: string; file: string } {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, STATE_FILE);
  copyFileSync(join(pristine, STATE_FILE), file);
  return { dir, file };
}

/** StateStore.open must throw TH_STATE_DAMAGED located at the file, with a message matching. */
function assertDamaged(dir: string, message: RegExp, what: string): TrailhoundError {
  let thrown: unknown;
  try {
    StateStore.open(dir).close();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof TrailhoundError, `${what}: expected a TrailhoundError, got ${String(thrown)}`);
  assert.equal(thrown.code, 'TH_STATE_DAMAGED', `${what}: ${thrown.message}`);
  assert.equal(thrown.location, join(dir, STATE_FILE), what);
  assert.match(thrown.message, message, what);
  assert.match(thrown.message, /--reset-state/, what);
  return thrown;
}

function pageOf(bytes: Buffer, page: number, fill: (i: number) => number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = page * PAGE; i < (page + 1) * PAGE; i++) out[i] = fill(i);
  return out;
}

const DAMAGES: { name: string; message: RegExp; damage: (file: string) => void }[] = [
  { name: 'empty (0 bytes)', message: /empty \(0 bytes\)/, damage: (file) => truncateSync(file, 0) },
  { name: 'shorter than the header', message: /truncated: 60 bytes/, damage: (file) => truncateSync(file, 60) },
  { name: 'header page only', message: /truncated/, damage: (file) => truncateSync(file, PAGE) },
  { name: 'truncated to half', message: /truncated/, damage: (file) => truncateSync(file, Math.floor(PAGES / 2) * PAGE) },
  { name: 'truncated mid-page', message: /truncated/, damage: (file) => truncateSync(file, Math.floor(PAGES / 2) * PAGE + 123) },
  { name: 'one page short', message: /truncated/, damage: (file) => truncateSync(file, (PAGES - 1) * PAGE) },
  { name: 'garbage header', message: /not a SQLite database/, damage: (file) => writeFileSync(file, Buffer.concat([Buffer.from('GARBAGE-GARBAGE!'), pristineBytes.subarray(16)])) },
  { name: 'zeroed header', message: /not a SQLite database/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, 0, () => 0)) },
  { name: 'another format version', message: /not a SQLite database/, damage: (file) => writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 2\0'), pristineBytes.subarray(16)])) },
  { name: 'bad page size', message: /page size/, damage: (file) => writeFileSync(file, Buffer.from(pristineBytes).fill(0x03, 16, 18)) },
  { name: 'not SQLite at all', message: /not a SQLite database/, damage: (file) => writeFileSync(file, '{"objects": []}\n'.repeat(500)) },
  { name: 'middle page 0xff', message: /integrity check fails|cannot read/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, Math.floor(PAGES / 2), () => 0xff)) },
  { name: 'middle page zeroed', message: /integrity check fails|cannot read/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, Math.floor(PAGES / 2), () => 0)) },
  { name: 'middle page noise', message: /integrity check fails|cannot read/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, Math.floor(PAGES / 2), (i) => ((i * 2654435761) >>> 13) & 255)) },
  { name: 'second page noise', message: /integrity check fails|cannot read/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, 1, (i) => ((i * 40503) >>> 7) & 255)) },
  { name: 'last page 0xff', message: /integrity check fails|cannot read/, damage: (file) => writeFileSync(file, pageOf(pristineBytes, PAGES - 1, () => 0xff)) },
  { name: 'database missing, log left', message: /missing but its write-ahead log/, damage: (file) => {
    writeFileSync(`${file}-wal`, pristineBytes.subarray(0, 4096));
    rmSync(file);
  } },
];

test('the pristine state has many pages and opens (the damage below is what is refused)', () => {
  assert.ok(PAGES >= 20, `only ${PAGES} pages`);
  const store = StateStore.open(pristine);
  assert.equal(store.alertCount(), OBJECTS);
  assert.equal(store.reset, undefined);
  store.close();
});

for (const { name, message, damage } of DAMAGES) {
  test(`damaged state refused: ${name}; the file is left as it was; the lock is released`, () => {
    const { dir, file } = stateCopy();
    damage(file);
    const before = existsSync(file) ? readFileSync(file) : undefined;
    assertDamaged(dir, message, name);
    assert.deepEqual(existsSync(file) ? readFileSync(file) : undefined, before, `${name}: the damaged file is not touched`);
    assert.ok(!existsSync(join(dir, 'lock')), `${name}: the lock is released`);
    // A second attempt says the same thing (not "in use", not "new").
    assertDamaged(dir, message, `${name}, again`);
  });

  test(`resetState moves the damaged state aside and starts afresh: ${name}`, () => {
    const { dir, file } = stateCopy();
    damage(file);
    const before = existsSync(file) ? readFileSync(file) : undefined;
    const store = StateStore.open(dir, { resetState: true });
    try {
      assert.ok(store.reset !== undefined, name);
      assert.match(store.reset.movedTo, new RegExp(`${STATE_FILE.replace('.', '\\.')}\\.damaged-\\d{8}T\\d{6}Z`), name);
      assert.match(store.reset.reason, message, name);
      if (before !== undefined) assert.deepEqual(readFileSync(store.reset.movedTo), before, `${name}: the damaged bytes are kept aside`);
      assert.equal(store.alertCount(), 0, `${name}: a new state`);
      assert.equal(store.objectStatus('s3://org-trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/object-1.json.gz'), undefined);
      store.commitObject({ uri: 's3://b/new', version: 'e', object: 's3://b/new', records: 1, errors: 0, alerts: [alert('after-reset')], engineState: new Map() });
    } finally {
      store.close();
    }
    const reopened = StateStore.open(dir);
    assert.equal(reopened.reset, undefined, 'the new state is whole');
    assert.equal(reopened.alertCount(), 1);
    reopened.close();
  });
}

test('a valid SQLite file that is not a whole state is refused: no tables, a missing table, no or bad version row', () => {
  const cases: { name: string; message: RegExp; make: (db: Database.Database) => void }[] = [
    { name: 'no tables', message: /holds no tables/, make: (db) => db.exec('CREATE TABLE t (x); DROP TABLE t;') },
    { name: 'other tables', message: /lacks the tables meta/, make: (db) => db.exec('CREATE TABLE other (x)') },
    { name: 'meta without version', message: /no schema version row/, make: (db) => db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE objects (x); CREATE TABLE engine_state (x); CREATE TABLE alerts (x); CREATE TABLE sinks (x);") },
    { name: 'version garbage', message: /not a version number/, make: (db) => db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE objects (x); CREATE TABLE engine_state (x); CREATE TABLE alerts (x); CREATE TABLE sinks (x); INSERT INTO meta VALUES ('schema_version', 'x');") },
  ];
  for (const { name, message, make } of cases) {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, STATE_FILE));
    make(db);
    db.close();
    assertDamaged(dir, message, name);
  }
  // A state whose version row was deleted.
  const { dir, file } = stateCopy();
  const db = new Database(file);
  db.exec("DELETE FROM meta WHERE key = 'schema_version'");
  db.close();
  assertDamaged(dir, /no schema version row/, 'version row deleted');
});

test('a state path that is not a regular file (a folder, a FIFO) is refused without being read; resetState moves it aside', () => {
  const folder = freshDir();
  mkdirSync(join(folder, STATE_FILE), { recursive: true });
  assertDamaged(folder, /not a regular file/, 'a folder');
  const moved = StateStore.open(folder, { resetState: true });
  assert.ok(moved.reset !== undefined && statSync(moved.reset.movedTo).isDirectory());
  moved.close();
  const fifo = freshDir();
  mkdirSync(fifo);
  try {
    execFileSync('mkfifo', [join(fifo, STATE_FILE)]);
  } catch {
    return; // no mkfifo here
  }
  assertDamaged(fifo, /not a regular file/, 'a FIFO');
});

test('a new state directory starts fresh; creation leaves no empty file behind, and a half-made one is redone', () => {
  const dir = freshDir();
  assert.equal(checkStateFile(join(dir, STATE_FILE)).state, 'missing');
  const store = StateStore.open(dir);
  assert.equal(store.reset, undefined);
  assert.equal(store.alertCount(), 0);
  store.close();
  assert.ok(statSync(join(dir, STATE_FILE)).size > 0);
  assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.new')), []);

  // A crash while creating left the temporary file: it is not the state, and is redone.
  const crashed = freshDir();
  mkdirSync(crashed);
  writeFileSync(join(crashed, `${STATE_FILE}.new`), '');
  const again = StateStore.open(crashed);
  assert.equal(again.alertCount(), 0);
  again.close();
  assert.ok(!existsSync(join(crashed, `${STATE_FILE}.new`)));
});

test('resetState leaves a whole state alone', () => {
  const { dir } = stateCopy();
  const store = StateStore.open(dir, { resetState: true });
  assert.equal(store.reset, undefined);
  assert.equal(store.alertCount(), OBJECTS);
  store.close();
  assert.deepEqual(readdirSync(dir).filter((name) => name.includes('damaged')), []);
});

test('a state left by a crash (write-ahead log not checkpointed) is whole and opens with its commits', () => {
  const dir = freshDir();
  const store = StateStore.open(dir);
  for (let i = 0; i < 200; i++) store.commitObject({ uri: `s3://b/${i}`, version: 'e', object: `s3://b/${i}`, records: 1, errors: 0, alerts: [alert(`crash-${i}`)], engineState: new Map() });
  // Copy the files while the store is open: what a crash (kill -9, power loss after fsync) leaves.
  const crashed = freshDir();
  mkdirSync(crashed);
  copyFileSync(join(dir, STATE_FILE), join(crashed, STATE_FILE));
  assert.ok(statSync(join(dir, `${STATE_FILE}-wal`)).size > 0, 'the commits are in the log');
  copyFileSync(join(dir, `${STATE_FILE}-wal`), join(crashed, `${STATE_FILE}-wal`));
  store.close();
  const recovered = StateStore.open(crashed);
  assert.equal(recovered.reset, undefined);
  assert.equal(recovered.alertCount(), 200);
  recovered.close();
});

test('quick_check runs at open on a real state: its cost stays small for a few hundred objects', () => {
  const { dir } = stateCopy();
  const started = performance.now();
  StateStore.open(dir).close();
  assert.ok(performance.now() - started < 2000);
});
