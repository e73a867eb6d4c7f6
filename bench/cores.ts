/**
 * The cores benchmark (issue 15): a 300,000-record scan timed as a user times it (wall clock of
 * the whole command, GNU time), with 1 and with 2 workers, in alternating rounds; the main
 * thread's busy time per million records on the 2-worker runs (TRAILHOUND_TRACE_SCAN=1: the
 * event loop's active time during the scan: reading files, parsing the records workers send,
 * the stateful detector), and the projected ceiling: how many workers one main thread feeds
 * before it is the limit (its records/s over one thread's records/s).
 *
 *   cd bench && npm run cores -- [--records 300000] [--reps 3] [--no-write]
 *
 * The corpus is the benchmark's generator in bench/data-cores (CloudTrail in the S3 layout with
 * the planted attacks, plus a flow log), scanned with the built-in pack. Writes the table into
 * RESULTS.md under "Cores".
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './startup.ts';
import { defaultOptions, existingCorpus, generateCorpus } from './generate.ts';
import { argValue, describeMachine, REPO_CLI, REPO_ROOT, run, spread, type Spread } from './measure.ts';
import { replaceSection } from './results.ts';

const ROOT = REPO_ROOT;
const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const CLI = REPO_CLI;

interface Run {
  wall: number;
  records: number;
  mainBusyMs: number | undefined;
  alerts: string;
}

/** The cores rows: printed, and written into RESULTS.md ("Cores") unless `write` is false. Returns the table. */
export async function runCores(options: { records: number; reps: number; write: boolean }): Promise<string> {
  const { records, reps, write } = options;
  // Timed from the compiled build, as users run it: built first when stale.
  ensureBuilt();
  const out = join(BENCH_DIR, 'data-cores');
  const corpusOptions = defaultOptions({ out, records, flowLines: Math.round(records / 10), indicators: 1000 });
  const manifest = existingCorpus(corpusOptions) ?? (await generateCorpus(corpusOptions, (line) => process.stderr.write(`${line}\n`)));
  const inputs = [join(out, 'AWSLogs'), join(out, 'flows')];

  function scanWith(workers: number): Run {
    const result = run([process.execPath, CLI, 'scan', ...inputs, '--workers', String(workers), '--format', 'jsonl'], { cwd: ROOT, env: { ...process.env, TRAILHOUND_TRACE_SCAN: '1' } });
    if (result.status !== 0) throw new Error(`scan --workers ${workers} exited ${String(result.status)}: ${result.stderr.slice(-2000)}`);
    const trace = /main thread busy (\d+) ms of (\d+) ms, (\d+) records/.exec(result.stderr);
    return { wall: result.wallSeconds, records: Number(trace?.[3] ?? NaN), mainBusyMs: trace === null ? undefined : Number(trace[1]), alerts: result.stdout };
  }

  // A first run of each, not timed: the file system cache holds the corpus for every timed run.
  const reference = scanWith(1);
  if (scanWith(2).alerts !== reference.alerts) throw new Error('2 workers did not give the alerts of 1: the output must not depend on --workers');
  const one: Run[] = [];
  const two: Run[] = [];
  for (let i = 0; i < reps; i++) {
    one.push(scanWith(1));
    two.push(scanWith(2));
  }
  const wall1 = spread(one.map((item) => item.wall));
  const wall2 = spread(two.map((item) => item.wall));
  const scanned = reference.records;
  const mainPerMillion = spread(two.map((item) => ((item.mainBusyMs ?? NaN) / item.records) * 1e6));
  const oneThreadRate = scanned / wall1.median;
  const mainRate = 1e6 / (mainPerMillion.median / 1000);
  const ceiling = mainRate / oneThreadRate;

  const s = (x: Spread): string => `${x.median.toFixed(2)} s (${x.min.toFixed(2)}-${x.max.toFixed(2)})`;
  const table = [
    '| | value | goal |',
    '| --- | --- | --- |',
    `| 1 worker, wall clock | ${s(wall1)}, ${Math.round(oneThreadRate).toLocaleString('en-US')} records/s | |`,
    `| 2 workers, wall clock | ${s(wall2)}, ${Math.round(scanned / wall2.median).toLocaleString('en-US')} records/s | |`,
    `| 2 workers vs 1, wall clock | ${(wall1.median / wall2.median).toFixed(2)}x | >= 1.8x: ${wall1.median / wall2.median >= 1.8 ? 'met' : 'missed'} |`,
    `| main thread busy per million records (2 workers) | ${(mainPerMillion.median / 1000).toFixed(2)} s (${(mainPerMillion.min / 1000).toFixed(2)}-${(mainPerMillion.max / 1000).toFixed(2)}) | |`,
    `| projected ceiling: workers one main thread feeds | ${ceiling.toFixed(1)} | >= 16: ${ceiling >= 16 ? 'met' : 'missed'} |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);

  if (write) {
    const machine = describeMachine();
    replaceSection(
      join(BENCH_DIR, 'RESULTS.md'),
      'cores',
      [
        '## Cores',
        '',
        `\`cd bench && npm run cores\` on ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}, load ${machine.loadAverage}: ${scanned.toLocaleString('en-US')} records (${manifest.files} CloudTrail files and ${(manifest.flows?.lines ?? 0).toLocaleString('en-US')} flow lines), the built-in pack, from the compiled build; wall clock of the whole command (GNU time), median of ${reps} alternating rounds (min-max). The main thread's busy time is its event loop's active time during the scan (rules and feeds loaded before are not in it); the ceiling is the main thread's records/s (a million over that time) over one thread's records/s. The alerts of 1 and 2 workers are checked equal.`,
        '',
        table,
      ].join('\n'),
    );
  }
  return table;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runCores({ records: Number(argValue('--records') ?? '300000'), reps: Number(argValue('--reps') ?? '3'), write: !process.argv.includes('--no-write') });
}
