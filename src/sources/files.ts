/**
 * Local files and folders. A folder is walked recursively, entries sorted by name (byte order,
 * so the same tree always yields the same order); symbolic links are followed, and each real
 * folder is walked once (a link back to an ancestor cannot loop). Inside folders, hidden entries
 * (`.DS_Store`, `.git/`) and documentation (`*.md`, README, LICENSE) are passed over, so a log
 * folder with notes beside the logs scans cleanly; a file named explicitly is always read. A path, folder or link that cannot be read is one TH_INPUT_READ error; the rest
 * of the walk goes on. Only regular files are read inside folders (no sockets, FIFOs,
 * devices); a path named explicitly may be any readable file, a FIFO included.
 */
import { createReadStream, type Dirent, type Stats } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocatedError } from '../core/errors.ts';
import { inputReadError } from './read-error.ts';
import type { Source } from './source.ts';
import type { InputUnit } from '../core/input-unit.ts';

type OnError = (error: LocatedError) => void;

function fileUnit(path: string, stats: Stats): InputUnit {
  const unit: InputUnit = { uri: path, open: () => createReadStream(path) };
  if (stats.isFile()) {
    unit.size = stats.size;
    unit.readAll = () => readFile(path);
  }
  return unit;
}

const DOCUMENTATION_FILE = /(\.(md|markdown|rst)$)|^(README|LICENSE|LICENCE|NOTICE|CHANGELOG)(\.|$)/i;

/** Names no AWS service writes into a log folder. */
export function isNotALogInsideFolder(name: string): boolean {
  return name.startsWith('.') || DOCUMENTATION_FILE.test(name);
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

async function* walk(dir: string, onError: OnError, seen: Set<string>): AsyncGenerator<InputUnit> {
  let real: string;
  let entries: Dirent[];
  try {
    real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    onError(inputReadError(dir, error, 'folder'));
    return;
  }
  entries.sort(byName);
  for (const entry of entries) {
    if (isNotALogInsideFolder(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* walk(path, onError, seen);
    } else if (entry.isFile()) {
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        onError(inputReadError(path, error, 'file'));
        continue;
      }
      yield fileUnit(path, stats);
    } else if (entry.isSymbolicLink()) {
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        onError(inputReadError(path, error, 'symbolic link'));
        continue;
      }
      if (stats.isDirectory()) yield* walk(path, onError, seen);
      else if (stats.isFile()) yield fileUnit(path, stats);
    }
  }
}

/** The units behind one local path: the file itself, or every file under the folder. */
export async function* expandPath(path: string, onError: OnError): AsyncGenerator<InputUnit> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    onError(inputReadError(path, error));
    return;
  }
  if (stats.isDirectory()) yield* walk(path, onError, new Set());
  else yield fileUnit(path, stats);
}

/** Any path no other source claims is a local file or folder. */
export const fileSource: Source = {
  name: 'files',
  claims: () => true,
  expand: expandPath,
};
