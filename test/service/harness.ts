/**
 * What the service tests share: an S3 server with a log bucket, the fake SQS server, a webhook
 * receiver, a temporary directory, and helpers to put log files, publish notifications, wait
 * for and read results.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startS3Server } from './s3-server.ts';
import type { S3TestServer } from './s3-server.ts';
import { startFakeSqs } from './fake-sqs-server.ts';
import type { FakeSqsServer } from './fake-sqs-server.ts';
import { cloudTrailFile } from './cloudtrail-fixtures.ts';
import { jsonLines, removeDir, tempDir } from './files.ts';
import { JsonLogger } from '../../src/service/logger.ts';

export const BUCKET = 'org-trail';

export interface WebhookReceiver {
  url: string;
  /** Bodies received, parsed, in order. */
  bodies: Record<string, unknown>[];
  headers: Record<string, string | string[] | undefined>[];
  /** Status to answer for the n-th request (1-based; default 200). */
  status: (n: number) => number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  let count = 0;
  const receiver: WebhookReceiver = {
    url: '',
    bodies: [],
    headers: [],
    status: () => 200,
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      count += 1;
      const status = receiver.status(count);
      if (status >= 200 && status < 300) {
        receiver.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        receiver.headers.push(req.headers);
      }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-token`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

export interface Harness {
  s3: S3TestServer;
  sqs: FakeSqsServer;
  sqsClient: SQSClient;
  dir: string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  const sqs = await startFakeSqs();
  const dir = tempDir('watch');
  const sqsClient = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    s3,
    sqs,
    sqsClient,
    dir,
    async close() {
      sqsClient.destroy();
      await sqs.close();
      await s3.close();
      await removeDir(dir);
    },
  };
}

/** A harness with a webhook receiver; `close` closes the receiver first. */
export interface ServiceHarness extends Harness {
  receiver: WebhookReceiver;
}

export async function startServiceHarness(): Promise<ServiceHarness> {
  const harness = await startHarness();
  let receiver: WebhookReceiver;
  try {
    receiver = await startReceiver();
  } catch (error) {
    await harness.close();
    throw error;
  }
  return {
    ...harness,
    receiver,
    async close() {
      await receiver.close();
      await harness.close();
    },
  };
}

/** Puts a CloudTrail log file of these records in the log bucket; returns its (gzipped) body. */
export async function putLogFile(harness: Harness, key: string, records: readonly Record<string, unknown>[]): Promise<Buffer> {
  const body = cloudTrailFile(records);
  await harness.s3.put(BUCKET, key, body);
  return body;
}

/** An S3 event notification for the keys, as S3 sends it (keys URL-encoded, `+` for a space). */
export function s3Event(keys: readonly string[], bucket = BUCKET): string {
  return JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size: 100 } },
    })),
  });
}

/** The same, wrapped by SNS. */
export function snsWrapped(message: string): string {
  return JSON.stringify({ Type: 'Notification', MessageId: 'sns-1', TopicArn: 'arn:aws:sns:us-east-1:111122223333:trail', Message: message, Timestamp: new Date().toISOString() });
}

/** CloudTrail's own SNS notification (keys not encoded). */
export function cloudTrailNotification(keys: readonly string[], bucket = BUCKET): string {
  return JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
}

export async function send(harness: Harness, queueUrl: string, body: string): Promise<void> {
  await harness.sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Alert ids in a JSONL file, in order (duplicates kept). */
export async function idsInFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return jsonLines<{ id: string }>(text).map((alert) => alert.id);
}

/** Polls the alert ids of a JSONL file until `check` holds for them (see eventually). */
export async function waitForAlerts(what: string, path: string, check: (ids: string[]) => boolean, timeoutMs = 10_000): Promise<void> {
  await eventually(what, async () => check(await idsInFile(path)), timeoutMs);
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A structured log line: a JSON object with time, level and msg. */
export function isLogLine(entry: Record<string, unknown>): boolean {
  return typeof entry.time === 'string' && typeof entry.level === 'string' && typeof entry.msg === 'string';
}

/** A logger whose JSON lines the test can read. */
export function captureLogger(): { logger: JsonLogger; lines: Record<string, unknown>[] } {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part !== '') lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  return { logger: new JsonLogger({ level: 'debug', stream }), lines };
}
