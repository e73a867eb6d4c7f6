import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { Detector } from '../engine/detector.ts';
import { levelAtLeast } from '../core/levels.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../pack/rule-set.ts';
import { parseLateness, parseMaxGroups } from '../engine/correlation/options.ts';
import { formatLocatedError, located, type LocatedError } from '../core/errors.ts';
import { scan } from '../scan/scan.ts';
import type { ScanSummary } from '../scan/scan-run.ts';
import type { TimeRange } from '../core/time-range.ts';
import { createSink, OUTPUT_FORMATS } from '../sinks/index.ts';
import { sinkAlertReporting } from '../sinks/sink.ts';
import type { OutputFormat } from '../sinks/index.ts';
import { SIGMA_LEVELS } from '../core/levels.ts';
import type { SigmaLevel } from '../core/levels.ts';
import { Diagnostics } from './diagnostics.ts';
import { combineExitCodes, EXIT } from './exit-codes.ts';
import { parseTimeArgument } from './time-argument.ts';
import { formatSummary, progressLine } from './summary.ts';
import { addCtiOptions, prepareCti, type CtiFlags } from './scan-cti.ts';
import { parseMaxAge } from './intel-feeds.ts';
import { ScanStore } from './scan-store.ts';
import { prepareScanSinks, SINK_OPTION_HELP, type SinkFlags } from './scan-sinks.ts';
import { defaultWorkers } from '../scan/scan.ts';
import type { MatcherRecipe } from '../scan/worker-recipe.ts';
import type { SourceOptions } from '../sources/index.ts';
import type { FileSourceOptions } from '../sources/files.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../formats/open-unit.ts';
import { DEFAULT_CLUSTER_RETRY_MS, DEFAULT_LEASE_MS } from '../scan/job-defaults.ts';
import { readBaselineFile, writeBaselineFile } from '../store/baseline-file.ts';
import type { BaselineFileData } from '../engine/correlation/baseline.ts';

interface ScanFlags extends CtiFlags, SinkFlags {
  rules: string[];
  defaultRules: boolean;
  vars?: string;
  tuning?: string;
  baseline?: string;
  saveBaseline?: string;
  since?: string;
  until?: string;
  format?: OutputFormat;
  output?: string;
  failOn?: SigmaLevel;
  quiet: boolean;
  events: boolean;
  filters: string[];
  correlationLateness?: string;
  maxGroups?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  account: string[];
  regionFilter: string[];
  workers?: string;
  rawPrefilter: boolean;
  maxDecompressed?: string;
  followSymlinks: boolean;
  store?: string;
  job?: string;
  jobLease?: string;
  clusterRetry?: string;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4,
  kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, tb: 1000 ** 4,
};

/** `--max-decompressed`: `4GiB`, `512MiB`, `64M`, `1000000`, `2.5GB` (at least 1 byte), or `unlimited`. */
export function parseByteSize(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unlimited') return Number.POSITIVE_INFINITY;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(trimmed);
  const unit = match === null ? undefined : SIZE_UNITS[match[2] as string];
  if (match === null || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes >= 1 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function scanCommand(setExitCode: (code: number) => void): Command {
  return addCtiOptions(new Command('scan'))
    .description('Scan AWS logs (CloudTrail, VPC Flow Logs, GuardDuty; files, folders, gzip, stdin) with Sigma rules and threat intel, and print alerts')
    .argument('<paths...>', 'files, folders (recursive), - for stdin, or s3://bucket/prefix')
    .option('-r, --rules <path>', 'rule file or folder (repeatable); added to the built-in pack', collect, [])
    .option('--no-default-rules', 'leave out the built-in rule pack')
    .option('--vars <file>', 'YAML file of placeholder values for |expand (name: [values])')
    .option('--filters <path>', 'Sigma filter (allowlist) file or folder (repeatable)', collect, [])
    .option('--tuning <file>', 'tuning file: per-rule overrides (disabled, level, correlation window/threshold/group-by); docs/tuning.md')
    .option('--baseline <file>', "per-principal history for breadth correlations (discovery bursts); without it, the scanned period is the baseline (docs/discovery.md)")
    .option('--save-baseline <file>', 'write what the breadth baselines learned (with --baseline: merged into it) to this file, for later scans and watch')
    .option('--correlation-lateness <duration>', 'how late (event time) an event may arrive and still be correlated: 15m, 2h, ... or unbounded (default)')
    .option('--max-groups <n>', 'cap on live correlation groups (default 100000)')
    .option('--region <region>', 's3:// inputs: the AWS region of the client (default: environment or profile; S3 redirects to the bucket region)')
    .option('--profile <name>', 's3:// inputs: the AWS shared-config profile to use')
    .option('--endpoint-url <url>', 's3:// inputs: an S3-compatible endpoint (path-style addressing)')
    .option('--account <id>', 's3:// inputs: only these AWS accounts (repeatable, or comma-separated)', collect, [])
    .option('--region-filter <region>', 's3:// inputs: only logs of these regions (repeatable, or comma-separated)', collect, [])
    .option('--since <time>', 'only events at or after: RFC 3339, a date, or relative (24h, 7d)')
    .option('--until <time>', 'only events at or before: RFC 3339, a date, or relative')
    .addOption(new Option('-f, --format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices([...OUTPUT_FORMATS]))
    .option('-o, --output <file>', 'write alerts to a file instead of stdout')
    .option('--sink <spec>', SINK_OPTION_HELP, collect, [])
    .addOption(new Option('--fail-on <level>', 'exit 1 when an alert at or above this level is raised').choices([...SIGMA_LEVELS]))
    .option('--no-events', 'leave the raw records out of the alerts')
    .option('--flow-format <format>', 'VPC Flow Logs format string for records without a header line')
    .option('--workers <n>', `worker threads that decode and match in parallel (default: one per core, ${defaultWorkers()} here); 1 scans on the main thread. Alerts are the same, in the same order, whatever the number`)
    // For the benchmark and differential tests: parse every record (src/engine/worker-prefilter.ts).
    .addOption(new Option('--no-raw-prefilter', 'parse every CloudTrail record, even those no rule can match').hideHelp())
    .option('--max-decompressed <size>', `stop a gzip input that decompresses to more than this (a gzip bomb): 512MiB, 4GiB, unlimited (default ${DEFAULT_MAX_DECOMPRESSED_BYTES / 1024 ** 3}GiB)`)
    .option('--follow-symlinks', 'follow symbolic links out of a scanned folder (by default a link leaving the folder is not followed, TH_INPUT_SPECIAL)', false)
    .option('--store <file|url>', 'also put every alert into this alert store (a SQLite FILE.db, created when missing, or postgres://user@host/db; docs/store.md): once per id, a re-scan updates hits and last_seen')
    .option('--job <name>', 'share this scan with every process that runs the same command with the same --job and a postgres:// --store: they split the inputs, correlations see all of them, each alert is stored once (docs/cluster.md)')
    .option('--job-lease <duration>', `--job: how long a unit stays with a process that stopped answering before another takes it over (default ${DEFAULT_LEASE_MS / 1000}s)`)
    .option('--cluster-retry <duration>', `--job: how long to wait out an unreachable PostgreSQL before giving up (default ${DEFAULT_CLUSTER_RETRY_MS / 1000}s)`)
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
      diagnostics.error(located('TH_CONFIG', `${name} ${JSON.stringify(text)} is not RFC 3339, a date or a duration like 24h`, name));
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

  // Loaded only for --job: it brings the PostgreSQL driver.
  const job = flags.job === undefined ? undefined : await import('./scan-job.ts');
  const jobLimits = job === undefined ? undefined : job.checkJobFlags(paths, flags, diagnostics);
  if (flags.job !== undefined && jobLimits === undefined) return EXIT.RULE_OR_CONFIG_ERROR;

  const rulePaths = [...(flags.defaultRules ? [DEFAULT_RULES_DIR] : []), ...flags.rules];
  const lateness = flags.correlationLateness === undefined ? undefined : parseLateness(flags.correlationLateness);
  if (flags.correlationLateness !== undefined && lateness === undefined) {
    diagnostics.error(located('TH_CONFIG', `--correlation-lateness ${JSON.stringify(flags.correlationLateness)} is not a duration like 15m, or unbounded`, '--correlation-lateness'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const maxGroups = flags.maxGroups === undefined ? undefined : parseMaxGroups(flags.maxGroups);
  if (flags.maxGroups !== undefined && maxGroups === undefined) {
    diagnostics.error(located('TH_CONFIG', `--max-groups ${JSON.stringify(flags.maxGroups)} is not a positive integer`, '--max-groups'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const workers = flags.workers === undefined ? defaultWorkers() : /^[1-9][0-9]{0,3}$/.test(flags.workers.trim()) ? Number(flags.workers.trim()) : undefined;
  if (workers === undefined) {
    diagnostics.error(located('TH_CONFIG', `--workers ${JSON.stringify(flags.workers)} is not a number of threads (1 or more)`, '--workers'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const maxDecompressed = flags.maxDecompressed === undefined ? undefined : parseByteSize(flags.maxDecompressed);
  if (flags.maxDecompressed !== undefined && maxDecompressed === undefined) {
    diagnostics.error(located('TH_CONFIG', `--max-decompressed ${JSON.stringify(flags.maxDecompressed)} is not a size like 512MiB, 4GiB or 1000000 (bytes), or unlimited`, '--max-decompressed'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const cti = await prepareCti(flags, diagnostics);
  if (cti === undefined) return EXIT.RULE_OR_CONFIG_ERROR;
  // One clock for the rules here and in the workers (filters' `expires`).
  const now = Date.now();
  // The rule files as read here go to the workers, which compile them without reading.
  const ruleTexts: [string, string][] = [];
  const ruleSet = await loadRuleSet({
    paths: rulePaths,
    ruleTexts,
    filterPaths: flags.filters,
    ...(flags.vars === undefined ? {} : { varsFile: flags.vars }),
    ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }),
    now: new Date(now),
  });
  for (const error of ruleSet.errors) diagnostics.error(error);
  for (const warning of ruleSet.warnings) diagnostics.warn(formatLocatedError(warning));
  if (ruleSet.disabled.length > 0) {
    diagnostics.info(`tuning: ${ruleSet.disabled.length} rule(s) disabled: ${ruleSet.disabled.map((rule) => `${rule.name} (${rule.reason})`).join(', ')}`);
  }
  if (ruleSet.rules.length === 0 && cti.detectorOptions.intel === undefined) {
    diagnostics.error(located('TH_CONFIG', 'no rule loaded: nothing to scan for', rulePaths.join(', ') || '--rules'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  let baselineFile: BaselineFileData | undefined;
  if (flags.baseline !== undefined) {
    const read = await readBaselineFile(flags.baseline);
    if (read.error !== undefined) {
      diagnostics.error(read.error);
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    baselineFile = read.data;
  }
  const detectorOptions = {
    baseline: { mode: 'hold' as const, ...(baselineFile === undefined ? {} : { file: baselineFile }) },
    rules: ruleSet.rules,
    correlations: ruleSet.correlations,
    filters: ruleSet.filters,
    includeEvents: flags.events,
    ...(lateness === undefined ? {} : { lateness }),
    ...(maxGroups === undefined ? {} : { maxGroups }),
    ...cti.detectorOptions,
  };
  const detector = new Detector(flags.job === undefined ? detectorOptions : { ...detectorOptions, node: true, keepOrigins: true });
  for (const rule of detector.index.inapplicableRules()) {
    diagnostics.warn(`${rule.position.file}: rule ${rule.name ?? rule.id} has logsource ${JSON.stringify(rule.logsource)}, which no AWS input provides; it will never match`);
  }

  // --sink: webhook, Slack, file and OCSF file sinks beside stdout; a bad spec is exit 2.
  const extraSinks = await prepareScanSinks(flags, diagnostics);
  if (extraSinks === undefined) return EXIT.RULE_OR_CONFIG_ERROR;
  // --store: alerts also go into the alert store; one that cannot be opened is exit 2 (the sinks
  // just started are closed, nothing left open behind).
  const scanStore = flags.store === undefined || flags.job !== undefined ? undefined : await ScanStore.open(flags.store, diagnostics);
  if (flags.store !== undefined && flags.job === undefined && scanStore === undefined) {
    await extraSinks.close();
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  const output: Writable = flags.output === undefined ? process.stdout : createWriteStream(flags.output);
  const format: OutputFormat = flags.format ?? (flags.output === undefined && process.stdout.isTTY ? 'table' : 'jsonl');
  const sink = createSink(format, output, { colour: output === process.stdout && process.stdout.isTTY === true });
  const showProgress = process.stderr.isTTY === true && !flags.quiet;
  const alertsOnTerminal = output === process.stdout && process.stdout.isTTY === true;
  let lastProgress = 0;
  let failOnReached = false;
  // Records too deep to be written whole, written truncated in their alerts (TH_INPUT_LIMIT):
  // input errors, counted in the summary.
  let truncatedRecords = 0;
  const onLimit = (error: LocatedError): void => {
    truncatedRecords += 1;
    diagnostics.error(error);
  };

  const recipe: MatcherRecipe = {
    rulePaths,
    ruleTexts,
    ...(flags.vars === undefined ? {} : { varsFile: flags.vars }),
    ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }),
    now,
    ...(flags.cti.length === 0 ? {} : { cti: { feeds: flags.cti, maxAgeMs: parseMaxAge(flags.ctiMaxAge) ?? 0, ...(cti.limits === undefined ? {} : { limits: cti.limits }) } }),
  };
  // The file source also reads followSymlinks (sources/files.ts, FileSourceOptions).
  const sourceOptions: SourceOptions & FileSourceOptions = {
    aws: { ...(flags.region === undefined ? {} : { region: flags.region }), ...(flags.profile === undefined ? {} : { profile: flags.profile }), ...(flags.endpointUrl === undefined ? {} : { endpointUrl: flags.endpointUrl }) },
    accounts: flags.account.flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item !== ''),
    regions: flags.regionFilter.flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item !== ''),
    followSymlinks: flags.followSymlinks,
  };
  if (job !== undefined && jobLimits !== undefined) {
    return job.runScanJob({
      paths,
      flags,
      limits: jobLimits,
      identity: job.jobIdentity(paths, detector, {
        correlations: ruleSet.correlations.map((rule) => [rule.id, rule.type, rule.timespanMs, rule.groupBy, JSON.stringify(rule.condition), rule.level ?? null]),
        filters: ruleSet.filters.map((filter) => filter.label),
        levels: ruleSet.rules.map((rule) => [rule.id, rule.level]),
        events: flags.events,
        since: range.since ?? null,
        until: range.until ?? null,
        cti: flags.cti,
        ctiMaxAge: flags.ctiMaxAge ?? null,
        ctiBucket: flags.ctiBucket ?? null,
        ctiEgressBytes: flags.ctiEgressBytes ?? null,
        baseline: flags.baseline ?? null,
        flowFormat: flags.flowFormat ?? null,
        maxGroups: maxGroups ?? null,
        accounts: sourceOptions.accounts ?? [],
        regions: sourceOptions.regions ?? [],
      }),
      nodeDetector: detector,
      decider: () => new Detector(detectorOptions),
      includeEvents: flags.events,
      range,
      sourceOptions,
      ...(flags.flowFormat === undefined ? {} : { flowFormat: flags.flowFormat }),
      ...(maxDecompressed === undefined ? {} : { maxDecompressed }),
      rawPrefilter: flags.rawPrefilter,
      ruleCount: ruleSet.rules.length,
      ruleErrors: ruleSet.errors.length > 0 || cti.errors > 0,
      diagnostics,
      deliver: async (alert) => {
        if (alertsOnTerminal) diagnostics.clearProgress();
        const item = sinkAlertReporting(alert, onLimit);
        await Promise.all([sink.deliver([item]), extraSinks.offer(item)]);
      },
      closeOutputs: async () => {
        diagnostics.stopProgress();
        await sink.close();
        return (await extraSinks.close()).failed + truncatedRecords;
      },
    });
  }
  const summary: ScanSummary = await scan({
    inputs: paths,
    detector,
    workers: { count: workers, recipe },
    rawPrefilter: flags.rawPrefilter,
    timeRange: range,
    ...(flags.flowFormat === undefined ? {} : { flowFormat: flags.flowFormat }),
    ...(maxDecompressed === undefined ? {} : { maxDecompressed }),
    sourceOptions,
    onAlert: (alert) => {
      if (flags.failOn !== undefined && levelAtLeast(alert.rule.level, flags.failOn)) failOnReached = true;
      scanStore?.add(alert);
      // Alerts and the progress line share the terminal: clear the line before an alert lands on it.
      if (alertsOnTerminal) diagnostics.clearProgress();
      const item = sinkAlertReporting(alert, onLimit);
      return Promise.all([sink.deliver([item]), extraSinks.offer(item)]).then(() => undefined);
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
  // The progress line goes before anything else reaches the terminal: the table sink's closing
  // `No alerts.` on stdout, then the warnings and the summary on stderr.
  diagnostics.stopProgress();
  await sink.close();
  const sinkDelivery = await extraSinks.close();
  for (const warning of detector.correlationWarnings()) diagnostics.warn(warning);
  const suppressed = detector.suppressedCounts();
  if (suppressed.size > 0) {
    const total = [...suppressed.values()].reduce((sum, count) => sum + count, 0);
    diagnostics.info(`filters: ${total} match(es) suppressed by allowlists (${[...suppressed].map(([filter, count]) => `${filter}: ${count}`).join(', ')})`);
  }
  const baselineStats = detector.baselineStats();
  if (baselineStats !== undefined && baselineStats.suppressed > 0) {
    diagnostics.info(`baseline: ${baselineStats.suppressed} breadth burst(s) held back as usual for their principal (${baselineFile === undefined ? 'the scanned period' : 'the baseline file and the scanned period'} as history), ${baselineStats.raised} raised`);
  }
  if (flags.saveBaseline !== undefined) {
    const learned = detector.baselineFile(new Date());
    if (learned === undefined) diagnostics.warn('--save-baseline: no loaded correlation has a baseline; nothing written');
    else {
      await writeBaselineFile(flags.saveBaseline, learned);
      diagnostics.info(`baseline: ${Object.values(learned.correlations).reduce((sum, groups) => sum + Object.keys(groups).length, 0)} groups written to ${flags.saveBaseline}`);
    }
  }
  diagnostics.info(formatSummary(summary, ruleSet.rules.length, { truncatedRecords }));
  if (scanStore !== undefined && !(await scanStore.finish(detector.suppressedCounts()))) return EXIT.RULE_OR_CONFIG_ERROR;
  return combineExitCodes({
    ruleErrors: ruleSet.errors.length > 0 || cti.errors > 0,
    // Alerts that did not reach a --sink exit 3, as input errors do.
    inputErrors: summary.inputErrors > 0 || truncatedRecords > 0 || sinkDelivery.failed > 0,
    failOnReached,
  });
}
