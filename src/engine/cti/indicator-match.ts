/**
 * What every threat-intel alert says about its match (the `cti` member).
 */
import type { AlertCti } from '../../core/alert.ts';
import type { Indicator } from '../../intel/indicator.ts';

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
