/** The located TH_INPUT_READ error every source reports for a path it cannot read. */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';

const HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory',
};

export function inputReadError(path: string, error: unknown, what = 'input'): LocatedError {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  const reason = code !== undefined && HINTS[code] !== undefined ? `${HINTS[code]} (${code})` : error instanceof Error ? error.message : String(error);
  return located('TH_INPUT_READ', `cannot read this ${what}: ${reason}. Check the path and its permissions.`, path);
}
