/**
 * One SQS queue carrying S3 notifications: long polling, deleting a message once its objects
 * are safely processed, and changing its visibility (extended while an object is processed,
 * 0 to hand it back at shutdown, a backoff after a failure). The SDK retries throttling and
 * transient errors itself.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { quietSdkNodeWarning } from './s3-client.ts';
import type { AwsClientOptions } from './source.ts';

export interface QueueMessage {
  id: string;
  receiptHandle: string;
  body: string;
  /** When SQS received it (SentTimestamp), epoch ms. */
  sentAt: number | undefined;
  /** Times SQS handed it out, this one included. */
  receiveCount: number;
}

export interface QueueSettings {
  queueUrl: string;
  visibilityTimeoutS: number;
  waitTimeS: number;
  maxMessages: number;
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  quietSdkNodeWarning();
  const config: SQSClientConfig = { maxAttempts: 5, retryMode: 'standard' };
  if (options.region !== undefined) config.region = options.region;
  if (options.profile !== undefined) config.profile = options.profile;
  if (options.endpointUrl !== undefined) config.endpoint = options.endpointUrl;
  return new SQSClient(config);
}

/** The region of a standard queue URL (https://sqs.<region>.amazonaws.com/...). */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url)?.[1];
}

export class SqsQueue {
  readonly settings: QueueSettings;
  private readonly client: SQSClient;

  constructor(client: SQSClient, settings: QueueSettings) {
    this.client = client;
    this.settings = settings;
  }

  /** Long-polls for up to maxMessages messages; an aborted poll returns none. */
  async receive(signal: AbortSignal): Promise<QueueMessage[]> {
    try {
      const output = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: this.settings.maxMessages,
          WaitTimeSeconds: this.settings.waitTimeS,
          VisibilityTimeout: this.settings.visibilityTimeoutS,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
      return (output.Messages ?? []).flatMap((message) => {
        if (message.ReceiptHandle === undefined || message.MessageId === undefined) return [];
        const sent = Number(message.Attributes?.SentTimestamp);
        return [
          {
            id: message.MessageId,
            receiptHandle: message.ReceiptHandle,
            body: message.Body ?? '',
            sentAt: Number.isFinite(sent) ? sent : undefined,
            receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
          },
        ];
      });
    } catch (error) {
      if (signal.aborted) return [];
      throw error;
    }
  }

  async delete(message: QueueMessage): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.receiptHandle }));
  }

  /** Sets how long until the message is visible again (0: now). */
  async setVisibility(message: QueueMessage, seconds: number): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))) }));
  }
}
