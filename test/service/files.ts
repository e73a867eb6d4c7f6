/**
 * Files the service tests share: where the repository and its CLI are, temporary directories,
 * and JSON Lines files (alerts, poisoned inputs, dead letters).
 */
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root (the working directory of the CLI runs). */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
/** The CLI entry point, relative to REPO_ROOT. */
export const CLI = 'bin/trailhound.js';

/** A new directory under the system's temporary folder: `trailhound-<name>-XXXXXX`. */
export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `trailhound-${name}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Runs `body` in a new temporary directory, removed afterwards whatever happens. */
export async function inTempDir<T>(name: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir(name);
  try {
    return await body(dir);
  } finally {
    await removeDir(dir);
  }
}

/** The JSON objects of a JSON Lines text, empty lines skipped. */
export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The JSON objects of a JSON Lines file (which must exist). */
export async function readJsonl<T>(path: string): Promise<T[]> {
  return jsonLines<T>(await readFile(path, 'utf8'));
}
