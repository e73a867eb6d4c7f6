/**
 * CloudTrail records, in every envelope AWS and its tools wrap them in:
 *
 * - S3 delivery files `{"Records": [...]}` (one file is one JSON value, compact or pretty);
 * - a bare JSON array of records, or one record per JSON line;
 * - EventBridge events whose `detail-type` says "... via CloudTrail" (API calls, console
 *   sign-in in both spellings, service events, Insights): the record is `detail`, unchanged,
 *   even though EventBridge leaves some fields out of it;
 * - CloudWatch Logs subscription payloads (`messageType: DATA_MESSAGE`, as Firehose writes
 *   them to S3, often concatenated without separators): each `logEvents[i].message` is a
 *   record as a JSON string; CONTROL_MESSAGE payloads are skipped;
 * - `aws cloudtrail lookup-events` output `{"Events": [...]}`: each event's `CloudTrailEvent`
 *   is the record as a JSON string (Insights lookups list the records themselves).
 *
 * Digest files (`digestStartTime`, `digestPublicKeyFingerprint`, ...) hold no events: they are
 * skipped and counted. Insights records (`eventType: AwsCloudTrailInsight`) are ordinary
 * records; their eventName lives in `insightDetails`, so rules on eventName do not see them.
 * The record is never copied or normalised; the envelope time is `eventTime`.
 */
import { located } from '../../core/errors.ts';
import type { Envelope, LogRecord, Origin } from '../../core/envelope.ts';
import { parseTimestamp } from '../time.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';
import { isJsonObject } from '../../core/json-object.ts';
import { firstElements, isEmptyObject } from '../record-list.ts';

const EVENTBRIDGE_DETAIL_TYPES: ReadonlySet<string> = new Set([
  'AWS API Call via CloudTrail',
  'AWS Console Sign In via CloudTrail',
  'AWS Console Signin via CloudTrail',
  'AWS Service Event via CloudTrail',
  'AWS Insight via CloudTrail',
]);

/** Event time of a CloudTrail record in epoch ms (`eventTime`); NaN when absent or invalid. */
export function cloudTrailEventTime(record: LogRecord): number {
  const time = record.eventTime;
  return typeof time === 'string' ? parseTimestamp(time) : NaN;
}

/**
 * Structural test for one CloudTrail record: `eventVersion` with one of eventSource, eventName,
 * eventType or eventTime (Insights records have no eventSource or eventName at the top), or
 * eventTime + eventSource + eventName. S3/Lambda event notifications (`eventSource: "aws:s3"`)
 * share some of these names and are not CloudTrail.
 */
export function isCloudTrailRecord(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  const source = value.eventSource;
  if (typeof source === 'string' && source.startsWith('aws:')) return false;
  if (typeof value.eventVersion === 'string') {
    return typeof source === 'string' || typeof value.eventName === 'string' || typeof value.eventType === 'string' || typeof value.eventTime === 'string';
  }
  return typeof value.eventTime === 'string' && typeof source === 'string' && typeof value.eventName === 'string';
}

function isEventBridgeCloudTrail(value: Record<string, unknown>): boolean {
  const type = value['detail-type'];
  if (typeof type !== 'string' || !isJsonObject(value.detail)) return false;
  return EVENTBRIDGE_DETAIL_TYPES.has(type) || / via CloudTrail$/i.test(type);
}

function isDigest(value: Record<string, unknown>): boolean {
  return typeof value.digestPublicKeyFingerprint === 'string' || (typeof value.digestStartTime === 'string' && Array.isArray(value.logFiles));
}

function isCloudTrailLogEvent(event: Record<string, unknown>): boolean {
  const message = event.message;
  return typeof message === 'string' && (message.includes('"eventVersion"') || message.includes('"eventSource"'));
}

/*
 * A list is recognised by any of its first few elements (record-list.ts), so that junk at its
 * top (`{}`, a number, null) is reported element by element instead of hiding the records
 * after it; a list of junk alone is unwrapped too (each element reported), a list whose first
 * elements are another format's objects is not.
 */

function isLogsPayload(value: Record<string, unknown>): boolean {
  if (!Array.isArray(value.logEvents)) return false;
  if (value.messageType === 'CONTROL_MESSAGE') return true;
  if (value.messageType !== 'DATA_MESSAGE') return false;
  return firstElements(value.logEvents, isCloudTrailLogEvent) !== 'foreign';
}

function isLookupEvents(value: Record<string, unknown>): boolean {
  if (!Array.isArray(value.Events)) return false;
  return firstElements(value.Events, (event) => typeof event.CloudTrailEvent === 'string' || isCloudTrailRecord(event)) !== 'foreign';
}

function isRecordsFile(value: Record<string, unknown>): boolean {
  if (!Array.isArray(value.Records)) return false;
  return firstElements(value.Records, isCloudTrailRecord) !== 'foreign';
}

function isRecordArray(value: unknown[]): boolean {
  const kind = firstElements(value, (item) => isCloudTrailRecord(item) || isEventBridgeCloudTrail(item));
  // A bare array of junk alone is not a log (an empty array, or holes left by recovery, are).
  return kind === 'record' || (kind === 'junk' && value.every((item) => item === undefined));
}

/** The envelope of one CloudTrail record: its event time, or `fallbackTime` (the wrapper's) without one. */
export function cloudTrailEnvelope(record: LogRecord, origin: Origin, fallbackTime?: number): Envelope {
  let time = cloudTrailEventTime(record);
  if (Number.isNaN(time) && fallbackTime !== undefined) time = fallbackTime;
  return { source: 'cloudtrail', time, record, origin };
}

/** `uri#<value index><member>`: where a member of the current top-level value is. */
function locate(ctx: UnwrapContext, member: string): string {
  return ctx.locate !== undefined ? ctx.locate(member) : `${ctx.uri}#${ctx.valueIndex ?? 0}${member}`;
}

function notAnObject(ctx: UnwrapContext, member: string, what: string): void {
  ctx.reportError(located('TH_INPUT_RECORD', `${what} is not a JSON object: skipped`, locate(ctx, member)));
}

function eventBridgeTime(value: Record<string, unknown>): number | undefined {
  return typeof value.time === 'string' ? parseTimestamp(value.time) : undefined;
}

function unwrapRecords(list: readonly unknown[], ctx: UnwrapContext, out: Envelope[]): void {
  for (let i = 0; i < list.length; i++) {
    const record = list[i];
    if (isJsonObject(record)) {
      // eventVersion first: one property read for every real record.
      if (typeof record.eventVersion === 'string' || !isEmptyObject(record)) out.push(cloudTrailEnvelope(record, ctx.nextOrigin()));
      else ctx.reportError(located('TH_INPUT_RECORD', `Records[${i}] is an empty object, not a record: skipped`, locate(ctx, `.Records[${i}]`)));
    } else if (record !== undefined) notAnObject(ctx, `.Records[${i}]`, `Records[${i}]`);
  }
}

function unwrapArray(list: readonly unknown[], ctx: UnwrapContext, out: Envelope[]): void {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item === undefined) continue;
    if (!isJsonObject(item)) notAnObject(ctx, `[${i}]`, `element ${i}`);
    else if (isCloudTrailRecord(item)) out.push(cloudTrailEnvelope(item, ctx.nextOrigin()));
    else if (isEventBridgeCloudTrail(item)) out.push(cloudTrailEnvelope(item.detail as LogRecord, ctx.nextOrigin(), eventBridgeTime(item)));
    else {
      ctx.reportError(located('TH_INPUT_RECORD', `element ${i} is not a CloudTrail record (no eventVersion/eventTime/eventSource/eventName): skipped`, locate(ctx, `[${i}]`)));
    }
  }
}

function unwrapLogsPayload(value: Record<string, unknown>, ctx: UnwrapContext, out: Envelope[]): void {
  if (value.messageType !== 'DATA_MESSAGE') {
    ctx.countSkipped();
    return;
  }
  const events = value.logEvents as unknown[];
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event === undefined) continue;
    const member = `.logEvents[${i}]`;
    if (!isJsonObject(event) || typeof event.message !== 'string') {
      ctx.reportError(located('TH_INPUT_RECORD', `logEvents[${i}] has no string message: skipped`, locate(ctx, member)));
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(event.message);
    } catch (error) {
      ctx.reportError(located('TH_INPUT_JSON', `logEvents[${i}].message is not valid JSON (${error instanceof Error ? error.message : String(error)}): skipped`, locate(ctx, member)));
      continue;
    }
    if (!isJsonObject(record)) {
      notAnObject(ctx, member, `logEvents[${i}].message`);
      continue;
    }
    out.push(cloudTrailEnvelope(record, ctx.nextOrigin(), typeof event.timestamp === 'number' ? event.timestamp : undefined));
  }
}

function unwrapLookupEvents(value: Record<string, unknown>, ctx: UnwrapContext, out: Envelope[]): void {
  const events = value.Events as unknown[];
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event === undefined) continue;
    const member = `.Events[${i}]`;
    if (!isJsonObject(event)) {
      notAnObject(ctx, member, `Events[${i}]`);
      continue;
    }
    const text = event.CloudTrailEvent;
    if (typeof text !== 'string') {
      if (isCloudTrailRecord(event)) out.push(cloudTrailEnvelope(event, ctx.nextOrigin()));
      else {
        ctx.reportError(located('TH_INPUT_RECORD', `Events[${i}] has neither a CloudTrailEvent string nor a CloudTrail record: skipped`, locate(ctx, member)));
      }
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      ctx.reportError(located('TH_INPUT_JSON', `Events[${i}].CloudTrailEvent is not valid JSON (${error instanceof Error ? error.message : String(error)}): skipped`, locate(ctx, `${member}.CloudTrailEvent`)));
      continue;
    }
    if (isJsonObject(record)) out.push(cloudTrailEnvelope(record, ctx.nextOrigin()));
    else notAnObject(ctx, `${member}.CloudTrailEvent`, `Events[${i}].CloudTrailEvent`);
  }
}

/** CloudTrail in all its envelopes: registered in the formats registry as a JsonFormat. */
export const cloudTrailFormat: JsonFormat = {
  source: 'cloudtrail',
  recordArrays: ['Records', 'Events', 'logEvents'],

  recognise(value: unknown): boolean {
    if (Array.isArray(value)) return isRecordArray(value);
    if (!isJsonObject(value)) return false;
    return (
      isCloudTrailRecord(value) ||
      isRecordsFile(value) ||
      isEventBridgeCloudTrail(value) ||
      isLogsPayload(value) ||
      isLookupEvents(value) ||
      isDigest(value)
    );
  },

  unwrap(value: unknown, ctx: UnwrapContext): Envelope[] {
    const out: Envelope[] = [];
    if (Array.isArray(value)) {
      unwrapArray(value, ctx, out);
      return out;
    }
    if (!isJsonObject(value)) return out;
    if (isCloudTrailRecord(value)) {
      out.push(cloudTrailEnvelope(value, ctx.nextOrigin(ctx.line)));
    } else if (Array.isArray(value.Records)) {
      unwrapRecords(value.Records, ctx, out);
    } else if (isEventBridgeCloudTrail(value)) {
      out.push(cloudTrailEnvelope(value.detail as LogRecord, ctx.nextOrigin(ctx.line), eventBridgeTime(value)));
    } else if (isLogsPayload(value)) {
      unwrapLogsPayload(value, ctx, out);
    } else if (isLookupEvents(value)) {
      unwrapLookupEvents(value, ctx, out);
    } else if (isDigest(value)) {
      ctx.countSkipped();
    }
    return out;
  },
};
