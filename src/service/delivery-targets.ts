/**
 * The sinks of `watch`, as the outbox drives them: each delivers stored alerts in order and
 * says how far it got. What each guarantees:
 *
 * - file: exactly once per alert id in the file, across crashes (lines past the recorded end
 *   are read back at start; see sinks/file.ts);
 * - stdout: at least once (a crash between writing and recording repeats the last lines);
 * - webhook, slack: at least once, with the alert id for de-duplication; after every retry
 *   failed, the alert goes to the dead-letter file and delivery moves on.
 */
import type { Alert } from '../core/alert.ts';
import type { LocatedError } from '../core/errors.ts';
import { DeadLetterFile } from '../sinks/dead-letter.ts';
import { JsonlFileSink } from '../sinks/file.ts';
import type { FilePosition } from '../sinks/file.ts';
import { SlackSink } from '../sinks/slack.ts';
import { WebhookSink } from '../sinks/webhook.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { SinkCursor, StoredAlert } from '../store/state-store.ts';
import type { HttpSinkConfig, SinkConfig } from './config.ts';

export interface DeliveryReport {
  /** The last seq handled (delivered, dead-lettered or already present). */
  through: number;
  delivered: number;
  deadLettered: number;
  /** File sinks: where the file ends now. */
  file?: FilePosition;
}

export interface DeliveryTarget {
  readonly name: string;
  readonly type: SinkConfig['type'];
  readonly minLevel: SigmaLevel | undefined;
  /** Alerts handed over per deliver() call. */
  readonly batchSize: number;
  /** Reconciles with what the target already holds, before the first delivery. */
  start(cursor: SinkCursor): Promise<void>;
  /** Delivers in order. Throws when nothing could be done (the batch is retried later). */
  deliver(batch: readonly StoredAlert[]): Promise<DeliveryReport>;
  close(): Promise<void>;
}

export interface TargetHooks {
  /** An alert went to the dead-letter file (TH_SINK_DEAD_LETTER). */
  onDeadLetter: (error: LocatedError) => void;
  /** First backoff delay for HTTP retries, ms (tests shorten it). */
  httpBaseDelayMs?: number;
  stdout?: NodeJS.WritableStream;
}

function lastSeq(batch: readonly StoredAlert[]): number {
  return batch[batch.length - 1]?.seq ?? 0;
}

class StdoutTarget implements DeliveryTarget {
  readonly type = 'stdout';
  readonly batchSize = 500;
  readonly name: string;
  readonly minLevel: SigmaLevel | undefined;
  private readonly stream: NodeJS.WritableStream;

  constructor(name: string, minLevel: SigmaLevel | undefined, stream: NodeJS.WritableStream) {
    this.name = name;
    this.minLevel = minLevel;
    this.stream = stream;
  }

  async start(): Promise<void> {}

  async deliver(batch: readonly StoredAlert[]): Promise<DeliveryReport> {
    const text = batch.map((alert) => `${alert.body}\n`).join('');
    await new Promise<void>((resolve, reject) => {
      this.stream.write(text, (error) => (error === undefined || error === null ? resolve() : reject(error)));
    });
    return { through: lastSeq(batch), delivered: batch.length, deadLettered: 0 };
  }

  async close(): Promise<void> {}
}

class FileTarget implements DeliveryTarget {
  readonly type = 'file';
  readonly batchSize = 500;
  readonly name: string;
  readonly minLevel: SigmaLevel | undefined;
  private readonly sink: JsonlFileSink;
  /** Alerts found in the file past the recorded end at start: written before a crash. */
  private present = new Set<string>();
  /** The recorded end, until the file was reconciled with it (at the first delivery). */
  private known: FilePosition | undefined;
  private reconciled = false;

  constructor(name: string, minLevel: SigmaLevel | undefined, path: string) {
    this.name = name;
    this.minLevel = minLevel;
    this.sink = new JsonlFileSink(path);
  }

  async start(cursor: SinkCursor): Promise<void> {
    this.known = cursor.fileOffset === undefined || cursor.fileId === undefined ? undefined : { offset: cursor.fileOffset, id: cursor.fileId };
  }

  async deliver(batch: readonly StoredAlert[]): Promise<DeliveryReport> {
    // Reconciled at the first delivery rather than at start: a file that cannot be opened yet
    // is then a delivery failure, retried, not a reason to refuse to start.
    if (!this.reconciled) {
      this.present = (await this.sink.linesAfter(this.known)).ids;
      this.reconciled = true;
    }
    const lines: string[] = [];
    for (const alert of batch) {
      if (this.present.delete(alert.id)) continue;
      lines.push(alert.body);
    }
    const file = await this.sink.append(lines);
    return { through: lastSeq(batch), delivered: lines.length, deadLettered: 0, file };
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

class HttpTarget implements DeliveryTarget {
  readonly batchSize = 1;
  readonly name: string;
  readonly type: 'webhook' | 'slack';
  readonly minLevel: SigmaLevel | undefined;
  private readonly send: (alert: StoredAlert) => Promise<void>;
  private readonly deadLetter: DeadLetterFile;
  private readonly onDeadLetter: TargetHooks['onDeadLetter'];

  constructor(config: HttpSinkConfig, hooks: TargetHooks) {
    this.name = config.name;
    this.type = config.type;
    this.minLevel = config.minLevel;
    this.deadLetter = new DeadLetterFile(config.deadLetter);
    this.onDeadLetter = hooks.onDeadLetter;
    const options = { url: config.url, headers: config.headers, timeoutMs: config.timeoutMs, maxAttempts: config.maxAttempts, ...(hooks.httpBaseDelayMs === undefined ? {} : { baseDelayMs: hooks.httpBaseDelayMs }) };
    if (config.type === 'webhook') {
      const sink = new WebhookSink(options);
      this.send = (alert) => sink.send(alert.body, alert.id);
    } else {
      const sink = new SlackSink(options);
      this.send = (alert) => sink.send(JSON.parse(alert.body) as Alert);
    }
  }

  async start(): Promise<void> {}

  async deliver(batch: readonly StoredAlert[]): Promise<DeliveryReport> {
    let delivered = 0;
    let deadLettered = 0;
    for (const alert of batch) {
      try {
        await this.send(alert);
        delivered += 1;
      } catch (error) {
        const message = (error as Error).message;
        await this.deadLetter.append(this.name, alert.body, message);
        deadLettered += 1;
        this.onDeadLetter({ code: 'TH_SINK_DEAD_LETTER', message: `alert ${alert.id} could not be delivered (${message}); appended to ${this.deadLetter.path}`, location: `sink:${this.name}` });
      }
    }
    return { through: lastSeq(batch), delivered, deadLettered };
  }

  async close(): Promise<void> {}
}

export function createTarget(config: SinkConfig, hooks: TargetHooks): DeliveryTarget {
  switch (config.type) {
    case 'stdout':
      return new StdoutTarget(config.name, config.minLevel, hooks.stdout ?? process.stdout);
    case 'file':
      return new FileTarget(config.name, config.minLevel, config.path);
    case 'webhook':
    case 'slack':
      return new HttpTarget(config, hooks);
  }
}
