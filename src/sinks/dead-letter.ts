/**
 * Where alerts go that a sink could not deliver after every retry: one JSON line each,
 * `{"sink", "failed_at", "error", "alert"}`, fsync'ed. Replay with any tool that POSTs
 * `.alert` (receivers de-duplicate by the alert's id).
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

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
