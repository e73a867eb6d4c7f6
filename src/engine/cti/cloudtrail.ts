/**
 * CloudTrail `sourceIPAddress` against threat intelligence: the pseudo-rule
 * aws-ct-cti-source-ip-match. An API call from an indicator's address means someone there holds
 * working credentials of the account: high when the call succeeded, medium when it failed
 * (`errorCode` set: the credentials work but lack the permission, or were already quarantined).
 * Calls of the same principal from the same indicator within one time bucket are one alert
 * with a count, like flow matches. Service names (`ec2.amazonaws.com`) are not addresses and
 * never match.
 */
import type { Alert, AlertCti, AlertOptions } from '../../core/alert.ts';
import { alertContext, eventIdOf, isoTime, MAX_EMBEDDED_EVENTS, stableAlertId } from '../alerts/build.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import { CLOUDTRAIL_CTI_RULE } from '../alerts/builtin-rules.ts';
import { alertCtiOf } from './indicator-match.ts';
import { levelOfRank, levelRank } from '../../core/levels.ts';
import { bucketParts, MAX_BUCKET_EVENT_IDS, mergeMatches, partTime, TimeBuckets, type Bucket, type BucketPart, type TimeBucketsOptions } from './buckets.ts';
import type { IntelIndex } from '../../intel/intel-index.ts';
import type { Indicator } from '../../intel/indicator.ts';
import { parseIPv4 } from '../../core/ipv4.ts';

export interface CallBucketState {
  cti: AlertCti;
  principal: string;
  context: Pick<Alert, 'account' | 'region' | 'actor' | 'source_ip'>;
  rank: number;
  lastTime: number;
  eventIds: string[];
  events: LogRecord[];
}

/** `from`'s matches added to `into` (`from` came later in the input). */
function mergeCallState(into: CallBucketState, from: CallBucketState): void {
  mergeMatches(into, from, MAX_EMBEDDED_EVENTS);
}

function accessKeyOf(record: LogRecord): string | undefined {
  const identity = record.userIdentity;
  if (typeof identity !== 'object' || identity === null) return undefined;
  const key = (identity as Record<string, unknown>).accessKeyId;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

export class CloudTrailCtiMatcher {
  /** API calls whose source address matched. */
  matches = 0;
  private readonly buckets: TimeBuckets<CallBucketState>;
  private readonly includeEvents: boolean;
  /** Allowlists naming the pseudo-rule (asked only on a match). */
  private readonly accept: ((record: LogRecord) => boolean) | undefined;

  constructor(
    private readonly index: IntelIndex,
    options: AlertOptions & TimeBucketsOptions & { accept?: (record: LogRecord) => boolean },
    out: Alert[],
  ) {
    this.includeEvents = options.includeEvents;
    this.accept = options.accept;
    this.buckets = new TimeBuckets<CallBucketState>(options, (bucket) => this.alertOf(bucket), out);
  }

  record(envelope: Envelope): void {
    const ip = envelope.record.sourceIPAddress;
    if (typeof ip !== 'string') return;
    const u32 = parseIPv4(ip);
    let indicators: Indicator[];
    if (u32 >= 0) {
      if (!this.index.mayMatchIPv4(u32)) return;
      indicators = this.index.lookupIPv4(u32);
    } else if (ip.includes(':')) {
      indicators = this.index.lookupIp(ip);
    } else {
      return;
    }
    if (indicators.length === 0) return;
    if (this.accept !== undefined && !this.accept(envelope.record)) return;
    this.matches++;
    const record = envelope.record;
    const context = alertContext(envelope);
    const principal = context.actor ?? accessKeyOf(record) ?? '-';
    const indicator = indicators[0] as Indicator;
    const bucket = this.buckets.at(`${indicator.value}\u0001${principal}`, envelope.time, () => ({
      cti: alertCtiOf(indicators, ip, 'sourceIPAddress'),
      principal,
      context,
      rank: 0,
      lastTime: Number.NaN,
      eventIds: [],
      events: [],
    }));
    const state = bucket.state;
    bucket.count++;
    const failed = typeof record.errorCode === 'string' && record.errorCode !== '';
    state.rank = Math.max(state.rank, levelRank(failed ? 'medium' : 'high'));
    if (!(state.lastTime >= envelope.time)) state.lastTime = envelope.time;
    if (state.eventIds.length < MAX_BUCKET_EVENT_IDS) state.eventIds.push(eventIdOf(envelope));
    if (this.includeEvents && state.events.length < MAX_EMBEDDED_EVENTS) state.events.push(record);
  }

  flush(): void {
    this.buckets.flush();
  }

  /** The open buckets as partial sums, taken out (a cluster node's unit; TimeBucketsOptions.hold). */
  drainParts(): BucketPart<CallBucketState>[] {
    return bucketParts(this.buckets.drain());
  }

  /** Another node's partial sums for one bucket, merged in input order; emitted at flush(). */
  absorb(part: BucketPart<CallBucketState>): void {
    this.buckets.absorb({ ...part, state: { ...part.state, lastTime: partTime(part.state.lastTime) } }, mergeCallState);
  }

  /** Closes the buckets an event-time watermark has left behind (long-running consumers). */
  expire(watermark: number): void {
    this.buckets.closeBefore(watermark);
  }

  private alertOf(bucket: Bucket<CallBucketState>): Alert {
    const state = bucket.state;
    const rule = CLOUDTRAIL_CTI_RULE;
    const windowStart = isoTime(bucket.start);
    const windowEnd = isoTime(bucket.end);
    const alert: Alert = {
      id: stableAlertId(rule.id, [state.cti.indicator, state.principal, windowStart ?? '-']),
      time: isoTime(state.lastTime),
      rule: { id: rule.id, name: rule.name ?? null, title: rule.title, level: levelOfRank(state.rank) },
      attack: rule.attack,
      source: 'cloudtrail',
      ...state.context,
      event_ids: state.eventIds,
      count: bucket.count,
      cti: { ...state.cti, ...(windowStart !== null && windowEnd !== null ? { window: { start: windowStart, end: windowEnd } } : {}) },
    };
    if (this.includeEvents && state.events.length > 0) alert.events = state.events;
    return alert;
  }
}
