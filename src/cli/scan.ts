import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { Detector } from '../engine/detector.ts';
import { levelAtLeast } from '../engine/alert.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../engine/rule-set.ts';
import { parseLateness, parseMaxGroups } from '../engine/correlation-options.ts';
import { formatLocatedError } from '../errors.ts';
import { scan } from '../engine/scan.ts';
import type { ScanSummary, TimeRange } from '../engine/scan.ts';
import { createSink, OUTPUT_FORMATS } from '../sinks/index.ts';
import type { OutputFormat } from '../sinks/index.ts';
import { SIGMA_LEVELS } from '../sigma/types.ts';
import type { SigmaLevel } from '../sigma/types.ts';
import { Diagnostics } from './diagnostics.ts';
import { combineExitCodes, EXIT } from './exit-codes.ts';
import { parseTimeArgument } from './time-argument.ts';
import { formatSummary, progressLine } from './summary.ts';

interface ScanFlags {
  rules: string[];
  defaultRules: boolean;
  vars?: string;
  since?: string;
  until?: string;
  format?: OutputFormat;
  output?: string;
  failOn?: SigmaLevel;
  quiet: boolean;
  events: boolean;
  flowFormat?: string;
  filters: string[];
  correlationLateness?: string;
  maxGroups?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function scanCommand(setExitCode: (code: number) => void): Command {
  return new Command('scan')
    .description('Scan CloudTrail logs (files, folders, gzip, stdin) with Sigma rules and print alerts')
    .argument('<paths...>', 'files, folders (recursive) or - for stdin')
    .option('-r, --rules <path>', 'rule file or folder (repeatable); added to the built-in pack', collect, [])
    .option('--no-default-rules', 'leave out the built-in rule pack')
    .option('--vars <file>', 'YAML file of placeholder values for |expand (name: [values])')
    .option('--filters <path>', 'Sigma filter (allowlist) file or folder (repeatable)', collect, [])
    .option('--correlation-lateness <duration>', 'how late (event time) an event may arrive and still be correlated: 15m, 2h, ... or unbounded (default)')
    .option('--max-groups <n>', 'cap on live correlation groups (default 100000)')
    .option('--since <time>', 'only events at or after: RFC 3339, a date, or relative (24h, 7d)')
    .option('--until <time>', 'only events at or before: RFC 3339, a date, or relative')
    .addOption(new Option('-f, --format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices([...OUTPUT_FORMATS]))
    .option('-o, --output <file>', 'write alerts to a file instead of stdout')
    .addOption(new Option('--fail-on <level>', 'exit 1 when an alert at or above this level is raised').choices([...SIGMA_LEVELS]))
    .option('--no-events', 'leave the raw records out of the alerts')
    .option('--flow-format <format>', 'VPC Flow Logs format string for records without a header line')
    .option('-q, --quiet', 'no progress, warnings or summary on stderr (errors still shown)', false)
    .action(async (paths: string[], flags: ScanFlags) => {
      setExitCode(await runScan(paths, flags));
    });
}

function parseRange(flags: ScanFlags, diagnostics: Diagnostics): TimeRange | undefined {
  const now = Date.now();
  const range: TimeRange = {};
  for (const [name, text] of [['--since', flags.since], ['--until', flags.until]] as const) {
    if (text === undefined) continue;
    const time = parseTimeArgument(text, now);
    if (time === undefined) {
      diagnostics.error({ code: 'TH_CONFIG', message: `${name} ${JSON.stringify(text)} is not RFC 3339, a date or a duration like 24h`, location: name });
      return undefined;
    }
    if (name === '--since') range.since = time;
    else range.until = time;
  }
  return range;
}

async function runScan(paths: string[], flags: ScanFlags): Promise<number> {
  const diagnostics = new Diagnostics({ quiet: flags.quiet });
  const range = parseRange(flags, diagnostics);
  if (range === undefined) return EXIT.RULE_OR_CONFIG_ERROR;

  const rulePaths = [...(flags.defaultRules ? [DEFAULT_RULES_DIR] : []), ...flags.rules];
  const lateness = flags.correlationLateness === undefined ? undefined : parseLateness(flags.correlationLateness);
  if (flags.correlationLateness !== undefined && lateness === undefined) {
    diagnostics.error({ code: 'TH_CONFIG', message: `--correlation-lateness ${JSON.stringify(flags.correlationLateness)} is not a duration like 15m, or unbounded`, location: '--correlation-lateness' });
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const maxGroups = flags.maxGroups === undefined ? undefined : parseMaxGroups(flags.maxGroups);
  if (flags.maxGroups !== undefined && maxGroups === undefined) {
    diagnostics.error({ code: 'TH_CONFIG', message: `--max-groups ${JSON.stringify(flags.maxGroups)} is not a positive integer`, location: '--max-groups' });
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const ruleSet = await loadRuleSet({ paths: rulePaths, filterPaths: flags.filters, ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) });
  for (const error of ruleSet.errors) diagnostics.error(error);
  for (const warning of ruleSet.warnings) diagnostics.warn(formatLocatedError(warning));
  if (ruleSet.rules.length === 0) {
    diagnostics.error({ code: 'TH_CONFIG', message: 'no rule loaded: nothing to scan for', location: rulePaths.join(', ') || '--rules' });
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const detector = new Detector({
    rules: ruleSet.rules,
    correlations: ruleSet.correlations,
    filters: ruleSet.filters,
    includeEvents: flags.events,
    ...(lateness === undefined ? {} : { lateness }),
    ...(maxGroups === undefined ? {} : { maxGroups }),
  });
  for (const rule of detector.index.inapplicableRules()) {
    diagnostics.warn(`${rule.position.file}: rule ${rule.name ?? rule.id} has logsource ${JSON.stringify(rule.logsource)}, which no AWS input provides; it will never match`);
  }

  const output: Writable = flags.output === undefined ? process.stdout : createWriteStream(flags.output);
  const format: OutputFormat = flags.format ?? (flags.output === undefined && process.stdout.isTTY ? 'table' : 'jsonl');
  const sink = createSink(format, output, { colour: output === process.stdout && process.stdout.isTTY === true });
  const showProgress = process.stderr.isTTY === true && !flags.quiet;
  let lastProgress = 0;
  let failOnReached = false;

  const summary: ScanSummary = await scan({
    inputs: paths,
    detector,
    timeRange: range,
    ...(flags.flowFormat === undefined ? {} : { flowFormat: flags.flowFormat }),
    onAlert: (alert) => {
      if (flags.failOn !== undefined && levelAtLeast(alert.rule.level, flags.failOn)) failOnReached = true;
      return sink.write(alert);
    },
    onError: (error) => diagnostics.error(error),
    onProgress: (running) => {
      if (!showProgress) return;
      const now = Date.now();
      if (now - lastProgress < 200) return;
      lastProgress = now;
      diagnostics.progress(progressLine(running, now));
    },
  });
  await sink.close();
  diagnostics.clearProgress();
  for (const warning of detector.correlationWarnings()) diagnostics.warn(warning);
  diagnostics.info(formatSummary(summary, ruleSet.rules.length));
  return combineExitCodes({
    ruleErrors: ruleSet.errors.length > 0,
    inputErrors: summary.inputErrors > 0,
    failOnReached,
  });
}
