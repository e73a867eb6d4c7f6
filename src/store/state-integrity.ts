/**
 * Is the state database whole? A damaged state must stop the service (TH_STATE_DAMAGED), not
 * be taken for a new one: an empty file would otherwise read every object again and resend
 * what the sinks already have, and a damaged page would surface later as failed commits.
 *
 * Checked at open, in this order: the file itself before SQLite reads it (empty, shorter than
 * its header, not starting with the SQLite header, shorter than the pages its header counts
 * when no write-ahead log is pending), then SQLite's own `PRAGMA quick_check` (every b-tree
 * page, cell and overflow chain; not the index contents, which `integrity_check` compares at
 * several times the cost), then the schema: the tables and the schema version row.
 *
 * `--reset-state` moves a damaged file aside (`trailhound.sqlite.damaged-<time>`, its WAL
 * beside it) so the service can start afresh without destroying what may still be recovered.
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** SQLite's file header starts with these 16 bytes. */
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_BYTES = 100;
/** Tables every state database has (schema.ts); missing ones mean a damaged or foreign file. */
export const STATE_TABLES = ['meta', 'objects', 'engine_state', 'alerts', 'sinks'] as const;
/** quick_check messages shown in the error. */
const SHOWN = 3;

/** The size of a regular file; undefined when there is none; -1 for anything else (a folder, a FIFO). */
function fileSize(path: string): number | undefined {
  try {
    const info = statSync(path);
    return info.isFile() ? info.size : -1;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, header, 0, HEADER_BYTES, 0);
    return header.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export type StateFileCheck =
  | { state: 'missing' }
  | { state: 'present' }
  | { state: 'damaged'; reason: string };

/**
 * What the database file looks like before SQLite opens it. `missing`: no file (a new state
 * directory); `damaged`: empty, truncated or not SQLite.
 */
export function checkStateFile(path: string): StateFileCheck {
  const size = fileSize(path);
  const walSize = fileSize(`${path}-wal`) ?? 0;
  // Never opened (a FIFO would block the read below forever).
  if (size === -1) return { state: 'damaged', reason: 'the database path is not a regular file' };
  if (walSize === -1) return { state: 'damaged', reason: `its write-ahead log ${path}-wal is not a regular file` };
  if (size === undefined) {
    // The database is gone but its log is not: what was committed lives partly in the log alone.
    if (walSize > 0) return { state: 'damaged', reason: `the database file is missing but its write-ahead log ${path}-wal (${walSize} bytes) is not` };
    return { state: 'missing' };
  }
  if (size === 0) {
    // Never legitimate: a new state is created under another name and renamed once it holds
    // its schema. (A log beside it can still hold everything: SQLite is asked below.)
    if (walSize === 0) return { state: 'damaged', reason: 'the database file is empty (0 bytes)' };
    return { state: 'present' };
  }
  const header = readHeader(path);
  if (header.length < HEADER_BYTES) return { state: 'damaged', reason: `the database file is truncated: ${size} bytes, shorter than the ${HEADER_BYTES}-byte SQLite header` };
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) return { state: 'damaged', reason: 'the file is not a SQLite database (its header is damaged or it holds something else)' };
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return { state: 'damaged', reason: `the SQLite header is damaged (page size ${rawPageSize})` };
  // The page count in the header is valid when the change counter matches version-valid-for.
  // While a write-ahead log is pending (a crash, a checkpoint cut short) the file may lag the
  // header; SQLite's check below judges that case.
  const pages = header.readUInt32BE(28);
  const valid = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
  if (valid && walSize === 0 && size < pages * pageSize) {
    return { state: 'damaged', reason: `the database file is truncated: ${size} bytes, where its header counts ${pages} pages of ${pageSize} bytes (${pages * pageSize} bytes)` };
  }
  return { state: 'present' };
}

/** True for the errors SQLite raises on a damaged or foreign file. */
export function isCorruptionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * The damage SQLite finds in an open database (quick_check, then the schema), or undefined
 * when it is whole. `expectSchema` is false only for a database this open just created.
 */
export function checkOpenedState(db: Database.Database, expectSchema: boolean): string | undefined {
  let rows: { quick_check: string }[];
  try {
    rows = db.pragma('quick_check') as { quick_check: string }[];
  } catch (error) {
    if (isCorruptionError(error)) return `SQLite cannot read it: ${(error as Error).message}`;
    throw error;
  }
  const problems = rows.map((row) => String(row.quick_check)).filter((text) => text !== 'ok');
  if (problems.length > 0) {
    const shown = problems.slice(0, SHOWN).map((text) => text.replace(/^\*\*\* in database main \*\*\*\n/, '').replace(/\s+/g, ' '));
    return `SQLite's integrity check fails: ${shown.join('; ')}${problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : ''}`;
  }
  if (!expectSchema) return undefined;
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
  if (tables.size === 0) return 'the database holds no tables: it is not a trailhound state (or was emptied)';
  const missing = STATE_TABLES.filter((name) => !tables.has(name));
  if (missing.length > 0) return `the database lacks the tables ${missing.join(', ')}: it is not a whole trailhound state`;
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: unknown } | undefined;
  if (version === undefined) return 'the database has no schema version row (meta.schema_version)';
  if (!/^[1-9][0-9]{0,8}$/.test(String(version.value))) return `the schema version row holds ${JSON.stringify(String(version.value).slice(0, 40))}, not a version number`;
  return undefined;
}

/** Flushes a directory entry change (a rename) to disk where the platform allows it. */
export function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here (Windows): the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Moves a damaged database (and its write-ahead log) aside as `<file>.damaged-<time>`; the
 * shared-memory index is rebuilt by SQLite and just removed. Returns the new name.
 */
export function moveAside(path: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let target = `${path}.damaged-${stamp}`;
  for (let n = 2; existsSync(target) || existsSync(`${target}-wal`); n++) target = `${path}.damaged-${stamp}-${n}`;
  if (existsSync(path)) renameSync(path, target);
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${target}-wal`);
  rmSync(`${path}-shm`, { force: true });
  syncDirectory(dirname(path));
  return target;
}
