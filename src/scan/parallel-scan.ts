/**
 * The scan over worker threads (docs/architecture.md, Performance). The main thread lists the inputs and reads each
 * unit's bytes (async I/O); a worker gunzips, decodes and runs the stateless part of detection
 * (worker-thread.ts) and sends back only the envelopes the Detector may act on; the main thread
 * applies the units' results strictly in input order to the one stateful Detector (filters,
 * correlations, GuardDuty finding versions, threat-intel buckets).
 *
 * Ordering guarantee: the Detector sees exactly the envelopes, in exactly the order, that a scan
 * on one thread gives it, minus envelopes it would have done nothing with (Matcher.mayAct). So
 * alerts, their order and their ids are the same whatever the number of workers. Workers share
 * nothing and take no lock: each holds one unit at a time; the main thread holds at most
 * WINDOW_PER_WORKER units per worker in flight. Units the main thread decodes itself, in turn:
 * those without a known size or too large to read whole (stdin, huge files: streamed), text
 * and Parquet flow logs (their threat-intel matching reads the scanner's view line by line),
 * units whose gzip is damaged (streamed, so the records before the damage are read), and the
 * first units while no worker has loaded its rules yet.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import type { InputUnit } from '../core/input-unit.ts';
import type { Envelope } from '../core/envelope.ts';
import { expandInputs } from '../sources/index.ts';
import { prepareUnit, readUnitBytes } from '../formats/read-unit.ts';
import { scanWorkerModule } from './worker-module.ts';
import type { WholeUnitBytes } from '../formats/read-unit.ts';
import type { UnitJob, UnitResult, WorkerInit } from './worker-protocol.ts';
import type { ScanRun } from './scan-run.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import type { DecodeOptions } from '../formats/types.ts';

/** What a worker is started with: the protocol's init, and the unit's decompressed-size limit. */
export type ScanWorkerInit = WorkerInit & Pick<DecodeOptions, 'maxDecompressed'>;

/** Young generation of a worker's heap (see startWorker). */
const YOUNG_GENERATION_MB = 192;
/** Units in flight per worker: enough to keep it busy while the main thread applies results. */
const WINDOW_PER_WORKER = 4;

/** A worker's result; `sameRules` when its rule ordinals are the main thread's (its matched hints apply). */
type Done = Extract<UnitResult, { kind: 'done' }> & { sameRules: boolean };
type Deferred = Extract<UnitResult, { kind: 'defer' }>;
/** What the main thread applies for one unit, in input order. */
type Outcome = { kind: 'main'; bytes: WholeUnitBytes } | Done | Deferred;

function workerOptions(init: WorkerInit): WorkerOptions {
  // A file's parsed records (tens of MB) stay live while they are matched: with V8's default
  // young generation, they are copied and promoted over and over (a quarter of the CPU goes
  // to the collector). A larger one lets a file's records die young.
  return { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
}

class ScanWorker {
  inFlight = 0;
  /** Rules loaded, taking units. */
  ready = false;
  /** The worker numbers its rules as the main thread does (same RuleIndex.fingerprint()). */
  private sameRules = false;
  private readonly waiting = new Map<number, { resolve: (result: Done | Deferred) => void; reject: (error: Error) => void }>();
  /** Started once the worker module is ready (worker-module.ts); jobs posted before wait for it. */
  private readonly worker: Promise<Worker | undefined>;
  /** Closed before its module was ready (a scan over before any worker was needed): never started. */
  private closed = false;
  private started: Worker | undefined;

  constructor(init: WorkerInit, module: Promise<URL>, mainRules: string, onFailure: (error: Error) => void) {
    this.worker = module.then((url) => {
      if (this.closed) return undefined;
      const startedAt = performance.now();
      const worker = new Worker(url, workerOptions(init));
      this.started = worker;
      worker.on('message', (message: UnitResult) => {
        if (message.kind === 'ready') {
          this.ready = true;
          // The benchmark's measure of a worker's start (bench/startup.ts): from new Worker() to its rules loaded.
          if (process.env.TRAILHOUND_TRACE_SCAN === '1') process.stderr.write(`trailhound: scan worker ready in ${(performance.now() - startedAt).toFixed(1)} ms\n`);
          this.sameRules = message.rules === mainRules;
          return;
        }
        if (message.kind === 'failed') {
          onFailure(new Error(`a scan worker failed: ${message.message}`));
          return;
        }
        const waiter = this.waiting.get(message.seq);
        this.waiting.delete(message.seq);
        this.inFlight--;
        waiter?.resolve(message.kind === 'done' ? { ...message, sameRules: this.sameRules } : message);
      });
      worker.on('error', (error) => onFailure(error));
      worker.on('exit', (code) => {
        if (this.waiting.size > 0) onFailure(new Error(`a scan worker exited (code ${code}) with ${this.waiting.size} units unfinished`));
      });
      return worker;
    });
    this.worker.catch((error: unknown) => onFailure(error instanceof Error ? error : new Error(String(error))));
  }

  run(seq: number, uri: string, raw: Buffer): Promise<Done | Deferred> {
    this.inFlight++;
    // Transfer the bytes when they own their whole ArrayBuffer; copy otherwise (pooled).
    const whole = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
    const bytes = whole ? raw : new Uint8Array(raw);
    const job: UnitJob = { seq, uri, raw: bytes };
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      void this.worker.then((worker) => worker?.postMessage(job, [bytes.buffer as ArrayBuffer]), () => {});
    });
  }

  /** Fails the units this worker still holds. */
  abandon(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.waiting.clear();
    this.closed = true;
    await this.started?.terminate();
  }
}

/** The rules each envelope matches, from a worker's ordinals (UnitEnvelopes.matched); undefined where it gave none. */
function matchedRules(matched: Int32Array, count: number, rules: readonly CompiledDetectionRule[]): Array<CompiledDetectionRule[] | undefined> {
  const out = new Array<CompiledDetectionRule[] | undefined>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const n = matched[at++] as number;
    if (n < 0) continue;
    const list: CompiledDetectionRule[] = [];
    for (let k = 0; k < n; k++) list.push(rules[matched[at++] as number] as CompiledDetectionRule);
    out[i] = list;
  }
  return out;
}

/** The main thread scans alone until it has read this much, or for this long; then the workers start. */
const START_WORKERS_AFTER_BYTES = 4 * 1024 * 1024;
const START_WORKERS_AFTER_MS = 100;

/**
 * Scans request.inputs with `count` workers; results go through `run` in input order. With
 * `mainThreadWhileBooting`, this thread scans alone at first (a small scan is over before a
 * worker would be), and scans in turn while the workers load.
 */
export async function scanParallel(run: ScanRun, count: number, mainThreadWhileBooting: boolean, init: WorkerInit): Promise<void> {
  let failure: Error | undefined;
  // A worker that fails fails every unit in flight (never a race against a pending promise:
  // each race would keep its result alive until that promise settles).
  const fail = (error: Error): void => {
    failure ??= error;
    for (const worker of workers) worker.abandon(failure);
  };
  const workers: ScanWorker[] = [];
  const rules = run.request.detector.index;
  const maxDecompressed = run.request.maxDecompressed;
  const workerInit: ScanWorkerInit = maxDecompressed === undefined ? init : { ...init, maxDecompressed };
  // Workers start once the scan has shown it is worth them: a thread costs a core some 80 ms
  // to start and load the rules, more than a scan of a few small files takes on this thread.
  const started = performance.now();
  let scannedBytes = 0;
  const startWorkers = (): void => {
    if (workers.length > 0) return;
    const module = scanWorkerModule();
    const mainRules = rules.fingerprint();
    for (let i = 0; i < count; i++) workers.push(new ScanWorker(workerInit, module, mainRules, fail));
  };
  const worthWorkers = (): boolean => !mainThreadWhileBooting || scannedBytes >= START_WORKERS_AFTER_BYTES || performance.now() - started >= START_WORKERS_AFTER_MS;
  const queue: Array<{ unit: InputUnit; outcome: Promise<Outcome> }> = [];
  let seq = 0;

  const dispatch = (unit: InputUnit): void => {
    const id = seq++;
    const outcome = (async (): Promise<Outcome> => {
      const bytes = await readUnitBytes(unit);
      if (failure !== undefined) throw failure;
      if (bytes.raw === undefined) return { kind: 'main', bytes };
      let worker = workers[0] as ScanWorker;
      for (const candidate of workers) if (candidate.inFlight < worker.inFlight) worker = candidate;
      return worker.run(id, unit.uri, bytes.raw);
    })();
    outcome.catch(() => {});
    queue.push({ unit, outcome });
  };

  const applyHead = async (): Promise<void> => {
    const head = queue.shift();
    if (head === undefined) return;
    const outcome = await head.outcome;
    if (outcome.kind === 'done') {
      const envelopes = JSON.parse(outcome.envelopes) as Envelope[];
      for (let i = 0; i < envelopes.length; i++) (envelopes[i] as Envelope).time = outcome.times[i] as number;
      const matched = outcome.sameRules ? matchedRules(outcome.matched, envelopes.length, rules.rules) : undefined;
      const { stats, errors, outsideTimeRange } = outcome;
      await run.applyResult(head.unit, { envelopes, stats, errors, outsideTimeRange, ...(matched === undefined ? {} : { matched }) });
    }
    else if (outcome.kind === 'defer') await run.decodeUnit(head.unit, outcome.plain ? { plain: Buffer.from(outcome.bytes.buffer, outcome.bytes.byteOffset, outcome.bytes.byteLength) } : { raw: Buffer.from(outcome.bytes.buffer, outcome.bytes.byteOffset, outcome.bytes.byteLength) });
    else await run.decodeUnit(head.unit, outcome.bytes);
  };

  try {
    const window = count * WINDOW_PER_WORKER;
    for await (const unit of expandInputs(run.request.inputs, run.onInputError, run.sourceOptions)) {
      if (failure !== undefined) throw failure;
      // Until a worker has loaded its rules (a second or so), the main thread scans in turn:
      // a small scan is over before any worker is needed.
      if (workers.length === 0 && worthWorkers()) startWorkers();
      if (mainThreadWhileBooting && queue.length === 0 && !workers.some((worker) => worker.ready)) {
        const bytes = await prepareUnit(unit, maxDecompressed);
        scannedBytes += (bytes.plain ?? bytes.raw)?.length ?? unit.size ?? 0;
        await run.decodeUnit(unit, bytes);
        continue;
      }
      dispatch(unit);
      while (queue.length >= window) await applyHead();
    }
    while (queue.length > 0) await applyHead();
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}
