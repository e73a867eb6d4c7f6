/**
 * Reading one S3 object as a byte stream that survives a broken connection: the SDK retries the
 * GetObject request itself (throttling, 5xx, network); when the body breaks off mid-way, the
 * stream asks again for the rest (Range from the byte reached, If-Match the first ETag so that
 * a replaced object is never spliced), with exponential backoff and jitter, a bounded number
 * of times. The consumer sees one continuous stream, or an error naming the cause.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { backoffDelay, sleep } from '../core/backoff.ts';

export interface ObjectRef {
  bucket: string;
  key: string;
  /** Expected ETag (from a listing or a notification), quotes optional. */
  etag?: string;
}

export interface FetchOptions {
  /** Resumes after a broken body, at most (default 4). */
  resumes?: number;
  /** First backoff delay, ms (default 200); doubles each time, with full jitter, up to 10 s. */
  baseDelayMs?: number;
  signal?: AbortSignal;
}

export interface OpenedObject {
  stream: Readable;
  /** The object's ETag without quotes. */
  etag: string | undefined;
  /** Size in bytes when the response says. */
  size: number | undefined;
}

const RETRYABLE_NAMES = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'ThrottlingException', 'TimeoutError', 'RequestTimeTooSkewed']);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

const HINTS: Readonly<Record<string, string>> = {
  AccessDenied: 'the principal needs s3:GetObject on the key (and kms:Decrypt when the bucket uses SSE-KMS)',
  NoSuchKey: 'the object no longer exists (deleted or expired by a lifecycle rule)',
  NoSuchBucket: 'the bucket does not exist',
  InvalidObjectState: 'the object is archived (Glacier or Deep Archive): restore it first',
  PreconditionFailed: 'the object was replaced while it was read',
};

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : { message: String(error) };
}

/** True for errors worth another attempt: throttling, 5xx, timeouts, broken connections. */
export function isRetryable(error: unknown): boolean {
  const e = shape(error);
  if (e.name !== undefined && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code !== undefined && RETRYABLE_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  return /aborted|socket hang up|premature close|closed after/i.test(e.message ?? '');
}

/** One line for the user: the S3 error name, its message, the HTTP status and what to do. */
export function describeS3Error(error: unknown): string {
  const e = shape(error);
  const name = e.name !== undefined && e.name !== 'Error' ? e.name : e.code;
  const status = e.$metadata?.httpStatusCode;
  const message = e.message !== undefined && e.message !== '' && e.message !== name && e.message !== 'UnknownError' ? e.message : undefined;
  const hint = name === undefined ? undefined : HINTS[name];
  return [name, message, status === undefined ? undefined : `HTTP ${status}`, hint].filter((part) => part !== undefined && part !== '').join(': ');
}

export function stripQuotes(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"|"$/g, '');
}

function totalSize(output: GetObjectCommandOutput, offset: number): number | undefined {
  const range = output.ContentRange === undefined ? undefined : /\/(\d+)$/.exec(output.ContentRange);
  if (range?.[1] !== undefined) return Number(range[1]);
  return output.ContentLength === undefined ? undefined : offset + output.ContentLength;
}

function bodyOf(output: GetObjectCommandOutput): Readable {
  const body = output.Body;
  if (body instanceof Readable) return body;
  if (body !== undefined && Symbol.asyncIterator in (body as object)) return Readable.from(body as AsyncIterable<Uint8Array>);
  return Readable.from([]);
}

/**
 * Opens the object: the first GetObject happens now, so that an object that cannot be read at
 * all (access denied, deleted) rejects here. The stream then resumes a broken body by itself.
 */
export async function openObject(client: S3Client, ref: ObjectRef, options: FetchOptions = {}): Promise<OpenedObject> {
  const resumes = options.resumes ?? 4;
  const baseDelay = options.baseDelayMs ?? 200;
  const signal = options.signal;
  let first: GetObjectCommandOutput;
  try {
    first = await client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), signal === undefined ? {} : { abortSignal: signal });
  } catch (error) {
    throw new Error(describeS3Error(error), { cause: error });
  }
  const etag = stripQuotes(first.ETag);
  const size = totalSize(first, 0);

  async function* bytes(): AsyncGenerator<Buffer> {
    let output: GetObjectCommandOutput | undefined = first;
    let offset = 0;
    let failures = 0;
    for (;;) {
      let body: Readable | undefined;
      try {
        if (output === undefined) {
          output = await client.send(
            new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${offset}-`, ...(first.ETag === undefined ? {} : { IfMatch: first.ETag }) }),
            signal === undefined ? {} : { abortSignal: signal },
          );
        }
        // A server that ignores Range sends the whole object again: skip what was read already.
        let skip = offset > 0 && output.ContentRange === undefined ? offset : 0;
        body = bodyOf(output);
        output = undefined;
        for await (const chunk of body) {
          let buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          if (skip > 0) {
            const dropped = Math.min(skip, buffer.length);
            skip -= dropped;
            buffer = buffer.subarray(dropped);
            if (buffer.length === 0) continue;
          }
          offset += buffer.length;
          yield buffer;
        }
        if (size !== undefined && offset < size) throw new Error(`the connection closed after ${offset} of ${size} bytes`);
        return;
      } catch (error) {
        body?.destroy();
        output = undefined;
        failures += 1;
        if (signal?.aborted === true || failures > resumes || !isRetryable(error)) {
          const attempts = failures > 1 ? ` (after ${failures} attempts)` : '';
          throw new Error(`${describeS3Error(error)}${attempts}`, { cause: error });
        }
        await sleep(backoffDelay(failures, baseDelay), signal);
      }
    }
  }

  return { stream: Readable.from(bytes(), { objectMode: false }), etag, size };
}

/** The whole object in memory (prefetching small objects ahead of the scan). */
export async function downloadObject(client: S3Client, ref: ObjectRef, options: FetchOptions = {}): Promise<{ bytes: Buffer; etag: string | undefined }> {
  const opened = await openObject(client, ref, options);
  const chunks: Buffer[] = [];
  for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
  return { bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), etag: opened.etag };
}
