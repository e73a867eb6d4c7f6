/**
 * A scan worker thread (started by parallel-scan.ts): gunzips and decodes the units it is
 * given, runs the stateless part of detection (the rule index and matchers, the intel lookup,
 * the raw pre-filter) and sends back, per unit, only the envelopes the main thread's Detector
 * may act on. Units are handled one at a time, in the order received. Nothing here keeps state
 * across units.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Envelope } from '../core/envelope.ts';
import { stringifyDeep } from '../core/json-depth.ts';
import type { Matcher } from '../engine/match/matcher.ts';
import { gunzipUnitBytes, isJsonContent } from '../formats/read-unit.ts';
import { recordTexts } from '../formats/cloudtrail/s3-file.ts';
import { unitEnvelopes } from './unit-envelopes.ts';
import type { UnitJob, UnitResult } from './worker-protocol.ts';
import type { ScanWorkerInit } from './parallel-scan.ts';
import { workerMatcher } from './worker-recipe.ts';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The transferable copy of a buffer: its own ArrayBuffer, whole (Node pools small buffers). */
function transferable(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}

/**
 * The envelopes as one JSON array; a record the pre-filter parsed on its own is sent as the
 * text it came from. A record too deep for JSON.stringify is written whole all the same
 * (stringifyDeep): the main thread gets the record as it was, and its alert writer truncates
 * what it cannot write, with a located TH_INPUT_LIMIT (engine/alerts/build.ts, alertJson).
 */
function envelopesJson(envelopes: readonly Envelope[]): string {
  const parts = new Array<string>(envelopes.length);
  for (let i = 0; i < envelopes.length; i++) {
    const envelope = envelopes[i] as Envelope;
    const text = recordTexts.get(envelope.record);
    parts[i] = text === undefined ? (stringifyDeep(envelope) as string) : `{"source":${JSON.stringify(envelope.source)},"origin":${JSON.stringify(envelope.origin)},"record":${text}}`;
  }
  return `[${parts.join(',')}]`;
}

// Started from the esbuild bundle (worker-module.ts), stack traces name the TypeScript sources.
process.setSourceMapsEnabled(true);

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('worker-thread.ts runs as a worker thread');
  const init = workerData as ScanWorkerInit;
  let matcher: Matcher;
  try {
    matcher = await workerMatcher(init.recipe);
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies UnitResult);
    return;
  }
  const prefilter = init.prefilter ? matcher.rawPrefilter().prefilter : undefined;
  const range = init.range;

  const handle = async (job: UnitJob): Promise<UnitResult> => {
    const raw = asBuffer(job.raw);
    // Beyond the limit (or too large to hold whole): deferred, the main thread streams it.
    const bytes = gunzipUnitBytes({ raw }, init.maxDecompressed);
    const plain = bytes.plain;
    if (plain === undefined) return { kind: 'defer', seq: job.seq, bytes: transferable(raw), plain: false };
    if (!isJsonContent(plain)) return { kind: 'defer', seq: job.seq, bytes: transferable(plain), plain: true };
    const { envelopes, matched, stats, errors, outsideTimeRange } = await unitEnvelopes(job.uri, plain, matcher, { range, prefilter, flowFormat: init.flowFormat, maxDecompressed: init.maxDecompressed });
    const times = new Float64Array(envelopes.length);
    for (let i = 0; i < envelopes.length; i++) times[i] = (envelopes[i] as Envelope).time;
    return { kind: 'done', seq: job.seq, envelopes: envelopesJson(envelopes), times, matched, stats, errors, outsideTimeRange };
  };

  let queue = Promise.resolve();
  port.on('message', (job: UnitJob) => {
    queue = queue.then(async () => {
      let result: UnitResult;
      try {
        result = await handle(job);
      } catch (error) {
        result = { kind: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      }
      const transfer = result.kind === 'defer' ? [result.bytes.buffer as ArrayBuffer] : result.kind === 'done' ? [result.times.buffer as ArrayBuffer, result.matched.buffer as ArrayBuffer] : [];
      port.postMessage(result, transfer);
    });
  });
  port.postMessage({ kind: 'ready', rules: matcher.index.fingerprint() } satisfies UnitResult);
}

await main();
