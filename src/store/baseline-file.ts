/**
 * Baseline files (`trailhound baseline`, `scan --baseline`, `baseline:` in the watch config):
 * what each group of a breadth correlation usually does, learned over days of logs
 * (engine/correlation/baseline.ts holds the format and the decisions). Read with a size cap
 * and a shape check: a damaged or foreign file is a located TH_CONFIG error, not a crash.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { BaselineFileData } from '../engine/correlation/baseline.ts';

/** The largest baseline file read. */
export const MAX_BASELINE_FILE_BYTES = 256 * 1024 * 1024;

export async function readBaselineFile(path: string): Promise<{ data?: BaselineFileData; error?: LocatedError }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return { error: located('TH_CONFIG', 'the baseline file is not a regular file', path) };
    if (info.size > MAX_BASELINE_FILE_BYTES) return { error: located('TH_CONFIG', `the baseline file is ${info.size} bytes, more than the ${MAX_BASELINE_FILE_BYTES} read`, path) };
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    const data = value as Partial<BaselineFileData> | null;
    if (data === null || typeof data !== 'object' || data.format !== 'trailhound-baseline' || data.version !== 1 || data.correlations === null || typeof data.correlations !== 'object') {
      return { error: located('TH_CONFIG', "not a trailhound baseline file (format 'trailhound-baseline', version 1): build one with `trailhound baseline`", path) };
    }
    return { data: data as BaselineFileData };
  } catch (error) {
    return { error: located('TH_CONFIG', `cannot read the baseline file: ${(error as Error).message}`, path) };
  }
}

/** Writes a baseline file whole or not at all (a temporary file renamed over it). */
export async function writeBaselineFile(path: string, data: BaselineFileData): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, JSON.stringify(data) + '\n');
  await rename(temporary, path);
}
