/**
 * Delivery from the alerts table to every sink. Each sink has a cursor (state-store.ts): every
 * alert up to it is done. flush() moves each sink's cursor to the end, in order, recording
 * progress after each batch; a sink that fails is left behind and retried at the next flush
 * (with backoff), the others go on. On start, each sink first reconciles with what it already
 * holds, then what was committed but not delivered before a crash or a stop is sent.
 *
 * In a cluster (a state with claimSink) one node delivers to each sink, by lease: a node drains
 * a sink only while it holds the sink's lease, and reconciles the sink again (from the cursor
 * as it now stands) whenever it takes the lease over. The alert id goes with every delivery as
 * its idempotency key: a node that lost its lease in the middle of a batch may send it again.
 */
import { located } from '../core/errors.ts';
import { levelAtLeast } from '../core/levels.ts';
import type { StoredAlert, WatchState } from '../store/watch-state.ts';
import { backoffDelay } from '../core/backoff.ts';
import type { DeliveryTarget } from './delivery-targets.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { Mutex } from './mutex.ts';
import type { SigmaLevel } from '../core/levels.ts';

interface TargetState {
  target: DeliveryTarget;
  failures: number;
  /** Not before this time (epoch ms) after a failure. */
  retryAt: number;
  /** Alerts waiting, as last counted. */
  pending: number;
}

export class Outbox {
  private readonly store: WatchState;
  private readonly targets: TargetState[];
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly mutex = new Mutex();

  constructor(store: WatchState, targets: readonly DeliveryTarget[], logger: Logger, metrics: Metrics) {
    this.store = store;
    this.targets = targets.map((target) => ({ target, failures: 0, retryAt: 0, pending: 0 }));
    this.logger = logger;
    this.metrics = metrics;
  }

  /** Registers and reconciles every sink. */
  async start(): Promise<void> {
    for (const state of this.targets) {
      const cursor = await this.store.registerSink(state.target.name);
      await state.target.start(cursor);
    }
    await this.countPending();
  }

  /** Alerts waiting per sink (metrics). */
  /** Alerts waiting per sink as of the last flush (metrics: read at scrape time, without a query). */
  pending(): { sink: string; count: number }[] {
    return this.targets.map((state) => ({ sink: state.target.name, count: state.pending }));
  }

  private async countPending(): Promise<void> {
    for (const state of this.targets) {
      try {
        state.pending = await this.store.pendingCount(state.target.name);
      } catch {
        // The gauge keeps its last value; the failure is the flush's to report.
      }
    }
  }

  /**
   * Delivers everything pending. `force` ignores the backoff of failed sinks (the final flush
   * at shutdown). Returns true when every sink is caught up.
   */
  flush(force = false): Promise<boolean> {
    return this.mutex.run(async () => {
      let caughtUp = true;
      for (const state of this.targets) {
        if (!force && state.failures > 0 && Date.now() < state.retryAt) {
          caughtUp = false;
          continue;
        }
        try {
          if (!(await this.drain(state))) caughtUp = false;
        } catch (error) {
          // The state could not be read or written (a cluster's database away): retried at the next flush.
          caughtUp = false;
          this.metrics.inc('trailhound_errors_total', { stage: 'state' });
          this.logger.warn('delivery paused: the state is unavailable', { sink: state.target.name, error: (error as Error).message });
        }
      }
      await this.countPending();
      return caughtUp;
    });
  }

  async close(): Promise<void> {
    for (const state of this.targets) {
      try {
        await state.target.close();
      } catch (error) {
        this.logger.warn('sink did not close cleanly', { sink: state.target.name, error: state.target.redact((error as Error).message) });
      }
    }
  }

  /** Whether this node delivers to the sink now; a lease just taken over reconciles the sink first. */
  private async mine(state: TargetState): Promise<boolean> {
    if (this.store.claimSink === undefined) return true;
    const lease = await this.store.claimSink(state.target.name);
    if (lease === 'other') return false;
    if (lease === 'taken') {
      this.logger.info('delivering to this sink from this node', { sink: state.target.name });
      await state.target.start(await this.store.sinkCursor(state.target.name));
    }
    return true;
  }

  private async drain(state: TargetState): Promise<boolean> {
    const { target } = state;
    // Another node's sink is that node's to deliver: caught up, as far as this one goes.
    if (!(await this.mine(state))) return true;
    for (;;) {
      const batch = await this.store.pendingAlerts(target.name, target.batchSize);
      if (batch.length === 0) return true;
      const wanted = target.minLevel === undefined ? batch : batch.filter((alert) => levelAtLeast(alert.level as SigmaLevel, target.minLevel as SigmaLevel));
      const last = (batch[batch.length - 1] as StoredAlert).seq;
      try {
        if (wanted.length === 0) {
          await this.store.advanceSink(target.name, last);
          continue;
        }
        const report = await target.deliver(wanted);
        await this.store.advanceSink(target.name, Math.max(report.through, last), report.file);
        if (report.delivered > 0) this.metrics.inc('trailhound_deliveries_total', { sink: target.name, outcome: 'delivered' }, report.delivered);
        if (report.deadLettered > 0) this.metrics.inc('trailhound_deliveries_total', { sink: target.name, outcome: 'dead_lettered' }, report.deadLettered);
        state.failures = 0;
      } catch (error) {
        state.failures += 1;
        state.retryAt = Date.now() + backoffDelay(state.failures, 1000, 60_000);
        this.metrics.inc('trailhound_errors_total', { stage: 'sink' });
        // Sink errors may quote the sink's URL: its secrets never reach the log.
        const message = target.redact(error instanceof Error ? error.message : String(error));
        this.logger.located('error', located('TH_SINK_DELIVERY', `delivery failed: ${message}; the alerts stay in the outbox and are retried`, `sink:${target.name}`), { failures: state.failures });
        return false;
      }
    }
  }
}
