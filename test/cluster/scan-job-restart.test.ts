/**
 * `scan --job` while PostgreSQL restarts: three processes on a private server (the shared one
 * must not be restarted under the other test files), the server stopped for a second and a half
 * in the middle of the run and started again. Every process waits it out and goes on; the
 * store ends with the alerts of a one-process scan (same ids, bodies, counts and hits) and
 * every unit done.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClusterCorpus, query, startCli, storedAlerts, waitFor, type ClusterCorpus } from './cluster-corpus.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';

const reason = await privatePostgresUnavailable();

if (reason !== undefined) {
  process.stderr.write(`\n*** a private PostgreSQL server cannot be run here (${reason}): the restart test of scan --job is skipped ***\n\n`);
  test('cluster: scan --job survives a PostgreSQL restart', { skip: reason }, () => undefined);
} else {
  let server: PrivatePostgres;
  let work: string;
  let corpus: ClusterCorpus;

  before(async () => {
    server = await startPrivatePostgres();
    work = mkdtempSync(join(tmpdir(), 'th-cluster-restart-'));
    corpus = await makeClusterCorpus(join(work, 'corpus'));
  });
  after(async () => {
    await server?.destroy();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('three processes wait out a PostgreSQL restart in the middle of the job: the alerts of one process, every unit done', async () => {
    const single = await server.createDatabase('single');
    const one = await startCli(['scan', ...corpus.args, '--store', single, '--format', 'jsonl']).done;
    assert.equal(one.code, 0, one.stderr);
    const expected = await storedAlerts(single);

    const shared = await server.createDatabase('shared');
    const args = ['scan', ...corpus.args, '--store', shared, '--job', 'restart', '--job-lease', '5s', '--format', 'jsonl'];
    const runs = [1, 2, 3].map(() => startCli(args, { TRAILHOUND_TEST_UNIT_DELAY_MS: '100' }));
    await waitFor(async () => (await query<{ n: string }>(shared, "SELECT count(*) AS n FROM cluster_units WHERE job = 'restart' AND state = 'done'"))[0]?.n !== '0', 60_000, 'the first units to be done');
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.start();
    const results = await Promise.all(runs.map((run) => run.done));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.ok(results.some((result) => /PostgreSQL is unreachable/.test(result.stderr) && /reachable again/.test(result.stderr)), results.map((result) => result.stderr).join('\n---\n'));
    assert.deepEqual(await storedAlerts(shared), expected);
    const units = await query<{ state: string }>(shared, "SELECT state FROM cluster_units WHERE job = 'restart'");
    assert.equal(units.length, 34);
    assert.ok(units.every((unit) => unit.state === 'done'));
  });
}
