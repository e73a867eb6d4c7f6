import type { Writable } from 'node:stream';
import type { Alert } from '../core/alert.ts';
import type { AlertSink } from './types.ts';
import { BufferedTextWriter } from './output-stream.ts';

/** One alert per line, as JSON: the machine-readable contract of DESIGN.md §3. */
export class JsonLinesSink implements AlertSink {
  private readonly writer: BufferedTextWriter;

  constructor(stream: Writable) {
    this.writer = new BufferedTextWriter(stream);
  }

  write(alert: Alert): Promise<void> {
    return this.writer.write(JSON.stringify(alert) + '\n');
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
