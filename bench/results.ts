/**
 * Writes the scan benchmark's section of bench/RESULTS.md (between markers), leaving the other
 * sections (the correlator benchmark, the memory demo) as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CorpusManifest } from './generate.ts';
import type { BenchReport } from './run.ts';

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`, or inserts it after the title. */
export function replaceSection(path: string, name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  let next: string;
  if (from !== -1 && to > from) {
    next = `${text.slice(0, from)}${block}${text.slice(to + end.length)}`;
  } else {
    const title = text.indexOf('\n') + 1;
    next = `${text.slice(0, title)}\n${block}\n${text.slice(title)}`;
  }
  writeFileSync(path, next);
}

const mb = (n: number): string => `${(n / 1e6).toFixed(0)} MB`;

export function writeResultsSection(path: string, report: BenchReport, manifest: CorpusManifest, table: string): void {
  const m = report.machine;
  const ids = Object.entries(manifest.identityTypes).map(([type, n]) => `${type} ${n.toLocaleString('en-US')}`).join(', ');
  const lines = [
    '## Scan benchmark (`cd bench && npm run bench`)',
    '',
    `Run ${report.date.slice(0, 16).replace('T', ' ')} UTC. Machine: \`nproc\` ${m.nproc}; CPU "${m.cpuModel}"; ${m.memoryGiB} GiB; Node ${m.node}; ${m.os}; load average at the end ${m.loadAverage} (the machine is shared with other jobs).`,
    '',
    `Corpus (bench/generate.ts, seed ${manifest.seed}): ${manifest.records.toLocaleString('en-US')} CloudTrail records (${manifest.planted} planted) in ${manifest.files} \`.json.gz\` files of 1,000-5,000 records in the S3 layout, ${mb(manifest.compressedBytes)} gzip / ${mb(manifest.uncompressedBytes)} JSON (${Math.round(manifest.uncompressedBytes / manifest.records)} bytes per record), ${manifest.eventNames} event names over ${manifest.services} services; identities: ${ids}.` +
      (manifest.flows === undefined ? '' : ` Flow Logs: ${manifest.flows.lines.toLocaleString('en-US')} lines in ${manifest.flows.files} files, ${manifest.flows.indicators.toLocaleString('en-US')} indicators, ${manifest.flows.hits} planted hits.`),
    '',
    `Each row is the median of ${report.reps} rounds (jq: fewer, it is slow); spread is ±half of (max - min) / median. One-thread rows are pinned to one CPU with taskset (gunzip threads included); records/s is the work time (trailhound: the scan summary's duration, after rule loading; floor and DuckDB: their own timer; jq: wall clock). Peak RSS and CPU s from GNU time.`,
    '',
    table,
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...report.targets.map((t) => `| ${t.target} | ${t.value} | ${t.met === undefined ? 'not measured' : t.met ? 'met' : '**missed**'} |`),
    '',
    `Rule sets: the built-in pack (${Object.keys(manifest.expected.pack).length} rules alert on the corpus) with bench/filters and bench/vars.yml (an allowlisted inventory role makes the same Describe* bursts as the attacker and must stay silent); the full set adds ${report.sigmahqTimed} SigmaHQ AWS rules from ../shared/corpus/sigmahq-aws/rules. Left out of the timed set because they alert on routine activity: ${Object.entries(report.routineSigmaHQ).map(([stem, why]) => `\`${stem}\` (${why})`).join('; ') || 'none'}.`,
  ];
  replaceSection(path, 'bench', lines.join('\n'));
}
