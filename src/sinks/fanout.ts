/**
 * Several sinks fed the same alerts without holding up whoever raises them: each sink has its
 * own queue, delivered in order in batches of its `batchSize` while the scan goes on (a slow
 * webhook does not slow the scan until its queue is full: then offer() waits, so memory stays
 * bounded). What a sink could not deliver is counted and reported (TH_SINK_DELIVERY), never
 * dropped silently. After `giveUpAfter` failed alerts in a row a sink is given up for the rest
 * of the run (a receiver that is down would otherwise cost every alert its full retries): the
 * remaining alerts go straight to its dead-letter file when it has one, else are counted failed.
 *
 * `scan --sink` uses it (src/cli/scan-sinks.ts); `watch` has its outbox instead.
 */
import { located, type LocatedError } from '../core/errors.ts';
import { levelAtLeast, type SigmaLevel } from '../core/levels.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { alertOf, type AlertSink, type SinkAlert } from './sink.ts';

export interface FanoutTarget {
  /** Shown in messages and dead-letter lines: never a URL's secrets. */
  name: string;
  sink: AlertSink;
  minLevel?: SigmaLevel;
  /** The dead-letter file of an HTTP sink (what it gives up on after every retry). */
  deadLetter?: string;
  /** Makes an error message safe to show (an HTTP sink: its URL's secrets redacted). */
  redact: (text: string) => string;
}

export interface FanoutTargetReport {
  name: string;
  /** Alerts offered to the sink (at or above its level). */
  offered: number;
  delivered: number;
  /** In the dead-letter file. */
  deadLettered: number;
  /** Neither delivered nor in a dead-letter file. */
  failed: number;
  /** File sinks: already in the file (written by an earlier run), not written again. */
  present: number;
  /** Given up after too many failures in a row. */
  gaveUp: boolean;
}

export interface FanoutOptions {
  onError: (error: LocatedError) => void;
  /** Alerts waiting per sink before offer() waits (default 1000). */
  maxQueued?: number;
  /** Failed alerts in a row after which a sink is given up (default 3). */
  giveUpAfter?: number;
}

class TargetQueue {
  readonly target: FanoutTarget;
  readonly report: FanoutTargetReport;
  private readonly options: FanoutOptions;
  private readonly queue: SinkAlert[] = [];
  private running: Promise<void> | undefined;
  /** Resolved after each batch: what a full queue's offer() waits for. */
  private progress: { promise: Promise<void>; resolve: () => void };
  private failuresInARow = 0;

  constructor(target: FanoutTarget, options: FanoutOptions) {
    this.target = target;
    this.options = options;
    this.report = { name: target.name, offered: 0, delivered: 0, deadLettered: 0, failed: 0, present: 0, gaveUp: false };
    this.progress = TargetQueue.signal();
  }

  private static signal(): { promise: Promise<void>; resolve: () => void } {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    return { promise, resolve };
  }

  async offer(item: SinkAlert): Promise<void> {
    if (this.target.minLevel !== undefined && !levelAtLeast(alertOf(item).rule.level, this.target.minLevel)) return;
    this.report.offered += 1;
    while (this.queue.length >= (this.options.maxQueued ?? 1000)) await this.progress.promise;
    this.queue.push(item);
    this.running ??= this.pump();
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, Math.max(1, this.target.sink.batchSize));
      await (this.report.gaveUp ? this.setAside(batch) : this.deliver(batch));
      const done = this.progress;
      this.progress = TargetQueue.signal();
      done.resolve();
    }
    this.running = undefined;
  }

  private async deliver(batch: readonly SinkAlert[]): Promise<void> {
    try {
      const result = await this.target.sink.deliver(batch);
      this.report.delivered += result.delivered;
      this.report.deadLettered += result.deadLettered;
      this.report.present += Math.max(0, batch.length - result.delivered - result.deadLettered);
      this.failuresInARow = result.delivered > 0 ? 0 : this.failuresInARow + result.deadLettered;
    } catch (error) {
      this.report.failed += batch.length;
      this.failuresInARow += batch.length;
      const message = this.target.redact(error instanceof Error ? error.message : String(error));
      this.options.onError(located('TH_SINK_DELIVERY', `${batch.length} alert(s) could not be delivered (${message}); they are in the scan's output, not in this sink`, `sink:${this.target.name}`));
    }
    if (this.failuresInARow >= (this.options.giveUpAfter ?? 3)) {
      this.report.gaveUp = true;
      this.options.onError(
        located(
          'TH_SINK_DELIVERY',
          `${this.failuresInARow} alerts in a row could not be delivered: the sink is given up for the rest of this run; the remaining alerts go ${this.target.deadLetter === undefined ? 'nowhere (counted as failed)' : `to ${this.target.deadLetter}`}`,
          `sink:${this.target.name}`,
        ),
      );
    }
  }

  /** A given-up sink: its alerts to the dead-letter file without an attempt, or counted failed. */
  private async setAside(batch: readonly SinkAlert[]): Promise<void> {
    if (this.target.deadLetter === undefined) {
      this.report.failed += batch.length;
      return;
    }
    const file = new DeadLetterFile(this.target.deadLetter);
    for (const item of batch) {
      try {
        await file.append(this.target.name, item.body, 'not attempted: the sink was given up after failing repeatedly');
        this.report.deadLettered += 1;
      } catch (error) {
        this.report.failed += 1;
        this.options.onError(located('TH_SINK_DEAD_LETTER', `alert ${item.id} could not be written to the dead-letter file: ${(error as Error).message}`, `sink:${this.target.name}`));
      }
    }
  }

  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }
}

export class SinkFanout {
  private readonly queues: TargetQueue[];

  constructor(targets: readonly FanoutTarget[], options: FanoutOptions) {
    this.queues = targets.map((target) => new TargetQueue(target, options));
  }

  get size(): number {
    return this.queues.length;
  }

  start(): Promise<void> {
    return Promise.all(this.queues.map((queue) => queue.target.sink.start())).then(() => undefined);
  }

  /** Queues the alert for every sink whose level it reaches; waits only while a queue is full. */
  async offer(item: SinkAlert): Promise<void> {
    for (const queue of this.queues) await queue.offer(item);
  }

  /** Delivers what is queued, closes every sink, and says what each did. */
  async close(onError: (error: LocatedError) => void): Promise<FanoutTargetReport[]> {
    const reports: FanoutTargetReport[] = [];
    for (const queue of this.queues) {
      await queue.drain();
      try {
        await queue.target.sink.close();
      } catch (error) {
        onError(located('TH_SINK_DELIVERY', `the sink did not close cleanly: ${queue.target.redact((error as Error).message)}`, `sink:${queue.target.name}`));
      }
      reports.push(queue.report);
    }
    return reports;
  }
}
