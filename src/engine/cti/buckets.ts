/**
 * Time buckets that turn repeated threat-intel matches into one alert with a count: matches of
 * the same group (indicator, interface, direction...) whose event times fall in the same
 * bucket (UTC-aligned, 1 hour by default) share one bucket.
 *
 * A bucket closes, and its alert is emitted:
 * - when a match of the same group arrives with an event time past the bucket's end plus the
 *   lateness (15 minutes: flow records cover up to 10 minutes and are delivered late);
 * - when more than `maxOpen` buckets are open (the oldest opened closes first);
 * - at the end of the input (flush).
 * A match for a bucket that already closed (late or out-of-order input) reopens it: its alert
 * is emitted again when it closes, same id, with the cumulative count and `update: true`. Of
 * closed buckets only the count is kept, for the last `maxClosed` of them.
 */
import type { Alert } from '../../core/alert.ts';

export const DEFAULT_BUCKET_MS = 60 * 60 * 1000;
export const BUCKET_LATENESS_MS = 15 * 60 * 1000;
export const DEFAULT_MAX_OPEN_BUCKETS = 10_000;
export const DEFAULT_MAX_CLOSED_BUCKETS = 100_000;
/** Event ids one aggregated alert lists; `count` stays exact beyond it. */
export const MAX_BUCKET_EVENT_IDS = 100;

export interface TimeBucketsOptions {
  bucketMs?: number;
  maxOpen?: number;
  maxClosed?: number;
  /**
   * Keep every bucket open until drain() or flush(): no closing on a later match, no eviction.
   * A cluster node (docs/cluster.md) holds one unit's buckets this way and hands them over as
   * partial sums; the unit bounds them.
   */
  hold?: boolean;
  /**
   * How long past its end a bucket waits for late records before it closes, ms (default 15
   * minutes). A service sets its correlation lateness: CloudTrail files arrive out of order.
   */
  lateness?: number;
}

export interface Bucket<S> {
  readonly group: string;
  /** Bucket start, epoch ms; NaN for matches without an event time (one bucket per group). */
  readonly start: number;
  readonly end: number;
  /** Matches in the bucket, those of earlier emissions included. */
  count: number;
  /** An alert for this bucket was already emitted. */
  readonly update: boolean;
  state: S;
}

/** A bucket as partial sums, in JSON: what a cluster node hands over for one unit. */
export interface BucketPart<S> {
  group: string;
  /** null for the bucket of matches without an event time. */
  start: number | null;
  count: number;
  state: S;
}

/** Buckets drained from a node as JSON parts. */
export function bucketParts<S>(buckets: readonly Bucket<S>[]): BucketPart<S>[] {
  return buckets.map((bucket) => ({ group: bucket.group, start: Number.isFinite(bucket.start) ? bucket.start : null, count: bucket.count, state: bucket.state }));
}

/** What every threat-intel bucket state holds about its matches. */
export interface MatchState {
  rank: number;
  lastTime: number;
  eventIds: string[];
  events: unknown[];
}

/** `from`'s matches added to `into` (`from` came later in the input): highest level, latest time, the first ids and events. */
export function mergeMatches(into: MatchState, from: MatchState, maxEvents: number): void {
  into.rank = Math.max(into.rank, from.rank);
  if (!(into.lastTime >= from.lastTime) && Number.isFinite(from.lastTime)) into.lastTime = from.lastTime;
  for (const id of from.eventIds) if (into.eventIds.length < MAX_BUCKET_EVENT_IDS) into.eventIds.push(id);
  for (const event of from.events) if (into.events.length < maxEvents) into.events.push(event);
}

/** A time in a part's state (JSON turns NaN into null). */
export function partTime(value: number | null): number {
  return typeof value === 'number' ? value : Number.NaN;
}

export interface TimeBucketsStats {
  opened: number;
  /** Closed because too many were open. */
  evicted: number;
  /** Reopened by a match that came after the bucket closed. */
  reopened: number;
}

export class TimeBuckets<S> {
  readonly bucketMs: number;
  readonly stats: TimeBucketsStats = { opened: 0, evicted: 0, reopened: 0 };
  private readonly maxOpen: number;
  private readonly maxClosed: number;
  private readonly hold: boolean;
  private readonly lateness: number;
  /** Open buckets by group and start, oldest opened first. */
  private readonly open = new Map<string, Bucket<S>>();
  private readonly openByGroup = new Map<string, Bucket<S>[]>();
  /** Counts emitted for closed buckets, by group and start. */
  private readonly closed = new Map<string, number>();

  constructor(
    options: TimeBucketsOptions,
    private readonly close: (bucket: Bucket<S>) => Alert,
    private readonly out: Alert[],
  ) {
    this.bucketMs = options.bucketMs !== undefined && options.bucketMs > 0 ? options.bucketMs : DEFAULT_BUCKET_MS;
    this.maxOpen = Math.max(1, options.maxOpen ?? DEFAULT_MAX_OPEN_BUCKETS);
    this.maxClosed = Math.max(0, options.maxClosed ?? DEFAULT_MAX_CLOSED_BUCKETS);
    this.hold = options.hold === true;
    this.lateness = options.lateness !== undefined && Number.isFinite(options.lateness) && options.lateness >= 0 ? Math.max(options.lateness, BUCKET_LATENESS_MS) : BUCKET_LATENESS_MS;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** The bucket of `group` holding `time`, opened (with `init()` as its state) when needed. The caller counts the match in it. */
  at(group: string, time: number, init: () => S): Bucket<S> {
    const start = Number.isFinite(time) ? Math.floor(time / this.bucketMs) * this.bucketMs : Number.NaN;
    const siblings = this.openByGroup.get(group);
    let found: Bucket<S> | undefined;
    if (siblings !== undefined) {
      for (let i = siblings.length - 1; i >= 0; i--) {
        const bucket = siblings[i] as Bucket<S>;
        if (bucket.start === start || (bucket.start !== bucket.start && start !== start)) found = bucket;
        else if (!this.hold && time >= bucket.end + this.lateness) this.closeBucket(bucket);
      }
    }
    if (found !== undefined) return found;

    const key = `${group}\u0001${start}`;
    const prior = this.closed.get(key);
    if (prior !== undefined) {
      this.closed.delete(key);
      this.stats.reopened++;
    }
    const bucket = this.openBucket(key, { group, start, end: start + this.bucketMs, count: prior ?? 0, update: prior !== undefined, state: init() });
    if (!this.hold && this.open.size > this.maxOpen) {
      const oldest = this.open.values().next().value as Bucket<S>;
      if (oldest !== bucket) {
        this.stats.evicted++;
        this.closeBucket(oldest);
      }
    }
    return bucket;
  }

  /**
   * Closes the buckets that an event-time watermark has left behind (end plus lateness at or
   * before it): what a long-running consumer calls, since its input never ends.
   */
  closeBefore(watermark: number): void {
    for (const bucket of [...this.open.values()]) if (bucket.end + this.lateness <= watermark) this.closeBucket(bucket);
  }

  /** Closes every open bucket (the end of the input), oldest opened first. */
  flush(): void {
    for (const bucket of [...this.open.values()]) this.closeBucket(bucket);
  }

  /** Takes every open bucket out without emitting it (a cluster node's partial sums), oldest opened first. */
  drain(): Bucket<S>[] {
    const buckets = [...this.open.values()];
    this.open.clear();
    this.openByGroup.clear();
    return buckets;
  }

  /**
   * Adds a bucket's partial sums from another node (drained there) to the open bucket of the
   * same group and start: the count added, the state merged by `merge` (parts in input order).
   */
  absorb(part: BucketPart<S>, merge: (into: S, from: S) => void): void {
    const start = part.start ?? Number.NaN;
    const key = `${part.group}\u0001${start}`;
    const open = this.open.get(key);
    if (open !== undefined) {
      open.count += part.count;
      merge(open.state, part.state);
      return;
    }
    this.openBucket(key, { group: part.group, start, end: start + this.bucketMs, count: part.count, update: false, state: part.state });
  }

  /** Adds a bucket to the open ones (by key and by group) and counts it. */
  private openBucket(key: string, bucket: Bucket<S>): Bucket<S> {
    this.stats.opened++;
    this.open.set(key, bucket);
    const list = this.openByGroup.get(bucket.group);
    if (list === undefined) this.openByGroup.set(bucket.group, [bucket]);
    else list.push(bucket);
    return bucket;
  }

  private closeBucket(bucket: Bucket<S>): void {
    const key = `${bucket.group}\u0001${bucket.start}`;
    if (this.open.get(key) !== bucket) return;
    this.open.delete(key);
    const siblings = this.openByGroup.get(bucket.group);
    if (siblings !== undefined) {
      const at = siblings.indexOf(bucket);
      if (at >= 0) siblings.splice(at, 1);
      if (siblings.length === 0) this.openByGroup.delete(bucket.group);
    }
    const alert = this.close(bucket);
    if (bucket.update) alert.update = true;
    this.out.push(alert);
    if (this.maxClosed > 0) {
      this.closed.set(key, bucket.count);
      if (this.closed.size > this.maxClosed) this.closed.delete(this.closed.keys().next().value as string);
    }
  }
}
