/**
 * A watch cluster node's engine (docs/cluster.md): records are matched here and single-event
 * alerts and GuardDuty finding versions raised at once; everything stateful (correlation
 * entries, what the baselines learn, threat-intel buckets) is held for the object and handed
 * over with its commit, as the object's part, to the one node that decides (decider.ts).
 */
import type { Detector } from '../../engine/detector.ts';
import { isEmptyPartial } from '../../engine/partial.ts';
import type { EngineCommit, WatchEngine } from '../watch-engine.ts';

const NO_STATE: ReadonlyMap<string, string> = new Map();

export class NodeEngine implements WatchEngine {
  detector: Detector;
  private readonly build: () => Detector;

  constructor(build: () => Detector) {
    this.build = build;
    this.detector = build();
  }

  /** A node decides no window: event time moves on at the decider. */
  advance(): void {}

  commitState(newest: number): EngineCommit {
    const part = this.detector.drainPartial();
    const empty = isEmptyPartial(part);
    // An object without state still moves the decider's event time on.
    if (empty && !Number.isFinite(newest)) return { engineState: NO_STATE };
    return { engineState: NO_STATE, part: { text: empty ? undefined : JSON.stringify(part), newest } };
  }

  committed(): void {}

  /** The part of a failed attempt is dropped with its detector: the object is read again. */
  rollback(): void {
    this.detector = this.build();
  }
}
