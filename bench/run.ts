/**
 * The scan benchmark (issue 5): on one generated corpus, in one run, the parse-only floor,
 * `trailhound scan` (built-in pack; pack + SigmaHQ + correlations; 1 worker and all workers),
 * `zcat | jq` and DuckDB, with alert and match counts checked against the generator's truth.
 *
 *   cd bench && npm run bench -- [--records 1000000] [--reps 3] [--jq-reps 1] [--save-baseline] [--no-write]
 *
 * Then the start-up and cores rows (startup.ts, cores.ts: `npm run startup`, `npm run cores`).
 *
 * One-thread rows are pinned to one CPU with taskset (the process and its helper threads share
 * it); all-thread rows are not pinned. Rows run in rounds (every row once per round) so that a
 * change in the machine's load hits every row alike; each row reports the median of its rounds
 * and the spread (max - min) / median.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRuleSet, DEFAULT_RULES_DIR } from '../src/pack/rule-set.ts';
import { defaultOptions, existingCorpus, generateCorpus } from './generate.ts';
import type { CorpusManifest } from './generate.ts';
import { GNU_TIME, TASKSET, describeMachine, jqVersion, run, spread } from './measure.ts';
import type { Machine, Measured, Spread } from './measure.ts';
import { writeResultsSection } from './results.ts';
import { diffAlertCounts } from './planted.ts';
import { runStartup } from './startup.ts';
import { runCores } from './cores.ts';

const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'bin/trailhound.js');
export const SIGMAHQ_DIR = fileURLToPath(new URL('../../shared/corpus/sigmahq-aws/rules/', import.meta.url));
/** SigmaHQ rules that alert on routine activity: left out of the timed set, and listed. */
export const ROUTINE_SIGMAHQ: Readonly<Record<string, string>> = {
  aws_sts_assumerole_misuse: 'matches every call made with an assumed role (userIdentity.type AssumedRole and a Role session issuer): most of all CloudTrail',
};

export interface Row {
  key: string;
  label: string;
  threads: number | 'all';
  records: number;
  rate: Spread;
  wall: Spread;
  cpuSeconds?: number;
  maxRssBytes?: number;
  compressedBytes: number;
  uncompressedBytes: number;
  note?: string;
  /** Counts check: undefined when not applicable. */
  check?: { ok: boolean; detail: string };
}

export interface BenchReport {
  date: string;
  machine: Machine;
  corpus: Pick<CorpusManifest, 'records' | 'files' | 'compressedBytes' | 'uncompressedBytes' | 'seed' | 'eventNames' | 'services'> & { requested: number };
  reps: number;
  rows: Row[];
  targets: Array<{ target: string; value: string; met: boolean | undefined }>;
  routineSigmaHQ: Record<string, string>;
  sigmahqTimed: number;
}

interface Args {
  records: number;
  reps: number;
  jqReps: number;
  saveBaseline: boolean;
  write: boolean;
  rows?: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { records: 1_000_000, reps: 3, jqReps: 1, saveBaseline: false, write: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--records' && value !== undefined) args.records = Number(argv[++i]);
    else if (flag === '--reps' && value !== undefined) args.reps = Math.max(1, Number(argv[++i]));
    else if (flag === '--jq-reps' && value !== undefined) args.jqReps = Math.max(0, Number(argv[++i]));
    else if (flag === '--rows' && value !== undefined) args.rows = (argv[++i] ?? '').split(',');
    else if (flag === '--save-baseline') args.saveBaseline = true;
    else if (flag === '--no-write') args.write = false;
  }
  return args;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The rule key alerts are counted by: name, or the SigmaHQ file stem (SigmaHQ rules have no name). */
function sigmaIds(files: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    const id = /^id:\s*([0-9a-f-]+)/m.exec(readFileSync(file, 'utf8'))?.[1];
    if (id !== undefined) out.set(id, basename(file, '.yml'));
  }
  return out;
}

function countAlerts(jsonl: string, ids: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of jsonl.split('\n')) {
    if (line === '') continue;
    const alert = JSON.parse(line) as { rule: { id: string; name: string | null } };
    const key = alert.rule.name ?? ids.get(alert.rule.id) ?? alert.rule.id;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function scanHelp(): string {
  return run(['node', CLI, 'scan', '--help']).stdout;
}

interface Plan {
  key: string;
  label: string;
  threads: number | 'all';
  command: string[];
  pin: boolean;
  /** Turns one run into records and seconds (work time), or throws. */
  parse: (measured: Measured) => { records: number; seconds: number; rss?: number; result?: unknown };
  check?: (result: unknown) => { ok: boolean; detail: string };
  reps: number;
  bytes: 'cloudtrail' | 'flows';
  note?: string;
}

function fmtRate(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

function fmtMiB(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MiB`;
}

export function renderTable(report: BenchReport): string {
  const byKey = new Map(report.rows.map((row) => [row.key, row]));
  const floor = byKey.get('floor')?.rate.median;
  const jq = byKey.get('jq')?.rate.median;
  const duck = (threads: number | 'all'): number | undefined => byKey.get(threads === 1 ? 'duckdb-1' : 'duckdb-all')?.rate.median;
  const ratio = (value: number, base: number | undefined): string => (base === undefined || !Number.isFinite(base) || base === 0 ? '' : `${(value / base).toFixed(2)}×`);
  const lines = [
    '| run | threads | records/s (median) | spread | MB/s gzip | MB/s JSON | peak RSS | CPU s | vs parse floor | vs jq | vs DuckDB (same threads) | counts |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of report.rows) {
    const seconds = row.records / row.rate.median;
    const isFlow = row.key.startsWith('flow');
    lines.push(
      `| ${row.label} | ${row.threads} | ${fmtRate(row.rate.median)}${isFlow ? ' lines/s' : ''} | ±${(row.rate.relative * 50).toFixed(0)}% | ${(row.compressedBytes / 1e6 / seconds).toFixed(1)} | ${(row.uncompressedBytes / 1e6 / seconds).toFixed(0)} | ${fmtMiB(row.maxRssBytes)} | ${row.cpuSeconds === undefined ? 'n/a' : row.cpuSeconds.toFixed(1)} | ${isFlow ? '' : ratio(row.rate.median, floor)} | ${isFlow ? '' : ratio(row.rate.median, jq)} | ${isFlow || row.key.startsWith('duckdb') ? '' : ratio(row.rate.median, duck(row.threads))} | ${row.check === undefined ? '' : `${row.check.ok ? 'ok' : 'MISMATCH'}: ${row.check.detail}`} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const options = defaultOptions({ records: args.records });
  let manifest = existingCorpus(options);
  if (manifest === undefined) {
    log(`generating the corpus (${args.records.toLocaleString('en-US')} records) into ${options.out} ...`);
    manifest = await generateCorpus(options, log);
  } else {
    log(`corpus: ${options.out} (${manifest.records.toLocaleString('en-US')} records, seed ${manifest.seed}; delete bench/data to regenerate)`);
  }
  const cloudtrail = join(options.out, 'AWSLogs');
  const flows = join(options.out, 'flows');
  const machine = describeMachine();
  const pin = machine.nproc - 1;
  if (TASKSET === undefined) log('taskset not found: one-thread rows are not pinned to one CPU');
  if (GNU_TIME === undefined) log('/usr/bin/time not found: peak RSS and CPU time only for the rows that report their own');

  const help = scanHelp();
  const hasWorkers = help.includes('--workers');
  const hasCti = help.includes('--cti');
  const workerFlag = (n: number | 'all'): string[] => (hasWorkers ? ['--workers', String(n === 'all' ? machine.nproc : n)] : []);

  // Rule sets: the pack (+ bench filters and vars), and pack + timed SigmaHQ rules.
  const filters = ['--filters', join(BENCH_DIR, 'filters'), '--vars', join(BENCH_DIR, 'vars.yml')];
  let sigmaFiles: string[] = [];
  try {
    sigmaFiles = readdirSync(SIGMAHQ_DIR).filter((name) => name.endsWith('.yml')).sort().map((name) => join(SIGMAHQ_DIR, name));
  } catch {
    log(`SigmaHQ rules not found at ${SIGMAHQ_DIR}: the pack + SigmaHQ rows are skipped`);
  }
  const timedSigma = sigmaFiles.filter((file) => ROUTINE_SIGMAHQ[basename(file, '.yml')] === undefined);
  const ids = sigmaIds(sigmaFiles);
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR, ...timedSigma] });
  const wanted = new Set<string>();
  for (const rule of ruleSet.rules) for (const value of rule.requiredValues.get('eventName') ?? []) wanted.add(value);
  const selected = Object.keys(manifest.eventNameCounts).filter((name) => wanted.has(name.toLowerCase()));
  const expectedMatches = selected.reduce((sum, name) => sum + (manifest.eventNameCounts[name] ?? 0), 0);
  const work = mkdtempSync(join(tmpdir(), 'th-bench-run-'));
  const namesFile = join(work, 'names.json');
  writeFileSync(namesFile, JSON.stringify(selected));
  const jqSet = JSON.stringify(Object.fromEntries(selected.map((name) => [name, true])));
  const jq = jqVersion();
  if (jq === undefined) log('jq is not installed: the jq row is skipped. Install it with: apt-get install -y jq (Debian/Ubuntu)');

  const summarySeconds = (stderr: string): number => {
    const match = /records? from .* in ([\d.]+)s/.exec(stderr);
    if (match?.[1] === undefined) throw new Error(`no summary line in the scan's stderr:\n${stderr.slice(-2000)}`);
    return Number(match[1]);
  };
  const hasPrefilter = help.includes('--workers'); // --no-raw-prefilter came with --workers (hidden from help)
  const scanPlan = (key: string, label: string, rules: string[], expected: Record<string, number>, threads: number | 'all', extra: string[] = []): Plan => {
    const out = join(work, `${key}.jsonl`);
    return {
      key,
      label,
      threads,
      pin: threads === 1,
      command: ['node', CLI, 'scan', cloudtrail, ...rules, ...filters, ...workerFlag(threads), ...extra, '--no-events', '-f', 'jsonl', '-o', out],
      parse: (measured) => {
        if (measured.status !== 0) throw new Error(`scan exited ${measured.status}:\n${measured.stderr.slice(-2000)}`);
        return { records: manifest.records, seconds: summarySeconds(measured.stderr), result: countAlerts(readFileSync(out, 'utf8'), ids) };
      },
      check: (result) => {
        const diff = diffAlertCounts(expected, result as Record<string, number>);
        const total = Object.values(expected).reduce((a, b) => a + b, 0);
        return { ok: diff.length === 0, detail: diff.length === 0 ? `${total} alerts, as planted` : diff.join('; ') };
      },
      reps: args.reps,
      bytes: 'cloudtrail',
    };
  };
  const sigmaRules = timedSigma.flatMap((file) => ['-r', file]);
  const plans: Plan[] = [
    {
      key: 'floor',
      label: 'parse floor: read + gunzip + JSON.parse, no rules',
      threads: 1,
      pin: true,
      command: ['node', '--import', 'tsx', join(BENCH_DIR, 'floor.ts'), cloudtrail],
      parse: (measured) => {
        const result = JSON.parse(measured.stdout) as { records: number; seconds: number; maxRssBytes: number };
        return { records: result.records, seconds: result.seconds, rss: result.maxRssBytes, result };
      },
      check: (result) => {
        const records = (result as { records: number }).records;
        return { ok: records === manifest.records, detail: `${records.toLocaleString('en-US')} records` };
      },
      reps: args.reps,
      bytes: 'cloudtrail',
    },
    scanPlan('scan-pack-1', 'trailhound scan, built-in pack', [], manifest.expected.pack, 1),
  ];
  // The raw pre-filter's own gain: the same scan parsing every record.
  if (hasPrefilter) plans.push(scanPlan('scan-pack-1-parse-all', 'trailhound scan, built-in pack, raw pre-filter off', [], manifest.expected.pack, 1, ['--no-raw-prefilter']));
  if (timedSigma.length > 0) plans.push(scanPlan('scan-full-1', `trailhound scan, pack + ${timedSigma.length} SigmaHQ + correlations`, sigmaRules, manifest.expected.full, 1));
  if (hasWorkers && machine.nproc > 1) {
    plans.push(scanPlan('scan-pack-all', 'trailhound scan, built-in pack', [], manifest.expected.pack, 'all'));
    if (timedSigma.length > 0) plans.push(scanPlan('scan-full-all', `trailhound scan, pack + ${timedSigma.length} SigmaHQ + correlations`, sigmaRules, manifest.expected.full, 'all'));
  }
  const duckPlan = (threads: number | 'all'): Plan => ({
    key: threads === 1 ? 'duckdb-1' : 'duckdb-all',
    label: 'DuckDB read_json (2 columns) + filter + GROUP BY',
    threads,
    pin: threads === 1,
    command: ['node', '--import', 'tsx', join(BENCH_DIR, 'duckdb.ts'), cloudtrail, String(threads === 'all' ? machine.nproc : threads), namesFile],
    parse: (measured) => {
      if (measured.status !== 0) throw new Error(`duckdb exited ${measured.status}:\n${measured.stderr.slice(-2000)}`);
      const result = JSON.parse(measured.stdout) as { matched: number; seconds: number; maxRssBytes: number };
      return { records: manifest.records, seconds: result.seconds, rss: result.maxRssBytes, result };
    },
    check: (result) => {
      const matched = (result as { matched: number }).matched;
      return { ok: matched === expectedMatches, detail: `${matched.toLocaleString('en-US')} of ${expectedMatches.toLocaleString('en-US')} records with a rule's eventName (${selected.length} names)` };
    },
    reps: args.reps,
    bytes: 'cloudtrail',
  });
  plans.push(duckPlan(1));
  if (machine.nproc > 1) plans.push(duckPlan('all'));
  if (jq !== undefined && args.jqReps > 0) {
    const script = 'find "$1" -name "*.json.gz" -print0 | sort -z | xargs -0 zcat | jq -r --argjson set "$2" \'.Records[] | select($set[.eventName] != null) | .eventName\' | wc -l';
    plans.push({
      key: 'jq',
      label: `zcat \\| jq (${jq}), select on eventName`,
      threads: 1,
      pin: true,
      command: ['bash', '-c', script, 'jq-bench', cloudtrail, jqSet],
      parse: (measured) => ({ records: manifest.records, seconds: measured.wallSeconds, result: Number(measured.stdout.trim()) }),
      check: (result) => ({ ok: result === expectedMatches, detail: `${(result as number).toLocaleString('en-US')} of ${expectedMatches.toLocaleString('en-US')} records` }),
      reps: args.jqReps,
      bytes: 'cloudtrail',
    });
  }
  if (hasCti && manifest.flows !== undefined) {
    const out = join(work, 'flows.jsonl');
    const lines = manifest.flows.lines;
    plans.push({
      key: 'flow-1',
      label: `trailhound scan, Flow Logs + ${manifest.flows.indicators.toLocaleString('en-US')} indicators (--cti)`,
      threads: 1,
      pin: true,
      command: ['node', CLI, 'scan', flows, '--cti', join(options.out, 'indicators.txt'), ...workerFlag(1), '--no-events', '-f', 'jsonl', '-o', out],
      parse: (measured) => {
        if (measured.status !== 0) throw new Error(`flow scan exited ${measured.status}:\n${measured.stderr.slice(-2000)}`);
        return { records: lines, seconds: summarySeconds(measured.stderr), result: countAlerts(readFileSync(out, 'utf8'), ids) };
      },
      check: (result) => {
        const expected = manifest.flows?.expected ?? {};
        const diff = diffAlertCounts(expected, result as Record<string, number>);
        return { ok: diff.length === 0, detail: diff.length === 0 ? `${Object.entries(expected).map(([rule, n]) => `${n} ${rule}`).join(', ')}, as planted` : diff.join('; ') };
      },
      reps: args.reps,
      bytes: 'flows',
    });
  } else if (!hasCti) {
    log('scan has no --cti yet: the Flow Logs row is skipped');
  }
  const chosen = args.rows === undefined ? plans : plans.filter((plan) => args.rows?.includes(plan.key));

  // Rounds: every row once per round.
  const samples = new Map<string, Array<{ rate: number; wall: number; cpu?: number; rss?: number; result?: unknown }>>();
  const rounds = Math.max(...chosen.map((plan) => plan.reps));
  for (let round = 0; round < rounds; round++) {
    for (const plan of chosen) {
      if (round >= plan.reps) continue;
      const measured = run(plan.command, { cwd: BENCH_DIR, ...(plan.pin ? { cpu: pin } : {}) });
      let parsed: ReturnType<Plan['parse']>;
      try {
        parsed = plan.parse(measured);
      } catch (error) {
        log(`${plan.key}: ${(error as Error).message}`);
        continue;
      }
      const rate = parsed.records / parsed.seconds;
      const list = samples.get(plan.key) ?? [];
      list.push({ rate, wall: measured.wallSeconds, ...(measured.cpuSeconds === undefined ? {} : { cpu: measured.cpuSeconds }), ...(measured.maxRssBytes ?? parsed.rss) === undefined ? {} : { rss: measured.maxRssBytes ?? parsed.rss }, result: parsed.result });
      samples.set(plan.key, list);
      log(`round ${round + 1}/${rounds} ${plan.key.padEnd(14)} ${fmtRate(rate).padStart(10)} records/s  (${parsed.seconds.toFixed(2)} s work, ${measured.wallSeconds.toFixed(2)} s wall${measured.maxRssBytes === undefined ? '' : `, ${fmtMiB(measured.maxRssBytes)}`})`);
    }
  }
  rmSync(work, { recursive: true, force: true });

  const rows: Row[] = [];
  for (const plan of chosen) {
    const list = samples.get(plan.key);
    if (list === undefined || list.length === 0) continue;
    const last = list[list.length - 1];
    const cpu = spread(list.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]))).median;
    const rss = Math.max(...list.map((s) => s.rss ?? 0));
    const flowBytes = manifest.flows === undefined ? { compressedBytes: 0, uncompressedBytes: 0 } : manifest.flows;
    rows.push({
      key: plan.key,
      label: plan.label,
      threads: plan.threads === 'all' ? machine.nproc : plan.threads,
      records: plan.bytes === 'flows' ? (manifest.flows?.lines ?? 0) : manifest.records,
      rate: spread(list.map((s) => s.rate)),
      wall: spread(list.map((s) => s.wall)),
      ...(Number.isFinite(cpu) ? { cpuSeconds: cpu } : {}),
      ...(rss > 0 ? { maxRssBytes: rss } : {}),
      compressedBytes: plan.bytes === 'flows' ? flowBytes.compressedBytes : manifest.compressedBytes,
      uncompressedBytes: plan.bytes === 'flows' ? flowBytes.uncompressedBytes : manifest.uncompressedBytes,
      ...(plan.check === undefined || last === undefined ? {} : { check: plan.check(last.result) }),
    });
  }

  const rate = (key: string): number | undefined => rows.find((row) => row.key === key)?.rate.median;
  const target = (label: string, value: number | undefined, goal: number, unit = '×'): { target: string; value: string; met: boolean | undefined } => ({
    target: label,
    value: value === undefined ? 'not measured' : unit === '×' ? `${value.toFixed(2)}× (goal ≥ ${goal}×)` : `${fmtRate(value)} (goal ≥ ${fmtRate(goal)})`,
    met: value === undefined ? undefined : value >= goal,
  });
  const div = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
  const full1 = rate('scan-full-1') ?? rate('scan-pack-1');
  const targets = [
    target('1 worker, pack + SigmaHQ + correlations, vs parse floor', div(full1, rate('floor')), 0.9),
    target('1 worker, built-in pack, vs parse floor', div(rate('scan-pack-1'), rate('floor')), 0.9),
    target(`all workers (${machine.nproc}) vs 1 worker, pack + SigmaHQ + correlations`, div(rate('scan-full-all'), full1), 1.8),
    target(`all workers (${machine.nproc}) vs 1 worker, built-in pack`, div(rate('scan-pack-all'), rate('scan-pack-1')), 1.8),
    target('1 worker vs zcat \\| jq (one core each), pack + SigmaHQ', div(full1, rate('jq')), 4),
    target('1 worker vs zcat \\| jq (one core each), built-in pack', div(rate('scan-pack-1'), rate('jq')), 4),
    target('1 worker vs DuckDB 1 thread, pack + SigmaHQ', div(full1, rate('duckdb-1')), 1.3),
    target('1 worker vs DuckDB 1 thread, built-in pack', div(rate('scan-pack-1'), rate('duckdb-1')), 1.3),
    target(`all workers vs DuckDB ${machine.nproc} threads, pack + SigmaHQ`, div(rate('scan-full-all'), rate('duckdb-all')), 1.3),
    target(`all workers vs DuckDB ${machine.nproc} threads, built-in pack`, div(rate('scan-pack-all'), rate('duckdb-all')), 1.3),
    target('Flow Logs lines/s on one core (100,000 indicators)', rate('flow-1'), 1_200_000, 'lines/s'),
    { target: 'alerts exactly as planted, match counts identical', value: rows.every((row) => row.check?.ok !== false) ? 'yes' : 'NO', met: rows.every((row) => row.check?.ok !== false) },
  ];
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    corpus: { requested: args.records, records: manifest.records, files: manifest.files, compressedBytes: manifest.compressedBytes, uncompressedBytes: manifest.uncompressedBytes, seed: manifest.seed, eventNames: manifest.eventNames, services: manifest.services },
    reps: args.reps,
    rows,
    targets,
    routineSigmaHQ: Object.fromEntries(sigmaFiles.map((file) => basename(file, '.yml')).filter((stem) => ROUTINE_SIGMAHQ[stem] !== undefined).map((stem) => [stem, ROUTINE_SIGMAHQ[stem] as string])),
    sigmahqTimed: timedSigma.length,
  };

  const table = renderTable(report);
  console.log(table);
  console.log('');
  for (const t of targets) console.log(`${t.met === undefined ? '-' : t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.value}`);
  const mismatches = rows.filter((row) => row.check?.ok === false);
  writeFileSync(join(options.out, 'last-run.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (args.write && args.rows === undefined) {
    writeResultsSection(join(BENCH_DIR, 'RESULTS.md'), report, manifest, table);
    log('bench/RESULTS.md updated (the scan benchmark section)');
  }
  if (args.saveBaseline) {
    writeFileSync(join(BENCH_DIR, 'baseline.json'), `${JSON.stringify(report, null, 2)}\n`);
    log('bench/baseline.json saved');
  }
  if (mismatches.length > 0) {
    log(`count mismatch in: ${mismatches.map((row) => row.key).join(', ')}`);
    process.exitCode = 1;
  }
  if (args.rows === undefined) {
    // Issue 15's rows: a user's start-up, and wall clock with 1 and 2 workers on 300,000 records
    // with the main thread's share (startup.ts, cores.ts; each also runs alone).
    log('start-up (startup.ts)');
    await runStartup({ reps: 11, write: args.write });
    log('cores (cores.ts)');
    await runCores({ records: 300_000, reps: Math.max(3, args.reps), write: args.write });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
