/**
 * An append-only JSONL alert file that can be written exactly once per alert across crashes.
 * Lines are appended and fsync'ed; the caller records where the file ended (offset and file
 * identity) once the append is durable. After a crash, the lines past the recorded end are
 * read back (linesAfter) so that alerts already written are not written again; a line torn by
 * the crash is cut off.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileHandle } from 'node:fs/promises';

export interface FilePosition {
  /** Bytes in the file. */
  offset: number;
  /** `dev:ino`: tells a rotated or replaced file from the one the offset belongs to. */
  id: string;
}

/**
 * The alert id of each complete JSON line: `id` of an alert, `metadata.uid` of an OCSF finding
 * (sinks/ocsf); lines that are neither are ignored.
 */
function alertIds(text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as { id?: unknown; metadata?: { uid?: unknown } | null };
      if (typeof value.id === 'string') ids.add(value.id);
      else if (typeof value.metadata?.uid === 'string') ids.add(value.metadata.uid);
    } catch {
      // Not ours, or damaged by hand: nothing to reconcile.
    }
  }
  return ids;
}

export class JsonlFile {
  readonly path: string;
  private handle: FileHandle | undefined;

  constructor(path: string) {
    this.path = path;
  }

  private async file(): Promise<FileHandle> {
    if (this.handle === undefined) {
      await mkdir(dirname(this.path), { recursive: true });
      this.handle = await open(this.path, 'a+');
    }
    return this.handle;
  }

  async position(): Promise<FilePosition> {
    const stats = await (await this.file()).stat();
    return { offset: stats.size, id: `${stats.dev}:${stats.ino}` };
  }

  /**
   * The alert ids written after `known` (the whole file when it was rotated, replaced or
   * truncated since), cutting a torn last line; and where the file ends now.
   */
  async linesAfter(known: FilePosition | undefined): Promise<{ ids: Set<string>; position: FilePosition }> {
    const handle = await this.file();
    const now = await this.position();
    const from = known !== undefined && known.id === now.id && known.offset <= now.offset ? known.offset : 0;
    if (from === now.offset) return { ids: new Set(), position: now };
    const buffer = Buffer.alloc(now.offset - from);
    await handle.read(buffer, 0, buffer.length, from);
    const lastNewline = buffer.lastIndexOf(0x0a);
    const complete = lastNewline + 1;
    if (complete < buffer.length) {
      await handle.truncate(from + complete);
      await handle.sync();
    }
    return { ids: alertIds(buffer.toString('utf8', 0, complete)), position: { offset: from + complete, id: now.id } };
  }

  /** Appends one line per alert (JSON text, no newline) and waits until it is on disk. */
  async append(lines: readonly string[]): Promise<FilePosition> {
    const handle = await this.file();
    if (lines.length > 0) {
      await handle.appendFile(lines.map((line) => `${line}\n`).join(''));
      await handle.datasync();
    }
    return this.position();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
