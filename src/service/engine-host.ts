/**
 * The detector of a long-running service, and the engine state that must survive a restart.
 * After each object the state is snapshotted and committed with the object (state-store.ts);
 * when an object fails half-way, the detector is rebuilt from the last committed snapshot so
 * that the events of the failed attempt are not counted twice when it is retried.
 *
 * State components today: `correlation` (open windows). GuardDuty finding versions are kept
 * by the engine's GuardDutyFindings, which exposes no state yet: across restarts the alerts
 * table stands in for it (state-store.ts keeps the newest version of each finding's alerts).
 * A component that gains snapshot()/restore() is one more entry in `components()`.
 */
import { located } from '../core/errors.ts';
import type { Detector } from '../engine/detector.ts';
import type { CorrelationSnapshot } from '../engine/correlation/snapshot.ts';
import type { StateStore } from '../store/state-store.ts';
import type { Logger } from './logger.ts';
import type { Alert } from '../core/alert.ts';
import type { EngineCommit, WatchEngine } from './watch-engine.ts';

interface StateComponent {
  name: string;
  snapshot(detector: Detector): unknown;
  restore(detector: Detector, state: unknown, logger: Logger): void;
}

const CORRELATION: StateComponent = {
  name: 'correlation',
  snapshot: (detector) => detector.correlationSnapshot() ?? null,
  restore(detector, state, logger) {
    if (state === null) return;
    const outcome = detector.restoreCorrelations(state as CorrelationSnapshot);
    if (outcome.droppedGroups > 0) {
      logger.located('warn', located('TH_STATE_RESTORE', `${outcome.droppedGroups} saved correlation groups belong to correlations that are no longer loaded or changed; they were dropped`, 'state:correlation'));
    }
    if (outcome.groups > 0) logger.info('correlation state restored', { groups: outcome.groups, entries: outcome.entries });
  },
};

function components(): StateComponent[] {
  return [CORRELATION];
}

export class EngineHost implements WatchEngine {
  detector: Detector;
  private readonly build: () => Detector;
  private readonly logger: Logger;
  /** The state as last committed (JSON text by component). */
  private committedState = new Map<string, string>();

  constructor(build: () => Detector, logger: Logger) {
    this.build = build;
    this.logger = logger;
    this.detector = build();
  }

  /** Loads the state the previous run committed. */
  restoreFrom(store: StateStore): void {
    const saved = new Map<string, string>();
    for (const component of components()) {
      const text = store.engineState(component.name);
      if (text !== undefined) saved.set(component.name, text);
    }
    this.committedState = saved;
    this.load(saved);
  }

  /** The state now, to commit with the object just processed. */
  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const component of components()) out.set(component.name, JSON.stringify(component.snapshot(this.detector)));
    return out;
  }

  /** Records what was committed (the rollback point). */
  committedAs(state: Map<string, string>): void {
    this.committedState = state;
  }

  advance(newest: number, out: Alert[]): void {
    this.detector.advanceEventTime(newest, out);
  }

  commitState(): EngineCommit {
    return { engineState: this.snapshot() };
  }

  committed(state: EngineCommit): void {
    this.committedAs(state.engineState as Map<string, string>);
  }

  /** Back to the last committed state: a new detector loaded with it. */
  rollback(): void {
    this.detector = this.build();
    this.load(this.committedState);
  }

  private load(state: Map<string, string>): void {
    for (const component of components()) {
      const text = state.get(component.name);
      if (text === undefined) continue;
      try {
        component.restore(this.detector, JSON.parse(text) as unknown, this.logger);
      } catch (error) {
        this.logger.located('warn', located('TH_STATE_RESTORE', `saved ${component.name} state could not be read (${(error as Error).message}); starting without it`, `state:${component.name}`));
      }
    }
  }
}
