/**
 * What every threat-intel alert says about its match (the `cti` member), and the level
 * arithmetic the matchers share.
 */
import type { AlertCti } from '../../core/alert.ts';
import type { Indicator } from '../../intel/indicator.ts';
import { SIGMA_LEVELS } from '../../sigma/types.ts';
import type { SigmaLevel } from '../../sigma/types.ts';

/**
 * The `cti` member for a value matched by `indicators` (most specific first, as IntelIndex
 * returns them: the first one is the indicator the alert names).
 */
export function alertCtiOf(indicators: readonly Indicator[], matched: string, field: string, direction?: 'ingress' | 'egress'): AlertCti {
  const first = indicators[0] as Indicator;
  const feeds: string[] = [];
  for (const indicator of indicators) if (!feeds.includes(indicator.feed)) feeds.push(indicator.feed);
  return {
    indicator: first.value,
    matched,
    field,
    feed: first.feed,
    ...(direction === undefined ? {} : { direction }),
    provenance: first.provenance,
    ...(feeds.length > 1 ? { feeds } : {}),
    ...(first.confidence === undefined ? {} : { confidence: first.confidence }),
  };
}

/** informational 0 ... critical 4. */
export function levelRank(level: SigmaLevel): number {
  return SIGMA_LEVELS.indexOf(level);
}

export function levelOfRank(rank: number): SigmaLevel {
  return SIGMA_LEVELS[Math.max(0, Math.min(SIGMA_LEVELS.length - 1, rank))] as SigmaLevel;
}
