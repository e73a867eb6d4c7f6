/**
 * VPC Flow Logs against threat intelligence: the pseudo-rule aws-vpcflow-cti-ip-match.
 *
 * Every record's `srcaddr`, `dstaddr`, `pkt-srcaddr` and `pkt-dstaddr` are looked up in the
 * intel index. Matches of the same indicator on the same interface in the same connection
 * direction within one time bucket are one alert with a count (cti-buckets.ts); the direction
 * and level follow cti-flow-direction.ts. NODATA and SKIPDATA records carry no addresses and
 * never match.
 *
 * Two ways in, one behaviour:
 * - line(): the fast path over the scanner's FlowLineView, used when no Sigma rule reads flow
 *   records, so no record object is built. The scanner parses the address columns to 32-bit
 *   integers as it splits the line; each is tested against a /16 bitmap and the index's /24
 *   filter (mayMatchIPv4) before any lookup; only a hit reads the other fields, as strings.
 * - record(): the same over a decoded record (Parquet, or text when Sigma rules need records).
 */
import type { Alert, AlertCti, AlertFlow, AlertOptions } from '../../core/alert.ts';
import { isoTime, MAX_EMBEDDED_EVENTS, stableAlertId } from '../alerts/build.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import { VPCFLOW_CTI_RULE } from '../alerts/builtin-rules.ts';
import { alertCtiOf } from './indicator-match.ts';
import { levelRank } from '../../core/levels.ts';
import { bucketParts, MAX_BUCKET_EVENT_IDS, mergeMatches, partTime, TimeBuckets, type Bucket, type BucketPart, type TimeBucketsOptions } from './buckets.ts';
import {
  connectionDirection,
  DEFAULT_EGRESS_BYTES_THRESHOLD,
  flowBucketLevel,
  flowRecordLevel,
  isPrivateIPv4,
  isReply,
  isPrivateIPv6,
  raisedByHints,
  type ConnectionDirection,
  type FlowRecordFacts,
  type FlowSide,
} from './flow-direction.ts';
import type { FlowHeader } from '../../formats/vpcflow/fields.ts';
import type { FlowLineView } from '../../formats/vpcflow/line-scan.ts';
import type { IntelIndex } from '../../intel/intel-index.ts';
import type { Indicator } from '../../intel/indicator.ts';
import { parseIPv4 } from '../../core/ipv4.ts';
import { parseNetwork } from '../../intel/ip-address.ts';

export interface FlowCtiOptions extends AlertOptions, TimeBucketsOptions {
  /** Bytes sent toward an indicator, per bucket, that make accepted ingress high. */
  egressBytesThreshold?: number;
  /** Allowlists naming the pseudo-rule: false keeps a matching record out (counted by the filter). Only asked on a match. */
  accept?: (record: LogRecord) => boolean;
}

export interface FlowCtiStats {
  /** Records (or lines) looked at. */
  records: number;
  /** Address matches (a record can match on several fields). */
  matches: number;
}

/** The four address fields, each with its side and the field across from it. */
const ADDRESS_FIELDS: readonly { field: string; side: FlowSide; other: string }[] = [
  { field: 'srcaddr', side: 'src', other: 'dstaddr' },
  { field: 'dstaddr', side: 'dst', other: 'srcaddr' },
  { field: 'pkt-srcaddr', side: 'src', other: 'pkt-dstaddr' },
  { field: 'pkt-dstaddr', side: 'dst', other: 'pkt-srcaddr' },
];

const MAX_DISTINCT = 20;

/** What one record says, read once per record that matched. */
interface FlowRecordView extends FlowRecordFacts {
  time: number;
  interfaceId: string | null;
  account: string | null;
  region: string | null;
  actor: string | null;
  srcaddr: string | null;
  bytes: number;
  packets: number;
  address(field: string): string | undefined;
}

export interface FlowBucketState {
  cti: AlertCti;
  interfaceId: string | null;
  direction: ConnectionDirection;
  context: Pick<Alert, 'account' | 'region' | 'actor' | 'source_ip'>;
  rank: number;
  lastTime: number;
  eventIds: string[];
  events: LogRecord[];
  flow: AlertFlow;
}

function pushDistinct<T>(list: T[], value: T): void {
  if (list.length < MAX_DISTINCT && !list.includes(value)) list.push(value);
}

/** `from`'s matches added to `into` (`from` came later in the input): the sums and lists one bucket would hold. */
function mergeFlowState(into: FlowBucketState, from: FlowBucketState): void {
  mergeMatches(into, from, MAX_EMBEDDED_EVENTS);
  const a = into.flow;
  const b = from.flow;
  a.accepted += b.accepted;
  a.rejected += b.rejected;
  a.bytes += b.bytes;
  a.packets += b.packets;
  a.bytes_to_indicator += b.bytes_to_indicator;
  for (const port of b.dstports) pushDistinct(a.dstports, port);
  for (const protocol of b.protocols) pushDistinct(a.protocols, protocol);
  if (b.tcp_flags !== null) a.tcp_flags = (a.tcp_flags ?? 0) | b.tcp_flags;
  for (const address of b.local_addresses) pushDistinct(a.local_addresses, address);
}

function isPrivateText(text: string): boolean {
  const v4 = parseIPv4(text);
  return v4 >= 0 ? isPrivateIPv4(v4) : isPrivateIPv6(text);
}

const ATTACK_BY_DIRECTION: Record<ConnectionDirection, Alert['attack']> = {
  egress: { techniques: ['T1071'], tactics: ['command-and-control'] },
  ingress: { techniques: ['T1595'], tactics: ['reconnaissance'] },
};

export class FlowCtiMatcher {
  private records = 0;
  private matches = 0;
  private readonly buckets: TimeBuckets<FlowBucketState>;
  private readonly includeEvents: boolean;
  private readonly threshold: number;
  private readonly hasIPv6: boolean;
  /** One bit per IPv4 /16 that some indicator covers: 8 KiB, so it stays in L1 cache. */
  private readonly slash16 = new Uint32Array(2048);
  /** The address columns the header last seen by line() has, and their ADDRESS_FIELDS index. */
  private header: FlowHeader | undefined;
  private columns: number[] = [];
  private fieldIndex: number[] = [];

  private readonly accept: ((record: LogRecord) => boolean) | undefined;

  constructor(
    private readonly index: IntelIndex,
    options: FlowCtiOptions,
    out: Alert[],
  ) {
    this.includeEvents = options.includeEvents;
    this.accept = options.accept;
    this.threshold = options.egressBytesThreshold ?? DEFAULT_EGRESS_BYTES_THRESHOLD;
    this.hasIPv6 = index.size.ipv6 > 0;
    for (const indicator of index.indicators) {
      if (indicator.kind !== 'ipv4') continue;
      let start = parseIPv4(indicator.value);
      let end = start;
      if (start < 0) {
        const network = parseNetwork(indicator.value);
        if (network?.kind !== 'ipv4') continue;
        start = network.start;
        end = network.end;
      }
      for (let p = start >>> 16; p <= end >>> 16; p++) this.slash16[p >>> 5]! |= 1 << (p & 31);
    }
    this.buckets = new TimeBuckets<FlowBucketState>(options, (bucket) => this.alertOf(bucket), out);
  }

  get stats(): FlowCtiStats {
    return { records: this.records, matches: this.matches };
  }

  /** Open buckets (alerts not emitted yet). */
  get openBuckets(): number {
    return this.buckets.openCount;
  }

  /** Closes every bucket: their alerts go to the output array. */
  flush(): void {
    this.buckets.flush();
  }

  /** The open buckets as partial sums, taken out (a cluster node's unit; TimeBucketsOptions.hold). */
  drainParts(): BucketPart<FlowBucketState>[] {
    return bucketParts(this.buckets.drain());
  }

  /** Another node's partial sums for one bucket, merged in input order; emitted at flush(). */
  absorb(part: BucketPart<FlowBucketState>): void {
    this.buckets.absorb({ ...part, state: { ...part.state, lastTime: partTime(part.state.lastTime) } }, mergeFlowState);
  }

  /** Closes the buckets an event-time watermark has left behind (long-running consumers). */
  expire(watermark: number): void {
    this.buckets.closeBefore(watermark);
  }

  /** The fast path: one scanner line (the caller applied --since / --until). */
  line(view: FlowLineView, uri: string): void {
    const header = view.header;
    if (header !== this.header) this.prepare(header);
    this.records++;
    const columns = this.columns;
    const slash16 = this.slash16;
    let hits: { field: number; indicators: Indicator[]; text: string }[] | undefined;
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k] as number;
      // The scanner parsed the address columns to integers while splitting the line. Most flow
      // addresses are private or AWS's own, which feeds rarely list: the /16 bits (8 KiB,
      // L1-resident) reject them before the index's /24 filter.
      const u32 = view.ipv4(column);
      let indicators: Indicator[];
      if (u32 >= 0) {
        const prefix = u32 >>> 16;
        if (((slash16[prefix >>> 5] as number) & (1 << (prefix & 31))) === 0) continue;
        if (!this.index.mayMatchIPv4(u32)) continue;
        indicators = this.index.lookupIPv4(u32);
      } else if (this.hasIPv6 && view.isIPv6(column)) {
        indicators = this.index.lookupIp(view.text(column) ?? '');
      } else {
        continue;
      }
      if (indicators.length === 0) continue;
      (hits ??= []).push({ field: this.fieldIndex[k] as number, indicators, text: view.text(column) ?? '' });
    }
    if (hits === undefined) return;
    if (this.accept !== undefined && !this.accept(view.record())) return;
    const facts = this.factsOfView(view);
    const eventId = `${uri}#${view.line}`;
    const raw = this.includeEvents ? (): LogRecord => view.record() : undefined;
    for (const hit of hits) this.observe(hit.field, hit.text, hit.indicators, facts, eventId, raw);
  }

  /** The record path: one decoded flow record (the scan already applied --since / --until). */
  record(envelope: Envelope): void {
    this.records++;
    const record = envelope.record;
    let hits: { field: number; indicators: Indicator[]; text: string }[] | undefined;
    for (let k = 0; k < ADDRESS_FIELDS.length; k++) {
      const value = record[(ADDRESS_FIELDS[k] as { field: string }).field];
      if (typeof value !== 'string') continue;
      const u32 = parseIPv4(value);
      let indicators: Indicator[];
      if (u32 >= 0) {
        if (!this.index.mayMatchIPv4(u32)) continue;
        indicators = this.index.lookupIPv4(u32);
      } else if (this.hasIPv6 && value.includes(':')) {
        indicators = this.index.lookupIp(value);
      } else {
        continue;
      }
      if (indicators.length > 0) (hits ??= []).push({ field: k, indicators, text: value });
    }
    if (hits === undefined) return;
    if (this.accept !== undefined && !this.accept(record)) return;
    const facts = factsOfRecord(record, envelope.time);
    const eventId = `${envelope.origin.uri}#${envelope.origin.line ?? envelope.origin.index}`;
    const raw = this.includeEvents ? (): LogRecord => record : undefined;
    for (const hit of hits) this.observe(hit.field, hit.text, hit.indicators, facts, eventId, raw);
  }

  private prepare(header: FlowHeader): void {
    this.header = header;
    this.columns = [];
    this.fieldIndex = [];
    ADDRESS_FIELDS.forEach(({ field }, k) => {
      const column = header.column(field);
      if (column >= 0) {
        this.columns.push(column);
        this.fieldIndex.push(k);
      }
    });
  }

  private factsOfView(view: FlowLineView): FlowRecordView {
    const header = view.header;
    const text = (name: string): string | undefined => {
      const column = header.column(name);
      return column < 0 ? undefined : view.text(column);
    };
    const int = (name: string): number => {
      const column = header.column(name);
      return column < 0 ? Number.NaN : view.int(column);
    };
    const action = text('action');
    return {
      time: view.int(header.start) * 1000,
      accepted: action !== 'REJECT',
      protocol: int('protocol'),
      srcport: int('srcport'),
      dstport: int('dstport'),
      tcpFlags: int('tcp-flags'),
      flowDirection: text('flow-direction'),
      interfaceId: text('interface-id') ?? text('tgw-attachment-id') ?? null,
      account: text('account-id') ?? null,
      region: text('region') ?? null,
      actor: text('instance-id') ?? text('interface-id') ?? null,
      srcaddr: text('srcaddr') ?? null,
      bytes: int('bytes'),
      packets: int('packets'),
      address: text,
    };
  }

  private observe(fieldIndex: number, matched: string, indicators: Indicator[], facts: FlowRecordView, eventId: string, raw: (() => LogRecord) | undefined): void {
    const { field, side, other } = ADDRESS_FIELDS[fieldIndex] as (typeof ADDRESS_FIELDS)[number];
    // The same indicator through srcaddr and pkt-srcaddr (no NAT: the same address) counts once.
    if (fieldIndex >= 2) {
      const plain = facts.address(field.slice(4));
      if (plain !== undefined && plain === matched) return;
    }
    this.matches++;
    const local = facts.address(other);
    const bothPrivate = local !== undefined && isPrivateText(matched) && isPrivateText(local);
    const direction = connectionDirection(side, facts, bothPrivate);
    const indicator = indicators[0] as Indicator;
    const level = raisedByHints(flowRecordLevel(direction, facts.accepted), indicator, side, facts);
    const group = `${indicator.value}\u0001${facts.interfaceId ?? '-'}\u0001${direction}`;
    const bucket = this.buckets.at(group, facts.time, () => ({
      cti: alertCtiOf(indicators, matched, field, direction),
      interfaceId: facts.interfaceId,
      direction,
      context: { account: facts.account, region: facts.region, actor: facts.actor, source_ip: facts.srcaddr },
      rank: 0,
      lastTime: Number.NaN,
      eventIds: [],
      events: [],
      flow: {
        interface_id: facts.interfaceId,
        accepted: 0,
        rejected: 0,
        bytes: 0,
        packets: 0,
        bytes_to_indicator: 0,
        dstports: [],
        protocols: [],
        tcp_flags: null,
        local_addresses: [],
      },
    }));
    const state = bucket.state;
    bucket.count++;
    state.rank = Math.max(state.rank, levelRank(level));
    if (!(state.lastTime >= facts.time)) state.lastTime = facts.time;
    if (state.eventIds.length < MAX_BUCKET_EVENT_IDS) state.eventIds.push(eventId);
    if (raw !== undefined && state.events.length < MAX_EMBEDDED_EVENTS) state.events.push(raw());
    const flow = state.flow;
    if (facts.accepted) flow.accepted++;
    else flow.rejected++;
    const bytes = facts.bytes === facts.bytes ? facts.bytes : 0;
    flow.bytes += bytes;
    if (facts.packets === facts.packets) flow.packets += facts.packets;
    if (side === 'dst') flow.bytes_to_indicator += bytes;
    // The connection's destination port: a reply's is its source port.
    const port = isReply(facts) ? facts.srcport : facts.dstport;
    if (port === port) pushDistinct(flow.dstports, port);
    if (facts.protocol === facts.protocol) pushDistinct(flow.protocols, facts.protocol);
    if (facts.tcpFlags === facts.tcpFlags) flow.tcp_flags = (flow.tcp_flags ?? 0) | facts.tcpFlags;
    if (local !== undefined) pushDistinct(flow.local_addresses, local);
  }

  private alertOf(bucket: Bucket<FlowBucketState>): Alert {
    const state = bucket.state;
    const rule = VPCFLOW_CTI_RULE;
    const windowStart = isoTime(bucket.start);
    const windowEnd = isoTime(bucket.end);
    const cti: AlertCti = { ...state.cti, ...(windowStart !== null && windowEnd !== null ? { window: { start: windowStart, end: windowEnd } } : {}) };
    const level = flowBucketLevel(state.rank, state.direction, state.flow.accepted, state.flow.bytes_to_indicator, this.threshold);
    const alert: Alert = {
      id: stableAlertId(rule.id, [state.cti.indicator, state.interfaceId ?? '-', state.direction, windowStart ?? '-']),
      time: isoTime(state.lastTime),
      rule: { id: rule.id, name: rule.name ?? null, title: rule.title, level },
      attack: ATTACK_BY_DIRECTION[state.direction],
      source: 'vpcflow',
      ...state.context,
      event_ids: state.eventIds,
      count: bucket.count,
      cti,
      flow: state.flow,
    };
    if (this.includeEvents && state.events.length > 0) alert.events = state.events;
    return alert;
  }
}

function numberField(record: LogRecord, name: string): number {
  const value = record[name];
  return typeof value === 'number' ? value : Number.NaN;
}

function stringField(record: LogRecord, name: string): string | undefined {
  const value = record[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function factsOfRecord(record: LogRecord, time: number): FlowRecordView {
  return {
    time,
    accepted: record.action !== 'REJECT',
    protocol: numberField(record, 'protocol'),
    srcport: numberField(record, 'srcport'),
    dstport: numberField(record, 'dstport'),
    tcpFlags: numberField(record, 'tcp-flags'),
    flowDirection: stringField(record, 'flow-direction'),
    interfaceId: stringField(record, 'interface-id') ?? stringField(record, 'tgw-attachment-id') ?? null,
    account: stringField(record, 'account-id') ?? null,
    region: stringField(record, 'region') ?? null,
    actor: stringField(record, 'instance-id') ?? stringField(record, 'interface-id') ?? null,
    srcaddr: stringField(record, 'srcaddr') ?? null,
    bytes: numberField(record, 'bytes'),
    packets: numberField(record, 'packets'),
    address: (name) => stringField(record, name),
  };
}
