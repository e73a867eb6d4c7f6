/**
 * The one contract every sink implements (as Vector writes one for all its sinks): stdout
 * (jsonl, table, ocsf), the JSONL and OCSF files, the webhook and Slack; the alert store (planned) joins them.
 * The CLI hands a sink each alert as it is raised; the service's outbox hands it the stored
 * alerts in order, in batches of at most `batchSize`, and records how far it got.
 *
 * What each sink guarantees is written beside it (sinks/README.md): the file exactly once per
 * alert id across crashes, stdout at least once, webhook and Slack at least once with the
 * alert id as idempotency key, then the dead-letter file.
 */
import type { Alert } from '../core/alert.ts';
import type { LocatedError } from '../core/errors.ts';
import { alertJson } from '../engine/alerts/build.ts';
import type { FilePosition } from './jsonl-file.ts';

/** An alert on its way out: its id, its JSON text (what was stored, the line written), and the parsed alert when at hand. */
export interface SinkAlert {
  readonly id: string;
  readonly body: string;
  readonly alert?: Alert;
}

/** What one deliver() call did. */
export interface SinkReport {
  delivered: number;
  /** Given up after every retry and appended to the dead-letter file. */
  deadLettered: number;
  /** File sinks: where the file ends now (recorded by the outbox, for exactly-once after a crash). */
  file?: FilePosition;
}

export interface AlertSink {
  /** Alerts handed over per deliver() call, at most. */
  readonly batchSize: number;
  /**
   * Before the first delivery: reconcile with what the destination already holds. A file sink
   * is told where the file ended when the outbox last recorded it; the others ignore it.
   */
  start(recorded?: FilePosition): Promise<void>;
  /** Delivers in order. Throws when nothing could be done (the batch is retried later). */
  deliver(batch: readonly SinkAlert[]): Promise<SinkReport>;
  /** Flushes what is buffered and releases the destination; must be awaited. */
  close(): Promise<void>;
}

/** An alert raised in this process, ready for any sink (a record too deep to be written whole is written truncated; see sinkAlertReporting). */
export function sinkAlert(alert: Alert): SinkAlert {
  return { id: alert.id, body: alertJson(alert), alert };
}

/**
 * sinkAlert, telling `onLimit` where a record came from that is too deep to be written whole
 * and was written truncated (TH_INPUT_LIMIT; engine/alerts/build.ts, alertJson).
 */
export function sinkAlertReporting(alert: Alert, onLimit: (error: LocatedError) => void): SinkAlert {
  return { id: alert.id, body: alertJson(alert, onLimit), alert };
}

/** The alert of a SinkAlert, parsed from its JSON text when only that is at hand. */
export function alertOf(item: SinkAlert): Alert {
  return item.alert ?? (JSON.parse(item.body) as Alert);
}
