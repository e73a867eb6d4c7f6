/**
 * What `watch` keeps, behind one interface with two implementations: the SQLite state of one
 * process (state-store.ts, synchronous: its answers are plain values) and the shared state of a
 * cluster on PostgreSQL (cluster/pg-watch-state.ts, asynchronous). The service awaits every
 * answer, so it runs on either. Which objects are done, the alerts (the outbox) and each sink's
 * cursor are here; the engine state is the implementation's own (a snapshot committed with each
 * object on SQLite, a decider's state on PostgreSQL: docs/cluster.md).
 */
import type { LocatedError } from '../core/errors.ts';
import type { Alert } from '../core/alert.ts';

export type Awaitable<T> = T | Promise<T>;

export type ObjectStatus = { status: 'processed' | 'poisoned' } | { status: 'failing'; attempts: number } | undefined;

export interface ObjectCommit {
  uri: string;
  /** ETag for S3 objects, `mtime:size` for files; '' when unknown. */
  version: string;
  /** Where the alerts came from (the object's URI, usually). */
  object: string;
  records: number;
  errors: number;
  alerts: readonly Alert[];
  /** Engine state after this object, by component name (JSON text): a single process's. */
  engineState: ReadonlyMap<string, string>;
  /**
   * A cluster node's: what the object leaves undecided (Detector.drainPartial(), as JSON; absent
   * when nothing) and its newest event time, for the decider (docs/cluster.md).
   */
  part?: { text: string | undefined; newest: number };
  /**
   * Told of each record too deep to be stored whole: its alert is stored with the deeper
   * parts truncated (TH_INPUT_LIMIT, located where the record came from; alertJson). Each is
   * also counted in the object's errors.
   */
  onLimit?: (error: LocatedError) => void;
}

export interface StoredAlert {
  seq: number;
  id: string;
  level: string;
  /** The alert as JSON, exactly as it was committed. */
  body: string;
}

export interface SinkCursor {
  cursor: number;
  fileOffset: number | undefined;
  fileId: string | undefined;
}

export interface WatchState {
  /** Where the state is, for logs (a folder, or the redacted URL). */
  readonly where: string;
  /** What is known of an object: exact version when given, else any version of the URI. */
  objectStatus(uri: string, version?: string): Awaitable<ObjectStatus>;
  /**
   * Commits one processed object, atomically: its mark, its alerts, its engine state or part.
   * Returns the ids queued for delivery; undefined when another node committed the object first
   * (a cluster: nothing was written).
   */
  commitObject(commit: ObjectCommit): Awaitable<string[] | undefined>;
  /** Counts one more failed attempt at an object; returns the attempts so far. */
  recordFailure(uri: string, version: string, error: string): Awaitable<number>;
  /** Sets an object aside for good: it is never read again by the service. */
  markPoisoned(uri: string, version: string, error: string): Awaitable<void>;
  /** A sink seen for the first time starts after the alerts already stored (adding a sink does not replay history). */
  registerSink(name: string): Awaitable<SinkCursor>;
  sinkCursor(name: string): Awaitable<SinkCursor>;
  /** Alerts after the sink's cursor, oldest first. */
  pendingAlerts(sink: string, limit: number): Awaitable<StoredAlert[]>;
  pendingCount(sink: string): Awaitable<number>;
  /** Marks every alert up to `seq` as done for the sink (and where its file now ends). */
  advanceSink(name: string, seq: number, file?: { offset: number; id: string }): Awaitable<void>;
  /**
   * A cluster: whether this node delivers to the sink now (one node per sink, by lease: it
   * claims or renews it). Absent on a single process, which always does.
   */
  claimSink?(name: string): Promise<'held' | 'taken' | 'other'>;
  /** Drops what is older than the retention (state-store.ts says what). */
  prune(retentionMs: number): Awaitable<{ objects: number; alerts: number }>;
  close(): Awaitable<void>;
}
