/**
 * `watch` on three nodes sharing one SQS queue and one PostgreSQL state, as users run it: the
 * same configuration with `store: postgres://...`. One node is killed (SIGKILL) in the middle of
 * an object; the others finish its objects after the visibility timeout and take its leases
 * over. The store then holds exactly the alerts of one `watch` process over the same
 * notifications (SQLite state): the same ids, detection content and hits (nothing counted
 * twice), every object committed once, the file sink holding each alert once; and
 * `trailhound cluster status` lists the nodes, the killed one silent.
 *
 * The corpus is the cluster scan's (cluster-corpus.ts: discovery bursts spread over files and
 * accounts, GuardDuty findings updated across files, flow logs and API calls hitting a feed),
 * put in the test S3 server. Correlation lateness is 7 days, so that no node's order of
 * objects makes an event late; a last object a week later moves event time past every window
 * and bucket, which the decider then decides.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTestDatabase, skipMessage, unreachable, type TestDatabase } from '../store/pg-test-db.ts';
import { query, startCli, storedAlerts } from './cluster-corpus.ts';
import { eventually } from '../service/harness.ts';
import { jsonLines } from '../service/files.ts';
import { assertSameAlerts, startWatchHarness, type Node, type Row, type WatchHarness } from './watch-nodes.ts';

const reason = await unreachable();

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('cluster: watch on three nodes', { skip: message }, () => undefined);
} else {
  let w: WatchHarness;
  const databases: TestDatabase[] = [];

  before(async () => {
    w = await startWatchHarness();
  });

  after(async () => {
    await w?.close();
    for (const db of databases) await db.drop();
  });

  test('three watch nodes on one queue and one PostgreSQL state, one killed mid-object, store the alerts of one watch process', { timeout: 300_000 }, async () => {
    // One process, SQLite state: the reference.
    const expected = await w.reference();

    // Three nodes, one configuration, one PostgreSQL state.
    const db = await createTestDatabase();
    databases.push(db);
    const clusterQueue = w.h.sqs.createQueue('cluster', 3);
    const shared = await w.config('cluster', clusterQueue, db.url);
    const victim = w.startNode('victim', shared.path, { TRAILHOUND_TEST_OBJECT_DELAY_MS: '150' });
    const others = [w.startNode('b', shared.path), w.startNode('c', shared.path)];
    for (const node of [victim, ...others]) await eventually(`${node.name} is watching`, () => node.lines().some((line) => line.msg === 'watching'), 30_000);

    let killedIn: string | undefined;
    await w.feedQueue('cluster', clusterQueue, async () => {
      // Killed while it reads an object: after "reading object", before that object's "object processed".
      await eventually('the victim is in the middle of an object', () => {
        const lines = victim.lines();
        const reading = lines.filter((line) => line.msg === 'reading object').map((line) => String(line.uri));
        const done = new Set(lines.filter((line) => line.msg === 'object processed').map((line) => String(line.uri)));
        killedIn = reading.find((uri) => !done.has(uri));
        return killedIn !== undefined && done.size >= 1;
      }, 60_000);
      victim.process.kill('SIGKILL');
      assert.equal((await victim.exited).signal, 'SIGKILL');
    });
    assert.ok(killedIn !== undefined);

    // Every object is committed once, by a live node, the one the victim was reading included.
    await eventually('the decider absorbed every part', async () => Number((await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM cluster_watch_parts'))[0]?.n) === 0, 30_000);
    const objects = await query<{ uri: string; status: string }>(db.url, 'SELECT uri, status FROM objects ORDER BY uri');
    assert.equal(objects.length, w.keys.length + 1, 'one mark per object');
    assert.ok(objects.every((row) => row.status === 'processed'), 'every object processed');
    assert.ok(objects.some((row) => row.uri === killedIn), 'the object the victim was reading is done');
    const processedBy = new Map<string, number>();
    for (const node of [victim, ...others]) for (const line of node.lines()) if (line.msg === 'object processed') processedBy.set(node.name, (processedBy.get(node.name) ?? 0) + 1);
    assert.ok([...processedBy.values()].filter((count) => count > 0).length >= 2, `the work was shared: ${JSON.stringify([...processedBy])}`);

    await eventually('the file sink caught up with the store', async () => {
      const max = Number((await query<{ seq: string }>(db.url, 'SELECT COALESCE(MAX(seq), 0) AS seq FROM alerts'))[0]?.seq);
      const cursor = Number((await query<{ cursor: string }>(db.url, 'SELECT cursor FROM sinks'))[0]?.cursor);
      return max > 0 && cursor === max;
    }, 30_000);

    const stored: Row[] = await storedAlerts(db.url);
    assertSameAlerts(stored, expected);
    const lines = jsonLines<{ id: string; guardduty?: unknown }>(readFileSync(shared.alerts, 'utf8'));
    assert.deepEqual([...new Set(lines.map((line) => line.id))].sort(), stored.map((row) => row.id), 'the shared file sink holds every alert, whichever node delivered it');
    const versions = lines.map((line) => `${line.id} ${JSON.stringify(line.guardduty ?? null)}`);
    assert.equal(new Set(versions).size, versions.length, 'and each alert (each finding version) once');

    // The nodes as the cluster sees them; /metrics on every live node.
    type Listed = { kind: string; role?: string; state?: string; node?: string };
    let status = await startCli(['cluster', 'status', '--store', db.url, '--format', 'jsonl', '--stale', '3s']).done;
    const silent = (text: string): number => jsonLines<Listed>(text).filter((row) => row.kind === 'node' && row.state === 'silent').length;
    // The victim's last heartbeat ages past --stale.
    for (let i = 0; i < 20 && status.code === 0 && silent(status.stdout) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await startCli(['cluster', 'status', '--store', db.url, '--format', 'jsonl', '--stale', '3s']).done;
    }
    assert.equal(status.code, 0, status.stderr);
    const listed = jsonLines<Listed>(status.stdout).filter((row) => row.kind === 'node' && row.role === 'watch');
    assert.equal(listed.length, 3, status.stdout);
    assert.equal(listed.filter((row) => row.state === 'alive').length, 2, status.stdout);
    assert.equal(listed.filter((row) => row.state === 'silent').length, 1, status.stdout);
    const ids = (list: Node[]): string[] => list.map((node) => String(node.lines().find((line) => line.msg === 'watching')?.node));
    assert.equal(listed.find((row) => row.state === 'silent')?.node, ids([victim])[0], 'the silent node is the killed one');
    const watchRow = jsonLines<{ kind: string; decider?: string; parts_waiting?: number; parts_decided?: number }>(status.stdout).find((row) => row.kind === 'watch');
    assert.ok(watchRow !== undefined && ids(others).includes(String(watchRow.decider)), `a live node decides: ${status.stdout}`);
    assert.equal(watchRow.parts_waiting, 0);
    assert.equal(watchRow.parts_decided, w.keys.length + 1, 'every object\'s part was absorbed once');
    const sinkRows = jsonLines<{ kind: string; owner?: string; pending?: number }>(status.stdout).filter((row) => row.kind === 'sink');
    assert.equal(sinkRows.length, 1);
    assert.ok(ids(others).includes(String(sinkRows[0]?.owner)) && sinkRows[0]?.pending === 0, `a live node delivers the sink, caught up: ${status.stdout}`);
    const text = await startCli(['cluster', 'status', '--store', db.url]).done;
    assert.match(text.stdout, /watch: decided by .+; \d+ decision\(s\) over \d+ object\(s\); nothing waiting/);
    let deciding = 0;
    for (const node of others) {
      const port = node.lines().find((line) => line.msg === 'watching')?.metrics_port;
      const scraped = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      assert.match(scraped, /^trailhound_objects_total\{[^}]*outcome="processed"[^}]*\} [1-9]/m, `${node.name} counts the objects it processed`);
      const gauge = /^trailhound_cluster_deciding (\d)$/m.exec(scraped);
      assert.ok(gauge !== null, 'the cluster gauge is exposed');
      deciding += Number(gauge[1]);
    }
    assert.equal(deciding, 1, 'one live node decides');
    for (const node of others) await w.stop(node);
  });
}
