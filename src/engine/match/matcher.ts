/**
 * The stateless half of detection (as rsigma's `Engine` beside its `CorrelationEngine`): which
 * rules an envelope matches, and whether the stateful Detector could do anything with it.
 * Holds no state between envelopes, so a scan worker builds one from the same rules and intel
 * and asks it instead of the main thread's Detector (src/scan/worker-thread.ts).
 */
import type { Envelope } from '../../core/envelope.ts';
import type { CompiledDetectionRule } from '../../sigma/types.ts';
import type { IntelIndex } from '../../intel/intel-index.ts';
import { parseIPv4 } from '../../core/ipv4.ts';
import { RuleIndex } from './rule-index.ts';
import { planPrefilter, type PrefilterPlan } from '../prefilter/cloudtrail.ts';

export class Matcher {
  readonly index: RuleIndex;
  private readonly intel: IntelIndex | undefined;

  constructor(rules: readonly CompiledDetectionRule[], intel?: IntelIndex) {
    this.index = new RuleIndex(rules);
    this.intel = intel;
  }

  /** The rules whose detection matches the envelope, in load order. */
  matchingRules(envelope: Envelope): readonly CompiledDetectionRule[] {
    return this.index.matchingRules(envelope);
  }

  /**
   * False only when Detector.process(envelope) would provably do nothing: no alert, no state
   * change. A superset is fine: process() decides. GuardDuty findings and flow records always
   * act (finding versions and intel buckets are state); a CloudTrail record acts when a rule
   * matches it or its sourceIPAddress may be an indicator. `matchedOut` receives the ordinals
   * of the matching rules (RuleIndex.ordinalOf), so that the main thread need not match again.
   */
  mayAct(envelope: Envelope, matchedOut?: number[]): boolean {
    if (envelope.source !== 'cloudtrail') return true;
    const matched = this.index.matchingRules(envelope);
    if (matchedOut !== undefined) for (const rule of matched) matchedOut.push(this.index.ordinalOf(rule));
    if (matched.length > 0) return true;
    if (this.intel === undefined) return false;
    const ip = envelope.record.sourceIPAddress;
    if (typeof ip !== 'string') return false;
    const u32 = parseIPv4(ip);
    return u32 >= 0 ? this.intel.mayMatchIPv4(u32) : ip.includes(':');
  }

  /**
   * The raw pre-filter for CloudTrail S3 files (src/engine/prefilter/cloudtrail.ts): records it
   * rules out are never parsed, as the Detector would do nothing with them. None with threat
   * intel, which reads every record's sourceIPAddress.
   */
  rawPrefilter(): PrefilterPlan {
    if (this.intel !== undefined) return { reason: 'threat intel is matched against every CloudTrail sourceIPAddress' };
    return planPrefilter(this.index.rules);
  }
}
