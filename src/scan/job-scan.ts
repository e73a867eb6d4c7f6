/**
 * `scan --job NAME --store postgres://...`: one scan shared by every process that runs the same
 * command (docs/cluster.md). The first process lists the inputs into the job's unit table; every
 * process then claims units (one file or S3 object each) until none is left, decodes and matches
 * each on its own (the stateless half of detection), and commits, in one transaction per unit,
 * the unit's mark, the alerts already decided (single-event rules) and the unit's undecided
 * state (Detector.drainPartial(): correlation entries, baselines, GuardDuty versions,
 * threat-intel partial sums). When every unit is done, the processes claim the decision
 * partitions: each merges the parts of its partition in input order into a fresh Detector and
 * flushes it, which decides what one process would have decided at the end of the same input.
 *
 * Failures: a process that dies holds its unit only until the lease runs out; another takes
 * it over and redoes it (the dead one's transaction never committed, so nothing is counted
 * twice). A PostgreSQL restart is waited out (retryMs); a commit whose answer was lost is
 * recognised by the unit's `done_by`. A unit that failed `maxAttempts` times is committed as
 * an input error, so one poisonous file cannot stop the job.
 */
import type { Alert } from '../core/alert.ts';
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { Detector } from '../engine/detector.ts';
import type { DetectorPartial } from '../engine/partial.ts';
import type { CorrelationSnapshot } from '../engine/correlation/snapshot.ts';
import { prepareUnit } from '../formats/read-unit.ts';
import { expandInputs, unitAt } from '../sources/index.ts';
import type { SourceOptions } from '../sources/index.ts';
import { StoreError } from '../store/alert-store.ts';
import type { PgAlertStore } from '../store/pg-alert-store.ts';
import { JobTable, partitionOf, type JobIdentity, type JobTotals, type PartRow, type StoredPart } from '../store/cluster/job-table.ts';
import { NodeRegistry, newNodeId } from '../store/cluster/node-registry.ts';
import { ScanRun } from './scan-run.ts';
import type { TimeRange } from '../core/time-range.ts';

export const DEFAULT_JOB_PARTITIONS = 16;
export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_CLUSTER_RETRY_MS = 120_000;
const MAX_UNIT_ATTEMPTS = 3;

export interface JobScanRequest {
  store: PgAlertStore;
  job: string;
  inputs: string[];
  /** What every process of the job must agree on (rules fingerprint, options): checked at start. */
  identity: JobIdentity;
  /** A Detector with `node: true` (decides nothing stateful). */
  nodeDetector: Detector;
  /** A fresh ordinary Detector, same rules and options, for each decision partition. */
  decider: () => Detector;
  timeRange?: TimeRange;
  sourceOptions?: SourceOptions;
  flowFormat?: string;
  maxDecompressed?: number;
  rawPrefilter?: boolean;
  partitions?: number;
  leaseMs?: number;
  retryMs?: number;
  /** Alerts this process committed (each alert of the job is committed by one process only). */
  onAlert: (alert: Alert) => void | Promise<void>;
  onError: (error: LocatedError) => void;
  /** Lines about the job's progress for stderr (waiting, taking over, retrying). */
  onNote?: (message: string) => void;
  onProgress?: (progress: { units: number; records: number; alerts: number }) => void;
  /** Tests only: waits this long inside each unit, after decoding and before the commit. */
  unitDelayMs?: number;
}

export interface JobScanResult {
  node: string;
  totals: JobTotals;
  durationMs: number;
  /** Units this process did whose commit found another node had taken them over. */
  lostUnits: number;
  /** Part rows this process wrote (the shared-state cost of its units). */
  partsWritten: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the job until every unit and partition is done (by this process or another). */
export async function scanJob(request: JobScanRequest): Promise<JobScanResult> {
  const started = Date.now();
  const node = newNodeId();
  const leaseMs = request.leaseMs ?? DEFAULT_LEASE_MS;
  const table = new JobTable(request.store, request.job, node);
  const registry = new NodeRegistry(request.store, node);
  const note = request.onNote ?? (() => undefined);
  const retrying = retrier(request.retryMs ?? DEFAULT_CLUSTER_RETRY_MS, note);
  const beat = { inFlight: 0, unitsDone: 0, records: 0, alerts: 0, newestEvent: undefined as number | undefined };
  let lostUnits = 0;
  let partsWritten = 0;

  await retrying(() => table.migrate());
  await retrying(() => registry.register('scan', request.job));
  const heartbeat = setInterval(() => {
    void Promise.all([registry.beat(beat), table.renew(leaseMs)]).catch(() => undefined);
  }, Math.max(250, Math.floor(leaseMs / 4)));
  heartbeat.unref();
  try {
    const partitions = request.partitions ?? DEFAULT_JOB_PARTITIONS;
    await retrying(() => table.register(request.identity, partitions));

    // One lister; the others wait for its listing to commit.
    let listErrors = 0;
    const sourceOptions: SourceOptions = { ...request.timeRange, ...request.sourceOptions };
    const list = async function* (): AsyncGenerator<{ uri: string; size?: number }> {
      for await (const unit of expandInputs(request.inputs, (error) => {
        listErrors += 1;
        request.onError(error);
      }, sourceOptions)) {
        yield unit.size === undefined ? { uri: unit.uri } : { uri: unit.uri, size: unit.size };
      }
    };
    let waited = false;
    while (!(await retrying(() => table.listed()))) {
      listErrors = 0;
      if (await retrying(() => table.listOnce(list, () => listErrors))) break;
      if (!waited) note(`job ${request.job}: another node is listing the inputs; waiting`);
      waited = true;
      await sleep(300);
    }

    // Units, until none is left to take.
    const chained = request.nodeDetector.correlationsChained;
    const runner = new UnitRunner(request);
    let waitingForOthers = false;
    for (;;) {
      const claimed = await retrying(() => table.claimUnit(leaseMs));
      if (claimed === undefined) {
        const open = await retrying(() => table.openUnits());
        if (open.open === 0) break;
        if (!waitingForOthers) note(`job ${request.job}: ${open.open} units are held by other nodes; waiting for them (or for their leases to run out)`);
        waitingForOthers = true;
        await sleep(Math.min(1000, Math.max(100, leaseMs / 10)));
        continue;
      }
      waitingForOthers = false;
      if (claimed.attempts > 1) note(`job ${request.job}: taking over ${claimed.uri} (attempt ${claimed.attempts})`);
      beat.inFlight = 1;
      const outcome = await runner.unit(claimed, partitions, chained);
      const committed = await retrying(() => table.commitUnit(claimed.ordinal, outcome.result));
      beat.inFlight = 0;
      if (committed === 'lost') {
        lostUnits += 1;
        note(`job ${request.job}: ${claimed.uri} was taken over by another node while this one worked on it; its result here is dropped`);
        continue;
      }
      partsWritten += outcome.result.parts.length;
      beat.unitsDone += 1;
      beat.records += outcome.result.records;
      beat.alerts += outcome.result.alerts.length;
      if (outcome.newest !== undefined && (beat.newestEvent === undefined || outcome.newest > beat.newestEvent)) beat.newestEvent = outcome.newest;
      for (const alert of outcome.result.alerts) await request.onAlert(alert);
      request.onProgress?.({ units: beat.unitsDone, records: beat.records, alerts: beat.alerts });
    }

    // Decisions, partition by partition.
    for (;;) {
      const partition = await retrying(() => table.claimPartition(leaseMs));
      if (partition === undefined) {
        const open = await retrying(() => table.openPartitions());
        if (open.open === 0) break;
        await sleep(Math.min(1000, Math.max(100, leaseMs / 10)));
        continue;
      }
      beat.inFlight = 1;
      const parts = await retrying(() => table.partsOf(partition));
      const alerts = decide(request.decider(), parts);
      const committed = await retrying(() => table.commitPartition(partition, alerts));
      beat.inFlight = 0;
      if (committed === 'lost') continue;
      beat.alerts += alerts.length;
      for (const alert of alerts) await request.onAlert(alert);
    }
    const totals = await retrying(() => table.totals());
    await registry.stopped(beat).catch(() => undefined);
    return { node, totals, durationMs: Date.now() - started, lostUnits, partsWritten };
  } finally {
    clearInterval(heartbeat);
  }
}

/** One ScanRun for the whole job (its pre-filter planned once); each unit's alerts and counts are taken from it. */
class UnitRunner {
  readonly run: ScanRun;
  private alerts: Alert[] = [];
  private errors = 0;
  private lastSuppressed = new Map<string, number>();
  private outsideTapped = 0;

  constructor(private readonly request: JobScanRequest) {
    this.run = new ScanRun({
      inputs: [],
      detector: request.nodeDetector,
      ...(request.timeRange === undefined ? {} : { timeRange: request.timeRange }),
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      ...(request.maxDecompressed === undefined ? {} : { maxDecompressed: request.maxDecompressed }),
      ...(request.rawPrefilter === undefined ? {} : { rawPrefilter: request.rawPrefilter }),
      onAlert: (alert) => {
        this.alerts.push(alert);
      },
      onError: (error) => {
        this.errors += 1;
        request.onError(error);
      },
    });
  }

  /** Decodes and matches one unit on this thread; its undecided state becomes part rows. */
  async unit(claimed: { ordinal: number; uri: string; attempts: number }, partitions: number, chained: boolean): Promise<UnitOutcome> {
    const { request, run } = this;
    const detector = request.nodeDetector;
    const unit = unitAt(claimed.uri, { ...request.timeRange, ...request.sourceOptions });
    if (claimed.attempts > MAX_UNIT_ATTEMPTS || unit === undefined) {
      const why = unit === undefined ? 'this input cannot be read again by uri' : `it failed ${claimed.attempts - 1} times (the process scanning it ended each time)`;
      request.onError(located('TH_INPUT_READ', `left out of the job: ${why}`, claimed.uri));
      return { result: { records: 0, skipped: 0, outsideTimeRange: 0, errors: 1, alerts: [], parts: [], suppressed: new Map() }, newest: undefined };
    }
    const before = { ...run.summary };
    this.alerts = [];
    this.errors = 0;
    await run.decodeUnit(unit, (await prepareUnit(unit, request.maxDecompressed)) ?? {});
    const tapped = run.flowTap?.outsideTimeRange ?? 0;
    const outsideTapped = tapped - this.outsideTapped;
    this.outsideTapped = tapped;
    if (request.unitDelayMs !== undefined && request.unitDelayMs > 0) await sleep(request.unitDelayMs);
    const partial = detector.drainPartial();
    let newest: number | undefined;
    for (const group of partial.correlation?.groups ?? []) for (const entry of group.entries) if (newest === undefined || entry.time > newest) newest = entry.time;
    const suppressedNow = new Map(detector.suppressedCounts());
    const suppressed = new Map<string, number>();
    for (const [filter, count] of suppressedNow) {
      const delta = count - (this.lastSuppressed.get(filter) ?? 0);
      if (delta > 0) suppressed.set(filter, delta);
    }
    this.lastSuppressed = suppressedNow;
    const after = run.summary;
    return {
      result: {
        records: after.records - before.records,
        skipped: after.skipped - before.skipped,
        outsideTimeRange: after.outsideTimeRange - before.outsideTimeRange + outsideTapped,
        errors: Math.max(this.errors, after.inputsWithErrors > before.inputsWithErrors ? 1 : 0),
        alerts: this.alerts,
        parts: partRows(partial, partitions, chained),
        suppressed,
      },
      newest,
    };
  }
}

interface UnitOutcome {
  result: Parameters<JobTable['commitUnit']>[1];
  newest: number | undefined;
}

/** A unit's partial state as rows keyed for the merge: one per correlation group, finding, bucket; one for the baselines. */
export function partRows(partial: DetectorPartial, partitions: number, chained: boolean): PartRow[] {
  const rows: PartRow[] = [];
  const snapshot = partial.correlation;
  if (snapshot !== undefined) {
    for (const group of snapshot.groups) {
      const used = new Map<number, number>();
      const contexts: CorrelationSnapshot['contexts'] = [];
      const entries = group.entries.map((entry) => {
        let at = used.get(entry.context);
        if (at === undefined) {
          at = contexts.length;
          used.set(entry.context, at);
          contexts.push(snapshot.contexts[entry.context] as CorrelationSnapshot['contexts'][number]);
        }
        return { ...entry, context: at };
      });
      const key = `${group.correlation}\u0001${group.key}`;
      rows.push({ kind: 'group', key, partition: chained ? 0 : partitionOf(key, partitions), payload: { version: 1, maxTime: snapshot.maxTime, contexts, groups: [{ ...group, entries }] } });
    }
  }
  if (partial.baseline !== undefined && Object.keys(partial.baseline.correlations).length > 0) rows.push({ kind: 'baseline', key: '', partition: -1, payload: partial.baseline });
  for (const finding of partial.findings) rows.push({ kind: 'finding', key: finding.version.id, partition: partitionOf(`finding\u0001${finding.version.id}`, partitions), payload: finding });
  for (const bucket of partial.flowCti) {
    const key = `${bucket.group}\u0001${bucket.start ?? '-'}`;
    rows.push({ kind: 'flow', key, partition: partitionOf(`flow\u0001${key}`, partitions), payload: bucket });
  }
  for (const bucket of partial.cloudTrailCti) {
    const key = `${bucket.group}\u0001${bucket.start ?? '-'}`;
    rows.push({ kind: 'cloudtrail', key, partition: partitionOf(`cloudtrail\u0001${key}`, partitions), payload: bucket });
  }
  return rows;
}

/** Merges a partition's parts (in input order) into `decider` and decides: the alerts one process would raise at the end. */
export function decide(decider: Detector, parts: readonly StoredPart[]): Alert[] {
  for (const part of parts) {
    const partial: DetectorPartial = { findings: [], flowCti: [], cloudTrailCti: [] };
    switch (part.kind) {
      case 'group':
        partial.correlation = part.payload as NonNullable<DetectorPartial['correlation']>;
        break;
      case 'baseline':
        partial.baseline = part.payload as NonNullable<DetectorPartial['baseline']>;
        break;
      case 'finding':
        partial.findings.push(part.payload as DetectorPartial['findings'][number]);
        break;
      case 'flow':
        partial.flowCti.push(part.payload as DetectorPartial['flowCti'][number]);
        break;
      case 'cloudtrail':
        partial.cloudTrailCti.push(part.payload as DetectorPartial['cloudTrailCti'][number]);
        break;
      default:
        continue;
    }
    decider.absorbPartial(partial);
  }
  const out: Alert[] = [];
  decider.flush(out);
  return out;
}

/** Runs a database step again while the server is unreachable, up to `limitMs`; then TH_CLUSTER_UNAVAILABLE. */
function retrier(limitMs: number, note: (message: string) => void): <T>(step: () => Promise<T>) => Promise<T> {
  return async <T>(step: () => Promise<T>): Promise<T> => {
    let since: number | undefined;
    let delay = 200;
    for (;;) {
      try {
        const result = await step();
        if (since !== undefined) note(`PostgreSQL is reachable again after ${((Date.now() - since) / 1000).toFixed(1)}s; going on`);
        return result;
      } catch (error) {
        if (!(error instanceof StoreError) || !error.transient) throw error;
        const now = Date.now();
        if (since === undefined) {
          since = now;
          note(`PostgreSQL is unreachable (${error.message}); retrying for up to ${Math.round(limitMs / 1000)}s`);
        }
        if (now - since > limitMs) throw new ClusterUnavailable(`PostgreSQL was unreachable for ${Math.round((now - since) / 1000)}s: ${error.message}`);
        await sleep(delay);
        delay = Math.min(2000, delay * 2);
      }
    }
  };
}

export class ClusterUnavailable extends Error {}
