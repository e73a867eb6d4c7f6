/**
 * Where alerts go that a sink could not deliver after every retry: one JSON line each,
 * `{"sink", "failed_at", "error", "alert"}`, fsync'ed. Replay with any tool that POSTs
 * `.alert` (receivers de-duplicate by the alert's id). The error never holds the sink URL's
 * secrets (DeadLetterOptions.redact).
 */
import { located } from '../core/errors.ts';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LocatedError } from '../core/errors.ts';
import type { SinkAlert, SinkReport } from './sink.ts';

export class DeadLetterFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends the alert (its JSON text as committed) and waits until it is on disk. */
  async append(sink: string, alertJson: string, error: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const line = `{"sink":${JSON.stringify(sink)},"failed_at":${JSON.stringify(new Date().toISOString())},"error":${JSON.stringify(error)},"alert":${alertJson}}\n`;
    await appendFile(this.path, line);
    const handle = await open(this.path, 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

/** Where a sink sends what it gave up on, and whom it tells (TH_SINK_DEAD_LETTER). */
export interface DeadLetterOptions {
  /** The sink's name, in the dead-letter line and the error's location. */
  sink: string;
  path: string;
  onDeadLetter: (error: LocatedError) => void;
  /**
   * Makes an error message safe to store and log (the HTTP sinks: the URL's secrets redacted,
   * webhook.ts redactSecrets). The messages of postJson are redacted already; this is the
   * last stop before the file and the log.
   */
  redact?: (text: string) => string;
}

/**
 * Sends the alerts one at a time, in order; an alert whose send fails (after the sender's own
 * retries) goes to the dead-letter file and delivery moves on. Without a dead-letter file the
 * failure is thrown, so the batch is retried.
 */
export async function sendEach(batch: readonly SinkAlert[], send: (alert: SinkAlert) => Promise<void>, deadLetter: DeadLetterOptions | undefined): Promise<SinkReport> {
  const file = deadLetter === undefined ? undefined : new DeadLetterFile(deadLetter.path);
  let delivered = 0;
  let deadLettered = 0;
  for (const alert of batch) {
    try {
      await send(alert);
      delivered += 1;
    } catch (error) {
      if (deadLetter === undefined || file === undefined) throw error;
      const raw = error instanceof Error ? error.message : String(error);
      const message = deadLetter.redact === undefined ? raw : deadLetter.redact(raw);
      await file.append(deadLetter.sink, alert.body, message);
      deadLettered += 1;
      deadLetter.onDeadLetter(located('TH_SINK_DEAD_LETTER', `alert ${alert.id} could not be delivered (${message}); appended to ${file.path}`, `sink:${deadLetter.sink}`));
    }
  }
  return { delivered, deadLettered };
}
