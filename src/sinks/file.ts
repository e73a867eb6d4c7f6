/**
 * The file sink of `watch`: alerts appended to a JSONL file exactly once per alert id, across
 * crashes. At the first delivery the lines written past the end the outbox last recorded (a
 * crash between writing and recording) are read back, and those alerts are not written again.
 */
import type { AlertSink, SinkAlert, SinkReport } from './sink.ts';
import { JsonlFile, type FilePosition } from './jsonl-file.ts';

export class FileSink implements AlertSink {
  readonly batchSize = 500;
  private readonly file: JsonlFile;
  /** Alerts found in the file past the recorded end at start: written before a crash. */
  private present = new Set<string>();
  /** The recorded end, until the file was reconciled with it (at the first delivery). */
  private recorded: FilePosition | undefined;
  private reconciled = false;

  constructor(path: string) {
    this.file = new JsonlFile(path);
  }

  /** Called again when a cluster node takes the sink over: reconciled afresh from the position recorded now. */
  async start(recorded?: FilePosition): Promise<void> {
    this.recorded = recorded;
    this.reconciled = false;
    this.present.clear();
  }

  async deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    // Reconciled at the first delivery rather than at start: a file that cannot be opened yet
    // is then a delivery failure, retried, not a reason to refuse to start.
    if (!this.reconciled) {
      this.present = (await this.file.linesAfter(this.recorded)).ids;
      this.reconciled = true;
    }
    const lines: string[] = [];
    for (const alert of batch) {
      if (this.present.delete(alert.id)) continue;
      lines.push(alert.body);
    }
    const file = await this.file.append(lines);
    return { delivered: lines.length, deadLettered: 0, file };
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
