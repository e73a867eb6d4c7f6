import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** How many files are compressed at once: zlib's pool works while the generator builds the next. */
const IN_FLIGHT = 4;

/** Writes generated logs as `.gz` files, a few compressed at once, counting bytes both ways. */
export class GzipFileWriter {
  compressedBytes = 0;
  uncompressedBytes = 0;
  private readonly pending: Promise<void>[] = [];

  async write(path: string, text: string): Promise<void> {
    const plain = Buffer.from(text, 'utf8');
    this.uncompressedBytes += plain.length;
    this.pending.push(
      gzip(plain).then((compressed) => {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, compressed);
        this.compressedBytes += compressed.length;
      }),
    );
    if (this.pending.length >= IN_FLIGHT) await this.pending.shift();
  }

  async close(): Promise<void> {
    await Promise.all(this.pending);
  }
}
