/**
 * The rules, filters, vars and feeds a watch configuration names, loaded and checked once, and
 * the detector factory built from them. `config check` reports the same errors without
 * starting anything.
 */
import { located } from '../core/errors.ts';
import { Detector } from '../engine/detector.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../pack/rule-set.ts';
import { readBaselineFile } from '../store/baseline-file.ts';
import type { BaselineFileData } from '../engine/correlation/baseline.ts';
import type { LocatedError } from '../core/errors.ts';
import { loadFeeds } from '../intel/load.ts';
import type { IntelIndex } from '../intel/intel-index.ts';
import type { WatchConfig } from './config.ts';

export interface EngineSetup {
  /** A fresh detector (the service rebuilds one to roll back a failed object; a cluster's decider). */
  build: () => Detector;
  /** A cluster node's detector (`store: postgres://`): matches, decides nothing stateful (docs/cluster.md). */
  buildNode: () => Detector;
  ruleCount: number;
  correlationCount: number;
  indicatorFeeds: number;
  errors: LocatedError[];
  warnings: LocatedError[];
}

export async function setUpEngine(config: WatchConfig, onWarning?: (message: string) => void): Promise<EngineSetup> {
  const paths = [...(config.rules.defaultRules ? [DEFAULT_RULES_DIR] : []), ...config.rules.paths];
  const ruleSet = await loadRuleSet({
    paths,
    filterPaths: config.rules.filters,
    ...(config.rules.vars === undefined ? {} : { varsFile: config.rules.vars }),
    ...(config.rules.tuning === undefined ? {} : { tuningFile: config.rules.tuning }),
  });
  const errors = [...ruleSet.errors];
  let intel: IntelIndex | undefined;
  if (config.feeds.length > 0) {
    const feeds = await loadFeeds(config.feeds);
    errors.push(...feeds.errors);
    intel = feeds.index;
  }
  if (ruleSet.rules.length === 0 && intel === undefined) {
    errors.push(located('TH_CONFIG', 'no rule loaded and no feed: nothing to detect', config.file));
  }
  let baselineFile: BaselineFileData | undefined;
  if (config.baseline !== undefined) {
    const read = await readBaselineFile(config.baseline);
    if (read.error !== undefined) errors.push(read.error);
    else baselineFile = read.data;
  }
  const build = (node = false): Detector =>
    new Detector({
      ...(node ? { node: true } : {}),
      // A service decides each breadth burst as its window closes (no end of input to wait for).
      baseline: { mode: 'live', ...(baselineFile === undefined ? {} : { file: baselineFile }) },
      rules: ruleSet.rules,
      correlations: ruleSet.correlations,
      filters: ruleSet.filters,
      includeEvents: config.includeEvents,
      lateness: config.correlation.latenessMs,
      // Threat-intel buckets wait as long as correlation windows for late records (at least their own 15 minutes).
      cti: { lateness: config.correlation.latenessMs },
      ...(config.correlation.maxGroups === undefined ? {} : { maxGroups: config.correlation.maxGroups }),
      ...(intel === undefined ? {} : { intel }),
      // A service never reaches "the end of the input": each GuardDuty finding version is emitted as it comes.
      guardDuty: { maxPending: 0 },
      ...(onWarning === undefined ? {} : { onWarning }),
    });
  return { build: () => build(), buildNode: () => build(true), ruleCount: ruleSet.rules.length, correlationCount: ruleSet.correlations.length, indicatorFeeds: config.feeds.length, errors, warnings: ruleSet.warnings };
}
