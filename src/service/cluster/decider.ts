/**
 * The decider of a watch cluster (docs/cluster.md): one node at a time, by lease, holds the
 * stateful half of the engine, a live Detector. It absorbs the parts the nodes committed with
 * their objects, in commit order, moving event time on to each object's newest, so that windows
 * close as in one process; then it commits, in one transaction and only while it still holds
 * the lease, the correlation alerts decided, the parts absorbed (deleted) and its state after
 * them. Every node runs one; the others wait for the lease. A node that takes the lease over
 * starts from the state the last decision committed: no part is absorbed twice or lost.
 */
import type { Alert } from '../../core/alert.ts';
import { located } from '../../core/errors.ts';
import type { Detector } from '../../engine/detector.ts';
import type { DetectorLiveState, DetectorPartial } from '../../engine/partial.ts';
import type { PgWatchState } from '../../store/cluster/pg-watch-state.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** Parts absorbed per decision (one transaction). */
const PARTS_PER_DECISION = 200;

export interface DeciderOptions {
  state: PgWatchState;
  build: () => Detector;
  logger: Logger;
  metrics: Metrics;
  /** Told when a decision queued alerts (the outbox delivers them). */
  onAlerts: () => void;
  /** Between rounds when there is nothing to do, ms. */
  pollMs?: number;
}

export class WatchDecider {
  private readonly options: DeciderOptions;
  private detector: Detector | undefined;
  private generation = -1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;

  constructor(options: DeciderOptions) {
    this.options = options;
  }

  /** Whether this node decides now. */
  get deciding(): boolean {
    return this.detector !== undefined;
  }

  /** Live correlation groups of the decider (0 on the other nodes). */
  liveGroups(): number {
    return this.detector?.correlationStats()?.liveGroups ?? 0;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.loop();
    }, ms);
  }

  private async loop(): Promise<void> {
    let more = false;
    try {
      more = await this.round();
      this.failures = 0;
    } catch (error) {
      // The database is away, or a decision failed: start again from the committed state.
      this.failures += 1;
      this.detector = undefined;
      this.options.metrics.inc('trailhound_errors_total', { stage: 'state' });
      if (this.failures === 1 || this.failures % 20 === 0) this.options.logger.warn('deciding failed; retrying from the last committed decision', { error: (error as Error).message, failures: this.failures });
    }
    this.schedule(more ? 0 : (this.options.pollMs ?? 250) * Math.min(8, 2 ** Math.min(this.failures, 3)));
  }

  /** One round: keep the lease, absorb what waits, commit. True when more parts wait. */
  private async round(): Promise<boolean> {
    const { state, logger } = this.options;
    const lease = await state.claimDecider();
    if (lease === undefined) {
      if (this.detector !== undefined) logger.info('another node decides correlations now');
      this.detector = undefined;
      return false;
    }
    if (this.detector === undefined || this.generation !== lease.generation) {
      const saved = await state.deciderState();
      this.detector = this.restore(saved.state);
      this.generation = saved.generation;
      logger.info('deciding correlations for the cluster', { generation: saved.generation });
    }
    const detector = this.detector;
    const parts = await state.waitingParts(PARTS_PER_DECISION);
    if (parts.length === 0) return false;
    const alerts: Alert[] = [];
    let newest: number | undefined;
    for (const item of parts) {
      if (item.part !== null) {
        try {
          detector.absorbPartial(JSON.parse(item.part) as DetectorPartial);
        } catch (error) {
          logger.located('error', located('TH_STATE_RESTORE', `the undecided state of this object could not be read (${(error as Error).message}); its correlations are left out`, item.object));
        }
      }
      if (item.newest !== null) {
        detector.advanceEventTime(item.newest, alerts);
        if (newest === undefined || item.newest > newest) newest = item.newest;
      }
    }
    const queued = await state.commitDecision({ generation: this.generation, parts: parts.map((item) => item.seq), alerts, state: JSON.stringify(detector.liveState()), newest });
    if (queued === undefined) {
      logger.info('the decider lease was lost before the decision committed; another node decides');
      this.detector = undefined;
      return false;
    }
    this.generation += 1;
    this.options.metrics.inc('trailhound_cluster_parts_decided_total', {}, parts.length);
    const fresh = new Set(queued);
    for (const alert of alerts) {
      if (fresh.delete(alert.id)) this.options.metrics.inc('trailhound_alerts_total', { rule: alert.rule.name ?? alert.rule.id, level: alert.rule.level });
    }
    if (queued.length > 0) this.options.onAlerts();
    return parts.length === PARTS_PER_DECISION;
  }

  private restore(text: string | null): Detector {
    const detector = this.options.build();
    if (text === null) return detector;
    try {
      const outcome = detector.restoreLiveState(JSON.parse(text) as DetectorLiveState);
      if (outcome.droppedGroups > 0) {
        this.options.logger.located('warn', located('TH_STATE_RESTORE', `${outcome.droppedGroups} saved correlation groups belong to correlations that are no longer loaded or changed; they were dropped`, 'state:correlation'));
      }
      return detector;
    } catch (error) {
      this.options.logger.located('warn', located('TH_STATE_RESTORE', `the decider's saved state could not be read (${(error as Error).message}); starting without it`, 'state:correlation'));
      return this.options.build();
    }
  }

  /** Stops deciding (the round in progress finishes) and gives the lease up for another node. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.detector !== undefined) {
      this.detector = undefined;
      await this.options.state.releaseDecider().catch(() => undefined);
    }
  }
}
