/**
 * `scan s3://...` against a real S3-protocol server (s3rver behind a recording, fault-injecting
 * proxy): layout pruning (what is never even listed), digest skipping, key order with
 * concurrent downloads, retries of throttling and broken bodies, and an object that cannot be
 * read reported by key while the others scan.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startS3Server } from '../service/s3-server.ts';
import type { S3TestServer } from '../service/s3-server.ts';
import { cloudTrailFile, cloudTrailKey, cloudTrailRecord, stopLogging } from '../service/cloudtrail-fixtures.ts';
import { createS3Source, layoutFilterOf } from '../../src/sources/s3.ts';
import { createS3Client } from '../../src/sources/s3-client.ts';
import type { SourceOptions } from '../../src/sources/source.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { scan } from '../../src/scan/scan.ts';
import { Detector } from '../../src/engine/detector.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../../src/pack/rule-set.ts';
import type { Alert } from '../../src/core/alert.ts';

const BUCKET = 'trail-logs';
const A = '111122223333';
const B = '444455556666';
const ORG_ACCOUNT = '777788889999';

let s3: S3TestServer;
const keys = {
  nov01: cloudTrailKey(A, 'us-east-1', '2026-11-01', 'a1'),
  nov02: cloudTrailKey(A, 'us-east-1', '2026-11-02', 'a2'),
  nov02b: cloudTrailKey(A, 'us-east-1', '2026-11-02', 'a3'),
  euWest: cloudTrailKey(A, 'eu-west-1', '2026-11-02', 'e1'),
  otherAccount: cloudTrailKey(B, 'us-east-1', '2026-11-02', 'b1'),
  org: cloudTrailKey(ORG_ACCOUNT, 'us-east-1', '2026-11-02', 'o1', 'o-abcdef1234'),
  digest: `AWSLogs/${A}/CloudTrail-Digest/us-east-1/2026/11/02/${A}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261102T100000Z.json.gz`,
  config: `AWSLogs/${A}/Config/us-east-1/2026/11/02/ConfigSnapshot/${A}_Config_us-east-1_ConfigSnapshot_20261102T100000Z_x.json.gz`,
  flow: `AWSLogs/${A}/vpcflowlogs/us-east-1/2026/11/02/${A}_vpcflowlogs_us-east-1_fl-0abc_20261102T1000Z_f1.log.gz`,
  hive: `AWSLogs/aws-account-id=${A}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/hour=10/${A}_vpcflowlogs_us-east-1_fl-0abc_20261102T1000Z_h1.log.gz`,
  hiveOld: `AWSLogs/aws-account-id=${A}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=10/day=02/hour=10/${A}_vpcflowlogs_us-east-1_fl-0abc_20261002T1000Z_h0.log.gz`,
  testObject: `AWSLogs/${A}/aws-programmatic-access-test-object`,
};

const flowLog = (start: number): Buffer => gzipSync(`version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 ${A} eni-0abc 10.0.0.1 10.0.0.2 443 51000 6 10 1000 ${start} ${start + 60} ACCEPT OK\n`);

before(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  await s3.put(BUCKET, keys.nov01, cloudTrailFile([stopLogging('ev-nov01', '2026-11-01T09:55:00Z')]));
  await s3.put(BUCKET, keys.nov02, cloudTrailFile([stopLogging('ev-nov02', '2026-11-02T09:55:00Z'), cloudTrailRecord({ id: 'ev-nov02-describe', time: '2026-11-02T09:56:00Z', eventName: 'DescribeInstances' })]));
  await s3.put(BUCKET, keys.nov02b, cloudTrailFile([cloudTrailRecord({ id: 'ev-nov02b', time: '2026-11-02T09:57:00Z', eventName: 'DescribeVpcs' })]));
  await s3.put(BUCKET, keys.euWest, cloudTrailFile([stopLogging('ev-eu', '2026-11-02T09:55:00Z', A, 'eu-west-1')]));
  await s3.put(BUCKET, keys.otherAccount, cloudTrailFile([stopLogging('ev-b', '2026-11-02T09:55:00Z', B)]));
  await s3.put(BUCKET, keys.org, cloudTrailFile([stopLogging('ev-org', '2026-11-02T09:55:00Z', ORG_ACCOUNT)]));
  await s3.put(BUCKET, keys.digest, gzipSync(JSON.stringify({ awsAccountId: A, digestStartTime: '2026-11-02T09:00:00Z', logFiles: [] })));
  await s3.put(BUCKET, keys.config, gzipSync('{"fileVersion":"1.0","configurationItems":[]}'));
  await s3.put(BUCKET, keys.flow, flowLog(Date.parse('2026-11-02T09:50:00Z') / 1000));
  await s3.put(BUCKET, keys.hive, flowLog(Date.parse('2026-11-02T09:50:00Z') / 1000));
  await s3.put(BUCKET, keys.hiveOld, flowLog(Date.parse('2026-10-02T09:50:00Z') / 1000));
  await s3.put(BUCKET, keys.testObject, 'test');
});

after(async () => {
  await s3?.close();
});

interface Collected {
  uris: string[];
  records: number;
  errors: LocatedError[];
}

/** Expands and decodes like the scan does, with a source built for the test (fast retries). */
async function collect(uri: string, options: SourceOptions, fetchBaseDelayMs = 5): Promise<Collected> {
  const source = createS3Source((aws) => createS3Client(aws, 3), { fetch: { baseDelayMs: fetchBaseDelayMs, resumes: 3 } });
  const out: Collected = { uris: [], records: 0, errors: [] };
  const onError = (error: LocatedError): void => {
    out.errors.push(error);
  };
  for await (const unit of source.expand(uri, onError, { aws: { endpointUrl: s3.endpoint, region: 'us-east-1' }, ...options })) {
    out.uris.push(unit.uri);
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    for await (const batch of decodeUnit(unit, { onError, stats })) void batch;
    out.records += stats.records;
  }
  return out;
}

function reset(): void {
  s3.reset();
}

test('a whole-bucket scan reads every log in key order and skips digests, Config and test objects without listing them', async () => {
  reset();
  const result = await collect(`s3://${BUCKET}`, {});
  const expected = [keys.nov01, keys.nov02, keys.nov02b, keys.euWest, keys.flow, keys.otherAccount, keys.org, keys.hiveOld, keys.hive].map((key) => `s3://${BUCKET}/${key}`).sort();
  assert.deepEqual(result.uris, expected);
  assert.deepEqual(result.errors, []);
  assert.equal(result.records, 10);
  const listed = s3.listedPrefixes();
  assert.ok(!listed.some((prefix) => prefix.includes('CloudTrail-Digest')), `digest prefix listed: ${listed.join(', ')}`);
  assert.ok(!listed.some((prefix) => prefix.includes('/Config/')), 'Config prefix listed');
  assert.ok(!s3.fetchedKeys().some((key) => key.includes('Digest') || key.includes('test-object')));
});

test('--account, --region-filter and --since prune the listing: other accounts, regions and days are never listed', async () => {
  reset();
  const result = await collect(`s3://${BUCKET}/AWSLogs/`, { accounts: [A], regions: ['us-east-1'], since: Date.parse('2026-11-02T00:00:00Z') });
  assert.deepEqual(result.uris, [keys.nov02, keys.nov02b, keys.flow, keys.hive].map((key) => `s3://${BUCKET}/${key}`).sort());
  const listed = s3.listedPrefixes();
  for (const prefix of listed) {
    assert.ok(!prefix.startsWith(`AWSLogs/${B}/`), `listed another account: ${prefix}`);
    assert.ok(!prefix.includes(`o-abcdef1234/${ORG_ACCOUNT}/`), `listed another account of the organization: ${prefix}`);
    assert.ok(!prefix.includes('/eu-west-1/'), `listed another region: ${prefix}`);
    assert.ok(!prefix.includes('/2026/11/01/') && !prefix.includes('month=10'), `listed a day before --since: ${prefix}`);
  }
  assert.ok(listed.includes(`AWSLogs/${A}/CloudTrail/us-east-1/2026/11/02/`), 'the day folder is listed');
  assert.deepEqual(s3.fetchedKeys().sort(), [keys.nov02, keys.nov02b, keys.flow, keys.hive].sort());
});

test('--until prunes later days, keeping one day of late delivery', async () => {
  reset();
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/`, { until: Date.parse('2026-10-31T12:00:00Z') });
  assert.deepEqual(result.uris, [`s3://${BUCKET}/${keys.nov01}`], 'Nov 1 can hold events of Oct 31; Nov 2 cannot');
  assert.ok(!s3.listedPrefixes().some((prefix) => prefix.includes('/2026/11/02/')));
});

test('throttling (503 SlowDown) on listing and GetObject is retried; the scan completes without errors', async () => {
  reset();
  s3.fault = (request, seen) => (seen <= 2 && (request.key === keys.nov02 || (request.key === '' && request.query.get('prefix') === `AWSLogs/${A}/CloudTrail/us-east-1/2026/11/02/`)) ? 'slow-down' : 'pass');
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/`, {});
  assert.deepEqual(result.errors, []);
  assert.equal(result.uris.length, 3);
  assert.equal(result.records, 4);
  assert.equal(s3.fetchedKeys().filter((key) => key === keys.nov02).length, 3, 'two throttled attempts, then success');
});

test('a body cut off mid-download resumes from the byte reached (Range) and decodes completely', async () => {
  reset();
  s3.fault = (request, seen) => (request.key === keys.nov02 && seen === 1 ? 'cut-body' : 'pass');
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/02/`, {});
  assert.deepEqual(result.errors, []);
  assert.equal(result.records, 3);
  const ranged = s3.requests.filter((request) => request.key === keys.nov02);
  assert.equal(ranged.length, 2, 'the first GET broke off, the second resumed');
});

test('an object that keeps failing is reported by its s3:// key after the retries, and the others are scanned', async () => {
  reset();
  s3.fault = (request) => (request.key === keys.nov02 ? 'cut-body' : 'pass');
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/`, {});
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0]?.code, 'TH_INPUT_READ');
  assert.equal(result.errors[0]?.location, `s3://${BUCKET}/${keys.nov02}`);
  assert.match(result.errors[0]?.message ?? '', /attempts/);
  assert.equal(s3.fetchedKeys().filter((key) => key === keys.nov02).length, 4, 'first try and three resumes');
  assert.equal(result.uris.length, 3, 'the other objects were scanned');
});

test('a damaged gzip object is reported by key (TH_INPUT_GZIP) while the others scan', async () => {
  reset();
  const corrupt = Buffer.from(cloudTrailFile([stopLogging('ev-corrupt', '2026-11-03T09:55:00Z')]));
  corrupt.fill(0x41, 12, corrupt.length - 8);
  const corruptKey = cloudTrailKey(A, 'us-east-1', '2026-11-03', 'broken');
  const goodKey = cloudTrailKey(A, 'us-east-1', '2026-11-03', 'good');
  await s3.put(BUCKET, corruptKey, corrupt);
  await s3.put(BUCKET, goodKey, cloudTrailFile([stopLogging('ev-good', '2026-11-03T09:56:00Z')]));
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/03/`, {});
  assert.deepEqual(result.uris, [`s3://${BUCKET}/${corruptKey}`, `s3://${BUCKET}/${goodKey}`]);
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0]?.code, 'TH_INPUT_GZIP');
  assert.equal(result.errors[0]?.location, `s3://${BUCKET}/${corruptKey}`);
  assert.equal(result.records, 1);
});

test('downloads overlap (bounded prefetch) while units still come in key order', async () => {
  reset();
  const day = '2026-11-04';
  const many = Array.from({ length: 24 }, (_, i) => cloudTrailKey(A, 'us-east-1', day, `n${String(i).padStart(2, '0')}`));
  await Promise.all(many.map((key, i) => s3.put(BUCKET, key, cloudTrailFile([stopLogging(`ev-many-${i}`, `${day}T09:00:00Z`)]))));
  s3.delay = (request) => (request.key === '' ? 0 : 20);
  const result = await collect(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/04/`, {});
  assert.deepEqual(result.uris, many.map((key) => `s3://${BUCKET}/${key}`));
  assert.equal(result.records, 24);
  assert.ok(s3.peakObjectGets > 1, `expected overlapping GETs, saw at most ${s3.peakObjectGets}`);
  assert.ok(s3.peakObjectGets <= 8, `prefetch window exceeded: ${s3.peakObjectGets}`);
});

test('units handed out are still read after the listing has ended (a scan with workers reads ahead)', async () => {
  reset();
  const day = '2026-11-05';
  const keys = Array.from({ length: 6 }, (_, i) => cloudTrailKey(A, 'us-east-1', day, `late${i}`));
  await Promise.all(keys.map((key, i) => s3.put(BUCKET, key, cloudTrailFile([stopLogging(`ev-late-${i}`, `${day}T09:00:00Z`)]))));
  s3.delay = (request) => (request.key === '' ? 0 : 30);
  const source = createS3Source((aws) => createS3Client(aws, 3), { fetch: { baseDelayMs: 5, resumes: 3 } });
  const errors: LocatedError[] = [];
  const units = [];
  for await (const unit of source.expand(`s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/05/`, (error) => errors.push(error), { aws: { endpointUrl: s3.endpoint, region: 'us-east-1' } })) units.push(unit);
  assert.equal(units.length, 6);
  let records = 0;
  for (const unit of units) {
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    for await (const batch of decodeUnit(unit, { onError: (error) => errors.push(error), stats })) void batch;
    records += stats.records;
  }
  assert.deepEqual(errors, []);
  assert.equal(records, 6);
});

test('an unknown bucket is one TH_S3_LIST error; the engine scan counts it as an input error and goes on', async () => {
  reset();
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR] });
  const detector = new Detector({ rules: ruleSet.rules, correlations: ruleSet.correlations, includeEvents: false });
  const alerts: Alert[] = [];
  const errors: LocatedError[] = [];
  const summary = await scan({
    inputs: ['s3://no-such-bucket/AWSLogs/', `s3://${BUCKET}/AWSLogs/${A}/CloudTrail/us-east-1/2026/11/02/`],
    detector,
    sourceOptions: { aws: { endpointUrl: s3.endpoint, region: 'us-east-1' } },
    onAlert: (alert) => {
      alerts.push(alert);
    },
    onError: (error) => errors.push(error),
  });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'TH_S3_LIST');
  assert.equal(errors[0]?.location, 's3://no-such-bucket/AWSLogs/');
  assert.match(errors[0]?.message ?? '', /NoSuchBucket/);
  assert.equal(summary.inputs, 3, "the prefix that could not be listed is an input with an error");
  assert.deepEqual(alerts.map((alert) => alert.rule.name), ['aws-ct-cloudtrail-stopped-or-deleted']);
  assert.deepEqual(alerts[0]?.event_ids, ['ev-nov02']);
});

test('layoutFilterOf leaves empty account and region lists unfiltered', () => {
  assert.deepEqual(layoutFilterOf({ accounts: [], regions: [] }), {});
});

test('the CLI: trailhound scan s3://... --endpoint-url --account --region-filter --since --until (file names after --until are not fetched)', async () => {
  reset();
  const args = ['bin/trailhound.js', 'scan', `s3://${BUCKET}/AWSLogs/`, '--endpoint-url', s3.endpoint, '--region', 'us-east-1', '--account', A, '--region-filter', 'eu-west-1,us-east-1', '--since', '2026-11-02', '--until', '2026-11-02T09:59:00Z', '--format', 'jsonl', '--no-events'];
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile(process.execPath, args, { cwd: new URL('../../', import.meta.url).pathname, env: process.env, timeout: 30_000 }, (error, out, err) => {
      resolve({ stdout: out, stderr: err, code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1 });
    });
  });
  assert.equal(code, 0, stderr);
  const alerts = stdout.trim().split('\n').map((line) => JSON.parse(line) as Alert);
  assert.deepEqual(alerts.map((alert) => alert.event_ids[0]).sort(), ['ev-eu', 'ev-nov02']);
  assert.doesNotMatch(stderr, /NodeVersionSupportWarning/);
  assert.ok(!s3.fetchedKeys().some((key) => key.includes('/2026/11/03/') || key.includes('/2026/11/04/')), 'objects delivered after --until + a day are not fetched');
});
