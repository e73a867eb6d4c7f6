/**
 * What a worker thread needs to rebuild the scan's Matcher (the stateless half of its
 * Detector, src/engine/match/matcher.ts): the same
 * rules (same files, vars and clock, so the same rules in the same order) and the same threat
 * intel. Plain data, so it crosses to the worker as workerData. Filters, correlations and
 * every other piece of state stay on the main thread (parallel-scan.ts).
 */
import { Matcher } from '../engine/match/matcher.ts';
import { loadRuleSet } from '../pack/rule-set.ts';
import { loadFeeds } from '../intel/load.ts';
import type { RuleTexts } from '../sigma/load.ts';
import type { NetworkLimits } from '../intel/network-limits.ts';

export interface MatcherRecipe {
  /** Rule files and folders, in load order (the built-in pack first unless left out). */
  rulePaths: string[];
  /** The rule files' texts as the main thread read them: a worker compiles them without reading (it starts sooner). */
  ruleTexts?: RuleTexts;
  /** The --vars file for `|expand` placeholders. */
  varsFile?: string;
  /** The --tuning file: disabled rules must be left out of the workers' index too. */
  tuningFile?: string;
  /** The clock the main thread loaded rules and feeds with (epoch ms). */
  now: number;
  /** --cti feeds, when any. */
  cti?: { feeds: string[]; maxAgeMs: number; limits?: NetworkLimits };
}

/**
 * The worker's Matcher: rules and intel, for Matcher.mayAct() and the raw pre-filter.
 * Load errors are not reported here: the main thread loaded the same files and reported them.
 */
export async function workerMatcher(recipe: MatcherRecipe): Promise<Matcher> {
  const ruleSet = await loadRuleSet({
    paths: recipe.rulePaths,
    ...(recipe.ruleTexts === undefined ? {} : { readTexts: recipe.ruleTexts }),
    ...(recipe.varsFile === undefined ? {} : { varsFile: recipe.varsFile }),
    ...(recipe.tuningFile === undefined ? {} : { tuningFile: recipe.tuningFile }),
    now: new Date(recipe.now),
  });
  const intel =
    recipe.cti === undefined ? undefined : (await loadFeeds(recipe.cti.feeds, { now: recipe.now, maxAgeMs: recipe.cti.maxAgeMs, ...(recipe.cti.limits === undefined ? {} : { limits: recipe.cti.limits }), onUnsupported: () => {} })).index;
  return new Matcher(ruleSet.rules, intel);
}
