/**
 * What an SQS message announces: the S3 objects to read. Three shapes arrive in practice:
 *
 * - an S3 event notification, `{"Records": [{"eventName": "ObjectCreated:Put", "s3": {...}}]}`,
 *   sent to the queue directly;
 * - the same, wrapped by SNS: `{"Type": "Notification", "Message": "<the JSON above>"}`
 *   (unless the subscription uses raw message delivery, which is the first shape);
 * - CloudTrail's own SNS notification: `{"s3Bucket": "...", "s3ObjectKey": ["...", ...]}`,
 *   SNS-wrapped or raw.
 *
 * S3 URL-encodes object keys in event notifications (a space is `+`); CloudTrail does not.
 * `s3:TestEvent` (sent when a notification is configured) announces nothing.
 */
import { isJsonObject } from '../core/json-object.ts';

export interface NotifiedObject {
  bucket: string;
  /** The decoded key. */
  key: string;
  /** ETag without quotes, when the notification gives it. */
  etag?: string;
  size?: number;
  /** When S3 or CloudTrail says the object was written, epoch ms. */
  eventTime?: number;
}

export type Notification =
  | { kind: 'objects'; objects: NotifiedObject[] }
  /** `s3:TestEvent`, or only events other than object creation (deletions...). */
  | { kind: 'ignored'; reason: string }
  | { kind: 'unrecognized'; reason: string };

/** S3 event notification keys: `+` is a space, then percent-decoding. */
export function decodeS3EventKey(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function fromS3Event(value: Record<string, unknown>): Notification {
  const records = value.Records;
  if (!Array.isArray(records)) return { kind: 'unrecognized', reason: 'Records is not a list' };
  const objects: NotifiedObject[] = [];
  let other = 0;
  for (const record of records) {
    if (!isJsonObject(record) || !isJsonObject(record.s3)) return { kind: 'unrecognized', reason: 'a record has no s3 member' };
    const eventName = typeof record.eventName === 'string' ? record.eventName : '';
    if (!eventName.startsWith('ObjectCreated:')) {
      other += 1;
      continue;
    }
    const bucket = isJsonObject(record.s3.bucket) ? record.s3.bucket.name : undefined;
    const object = isJsonObject(record.s3.object) ? record.s3.object : undefined;
    if (typeof bucket !== 'string' || object === undefined || typeof object.key !== 'string') return { kind: 'unrecognized', reason: 'a record lacks s3.bucket.name or s3.object.key' };
    const notified: NotifiedObject = { bucket, key: decodeS3EventKey(object.key) };
    if (typeof object.eTag === 'string' && object.eTag !== '') notified.etag = object.eTag.replace(/^"|"$/g, '');
    if (typeof object.size === 'number') notified.size = object.size;
    const at = time(record.eventTime);
    if (at !== undefined) notified.eventTime = at;
    objects.push(notified);
  }
  if (objects.length === 0) return { kind: 'ignored', reason: other > 0 ? 'no ObjectCreated event' : 'no records' };
  return { kind: 'objects', objects };
}

function fromCloudTrail(value: Record<string, unknown>, sentAt: number | undefined): Notification {
  const bucket = value.s3Bucket;
  const keys = value.s3ObjectKey;
  if (typeof bucket !== 'string' || !Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) {
    return { kind: 'unrecognized', reason: 's3Bucket or s3ObjectKey is malformed' };
  }
  if (keys.length === 0) return { kind: 'ignored', reason: 'no keys' };
  return { kind: 'objects', objects: (keys as string[]).map((key) => ({ bucket, key, ...(sentAt === undefined ? {} : { eventTime: sentAt }) })) };
}

/** Reads one message body; never throws. */
export function parseNotification(body: string): Notification {
  const outer = parseJson(body);
  if (!isJsonObject(outer)) return { kind: 'unrecognized', reason: 'the body is not a JSON object' };
  let value: Record<string, unknown> = outer;
  let sentAt: number | undefined;
  if (outer.Type === 'Notification' && typeof outer.Message === 'string') {
    sentAt = time(outer.Timestamp);
    const inner = parseJson(outer.Message);
    if (!isJsonObject(inner)) return { kind: 'unrecognized', reason: 'the SNS Message is not a JSON object' };
    value = inner;
  }
  if (value.Event === 's3:TestEvent') return { kind: 'ignored', reason: 's3:TestEvent' };
  if ('Records' in value) return fromS3Event(value);
  if ('s3Bucket' in value || 's3ObjectKey' in value) return fromCloudTrail(value, sentAt);
  return { kind: 'unrecognized', reason: 'neither an S3 event notification nor a CloudTrail notification' };
}
