/**
 * A Detector's state over part of the input, as JSON: what a cluster node hands over for each
 * unit it processed, and what the node that decides merges (docs/cluster.md). Nothing in it
 * is decided yet: correlation entries (never windows), what the baselines learned, the newest
 * version of each GuardDuty finding with the alerts it raises, and threat-intel time buckets
 * as partial sums. Merging the parts of all units, in any grouping, gives the state one
 * Detector would hold at the end of the whole input (the order of the units matters only for
 * which of two equal finding versions, and which first 100 event ids, are kept: parts are
 * merged in input order).
 */
import type { LearnedBaseline } from './correlation/baseline.ts';
import type { CorrelationSnapshot } from './correlation/snapshot.ts';
import type { BucketPart } from './cti/buckets.ts';
import type { CallBucketState } from './cti/cloudtrail.ts';
import type { FlowBucketState } from './cti/flow.ts';
import type { HeldFinding } from './guardduty/findings.ts';

export interface DetectorPartial {
  /** Correlation entries by group (a drained snapshot); undefined without correlations. */
  correlation?: CorrelationSnapshot;
  baseline?: LearnedBaseline;
  findings: HeldFinding[];
  flowCti: BucketPart<FlowBucketState>[];
  cloudTrailCti: BucketPart<CallBucketState>[];
}

/** True when the part holds nothing to merge. */
export function isEmptyPartial(part: DetectorPartial): boolean {
  return (part.correlation === undefined || part.correlation.groups.length === 0) && (part.baseline === undefined || Object.keys(part.baseline.correlations).length === 0) && part.findings.length === 0 && part.flowCti.length === 0 && part.cloudTrailCti.length === 0;
}

/** A live decider's whole state (Detector.liveState()): what a watch cluster hands from one deciding node to the next. */
export interface DetectorLiveState {
  version: 1;
  correlation: CorrelationSnapshot | null;
  baseline: LearnedBaseline | null;
  flowCti: BucketPart<FlowBucketState>[];
  cloudTrailCti: BucketPart<CallBucketState>[];
}
