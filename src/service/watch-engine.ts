/**
 * The detector `watch` feeds objects to, and what it commits with each: on one process the
 * whole engine state after the object (engine-host.ts), on a cluster node what the object left
 * undecided, for the decider (cluster/node-engine.ts, docs/cluster.md).
 */
import type { Alert } from '../core/alert.ts';
import type { Detector } from '../engine/detector.ts';
import type { ObjectCommit } from '../store/watch-state.ts';

export type EngineCommit = Pick<ObjectCommit, 'engineState' | 'part'>;

export interface WatchEngine {
  /** The detector the object's records go to (replaced by rollback()). */
  readonly detector: Detector;
  /** After each batch of an object, with the batch's newest event time. */
  advance(newest: number, out: Alert[]): void;
  /** What to commit with the object just read (`newest`: its newest event time). */
  commitState(newest: number): EngineCommit;
  /** That state is committed. */
  committed(state: EngineCommit): void;
  /** Back to the last committed state: the object is to be read again. */
  rollback(): void;
}
