/**
 * The start-up benchmark (issue 15): what a user feels before any log is read, timed as a user
 * times it (wall clock of the whole command, `/usr/bin/time`), from the compiled build (dist/,
 * what `npm ci` builds) and, for comparison, from the TypeScript sources through tsx
 * (TRAILHOUND_FROM_SOURCES=1):
 * - `trailhound --version`;
 * - `trailhound scan samples/` (the README's Quick start: 10 small files, no worker started);
 * - a scan worker's start, from `new Worker()` to its rules compiled (TRAILHOUND_TRACE_SCAN=1)
 *   on a scan large enough to start 2 workers, while the main thread scans.
 *
 *   cd bench && npm run startup -- [--reps 15] [--no-write]
 *
 * Builds dist/ first when it is not the build of the sources as they are. Writes the table
 * into RESULTS.md under "Start-up".
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { compiledEntry } from '../bin/compiled.js';
import { defaultOptions, existingCorpus, generateCorpus } from './generate.ts';
import { argValue, describeMachine, REPO_CLI, REPO_ROOT, run, spread, type Spread } from './measure.ts';
import { replaceSection } from './results.ts';

const ROOT = REPO_ROOT;
const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const CLI = REPO_CLI;

/** Builds dist/ when it is not the build of the sources as they are: the rows time what users run. */
export function ensureBuilt(): void {
  if (compiledEntry(ROOT) !== undefined) return;
  process.stderr.write('building dist/ (npm run build)\n');
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
}

interface Row {
  label: string;
  goal: number | undefined;
  compiled: Spread;
  sources: Spread | undefined;
}

function timed(args: readonly string[], fromSources: boolean, reps: number): Spread {
  const env = { ...process.env, ...(fromSources ? { TRAILHOUND_FROM_SOURCES: '1' } : {}) };
  // One run first, so that the file system cache holds what every run reads.
  run([process.execPath, CLI, ...args], { cwd: ROOT, env });
  const walls: number[] = [];
  for (let i = 0; i < reps; i++) {
    const result = run([process.execPath, CLI, ...args], { cwd: ROOT, env });
    if (result.status !== 0) throw new Error(`trailhound ${args.join(' ')} exited ${String(result.status)}: ${result.stderr.slice(-2000)}`);
    walls.push(result.wallSeconds * 1000);
  }
  return spread(walls);
}

/** Each worker's start (ms) over `runs` scans of `inputs` with 2 workers. */
function workerStarts(inputs: readonly string[], runs: number): Spread {
  const starts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = run([process.execPath, CLI, 'scan', ...inputs, '--workers', '2', '--format', 'jsonl'], { cwd: ROOT, env: { ...process.env, TRAILHOUND_TRACE_SCAN: '1' } });
    for (const match of result.stderr.matchAll(/scan worker ready in ([\d.]+) ms/g)) starts.push(Number(match[1]));
  }
  if (starts.length === 0) throw new Error('no worker started: the corpus is too small');
  return spread(starts);
}

/** The start-up rows: printed, and written into RESULTS.md ("Start-up") unless `write` is false. Returns the table. */
export async function runStartup(options: { reps: number; write: boolean }): Promise<string> {
  const { reps, write } = options;
  ensureBuilt();
  const rows: Row[] = [
    { label: '`trailhound --version`', goal: 100, compiled: timed(['--version'], false, reps), sources: timed(['--version'], true, reps) },
    { label: '`trailhound scan samples/` (10 files, 453 records)', goal: 300, compiled: timed(['scan', 'samples/'], false, reps), sources: timed(['scan', 'samples/'], true, reps) },
  ];

  const corpusDir = join(BENCH_DIR, 'data-startup');
  const corpusOptions = defaultOptions({ out: corpusDir, seed: 7, records: 30_000, minPerFile: 500, maxPerFile: 1500, flowLines: 2000, indicators: 300 });
  if (existingCorpus(corpusOptions) === undefined) await generateCorpus(corpusOptions);
  rows.push({ label: 'a scan worker, `new Worker()` to ready (2 workers, main thread scanning)', goal: 150, compiled: workerStarts([join(corpusDir, 'AWSLogs')], Math.max(3, Math.round(reps / 3))), sources: undefined });

  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  const cell = (s: Spread | undefined): string => (s === undefined ? '-' : `${ms(s.median)} (${ms(s.min)}-${ms(s.max)})`);
  const lines = [
    '| | goal | compiled (dist/) | from the sources (tsx) | met |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.label} | ${row.goal === undefined ? '-' : `<= ${row.goal} ms`} | ${cell(row.compiled)} | ${cell(row.sources)} | ${row.goal === undefined ? '-' : row.compiled.median <= row.goal ? 'yes' : `no (+${ms(row.compiled.median - row.goal)})`} |`),
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);

  if (write) {
    const machine = describeMachine();
    replaceSection(
      join(BENCH_DIR, 'RESULTS.md'),
      'startup',
      [
        '## Start-up',
        '',
        `\`cd bench && npm run startup\` on ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.os}, load ${machine.loadAverage}; wall clock of the whole command (GNU time), median of ${reps} runs (min-max); a worker's start is the median over every worker of ${Math.max(3, Math.round(reps / 3))} scans. Node itself (\`node -e 0\`) takes about 50 ms here. \`npx trailhound\` adds npm's own start (about 0.4 s): the installed bin (\`node_modules/.bin/trailhound\`) is what is timed.`,
        '',
        table,
        '',
        'What the compiled build does: `npm ci` runs `prepare` (scripts/build.mjs: esbuild, about 0.25 s), which bundles the CLI and the scan worker into split modules in dist/; bin/trailhound.js runs them while they are the build of the sources as they are (else tsx). Each command\'s module loads only when asked for, a store driver only when a store is opened, csv-parse at the first CSV feed line; the rule files are read 16 at a time; workers start only once a scan has read 4 MiB or run 100 ms, and compile the rule texts the main thread read.',
      ].join('\n'),
    );
  }
  return table;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runStartup({ reps: Number(argValue('--reps') ?? '15'), write: !process.argv.includes('--no-write') });
}
