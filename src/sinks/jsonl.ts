import type { Writable } from 'node:stream';
import type { AlertSink, SinkAlert, SinkReport } from './sink.ts';
import { BufferedTextWriter } from './output-stream.ts';

export interface JsonLinesOptions {
  /**
   * Wait until each delivery is handed to the operating system (the service's stdout: an
   * alert recorded as delivered was written). Off for the CLI, which writes large chunks.
   */
  flushEachDelivery?: boolean;
  /** End the stream on close (default true; process.stdout and stderr are never ended). */
  endOnClose?: boolean;
}

/** One alert per line, as JSON: the machine-readable contract (README, alert JSON). */
export class JsonLinesSink implements AlertSink {
  readonly batchSize = 500;
  private readonly writer: BufferedTextWriter;
  private readonly options: JsonLinesOptions;

  constructor(stream: Writable, options: JsonLinesOptions = {}) {
    this.writer = new BufferedTextWriter(stream);
    this.options = options;
  }

  async start(): Promise<void> {}

  async deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    for (const alert of batch) await this.writer.write(alert.body + '\n');
    if (this.options.flushEachDelivery === true) await this.writer.flush(true);
    return { delivered: batch.length, deadLettered: 0 };
  }

  close(): Promise<void> {
    return this.options.endOnClose === false ? this.writer.flush() : this.writer.close();
  }
}
