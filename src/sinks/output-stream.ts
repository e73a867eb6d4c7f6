import type { Writable } from 'node:stream';

const FLUSH_AT_BYTES = 64 * 1024;

/**
 * Buffers text and writes it in large chunks, honouring backpressure: a scan producing
 * thousands of alerts neither floods memory nor makes one syscall per line.
 */
export class BufferedTextWriter {
  private readonly stream: Writable;
  /** A person watching a terminal sees each line as it comes; files and pipes get large chunks. */
  private readonly flushAt: number;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(stream: Writable) {
    this.stream = stream;
    this.flushAt = (stream as Writable & { isTTY?: boolean }).isTTY === true ? 1 : FLUSH_AT_BYTES;
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= this.flushAt) await this.flush();
  }

  /** Writes what is buffered; with `written`, waits until the stream has handed it on. */
  async flush(written = false): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (written) {
      await new Promise<void>((resolve, reject) => {
        this.stream.write(chunk, (error) => (error === undefined || error === null ? resolve() : reject(error)));
      });
      return;
    }
    if (!this.stream.write(chunk)) await waitForDrain(this.stream);
  }

  /** Flushes, then ends the stream unless it is stdout/stderr (those stay open). */
  async close(): Promise<void> {
    await this.flush();
    if (this.stream === process.stdout || this.stream === process.stderr) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
