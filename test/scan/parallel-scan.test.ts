/**
 * Worker threads and the raw pre-filter change nothing a user sees: the same alerts, in the
 * same order, with the same ids, and the same summary, as a scan on one thread that parses
 * every record. Runs the scan itself (src/engine/scan.ts) over the samples, the test fixtures,
 * the shared corpus (when present) and a generated benchmark corpus with planted attacks,
 * correlations, filters and threat intel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Detector } from '../../src/engine/detector.ts';
import type { Alert } from '../../src/core/alert.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../../src/pack/rule-set.ts';
import { scan } from '../../src/scan/scan.ts';
import type { ScanSummary } from '../../src/scan/scan-run.ts';
import type { TimeRange } from '../../src/core/time-range.ts';
import type { MatcherRecipe } from '../../src/scan/worker-recipe.ts';
import { loadFeeds } from '../../src/intel/load.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { defaultOptions, generateCorpus } from '../../bench/generate.ts';
import { CORPUS_DIR, corpusSkip } from '../corpus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'bench');
const SIGMAHQ = join(CORPUS_DIR, 'sigmahq-aws/rules');

interface Setup {
  inputs: string[];
  rulePaths: string[];
  filterPaths?: string[];
  varsFile?: string;
  cti?: string[];
  range?: TimeRange;
}

interface Outcome {
  alerts: Alert[];
  errors: LocatedError[];
  summary: Omit<ScanSummary, 'startedAt' | 'durationMs'>;
}

async function run(setup: Setup, workers: number, rawPrefilter: boolean): Promise<Outcome> {
  const now = Date.parse('2026-11-20T00:00:00Z');
  const ruleSet = await loadRuleSet({ paths: setup.rulePaths, filterPaths: setup.filterPaths ?? [], ...(setup.varsFile === undefined ? {} : { varsFile: setup.varsFile }), now: new Date(now) });
  const maxAgeMs = Number.POSITIVE_INFINITY;
  const intel = setup.cti === undefined ? undefined : (await loadFeeds(setup.cti, { now, maxAgeMs })).index;
  const detector = new Detector({ rules: ruleSet.rules, correlations: ruleSet.correlations, filters: ruleSet.filters, includeEvents: true, ...(intel === undefined ? {} : { intel }) });
  const recipe: MatcherRecipe = {
    rulePaths: setup.rulePaths,
    ...(setup.varsFile === undefined ? {} : { varsFile: setup.varsFile }),
    now,
    ...(setup.cti === undefined ? {} : { cti: { feeds: setup.cti, maxAgeMs } }),
  };
  const alerts: Alert[] = [];
  const errors: LocatedError[] = [];
  const summary = await scan({
    inputs: setup.inputs,
    detector,
    ...(setup.range === undefined ? {} : { timeRange: setup.range }),
    onAlert: (alert) => {
      alerts.push(alert);
    },
    onError: (error) => errors.push(error),
    // The main thread waits for its workers here, so that they do the work even on small inputs.
    workers: { count: workers, recipe, mainThreadWhileBooting: false },
    rawPrefilter,
  });
  const { startedAt: _startedAt, durationMs: _durationMs, ...counts } = summary;
  return { alerts, errors, summary: counts };
}

async function assertSame(setup: Setup): Promise<number> {
  const reference = await run(setup, 1, false);
  for (const [workers, rawPrefilter] of [
    [1, true],
    [2, false],
    [3, true],
  ] as const) {
    const other = await run(setup, workers, rawPrefilter);
    const label = `${workers} workers, pre-filter ${rawPrefilter ? 'on' : 'off'}`;
    assert.deepEqual(other.alerts, reference.alerts, `alerts differ with ${label}`);
    assert.deepEqual(other.summary, reference.summary, `summary differs with ${label}`);
    assert.deepEqual(
      [...other.errors].sort((a, b) => a.location.localeCompare(b.location)),
      [...reference.errors].sort((a, b) => a.location.localeCompare(b.location)),
      `errors differ with ${label}`,
    );
  }
  return reference.alerts.length;
}

test('samples and test fixtures: identical alerts, summary and errors', async () => {
  const alerts = await assertSame({
    inputs: [join(ROOT, 'samples'), join(ROOT, 'test/fixtures/formats'), join(ROOT, 'test/fixtures/flow-cti'), join(ROOT, 'test/fixtures/goodlog')],
    rulePaths: [DEFAULT_RULES_DIR],
    cti: [join(ROOT, 'test/fixtures/flow-cti/feed.txt')],
  });
  assert.ok(alerts > 10);
});

test('shared corpus (CloudTrail, GuardDuty, Flow Logs) with the SigmaHQ rules', corpusSkip(), async () => {
  const sigma = readdirSync(SIGMAHQ).filter((name) => name.endsWith('.yml')).map((name) => join(SIGMAHQ, name));
  const alerts = await assertSame({ inputs: [join(CORPUS_DIR, 'cloudtrail'), join(CORPUS_DIR, 'guardduty'), join(CORPUS_DIR, 'vpcflow')], rulePaths: [DEFAULT_RULES_DIR, ...sigma] });
  assert.ok(alerts > 10);
});

test('a generated corpus with planted attacks, correlations, filters; and with --since/--until', async () => {
  const out = mkdtempSync(join(tmpdir(), 'th-parallel-'));
  try {
    const manifest = await generateCorpus(defaultOptions({ out, seed: 11, records: 12_000, minPerFile: 200, maxPerFile: 600, flowLines: 20_000, indicators: 2_000 }));
    const setup: Setup = {
      inputs: [join(out, 'AWSLogs'), join(out, 'flows')],
      rulePaths: [DEFAULT_RULES_DIR],
      filterPaths: [join(BENCH, 'filters')],
      varsFile: join(BENCH, 'vars.yml'),
    };
    const alerts = await assertSame(setup);
    const planted = Object.values(manifest.expected.pack).reduce((a, b) => a + b, 0);
    assert.ok(alerts >= planted, `${alerts} alerts, ${planted} planted`);
    await assertSame({ ...setup, cti: [join(out, 'indicators.txt')] });
    await assertSame({ ...setup, range: { since: Date.parse('2026-11-03T06:00:00Z'), until: Date.parse('2026-11-03T18:00:00Z') } });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
