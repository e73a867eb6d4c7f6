/**
 * The sinks of `watch`, as the outbox drives them: a sink (src/sinks/, one contract for all)
 * with the name and level threshold its configuration gives it, fed the stored alerts in order
 * and saying up to which outbox seq it got. What each sink guarantees is in sinks/README.md:
 * the file exactly once per alert id across crashes; stdout at least once; webhook and Slack
 * at least once with the alert id for de-duplication, then the dead-letter file.
 */
import type { Writable } from 'node:stream';
import type { LocatedError } from '../core/errors.ts';
import { FileSink } from '../sinks/file.ts';
import type { FilePosition } from '../sinks/jsonl-file.ts';
import { JsonLinesSink } from '../sinks/jsonl.ts';
import { OcsfSink } from '../sinks/ocsf/ocsf-sink.ts';
import type { AlertSink } from '../sinks/sink.ts';
import { SlackSink } from '../sinks/slack.ts';
import { redactSecrets, redactSecretsInText, WebhookSink } from '../sinks/webhook.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { SinkCursor, StoredAlert } from '../store/state-store.ts';
import type { SinkConfig } from './config.ts';

export interface DeliveryReport {
  /** The last seq handled (delivered, dead-lettered or already present). */
  through: number;
  delivered: number;
  deadLettered: number;
  /** File sinks: where the file ends now. */
  file?: FilePosition;
}

export interface TargetHooks {
  /** An alert went to the dead-letter file (TH_SINK_DEAD_LETTER). */
  onDeadLetter: (error: LocatedError) => void;
  /** First backoff delay for HTTP retries, ms (tests shorten it). */
  httpBaseDelayMs?: number;
  stdout?: Writable;
}

/** One configured sink, bound to the outbox's cursor. */
export class DeliveryTarget {
  readonly name: string;
  readonly type: SinkConfig['type'];
  readonly minLevel: SigmaLevel | undefined;
  private readonly sink: AlertSink;
  private readonly url: string | undefined;

  constructor(config: SinkConfig, sink: AlertSink) {
    this.name = config.name;
    this.type = config.type;
    this.minLevel = config.minLevel;
    this.sink = sink;
    this.url = config.type === 'webhook' || config.type === 'slack' ? config.url : undefined;
  }

  /** A message about this sink made safe to log or store: its URL's secrets redacted (webhook.ts). */
  redact(text: string): string {
    return this.url === undefined ? redactSecretsInText(text) : redactSecrets(text, this.url);
  }

  /** Alerts handed over per deliver() call. */
  get batchSize(): number {
    return this.sink.batchSize;
  }

  /** Reconciles with what the sink already holds, before the first delivery. */
  start(cursor: SinkCursor): Promise<void> {
    return this.sink.start(cursor.fileOffset === undefined || cursor.fileId === undefined ? undefined : { offset: cursor.fileOffset, id: cursor.fileId });
  }

  /** Delivers in order. Throws when nothing could be done (the batch is retried later). */
  async deliver(batch: readonly StoredAlert[]): Promise<DeliveryReport> {
    const report = await this.sink.deliver(batch);
    return { through: batch[batch.length - 1]?.seq ?? 0, ...report };
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

function sinkOf(config: SinkConfig, hooks: TargetHooks): AlertSink {
  switch (config.type) {
    case 'stdout':
      return new JsonLinesSink(hooks.stdout ?? process.stdout, { flushEachDelivery: true, endOnClose: false });
    case 'file':
      // `format: ocsf`: the same exactly-once file, one Detection Finding per line.
      return config.format === 'ocsf' ? new OcsfSink(new FileSink(config.path)) : new FileSink(config.path);
    case 'webhook':
    case 'slack': {
      const options = {
        url: config.url,
        headers: config.headers,
        timeoutMs: config.timeoutMs,
        maxAttempts: config.maxAttempts,
        ...(hooks.httpBaseDelayMs === undefined ? {} : { baseDelayMs: hooks.httpBaseDelayMs }),
        deadLetter: { sink: config.name, path: config.deadLetter, onDeadLetter: hooks.onDeadLetter, redact: (text: string) => redactSecrets(text, config.url) },
      };
      return config.type === 'webhook' ? new WebhookSink(options) : new SlackSink(options);
    }
  }
}

export function createTarget(config: SinkConfig, hooks: TargetHooks): DeliveryTarget {
  return new DeliveryTarget(config, sinkOf(config, hooks));
}
