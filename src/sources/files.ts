/**
 * Local files and folders. A folder is walked recursively, entries sorted by name (byte order,
 * so the same tree always yields the same order), each real folder once (a link back to an
 * ancestor cannot loop). Inside folders, hidden entries (`.DS_Store`, `.git/`) and
 * documentation (`*.md`, README, LICENSE) are passed over, so a log folder with notes beside
 * the logs scans cleanly; a file named explicitly is always read. A path, folder or link that
 * cannot be read is one TH_INPUT_READ error; the rest of the walk goes on.
 *
 * The walk never leaves the scanned folder: a symbolic link whose target lies outside it (a
 * link to /etc planted in a log folder) is not followed, one TH_INPUT_SPECIAL error, unless
 * `followSymlinks` (`scan --follow-symlinks`) says to. Only regular files are read: a FIFO, a
 * socket or a device, inside a folder or named explicitly, is one TH_INPUT_SPECIAL error and
 * is never opened (opening a FIFO blocks until a writer comes). Files are opened non-blocking
 * and checked again once open, so a file swapped for a FIFO after the walk cannot block either.
 */
import { constants, type Dirent, type Stats } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { located, TrailhoundError } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { inputReadError } from './read-error.ts';
import type { Source, SourceOptions } from './source.ts';
import type { InputUnit } from '../core/input-unit.ts';

type OnError = (error: LocatedError) => void;

/** What only the file source reads of the source options. */
export interface FileSourceOptions {
  /** Follow symbolic links out of the scanned folder (`scan --follow-symlinks`); loops are still guarded. */
  followSymlinks?: boolean;
}

/** O_NONBLOCK: opening a FIFO that replaced a file since the walk returns at once instead of blocking. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** What a path that is not a regular file or folder is, for the message; undefined for those two. */
function specialKind(stats: Stats): string | undefined {
  if (stats.isFile() || stats.isDirectory()) return undefined;
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function specialError(path: string, kind: string, via = ''): LocatedError {
  return located('TH_INPUT_SPECIAL', `${via}is ${kind}: not read (only regular files are read; reading it could block or never end). ` +
      'Name a regular file, or pipe the data to - (stdin).', path);
}

/** Opens a regular file for reading; anything else that now sits at the path is refused, never read. */
async function openRegular(path: string): Promise<FileHandle> {
  const handle = await open(path, READ_FLAGS);
  try {
    const stats = await handle.stat();
    const kind = specialKind(stats);
    if (kind !== undefined) throw new TrailhoundError(specialError(path, kind));
    if (stats.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: 'EISDIR' });
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The regular file at `path` as a unit, its size read when it is opened. */
function lazyFileUnit(path: string): InputUnit {
  return {
    uri: path,
    open: async () => (await openRegular(path)).createReadStream(),
    readAll: async () => {
      const handle = await openRegular(path);
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
  };
}

function fileUnit(path: string, stats: Stats): InputUnit {
  return { ...lazyFileUnit(path), size: stats.size };
}

const DOCUMENTATION_FILE = /(\.(md|markdown|rst)$)|^(README|LICENSE|LICENCE|NOTICE|CHANGELOG)(\.|$)/i;

/** Names no AWS service writes into a log folder. */
export function isNotALogInsideFolder(name: string): boolean {
  return name.startsWith('.') || DOCUMENTATION_FILE.test(name);
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** One folder walk: the real path of the folder named (links may not leave it), and the real folders walked. */
interface Walk {
  root: string;
  follow: boolean;
  seen: Set<string>;
  onError: OnError;
}

/** True when the real path `target` is `root` or lies below it. */
function inside(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function* walk(dir: string, real: string, w: Walk): AsyncGenerator<InputUnit> {
  if (w.seen.has(real)) return;
  w.seen.add(real);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    w.onError(inputReadError(dir, error, 'folder'));
    return;
  }
  entries.sort(byName);
  for (const entry of entries) {
    if (isNotALogInsideFolder(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // A folder (not a link): its real path is its parent's and its name.
      yield* walk(path, join(real, entry.name), w);
    } else if (entry.isFile()) {
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        w.onError(inputReadError(path, error, 'file'));
        continue;
      }
      // Replaced by something else since readdir: the same rules as for any entry.
      const kind = specialKind(stats);
      if (kind !== undefined) w.onError(specialError(path, kind));
      else if (stats.isFile()) yield fileUnit(path, stats);
    } else if (entry.isSymbolicLink()) {
      let target: string;
      let stats: Stats;
      try {
        target = await realpath(path);
        stats = await stat(target);
      } catch (error) {
        w.onError(inputReadError(path, error, 'symbolic link'));
        continue;
      }
      if (!w.follow && !inside(w.root, target)) {
        w.onError(located('TH_INPUT_SPECIAL', `is a symbolic link to ${stats.isDirectory() ? 'a folder' : 'a file'} outside the scanned folder ${w.root}: ` +
            'not followed. Scan the target itself, or pass --follow-symlinks to follow links out of the tree.', path));
        continue;
      }
      const kind = specialKind(stats);
      if (kind !== undefined) w.onError(specialError(path, kind, 'is a symbolic link to a file that '));
      else if (stats.isDirectory()) yield* walk(path, target, w);
      else yield fileUnit(path, stats);
    } else {
      // A FIFO, socket or device (readdir knows without opening it).
      let kind = 'not a regular file';
      if (entry.isFIFO()) kind = 'a FIFO (named pipe)';
      else if (entry.isSocket()) kind = 'a socket';
      else if (entry.isCharacterDevice()) kind = 'a character device';
      else if (entry.isBlockDevice()) kind = 'a block device';
      w.onError(specialError(path, kind));
    }
  }
}

/**
 * The units behind one local path: the file itself, or every file under the folder. A path
 * that is neither a regular file nor a folder (a FIFO, a socket, a device) is refused, never opened.
 */
export async function* expandPath(path: string, onError: OnError, options: SourceOptions & FileSourceOptions = {}): AsyncGenerator<InputUnit> {
  let stats: Stats;
  let root: string;
  try {
    stats = await stat(path);
    root = stats.isDirectory() ? await realpath(path) : path;
  } catch (error) {
    onError(inputReadError(path, error));
    return;
  }
  if (stats.isDirectory()) {
    yield* walk(path, root, { root, follow: options.followSymlinks === true, seen: new Set(), onError });
    return;
  }
  const kind = specialKind(stats);
  if (kind !== undefined) onError(specialError(path, kind));
  else yield fileUnit(path, stats);
}

/** Any path no other source claims is a local file or folder. */
export const fileSource: Source = {
  name: 'files',
  claims: () => true,
  expand: expandPath,
  unitAt: (uri) => lazyFileUnit(uri),
};
