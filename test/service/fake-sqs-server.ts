/**
 * An in-memory SQS server speaking the JSON protocol the AWS SDK v3 uses (POST /, header
 * `X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`), for tests only:
 * CreateQueue, GetQueueUrl, GetQueueAttributes, SendMessage, ReceiveMessage (long polling,
 * visibility timeout, redelivery, receive counts), DeleteMessage, ChangeMessageVisibility and
 * PurgeQueue. Receipt handles change at every receive; as in SQS, only the latest one deletes
 * or changes a message. Queue URLs point at this server, so the SDK (which uses the queue URL's
 * host as endpoint) needs no endpoint setting.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const ACCOUNT = '000000000000';

interface StoredMessage {
  id: string;
  body: string;
  sentAt: number;
  /** Visible again at this time (epoch ms); 0: visible. */
  invisibleUntil: number;
  receiveCount: number;
  /** The receipt handle of the latest receive. */
  handle: string | undefined;
}

export interface QueueStats {
  visible: number;
  inFlight: number;
  deleted: number;
  received: number;
}

class FakeQueue {
  readonly name: string;
  readonly url: string;
  visibilityTimeoutS: number;
  messages: StoredMessage[] = [];
  deleted: string[] = [];
  received = 0;

  constructor(name: string, url: string, visibilityTimeoutS: number) {
    this.name = name;
    this.url = url;
    this.visibilityTimeoutS = visibilityTimeoutS;
  }

  stats(now = Date.now()): QueueStats {
    const inFlight = this.messages.filter((message) => message.invisibleUntil > now).length;
    return { visible: this.messages.length - inFlight, inFlight, deleted: this.deleted.length, received: this.received };
  }

  byHandle(handle: unknown): StoredMessage | undefined {
    return typeof handle === 'string' ? this.messages.find((message) => message.handle === handle) : undefined;
  }
}

class SqsError extends Error {
  readonly type: string;
  readonly queryCode: string;
  readonly status: number;

  constructor(type: string, queryCode: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.queryCode = queryCode;
    this.status = status;
  }
}

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

export interface FakeSqsServer {
  endpoint: string;
  createQueue(name: string, visibilityTimeoutS?: number): string;
  stats(name: string): QueueStats;
  /** Operations seen, in order (e.g. 'ReceiveMessage'). */
  operations: string[];
  /** Makes the next `count` calls of an operation fail with 500 InternalError. */
  failNext(operation: string, count: number): void;
  /** Resolves when the queue has no message left (all deleted), or rejects after `timeoutMs`. */
  waitUntilEmpty(name: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSqs(): Promise<FakeSqsServer> {
  const queues = new Map<string, FakeQueue>();
  const failures = new Map<string, number>();
  const operations: string[] = [];
  let closing = false;
  let endpoint = '';

  const queueOf = (input: Record<string, unknown>): FakeQueue => {
    const url = input.QueueUrl;
    const name = typeof url === 'string' ? url.replace(/\/$/, '').split('/').pop() : undefined;
    const queue = name === undefined ? undefined : queues.get(name);
    if (queue === undefined) throw new SqsError('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return queue;
  };

  const createQueue = (name: string, visibilityTimeoutS = 30): string => {
    let queue = queues.get(name);
    if (queue === undefined) {
      queue = new FakeQueue(name, `${endpoint}/${ACCOUNT}/${name}`, visibilityTimeoutS);
      queues.set(name, queue);
    }
    return queue.url;
  };

  const take = (queue: FakeQueue, max: number, visibilityS: number): StoredMessage[] => {
    const now = Date.now();
    const taken: StoredMessage[] = [];
    for (const message of queue.messages) {
      if (taken.length >= max) break;
      if (message.invisibleUntil > now) continue;
      message.invisibleUntil = now + visibilityS * 1000;
      message.receiveCount += 1;
      message.handle = `${message.id}#${randomUUID()}`;
      taken.push(message);
    }
    queue.received += taken.length;
    return taken;
  };

  const receive = async (input: Record<string, unknown>, req: IncomingMessage): Promise<unknown> => {
    const queue = queueOf(input);
    const max = Math.min(10, Math.max(1, Number(input.MaxNumberOfMessages ?? 1)));
    const wait = Math.min(20, Math.max(0, Number(input.WaitTimeSeconds ?? 0)));
    const visibility = input.VisibilityTimeout === undefined ? queue.visibilityTimeoutS : Number(input.VisibilityTimeout);
    const deadline = Date.now() + wait * 1000;
    // A client that gave up (an aborted long poll) must not take messages it will never see.
    let gone = false;
    const onClose = (): void => {
      gone = true;
    };
    req.socket.once('close', onClose);
    try {
      for (;;) {
        if (gone || closing) return { Messages: [] };
        const taken = take(queue, max, visibility);
        if (taken.length > 0 || Date.now() >= deadline) {
          return {
            Messages: taken.map((message) => ({
              MessageId: message.id,
              ReceiptHandle: message.handle,
              MD5OfBody: md5(message.body),
              Body: message.body,
              Attributes: { SentTimestamp: String(message.sentAt), ApproximateReceiveCount: String(message.receiveCount) },
            })),
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      req.socket.off('close', onClose);
    }
  };

  const handlers: Record<string, (input: Record<string, unknown>, req: IncomingMessage) => unknown> = {
    CreateQueue: (input) => ({ QueueUrl: createQueue(String(input.QueueName), Number((input.Attributes as Record<string, string> | undefined)?.VisibilityTimeout ?? 30)) }),
    GetQueueUrl: (input) => {
      const queue = queues.get(String(input.QueueName));
      if (queue === undefined) throw new SqsError('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
      return { QueueUrl: queue.url };
    },
    GetQueueAttributes: (input) => {
      const queue = queueOf(input);
      const stats = queue.stats();
      return { Attributes: { ApproximateNumberOfMessages: String(stats.visible), ApproximateNumberOfMessagesNotVisible: String(stats.inFlight), VisibilityTimeout: String(queue.visibilityTimeoutS) } };
    },
    SendMessage: (input) => {
      const queue = queueOf(input);
      const body = String(input.MessageBody ?? '');
      const id = randomUUID();
      const delay = Number(input.DelaySeconds ?? 0);
      queue.messages.push({ id, body, sentAt: Date.now(), invisibleUntil: delay > 0 ? Date.now() + delay * 1000 : 0, receiveCount: 0, handle: undefined });
      return { MessageId: id, MD5OfMessageBody: md5(body) };
    },
    ReceiveMessage: receive,
    DeleteMessage: (input) => {
      const queue = queueOf(input);
      if (typeof input.ReceiptHandle !== 'string' || !input.ReceiptHandle.includes('#')) throw new SqsError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
      const message = queue.byHandle(input.ReceiptHandle);
      if (message !== undefined) {
        queue.messages = queue.messages.filter((item) => item !== message);
        queue.deleted.push(message.id);
      }
      return {};
    },
    ChangeMessageVisibility: (input) => {
      const queue = queueOf(input);
      const message = queue.byHandle(input.ReceiptHandle);
      if (message === undefined || message.invisibleUntil <= Date.now()) throw new SqsError('com.amazonaws.sqs#MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message is not in flight.');
      const seconds = Number(input.VisibilityTimeout ?? 0);
      message.invisibleUntil = seconds === 0 ? 0 : Date.now() + seconds * 1000;
      return {};
    },
    PurgeQueue: (input) => {
      queueOf(input).messages = [];
      return {};
    },
  };

  const respond = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
        operations.push(operation);
        try {
          const handler = handlers[operation];
          if (req.method !== 'POST' || handler === undefined) throw new SqsError('com.amazonaws.sqs#UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `unsupported: ${operation || req.method}`);
          const left = failures.get(operation) ?? 0;
          if (left > 0) {
            failures.set(operation, left - 1);
            throw new SqsError('com.amazonaws.sqs#InternalError', 'InternalError', 'injected failure', 500);
          }
          const input = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
          respond(res, 200, await handler(input, req));
        } catch (error) {
          if (error instanceof SqsError) respond(res, error.status, { __type: error.type, message: error.message }, { 'x-amzn-query-error': `${error.queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}` });
          else respond(res, 500, { __type: 'com.amazonaws.sqs#InternalError', message: String(error) });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    createQueue,
    operations,
    stats(name) {
      const queue = queues.get(name);
      if (queue === undefined) throw new Error(`no queue ${name}`);
      return queue.stats();
    },
    failNext(operation, count) {
      failures.set(operation, count);
    },
    async waitUntilEmpty(name, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const queue = queues.get(name);
        if (queue !== undefined && queue.messages.length === 0) return;
        if (Date.now() > deadline) throw new Error(`queue ${name} still holds ${queue?.messages.length ?? '?'} messages after ${timeoutMs} ms: ${JSON.stringify(queue?.stats())}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      closing = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
