import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeS3EventKey, parseNotification } from '../../src/sources/sqs-notifications.ts';

const s3Record = (key: string, eventName = 'ObjectCreated:Put'): Record<string, unknown> => ({
  eventName,
  eventTime: '2026-11-05T10:00:00.000Z',
  s3: { bucket: { name: 'trail' }, object: { key, size: 1234, eTag: '0123abcd' } },
});
/** What parseNotification makes of an s3Record, its key decoded. */
const s3Object = (key: string): Record<string, unknown> => ({ bucket: 'trail', key, etag: '0123abcd', size: 1234, eventTime: Date.parse('2026-11-05T10:00:00Z') });
/** An SNS notification wrapping `message`. */
const sns = (message: unknown, timestamp?: string): string => JSON.stringify({ Type: 'Notification', Message: typeof message === 'string' ? message : JSON.stringify(message), Timestamp: timestamp });

test('an S3 event notification names its objects, keys decoded (+ is a space, then percent-decoding)', () => {
  const body = JSON.stringify({ Records: [s3Record('AWSLogs/1/a+b%2Bc%20d.json.gz'), s3Record('AWSLogs/1/b.json.gz', 'ObjectCreated:CompleteMultipartUpload')] });
  assert.deepEqual(parseNotification(body), {
    kind: 'objects',
    objects: [s3Object('AWSLogs/1/a b+c d.json.gz'), s3Object('AWSLogs/1/b.json.gz')],
  });
});

test('SNS-wrapped notifications are unwrapped: S3 events and CloudTrail notifications', () => {
  const s3 = sns({ Records: [s3Record('k%3Dv.gz')] }, '2026-11-05T10:01:00.000Z');
  assert.deepEqual(parseNotification(s3), { kind: 'objects', objects: [s3Object('k=v.gz')] });
  const trail = sns({ s3Bucket: 'ct', s3ObjectKey: ['AWSLogs/1/CloudTrail/x y+z.json.gz'] }, '2026-11-05T10:01:00.000Z');
  assert.deepEqual(parseNotification(trail), { kind: 'objects', objects: [{ bucket: 'ct', key: 'AWSLogs/1/CloudTrail/x y+z.json.gz', eventTime: Date.parse('2026-11-05T10:01:00Z') }] }, 'CloudTrail keys are not URL-encoded');
  assert.deepEqual(parseNotification(JSON.stringify({ s3Bucket: 'ct', s3ObjectKey: ['a', 'b'] })), { kind: 'objects', objects: [{ bucket: 'ct', key: 'a' }, { bucket: 'ct', key: 'b' }] }, 'raw message delivery');
});

test('test events and non-creation events are ignored; anything else is unrecognized', () => {
  assert.deepEqual(parseNotification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'trail' })), { kind: 'ignored', reason: 's3:TestEvent' });
  assert.deepEqual(parseNotification(sns({ Event: 's3:TestEvent' })), { kind: 'ignored', reason: 's3:TestEvent' });
  assert.equal(parseNotification(JSON.stringify({ Records: [s3Record('a', 'ObjectRemoved:Delete')] })).kind, 'ignored');
  assert.equal(parseNotification('not json').kind, 'unrecognized');
  assert.equal(parseNotification('[1,2]').kind, 'unrecognized');
  assert.equal(parseNotification(JSON.stringify({ hello: 'world' })).kind, 'unrecognized');
  assert.equal(parseNotification(sns('plain text')).kind, 'unrecognized');
  assert.equal(parseNotification(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: {} } }] })).kind, 'unrecognized');
  assert.equal(parseNotification(JSON.stringify({ s3Bucket: 'ct', s3ObjectKey: 'not-a-list' })).kind, 'unrecognized');
});

test('decodeS3EventKey leaves a malformed escape as it is', () => {
  assert.equal(decodeS3EventKey('100%+sure'), '100% sure');
});
