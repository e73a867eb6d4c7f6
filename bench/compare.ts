/**
 * Tells whether the scan got slower than bench/baseline.json by more than the noise.
 *
 *   cd bench && npm run compare -- [--reps 5] [--from data/last-run.json]
 *
 * Runs the floor and the scan rows (no jq, no DuckDB) `--reps` times, or reads a saved report.
 * Each scan row is compared as a fraction of the parse floor measured in the same run, which
 * cancels most of the machine's own speed and load; the noise allowed for a row is the spread
 * (max - min) / median of that row plus the floor's, the larger of the baseline's and this
 * run's, and at least 3%. Exit code 1 when a row dropped by more than its noise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATA_DIR } from './generate.ts';
import type { BenchReport, Row } from './run.ts';

const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const MIN_NOISE = 0.03;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

export interface Verdict {
  key: string;
  baseline: number;
  current: number;
  /** current / baseline of the fraction of the parse floor, minus 1. */
  change: number;
  noise: number;
  slower: boolean;
}

/** Compares the scan rows of two reports, each normalised by its own parse floor. */
export function compareReports(baseline: BenchReport, current: BenchReport): Verdict[] {
  const find = (report: BenchReport, key: string): Row | undefined => report.rows.find((row) => row.key === key);
  const baseFloor = find(baseline, 'floor');
  const curFloor = find(current, 'floor');
  if (baseFloor === undefined || curFloor === undefined) throw new Error('both reports need the parse floor row');
  const out: Verdict[] = [];
  for (const row of current.rows) {
    if (!row.key.startsWith('scan-')) continue;
    const base = find(baseline, row.key);
    if (base === undefined) continue;
    const baseFraction = base.rate.median / baseFloor.rate.median;
    const curFraction = row.rate.median / curFloor.rate.median;
    const change = curFraction / baseFraction - 1;
    const noise = Math.max(MIN_NOISE, Math.max(base.rate.relative, row.rate.relative) + Math.max(baseFloor.rate.relative, curFloor.rate.relative));
    out.push({ key: row.key, baseline: baseFraction, current: curFraction, change, noise, slower: change < -noise });
  }
  return out;
}

function main(): void {
  const baselinePath = join(BENCH_DIR, 'baseline.json');
  if (!existsSync(baselinePath)) throw new Error('no bench/baseline.json: make one with `npm run bench -- --save-baseline`');
  const baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as BenchReport;
  let from = argument('--from');
  if (from === undefined) {
    const reps = argument('--reps') ?? '5';
    const rows = ['floor', 'scan-pack-1', 'scan-full-1', 'scan-pack-all', 'scan-full-all'].join(',');
    const result = spawnSync('node', ['--import', 'tsx', 'run.ts', '--no-write', '--reps', reps, '--jq-reps', '0', '--rows', rows, '--records', String(baseline.corpus.requested)], { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`the benchmark run failed (exit ${result.status})`);
    from = join(DEFAULT_DATA_DIR, 'last-run.json');
  }
  const current = JSON.parse(readFileSync(from, 'utf8')) as BenchReport;
  if (current.corpus.records !== baseline.corpus.records || current.corpus.seed !== baseline.corpus.seed) {
    console.log(`note: the corpora differ (baseline ${baseline.corpus.records} records, seed ${baseline.corpus.seed}; now ${current.corpus.records}, seed ${current.corpus.seed})`);
  }
  const verdicts = compareReports(baseline, current);
  console.log('');
  console.log('| row | baseline (fraction of parse floor) | now | change | noise allowed | verdict |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const v of verdicts) {
    console.log(`| ${v.key} | ${v.baseline.toFixed(3)} | ${v.current.toFixed(3)} | ${(v.change * 100).toFixed(1)}% | ±${(v.noise * 100).toFixed(1)}% | ${v.slower ? 'SLOWER' : 'ok'} |`);
  }
  if (verdicts.some((v) => v.slower)) {
    console.log('\nThe scan is slower than the baseline by more than the noise.');
    process.exitCode = 1;
  } else {
    console.log('\nNo slowdown beyond the noise.');
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
