import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateFolderRange, decidePrefix, keepObject, prefixFacts } from '../../src/sources/s3-layout.ts';
import { parseS3Uri } from '../../src/sources/s3-uri.ts';

const day = (text: string): number => Date.parse(`${text}T00:00:00Z`);

test('prefixFacts reads the account, service, region and date of every AWS layout', () => {
  assert.deepEqual(prefixFacts('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/'), { account: '111122223333', service: 'CloudTrail', region: 'us-east-1', date: [2026, 11, 2], known: true });
  assert.deepEqual(prefixFacts('trails/AWSLogs/o-abcdef1234/111122223333/CloudTrail/eu-west-1/2026/'), { account: '111122223333', service: 'CloudTrail', region: 'eu-west-1', date: [2026], known: true });
  assert.deepEqual(prefixFacts('AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/10/'), { account: '111122223333', service: 'vpcflowlogs', region: 'us-east-1', date: [2026, 11, 2, 10], known: true });
  assert.deepEqual(prefixFacts('flow/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/'), { account: '111122223333', service: 'vpcflowlogs', region: 'us-east-1', date: [2026, 11, 2], known: true });
  assert.deepEqual(prefixFacts('archive/2026/'), { date: [], known: false });
  assert.deepEqual(prefixFacts('AWSLogs/not-an-account/2026/'), { date: [], known: false });
});

test('dateFolderRange covers the folder, month lengths and leap years included', () => {
  assert.deepEqual(dateFolderRange([2028, 2]), { start: day('2028-02-01'), end: day('2028-03-01') });
  assert.deepEqual(dateFolderRange([2026, 12, 31]), { start: day('2026-12-31'), end: day('2027-01-01') });
  assert.equal(dateFolderRange([]), undefined);
});

test('decidePrefix skips other accounts, regions, days and non-log services, and goes flat below a day', () => {
  const filter = { accounts: new Set(['111122223333']), regions: new Set(['us-east-1']), since: day('2026-11-02'), until: day('2026-11-03') };
  assert.equal(decidePrefix('AWSLogs/', filter), 'walk');
  assert.equal(decidePrefix('AWSLogs/o-abcdef1234/', filter), 'walk');
  assert.equal(decidePrefix('AWSLogs/444455556666/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail-Digest/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/elasticloadbalancing/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/eu-west-1/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/04/', filter), 'flat', 'Nov 4 can hold late deliveries of Nov 3');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/05/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/', filter), 'walk');
  assert.equal(decidePrefix('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/', filter), 'flat');
  assert.equal(decidePrefix('AWSLogs/aws-account-id=444455556666/', filter), 'skip');
  assert.equal(decidePrefix('AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/', filter), 'flat');
});

test("decidePrefix never skips inside the user's own prefix", () => {
  const filter = { accounts: new Set(['111122223333']) };
  const own = 'AWSLogs/111122223333/Config/'.split('/').length - 1;
  assert.equal(decidePrefix('AWSLogs/111122223333/Config/us-east-1/', filter, own), 'walk');
  assert.equal(decidePrefix('AWSLogs/444455556666/', filter, 2), 'walk');
});

test('keepObject drops markers, test objects and digests, and files named outside the filter', () => {
  assert.equal(keepObject('AWSLogs/111122223333/aws-programmatic-access-test-object', {}), false);
  assert.equal(keepObject('logs/folder_$folder$', {}), false);
  assert.equal(keepObject('logs/', {}), false);
  assert.equal(keepObject('x/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261102T100000Z.json.gz', {}), false);
  const name = 'x/111122223333_CloudTrail_us-east-1_20261102T1000Z_abc.json.gz';
  assert.equal(keepObject(name, {}), true);
  assert.equal(keepObject(name, { accounts: new Set(['444455556666']) }), false);
  assert.equal(keepObject(name, { regions: new Set(['eu-west-1']) }), false);
  assert.equal(keepObject(name, { since: Date.parse('2026-11-02T12:00:00Z') }), false, 'delivered more than an hour before --since');
  assert.equal(keepObject(name, { since: Date.parse('2026-11-02T10:30:00Z') }), true);
  assert.equal(keepObject(name, { until: Date.parse('2026-11-01T09:00:00Z') }), false, 'delivered more than a day after --until');
  assert.equal(keepObject(name, { until: Date.parse('2026-11-01T11:00:00Z') }), true);
  assert.equal(keepObject('any/other-file.json', { accounts: new Set(['1']) }), true);
});

test('parseS3Uri takes a bucket and an optional prefix', () => {
  assert.deepEqual(parseS3Uri('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  assert.deepEqual(parseS3Uri('s3://my-bucket/AWSLogs/'), { bucket: 'my-bucket', prefix: 'AWSLogs/' });
  assert.equal(parseS3Uri('s3://'), undefined);
  assert.equal(parseS3Uri('s3:///key'), undefined);
});
