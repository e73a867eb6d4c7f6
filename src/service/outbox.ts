/**
 * Delivery from the alerts table to every sink. Each sink has a cursor (state-store.ts): every
 * alert up to it is done. flush() moves each sink's cursor to the end, in order, recording
 * progress after each batch; a sink that fails is left behind and retried at the next flush
 * (with backoff), the others go on. On start, each sink first reconciles with what it already
 * holds, then what was committed but not delivered before a crash or a stop is sent.
 */
import { located } from '../core/errors.ts';
import { levelAtLeast } from '../core/levels.ts';
import type { StateStore, StoredAlert } from '../store/state-store.ts';
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
}

export class Outbox {
  private readonly store: StateStore;
  private readonly targets: TargetState[];
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly mutex = new Mutex();

  constructor(store: StateStore, targets: readonly DeliveryTarget[], logger: Logger, metrics: Metrics) {
    this.store = store;
    this.targets = targets.map((target) => ({ target, failures: 0, retryAt: 0 }));
    this.logger = logger;
    this.metrics = metrics;
  }

  /** Registers and reconciles every sink. */
  async start(): Promise<void> {
    for (const state of this.targets) {
      const cursor = this.store.registerSink(state.target.name);
      await state.target.start(cursor);
    }
  }

  /** Alerts waiting per sink (metrics). */
  pending(): { sink: string; count: number }[] {
    return this.targets.map((state) => ({ sink: state.target.name, count: this.store.pendingCount(state.target.name) }));
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
        if (!(await this.drain(state))) caughtUp = false;
      }
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

  private async drain(state: TargetState): Promise<boolean> {
    const { target } = state;
    for (;;) {
      const batch = this.store.pendingAlerts(target.name, target.batchSize);
      if (batch.length === 0) return true;
      const wanted = target.minLevel === undefined ? batch : batch.filter((alert) => levelAtLeast(alert.level as SigmaLevel, target.minLevel as SigmaLevel));
      const last = (batch[batch.length - 1] as StoredAlert).seq;
      try {
        if (wanted.length === 0) {
          this.store.advanceSink(target.name, last);
          continue;
        }
        const report = await target.deliver(wanted);
        this.store.advanceSink(target.name, Math.max(report.through, last), report.file);
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
