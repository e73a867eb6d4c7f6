/**
 * `scan --job NAME --store postgres://...`: the CLI side of a scan shared by several processes
 * (scan/job-scan.ts, docs/cluster.md). Checks what a job needs before anything is read, runs
 * this process's share, prints the alerts this process committed (every alert of the job is
 * committed, so printed, by exactly one process), and ends with the job's summary: this
 * process's share and the job's totals.
 */
import { createHash } from 'node:crypto';
import type { Alert } from '../core/alert.ts';
import { located } from '../core/errors.ts';
import { SIGMA_LEVELS, levelAtLeast, type SigmaLevel } from '../core/levels.ts';
import type { TimeRange } from '../core/time-range.ts';
import type { Detector } from '../engine/detector.ts';
import { ClusterUnavailable, DEFAULT_CLUSTER_RETRY_MS, DEFAULT_LEASE_MS, scanJob } from '../scan/job-scan.ts';
import type { SourceOptions } from '../sources/index.ts';
import { StoreError } from '../store/alert-store.ts';
import { JobConflict } from '../store/cluster/job-table.ts';
import { isPostgresSpec } from '../store/index.ts';
import { PgAlertStore } from '../store/pg-alert-store.ts';
import type { Diagnostics } from './diagnostics.ts';
import { EXIT, combineExitCodes } from './exit-codes.ts';
import { parseDuration } from './intel-feeds.ts';
import { writeBaselineFile } from '../store/baseline-file.ts';

export interface JobFlags {
  job?: string;
  jobLease?: string;
  clusterRetry?: string;
  store?: string;
  saveBaseline?: string;
  correlationLateness?: string;
  failOn?: SigmaLevel;
  quiet: boolean;
}

/** Checks the flags a job needs; a located TH_CLUSTER_JOB / TH_CONFIG error and undefined when they do not hold. */
export function checkJobFlags(paths: readonly string[], flags: JobFlags, diagnostics: Diagnostics): { leaseMs: number; retryMs: number } | undefined {
  const job = flags.job ?? '';
  const fail = (message: string, where = '--job'): undefined => {
    diagnostics.error(located('TH_CLUSTER_JOB', message, where));
    return undefined;
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(job)) return fail(`--job ${JSON.stringify(job)}: a job name is 1 to 128 letters, digits and . _ : - (starting with a letter or digit)`);
  if (flags.store === undefined || !isPostgresSpec(flags.store)) return fail('--job needs --store postgres://...: the job\'s units and state are shared through PostgreSQL');
  if (paths.includes('-')) return fail('stdin (-) cannot be a job input: other processes cannot read it', '-');
  if (flags.correlationLateness !== undefined) return fail('--correlation-lateness has no meaning in a job: its windows are decided once every unit is done, as a one-process scan does by default', '--correlation-lateness');
  const leaseMs = flags.jobLease === undefined ? DEFAULT_LEASE_MS : parseDuration(flags.jobLease);
  if (leaseMs === undefined || !Number.isFinite(leaseMs) || leaseMs < 1000) {
    diagnostics.error(located('TH_CONFIG', `--job-lease ${JSON.stringify(flags.jobLease)} is not a duration of at least 1s (30s, 2m)`, '--job-lease'));
    return undefined;
  }
  const retryMs = flags.clusterRetry === undefined ? DEFAULT_CLUSTER_RETRY_MS : parseDuration(flags.clusterRetry);
  if (retryMs === undefined || !Number.isFinite(retryMs)) {
    diagnostics.error(located('TH_CONFIG', `--cluster-retry ${JSON.stringify(flags.clusterRetry)} is not a duration (30s, 5m)`, '--cluster-retry'));
    return undefined;
  }
  return { leaseMs, retryMs };
}

/**
 * What every process of a job must share: the inputs and everything that decides what the
 * alerts are (the rules, their levels and correlations, filters, intel feeds, time range,
 * options). Rules are named by their compiled fingerprint, so a tuning file or a changed rule on
 * one node is refused rather than mixed in.
 */
export function jobIdentity(paths: readonly string[], detector: Detector, extra: Record<string, unknown>): Record<string, unknown> {
  const rules = createHash('sha256').update(detector.index.fingerprint()).update(JSON.stringify(extra['correlations'] ?? null)).update(JSON.stringify(extra['filters'] ?? null)).digest('hex').slice(0, 32);
  const { correlations: _correlations, filters: _filters, ...options } = extra;
  return { inputs: [...paths], rules, options: JSON.stringify(options) };
}

export interface JobRun {
  paths: string[];
  flags: JobFlags;
  limits: { leaseMs: number; retryMs: number };
  identity: Record<string, unknown>;
  nodeDetector: Detector;
  decider: () => Detector;
  includeEvents: boolean;
  range: TimeRange;
  sourceOptions: SourceOptions;
  flowFormat?: string;
  maxDecompressed?: number;
  rawPrefilter: boolean;
  ruleCount: number;
  ruleErrors: boolean;
  diagnostics: Diagnostics;
  deliver: (alert: Alert) => Promise<void>;
  /** Called once the job is over: closes the outputs; the number of alerts a --sink failed to take. */
  closeOutputs: () => Promise<number>;
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

/** Runs this process's share of the job; the exit code. */
export async function runScanJob(run: JobRun): Promise<number> {
  const { diagnostics, flags } = run;
  let store: PgAlertStore;
  // A server that is restarting is waited for (up to --cluster-retry), as the job's steps are.
  const openUntil = Date.now() + run.limits.retryMs;
  for (let notified = false; ; ) {
    try {
      store = await PgAlertStore.open(flags.store as string);
      break;
    } catch (error) {
      if (error instanceof StoreError && error.transient && Date.now() < openUntil) {
        if (!notified) diagnostics.info(`PostgreSQL is unreachable (${error.message}); retrying for up to ${Math.round(run.limits.retryMs / 1000)}s`);
        notified = true;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      await run.closeOutputs();
      diagnostics.error(located('TH_STORE_OPEN', error instanceof StoreError ? error.message : String(error), '--store'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
  }
  const delay = Number(process.env['TRAILHOUND_TEST_UNIT_DELAY_MS'] ?? '');
  let lastProgress = 0;
  try {
    const result = await scanJob({
      store,
      job: flags.job as string,
      inputs: run.paths,
      identity: run.identity,
      nodeDetector: run.nodeDetector,
      decider: run.decider,
      includeEvents: run.includeEvents,
      wantBaseline: flags.saveBaseline !== undefined,
      timeRange: run.range,
      sourceOptions: run.sourceOptions,
      ...(run.flowFormat === undefined ? {} : { flowFormat: run.flowFormat }),
      ...(run.maxDecompressed === undefined ? {} : { maxDecompressed: run.maxDecompressed }),
      rawPrefilter: run.rawPrefilter,
      leaseMs: run.limits.leaseMs,
      retryMs: run.limits.retryMs,
      ...(Number.isFinite(delay) && delay > 0 ? { unitDelayMs: delay } : {}),
      onAlert: (alert) => run.deliver(alert),
      onError: (error) => diagnostics.error(error),
      onNote: (message) => diagnostics.info(message),
      onProgress: (progress) => {
        if (process.stderr.isTTY !== true || flags.quiet) return;
        const now = Date.now();
        if (now - lastProgress < 200) return;
        lastProgress = now;
        diagnostics.progress(`job ${flags.job}: this node ${plural(progress.units, 'input')}, ${plural(progress.records, 'record')}, ${plural(progress.alerts, 'alert')}`);
      },
    });
    const failed = await run.closeOutputs();
    const totals = result.totals;
    if (flags.saveBaseline !== undefined) {
      if (result.baseline === undefined) diagnostics.warn('--save-baseline: no loaded correlation has a baseline; nothing written');
      else {
        await writeBaselineFile(flags.saveBaseline, result.baseline);
        diagnostics.info(`baseline: ${Object.values(result.baseline.correlations).reduce((sum, groups) => sum + Object.keys(groups).length, 0)} groups written to ${flags.saveBaseline} (what the whole job learned)`);
      }
    }
    const levels = SIGMA_LEVELS.filter((level) => totals.alertsByLevel[level] > 0)
      .reverse()
      .map((level) => `${level} ${totals.alertsByLevel[level]}`)
      .join(', ');
    diagnostics.info(
      `trailhound job ${flags.job}: ${plural(totals.records, 'record')} from ${plural(totals.units, 'input')} against ${plural(run.ruleCount, 'rule')}, ` +
        `${plural(totals.alerts, 'alert')}${levels === '' ? '' : ` (${levels})`}, ${plural(totals.errors + totals.listErrors, 'input error')}`,
    );
    diagnostics.info(
      `this node (${result.node}): ${plural(totals.mine.units, 'input')}, ${plural(totals.mine.records, 'record')}, ${plural(totals.mine.alerts, 'alert')} committed, ` +
        `${plural(totals.mine.partitions, 'decision partition')} in ${(result.durationMs / 1000).toFixed(2)}s (${(result.databaseMs / 1000).toFixed(2)}s of it waiting on PostgreSQL; ${plural(result.partsWritten, 'state row')} written)` +
        (result.lostUnits > 0 ? `; ${plural(result.lostUnits, 'input')} taken over by another node while this one read it` : ''),
    );
    const failOnReached = flags.failOn !== undefined && SIGMA_LEVELS.some((level) => totals.alertsByLevel[level] > 0 && levelAtLeast(level, flags.failOn as SigmaLevel));
    return combineExitCodes({ ruleErrors: run.ruleErrors, inputErrors: totals.errors + totals.listErrors > 0 || failed > 0, failOnReached });
  } catch (error) {
    await run.closeOutputs();
    if (error instanceof JobConflict) {
      diagnostics.error(located('TH_CLUSTER_JOB', error.message, '--job'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    if (error instanceof ClusterUnavailable) {
      diagnostics.error(located('TH_CLUSTER_UNAVAILABLE', `${error.message}; run the same command again to go on where the job stopped`, '--store'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    if (error instanceof StoreError) {
      diagnostics.error(located('TH_STORE_OPEN', error.message, '--store'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    throw error;
  } finally {
    await store.close();
  }
}
