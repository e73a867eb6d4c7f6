/**
 * Consumes one SQS queue of S3 notifications. Long polls; while a batch is handled, the
 * visibility of its messages not yet finished is extended every half visibility timeout, so no
 * other consumer gets them. A message is deleted only once each object it names is processed
 * (committed to the state with its alerts, and a delivery to every sink attempted), skipped
 * (processed before), or poisoned. A failed object makes its message come back after a
 * backoff; at shutdown the messages not started are handed back at once (visibility 0).
 */
import { located } from '../core/errors.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { describeS3Error, openObject } from '../sources/s3-fetch.ts';
import { s3Uri } from '../sources/s3-uri.ts';
import { parseNotification } from '../sources/sqs-notifications.ts';
import type { QueueMessage, SqsQueue } from '../sources/sqs-queue.ts';
import { backoffDelay, sleep } from '../core/backoff.ts';
import type { SqsSourceConfig } from './config.ts';
import type { ObjectOutcome, WorkObject } from './object-processor.ts';
import type { RunnerContext } from './runner-context.ts';

/** What becomes of a message: deleted, handed back now, or handed back after a backoff. */
type Verdict = 'delete' | 'release' | { retryAfterS: number };

export class SqsRunner {
  readonly config: SqsSourceConfig;
  /** Messages received and not yet deleted or handed back. */
  inFlight = 0;
  private readonly queue: SqsQueue;
  private readonly s3: S3Client;
  private readonly ctx: RunnerContext;

  constructor(config: SqsSourceConfig, queue: SqsQueue, s3: S3Client, ctx: RunnerContext) {
    this.config = config;
    this.queue = queue;
    this.s3 = s3;
    this.ctx = ctx;
  }

  async run(): Promise<void> {
    const { logger, metrics, stopping } = this.ctx;
    let failures = 0;
    logger.info('polling queue', { source: this.config.name, queue_url: this.config.queueUrl });
    while (!stopping.aborted) {
      let messages: QueueMessage[];
      try {
        messages = await this.queue.receive(stopping);
        failures = 0;
      } catch (error) {
        failures += 1;
        metrics.inc('trailhound_errors_total', { stage: 'receive' });
        logger.located('error', located('TH_SQS_RECEIVE', `cannot receive: ${describeS3Error(error)}; retrying`, this.config.queueUrl), { source: this.config.name, failures });
        await sleep(backoffDelay(failures, 1000, 60_000), stopping);
        continue;
      }
      if (messages.length === 0) continue;
      try {
        await this.handleBatch(messages);
      } catch (error) {
        // The state could not be written: the messages were handed back; wait, then go on.
        failures += 1;
        metrics.inc('trailhound_errors_total', { stage: 'state' });
        logger.error('processing failed; the messages come back later', { source: this.config.name, error: (error as Error).message });
        await sleep(backoffDelay(failures, 1000, 60_000), stopping);
      }
    }
  }

  private async handleBatch(messages: QueueMessage[]): Promise<void> {
    const { stopping } = this.ctx;
    const waiting = new Set(messages);
    this.inFlight += messages.length;
    const heartbeat = setInterval(() => void this.extend(waiting), Math.max(500, (this.config.visibilityTimeoutS * 1000) / 2));
    try {
      for (const message of messages) {
        if (stopping.aborted) break;
        let verdict: Verdict;
        try {
          verdict = await this.handle(message);
        } catch (error) {
          waiting.delete(message);
          this.inFlight -= 1;
          await this.settle(message, { retryAfterS: Math.min(this.config.visibilityTimeoutS, 30) });
          throw error;
        }
        waiting.delete(message);
        this.inFlight -= 1;
        await this.settle(message, verdict);
      }
    } finally {
      clearInterval(heartbeat);
      for (const message of waiting) {
        this.inFlight -= 1;
        await this.settle(message, 'release');
      }
    }
  }

  private async extend(messages: ReadonlySet<QueueMessage>): Promise<void> {
    for (const message of messages) {
      try {
        await this.queue.setVisibility(message, this.config.visibilityTimeoutS);
      } catch (error) {
        this.ackError('extend the visibility of', message, error);
      }
    }
  }

  private async settle(message: QueueMessage, verdict: Verdict): Promise<void> {
    const { metrics } = this.ctx;
    try {
      if (verdict === 'delete') {
        await this.queue.delete(message);
        metrics.inc('trailhound_messages_total', { source: this.config.name, outcome: 'deleted' });
      } else if (verdict === 'release') {
        await this.queue.setVisibility(message, 0);
        metrics.inc('trailhound_messages_total', { source: this.config.name, outcome: 'released' });
      } else {
        await this.queue.setVisibility(message, verdict.retryAfterS);
        metrics.inc('trailhound_messages_total', { source: this.config.name, outcome: 'retry' });
      }
    } catch (error) {
      this.ackError(verdict === 'delete' ? 'delete' : 'change the visibility of', message, error);
    }
  }

  private ackError(action: string, message: QueueMessage, error: unknown): void {
    this.ctx.metrics.inc('trailhound_errors_total', { stage: 'ack' });
    this.ctx.logger.located('warn', located('TH_SQS_ACK', `cannot ${action} message ${message.id}: ${describeS3Error(error)}; it will come back and its objects will be skipped`, this.config.queueUrl), { source: this.config.name });
  }

  private async handle(message: QueueMessage): Promise<Verdict> {
    const { logger, metrics, poison } = this.ctx;
    const notification = parseNotification(message.body);
    if (notification.kind === 'ignored') {
      metrics.inc('trailhound_messages_total', { source: this.config.name, outcome: notification.reason === 's3:TestEvent' ? 'test_event' : 'ignored' });
      logger.debug('message ignored', { source: this.config.name, message_id: message.id, reason: notification.reason });
      return 'delete';
    }
    if (notification.kind === 'unrecognized') {
      metrics.inc('trailhound_messages_total', { source: this.config.name, outcome: 'unrecognized' });
      metrics.inc('trailhound_errors_total', { stage: 'message' });
      await poison.append({ source: this.config.name, uri: `sqs-message:${message.id}`, error: notification.reason, body: message.body.slice(0, 64 * 1024) });
      logger.located('error', located('TH_SQS_MESSAGE', `message ${message.id} is not an S3 or CloudTrail notification (${notification.reason}); set aside in ${poison.path} and deleted`, this.config.queueUrl), { source: this.config.name });
      return 'delete';
    }
    let retryAttempts = 0;
    for (const object of notification.objects) {
      const work = this.work(object.bucket, object.key, object.etag, message.sentAt ?? object.eventTime);
      const outcome: ObjectOutcome = await this.ctx.mutex.run(() => this.ctx.processor.process(work, this.config.poisonAfter, this.ctx.aborting));
      if (outcome.kind === 'interrupted') return 'release';
      if (outcome.kind === 'failed') retryAttempts = Math.max(retryAttempts, outcome.attempts);
    }
    // Alerts are committed; deliver them before the message goes (a failing sink keeps them in the outbox).
    await this.ctx.outbox.flush();
    if (retryAttempts > 0) return { retryAfterS: Math.min(this.config.visibilityTimeoutS, 5 * 2 ** (retryAttempts - 1)) };
    return 'delete';
  }

  private work(bucket: string, key: string, etag: string | undefined, announcedAt: number | undefined): WorkObject {
    const uri = s3Uri(bucket, key);
    const work: WorkObject = {
      source: this.config.name,
      uri,
      open: async (signal) => {
        const opened = await openObject(this.s3, { bucket, key }, { signal });
        return { unit: { uri, ...(opened.size === undefined ? {} : { size: opened.size }), open: () => opened.stream }, version: opened.etag, size: opened.size };
      },
    };
    if (etag !== undefined) work.version = etag;
    if (announcedAt !== undefined) work.announcedAt = announcedAt;
    return work;
  }
}
