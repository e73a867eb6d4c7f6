/**
 * The batch scan: every input, decoded and run through the Detector, in input order; on this
 * thread, or with worker threads (parallel-scan.ts) with the same alerts in the same order.
 */
import { availableParallelism } from 'node:os';
import { expandInputs } from '../sources/index.ts';
import { prepareUnit } from '../formats/read-unit.ts';
import { scanParallel } from './parallel-scan.ts';
import { ScanRun, type ScanRequest, type ScanSummary } from './scan-run.ts';

/** Worker threads used when the request does not say: every core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Reads every input, decodes it, and runs the detector: the whole scan, in input order.
 * Bad input never stops it: each damaged unit is reported and counted, the rest goes on.
 * With more than one worker, units are decoded on worker threads (parallel-scan.ts) and the
 * alerts are the same, in the same order, as on one thread.
 */
export async function scan(request: ScanRequest): Promise<ScanSummary> {
  // The benchmark's measure of the main thread's share (bench/cores.ts): busy time, event loop not idle.
  const trace = process.env.TRAILHOUND_TRACE_SCAN === '1' ? { since: performance.eventLoopUtilization(), started: performance.now() } : undefined;
  const summary = await scanUnits(request);
  if (trace !== undefined) {
    const busy = performance.eventLoopUtilization(trace.since);
    process.stderr.write(`trailhound: main thread busy ${busy.active.toFixed(0)} ms of ${(performance.now() - trace.started).toFixed(0)} ms, ${summary.records} records\n`);
  }
  return summary;
}

async function scanUnits(request: ScanRequest): Promise<ScanSummary> {
  const run = new ScanRun(request);
  const workers = request.workers;
  if (workers !== undefined && workers.count > 1) {
    await scanParallel(run, workers.count, workers.mainThreadWhileBooting !== false, {
      recipe: workers.recipe,
      range: run.range,
      ...(request.flowFormat === undefined ? {} : { flowFormat: request.flowFormat }),
      prefilter: run.prefilter !== undefined,
    });
    return run.finish();
  }
  // One thread: the next unit is read and gunzipped (zlib's pool) while this one is decoded.
  const units = expandInputs(request.inputs, run.onInputError, run.sourceOptions)[Symbol.asyncIterator]();
  let next = await units.next();
  let nextBytes = next.done === true ? undefined : prepareUnit(next.value, run.request.maxDecompressed);
  while (next.done !== true) {
    const unit = next.value;
    const bytes = (await nextBytes) ?? {};
    next = await units.next();
    nextBytes = next.done === true ? undefined : prepareUnit(next.value, run.request.maxDecompressed);
    await run.decodeUnit(unit, bytes);
  }
  return run.finish();
}
