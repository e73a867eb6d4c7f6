/**
 * A real S3-protocol server for the tests: s3rver on 127.0.0.1 with a temporary directory,
 * behind a small proxy that records every request (to check what a scan lists and fetches) and
 * injects failures (503 SlowDown, a body cut off mid-way). Clients talk to the proxy with
 * path-style addressing and s3rver's fixed credentials.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Sets the dummy credentials and region the SDK's default chain picks up (and quiets its Node warning). */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

interface S3Object {
  key: string;
}
interface ListResult {
  objects: S3Object[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface FilesystemStorePrototype {
  listObjects(this: unknown, bucket: string, options: ListOptions): Promise<ListResult>;
  __trailhoundPatched?: boolean;
}

/**
 * s3rver 3.7.1 never descends into a folder below the listed prefix when a delimiter is given,
 * so `Delimiter: '/'` listings of nested keys come back empty, and keys come in directory-read
 * order. This lists without the delimiter, sorts as S3 does, and groups common prefixes here.
 */
function patchS3rverListing(): void {
  const require = createRequire(import.meta.url);
  const store = require('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStorePrototype };
  const proto = store.prototype;
  if (proto.__trailhoundPatched === true) return;
  const original = proto.listObjects;
  proto.listObjects = async function listObjects(bucket, options) {
    const prefix = options.prefix ?? '';
    const startAfter = options.startAfter ?? '';
    const all = await original.call(this, bucket, { prefix, maxKeys: Number.POSITIVE_INFINITY });
    const objects = all.objects.filter((object) => object.key > startAfter).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const delimiter = options.delimiter ?? '';
    if (delimiter === '') {
      const maxKeys = options.maxKeys ?? 1000;
      return { objects: objects.slice(0, maxKeys), commonPrefixes: [], isTruncated: objects.length > maxKeys };
    }
    // With a delimiter the whole level comes back in one page (the tests keep levels small).
    const keys: S3Object[] = [];
    const prefixes = new Set<string>();
    for (const object of objects) {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at === -1) keys.push(object);
      else prefixes.add(object.key.slice(0, at + delimiter.length));
    }
    return { objects: keys, commonPrefixes: [...prefixes].sort(), isTruncated: false };
  };
  proto.__trailhoundPatched = true;
}

export interface RecordedRequest {
  method: string;
  /** Object key (decoded), '' for bucket-level requests. */
  key: string;
  bucket: string;
  query: URLSearchParams;
}

/** What the proxy does with a request: pass it on, answer 503 SlowDown, or cut the response body. */
export type Fault = 'pass' | 'slow-down' | 'cut-body';

export interface S3TestServer {
  /** The proxy's URL: what clients use as --endpoint-url. */
  endpoint: string;
  /** s3rver's own URL (for test setup, not counted). */
  directEndpoint: string;
  requests: RecordedRequest[];
  /** Decides the fault for each request the proxy sees; `seen` counts this method and key since reset() (default: pass). */
  fault: (request: RecordedRequest, seen: number) => Fault;
  /** Delay before the proxy forwards a request, ms (default none). */
  delay: (request: RecordedRequest) => number;
  /** Object GETs in flight through the proxy at most since reset(). */
  peakObjectGets: number;
  /** Clears the recorded requests, counts, faults and delays. */
  reset(): void;
  /** A client straight to s3rver, for putting objects. */
  admin: S3Client;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  /** ListObjectsV2 prefixes listed, in order. */
  listedPrefixes(): string[];
  /** Keys fetched with GetObject, in order (repeated when retried). */
  fetchedKeys(): string[];
  close(): Promise<void>;
}

function parseRequest(req: IncomingMessage): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').slice(1);
  const bucket = decodeURIComponent(parts[0] ?? '');
  const key = parts.slice(1).map(decodeURIComponent).join('/');
  return { method: req.method ?? 'GET', bucket, key, query: url.searchParams };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startS3Server(): Promise<S3TestServer> {
  useS3rverCredentials();
  patchS3rverListing();
  const directory = await mkdtemp(join(tmpdir(), 'trailhound-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port: s3Port } = await s3rver.run();
  const directEndpoint = `http://127.0.0.1:${s3Port}`;
  const counts = new Map<string, number>();
  let inFlight = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const recorded = parseRequest(req);
    state.requests.push(recorded);
    const id = `${recorded.method} ${recorded.bucket}/${recorded.key}`;
    const seen = (counts.get(id) ?? 0) + 1;
    counts.set(id, seen);
    const fault = state.fault(recorded, seen);
    const isObjectGet = recorded.method === 'GET' && recorded.key !== '';
    if (isObjectGet) {
      inFlight += 1;
      state.peakObjectGets = Math.max(state.peakObjectGets, inFlight);
      res.once('close', () => (inFlight -= 1));
    }
    const wait = state.delay(recorded);
    if (wait > 0) {
      setTimeout(() => forward(req, res, fault), wait);
      return;
    }
    forward(req, res, fault);
  });

  const forward = (req: IncomingMessage, res: ServerResponse, fault: Fault): void => {
    if (fault === 'slow-down') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: s3Port, method: req.method, path: req.url, headers: req.headers }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      if (fault !== 'cut-body') {
        response.pipe(res);
        return;
      }
      // Half the body, then the connection drops: what a reset mid-download looks like.
      const length = Number(response.headers['content-length'] ?? 0);
      let sent = 0;
      response.on('data', (chunk: Buffer) => {
        const room = Math.max(0, Math.floor(length / 2) - sent);
        if (room <= 0) return;
        sent += Math.min(room, chunk.length);
        const done = sent >= Math.floor(length / 2);
        res.write(chunk.subarray(0, room), () => {
          if (!done) return;
          response.destroy();
          res.socket?.destroy();
        });
      });
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  };
  const proxyPort = await listen(server);

  const admin = new S3Client({
    region: 'us-east-1',
    endpoint: directEndpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const state: S3TestServer = {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    directEndpoint,
    requests: [],
    fault: () => 'pass',
    delay: () => 0,
    peakObjectGets: 0,
    reset() {
      state.requests.length = 0;
      counts.clear();
      state.fault = () => 'pass';
      state.delay = () => 0;
      state.peakObjectGets = 0;
    },
    admin,
    async createBucket(name) {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    async put(bucket, key, body) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    listedPrefixes() {
      return state.requests.filter((r) => r.method === 'GET' && r.key === '' && r.query.get('list-type') === '2').map((r) => r.query.get('prefix') ?? '');
    },
    fetchedKeys() {
      return state.requests.filter((r) => r.method === 'GET' && r.key !== '').map((r) => r.key);
    },
    async close() {
      admin.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return state;
}
