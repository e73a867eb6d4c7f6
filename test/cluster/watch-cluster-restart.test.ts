/**
 * `watch` on three nodes while PostgreSQL restarts: the nodes' state is a private server (the
 * shared one must not be restarted under the other test files), stopped for two seconds while
 * the nodes are in the middle of the queue and started again. Objects that could not commit
 * come back from the queue, the decider goes on from its last committed decision, delivery
 * pauses and resumes: the store ends with the alerts of one `watch` process (watch-nodes.ts),
 * every object committed once, every part absorbed once, each alert in the file sink.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { query, storedAlerts } from './cluster-corpus.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';
import { eventually } from '../service/harness.ts';
import { jsonLines } from '../service/files.ts';
import { assertSameAlerts, startWatchHarness, type WatchHarness } from './watch-nodes.ts';

const reason = await privatePostgresUnavailable();

if (reason !== undefined) {
  process.stderr.write(`\n*** a private PostgreSQL server cannot be run here (${reason}): the restart test of watch on several nodes is skipped ***\n\n`);
  test('cluster: watch nodes survive a PostgreSQL restart', { skip: reason }, () => undefined);
} else {
  let server: PrivatePostgres;
  let w: WatchHarness;

  before(async () => {
    server = await startPrivatePostgres();
    w = await startWatchHarness();
  });
  after(async () => {
    await w?.close();
    await server?.destroy();
  });

  test('three watch nodes wait out a PostgreSQL restart in the middle of the queue: the alerts of one process, every object once', { timeout: 300_000 }, async () => {
    const expected = await w.reference();

    const url = await server.createDatabase('watch');
    const queue = w.h.sqs.createQueue('cluster', 3);
    const shared = await w.config('cluster', queue, url);
    const nodes = ['a', 'b', 'c'].map((name) => w.startNode(name, shared.path, { TRAILHOUND_TEST_OBJECT_DELAY_MS: '60' }));
    for (const node of nodes) await eventually(`${node.name} is watching`, () => node.lines().some((line) => line.msg === 'watching'), 30_000);

    await w.feedQueue('cluster', queue, async () => {
      await eventually('a few objects are committed', async () => Number((await query<{ n: string }>(url, "SELECT count(*) AS n FROM objects WHERE status = 'processed'"))[0]?.n) >= 4, 60_000);
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await server.start();
    });

    await eventually('the decider absorbed every part', async () => Number((await query<{ n: string }>(url, 'SELECT count(*) AS n FROM cluster_watch_parts'))[0]?.n) === 0, 60_000);
    await eventually('the file sink caught up with the store', async () => {
      const max = Number((await query<{ seq: string }>(url, 'SELECT COALESCE(MAX(seq), 0) AS seq FROM alerts'))[0]?.seq);
      const cursor = Number((await query<{ cursor: string }>(url, 'SELECT cursor FROM sinks'))[0]?.cursor);
      return max > 0 && cursor === max;
    }, 60_000);

    // The restart was felt: some node failed to commit or to decide, and went on.
    const trouble = nodes.flatMap((node) => node.lines().filter((line) => line.level === 'error' || line.level === 'warn').map((line) => `${node.name}: ${String(line.msg)}`));
    assert.ok(trouble.some((line) => /processing failed|deciding failed|delivery paused/.test(line)), `the nodes saw the server go: ${trouble.join('\n')}`);

    const objects = await query<{ uri: string; status: string }>(url, 'SELECT uri, status FROM objects ORDER BY uri');
    assert.equal(objects.length, w.keys.length + 1, 'one mark per object');
    assert.ok(objects.every((row) => row.status === 'processed'));
    const decided = await query<{ parts: string }>(url, 'SELECT parts FROM cluster_watch_decider');
    assert.equal(Number(decided[0]?.parts), w.keys.length + 1, 'every object\'s part absorbed once');

    assertSameAlerts(await storedAlerts(url), expected);
    const lines = jsonLines<{ id: string; guardduty?: unknown }>(readFileSync(shared.alerts, 'utf8'));
    assert.deepEqual([...new Set(lines.map((line) => line.id))].sort(), expected.map((row) => row.id), 'the file sink holds every alert');
    for (const node of nodes) await w.stop(node);
  });
}
