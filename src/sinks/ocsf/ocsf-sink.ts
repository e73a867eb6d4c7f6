/**
 * OCSF out: any sink, fed OCSF 1.7.0 Detection Findings (detection-finding.ts) instead of the
 * alert JSON. `--format ocsf` is this over the stdout JSONL sink; the `ocsf` file sink of
 * `watch` and `scan --sink ocsf=FILE` is this over the exactly-once file sink (its crash
 * reconciliation reads the alert id back from `metadata.uid`: jsonl-file.ts).
 */
import { readFileSync } from 'node:fs';
import type { AlertSink, SinkAlert, SinkReport } from '../sink.ts';
import { alertOf } from '../sink.ts';
import type { FilePosition } from '../jsonl-file.ts';
import type { Alert } from '../../core/alert.ts';
import { toDetectionFinding, type DetectionFindingOptions } from './detection-finding.ts';

let version: string | undefined;

/** trailhound's version (package.json), for `metadata.product.version`. */
export function trailhoundVersion(): string {
  if (version === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      version = typeof manifest.version === 'string' ? manifest.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/**
 * The finding's JSON text. A record too deep or too large for JSON.stringify: the finding of
 * the alert as its JSON text was written (alertJson cut it, TH_INPUT_LIMIT reported there),
 * and failing that, of the alert without its records. Never throws for a record.
 */
export function detectionFindingJson(item: SinkAlert, options: DetectionFindingOptions = { productVersion: trailhoundVersion() }): string {
  try {
    return JSON.stringify(toDetectionFinding(alertOf(item), options));
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  try {
    return JSON.stringify(toDetectionFinding(JSON.parse(item.body) as Alert, options));
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const { events: _events, ...rest } = alertOf(item);
    return JSON.stringify(toDetectionFinding(rest, options));
  }
}

/** Wraps a sink: each alert is handed on as its Detection Finding (same id, the finding as body). */
export class OcsfSink implements AlertSink {
  private readonly inner: AlertSink;
  private readonly options: DetectionFindingOptions;

  constructor(inner: AlertSink, options: DetectionFindingOptions = {}) {
    this.inner = inner;
    this.options = { productVersion: trailhoundVersion(), ...options };
  }

  get batchSize(): number {
    return this.inner.batchSize;
  }

  start(recorded?: FilePosition): Promise<void> {
    return this.inner.start(recorded);
  }

  deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    return this.inner.deliver(batch.map((item) => ({ id: item.id, body: detectionFindingJson(item, this.options) })));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
