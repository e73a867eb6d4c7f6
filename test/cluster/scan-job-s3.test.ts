/**
 * `scan --job` over S3, as the backfill runs it: the cluster corpus in a bucket of a
 * real S3-protocol server (s3rver), two processes on one job. Each unit is an S3 object that a
 * process reopens by its uri (Source.unitAt); the store ends with the alerts of a one-process
 * scan of the same prefix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createTestDatabase, skipMessage, unreachable, type TestDatabase } from '../store/pg-test-db.ts';
import { startS3Server, type S3TestServer } from '../service/s3-server.ts';
import { makeClusterCorpus, printedIds, query, startCli, storedAlerts, type ClusterCorpus } from './cluster-corpus.ts';

const reason = await unreachable();
const BUCKET = 'org-trail';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

if (reason !== undefined) {
  const message = skipMessage(reason);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('cluster: scan --job over S3', { skip: message }, () => undefined);
} else {
  let work: string;
  let corpus: ClusterCorpus;
  let s3: S3TestServer;
  const databases: TestDatabase[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'th-cluster-s3-'));
    corpus = await makeClusterCorpus(join(work, 'corpus'));
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    for (const file of files(corpus.dir)) {
      const key = relative(corpus.dir, file);
      if (key === 'indicators.txt' || key === 'manifest.json') continue;
      await s3.put(BUCKET, key, readFileSync(file));
    }
  });
  after(async () => {
    for (const db of databases) await db.drop();
    await s3?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('two processes on one job over an S3 prefix store the alerts of one process, each unit an object', async () => {
    const args = [`s3://${BUCKET}/`, '--endpoint-url', s3.endpoint, '--region', 'us-east-1', '--cti', corpus.feed, '--format', 'jsonl'];
    const single = await createTestDatabase();
    databases.push(single);
    const one = await startCli(['scan', ...args, '--store', single.url]).done;
    assert.equal(one.code, 0, one.stderr);
    const expected = await storedAlerts(single.url);
    assert.ok(expected.length > 50);

    const shared = await createTestDatabase();
    databases.push(shared);
    const results = await Promise.all([1, 2].map(() => startCli(['scan', ...args, '--store', shared.url, '--job', 's3']).done));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedAlerts(shared.url), expected);
    assert.deepEqual(results.flatMap((result) => printedIds(result.stdout)).sort(), expected.map((alert) => alert.id));
    const uris = await query<{ uri: string }>(shared.url, "SELECT uri FROM cluster_units WHERE job = 's3' ORDER BY ordinal");
    assert.equal(uris.length, 34);
    assert.ok(uris.every((row) => row.uri.startsWith(`s3://${BUCKET}/`)));
  });
}
