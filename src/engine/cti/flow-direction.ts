/**
 * Which way a flow record with an indicator on one side goes, and how bad that is
 * (seed-detections.md §4).
 *
 * `direction` is the direction of the connection, seen from our network: `egress` when our
 * side opened it toward the indicator, `ingress` when the indicator opened it toward us.
 *
 * 1. The packets of the record go toward the indicator when it is the destination
 *    (`dstaddr`/`pkt-dstaddr`) and come from it when it is the source. The indicator is
 *    outside by definition, so this holds whatever `flow-direction` says: `flow-direction` is
 *    relative to the interface that logged the record, and an intermediate interface (a NAT
 *    gateway's) logs our outbound traffic as `ingress`. Where `flow-direction` and the side
 *    agree, as on an instance's own interface, they give the same answer; where neither side
 *    could be placed (both private: an internal indicator), `flow-direction` decides.
 * 2. A record can be the reply half of a connection: AWS logs each direction separately. A
 *    reply is recognised by SYN-ACK in `tcp-flags` (custom formats from version 3; SYN alone
 *    marks the opening side), else, for an accepted TCP or UDP record, by its ports: from a
 *    well-known port (< 1024) to any other, or from below the ephemeral range (< 32768) into it.
 *    A reply belongs to the connection it answers, so its direction is flipped.
 *    Rejected records never get the port guess: scanners often send from fixed low ports, and
 *    security groups (stateful) do not reject replies.
 *
 * Level, by connection direction and action:
 *
 * | connection | ACCEPT | REJECT |
 * | --- | --- | --- |
 * | egress: a workload reached the indicator (C2, mining pool, exfiltration) | high | medium (tried, blocked) |
 * | ingress: the indicator reached a listening port | medium, high when the bytes sent back to it pass the egress threshold | informational (scanning noise) |
 *
 * A feed's port and side hint raise the level one step (at most to high) when the record
 * agrees with both; they never lower it or suppress a match.
 */
import type { SigmaLevel } from '../../core/levels.ts';
import { levelOfRank, levelRank } from '../../core/levels.ts';
import type { Indicator } from '../../intel/indicator.ts';

export type FlowSide = 'src' | 'dst';
export type ConnectionDirection = 'ingress' | 'egress';

const TCP = 6;
const UDP = 17;
const SYN = 0x02;
const SYN_ACK = 0x12;
/** Where the ephemeral (client) port ranges of Linux (32768-60999) and Windows (49152-65535) start. */
const EPHEMERAL_PORTS = 32768;

/** Default of the egress threshold: 10 MiB sent to an indicator over one bucket. */
export const DEFAULT_EGRESS_BYTES_THRESHOLD = 10 * 1024 * 1024;

/** What the direction and level of one record depend on. NaN for an absent number. */
export interface FlowRecordFacts {
  accepted: boolean;
  protocol: number;
  srcport: number;
  dstport: number;
  tcpFlags: number;
  /** `flow-direction`, when the record has it. */
  flowDirection: string | undefined;
}

/** True when the record is the reply half of a connection the other side opened. */
export function isReply(facts: FlowRecordFacts): boolean {
  const flags = facts.tcpFlags;
  if (flags === flags && flags > 0) {
    if ((flags & SYN_ACK) === SYN_ACK) return true;
    if ((flags & SYN) === SYN) return false;
  }
  if (!facts.accepted || (facts.protocol !== TCP && facts.protocol !== UDP)) return false;
  const { srcport, dstport } = facts;
  return (srcport < 1024 && dstport >= 1024) || (srcport < EPHEMERAL_PORTS && dstport >= EPHEMERAL_PORTS);
}

/**
 * The direction of the connection a record belongs to, with the indicator on `side`.
 * `bothSidesPrivate`: the indicator is a private address too, so its side says nothing.
 */
export function connectionDirection(side: FlowSide, facts: FlowRecordFacts, bothSidesPrivate = false): ConnectionDirection {
  let packets: ConnectionDirection = side === 'dst' ? 'egress' : 'ingress';
  if (bothSidesPrivate && (facts.flowDirection === 'ingress' || facts.flowDirection === 'egress')) packets = facts.flowDirection;
  if (!isReply(facts)) return packets;
  return packets === 'egress' ? 'ingress' : 'egress';
}

/** The level of one record's match, before the bytes threshold (see flowBucketLevel). */
export function flowRecordLevel(direction: ConnectionDirection, accepted: boolean): SigmaLevel {
  if (direction === 'egress') return accepted ? 'high' : 'medium';
  return accepted ? 'medium' : 'informational';
}

/** The port of the indicator's side of the record. */
function indicatorPort(side: FlowSide, facts: FlowRecordFacts): number {
  return side === 'src' ? facts.srcport : facts.dstport;
}

/** One step up when the indicator's port and side hint both agree with the record. */
export function raisedByHints(level: SigmaLevel, indicator: Indicator, side: FlowSide, facts: FlowRecordFacts): SigmaLevel {
  if (indicator.port === undefined || indicator.port !== indicatorPort(side, facts)) return level;
  if (indicator.sideHint !== 'any' && indicator.sideHint !== side) return level;
  return levelOfRank(Math.min(levelRank('high'), levelRank(level) + 1));
}

/** A bucket's level: the highest record level, raised to high when accepted ingress sent too much back. */
export function flowBucketLevel(rank: number, direction: ConnectionDirection, acceptedRecords: number, bytesToIndicator: number, threshold: number): SigmaLevel {
  if (direction === 'ingress' && acceptedRecords > 0 && bytesToIndicator >= threshold) return levelOfRank(Math.max(rank, levelRank('high')));
  return levelOfRank(rank);
}

/** RFC 1918, carrier-grade NAT (RFC 6598: VPCs use it), loopback and link-local IPv4. */
export function isPrivateIPv4(ip: number): boolean {
  const a = ip >>> 24;
  const b = (ip >>> 16) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
}

/** Unique local (fc00::/7), link-local (fe80::/10) and loopback IPv6, from the text form. */
export function isPrivateIPv6(text: string): boolean {
  const lower = text.toLowerCase();
  return lower === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(lower) || /^fe[89ab][0-9a-f]?:/.test(lower);
}
