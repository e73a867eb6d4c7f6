import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Mutex } from './mutex.ts';
import type { ObjectProcessor } from './object-processor.ts';
import type { Outbox } from './outbox.ts';
import type { PoisonFile } from './poison-file.ts';

/** What every source runner of `watch` shares. */
export interface RunnerContext {
  processor: ObjectProcessor;
  /** One object at a time across all sources. */
  mutex: Mutex;
  outbox: Outbox;
  logger: Logger;
  metrics: Metrics;
  poison: PoisonFile;
  /** Aborted when shutdown begins: stop polling, sleeping and receiving. */
  stopping: AbortSignal;
  /** Aborted when the shutdown grace period is over: interrupt the object being read. */
  aborting: AbortSignal;
}
