import { parseTimespan } from '../../sigma/correlation.ts';

/**
 * Default lateness: unbounded. A batch scan may read an archive in any order (region by region,
 * newest file first...), so nothing is decided before the end of the input unless the state
 * caps force it; results then do not depend on input order. A long-running consumer sets a
 * finite lateness instead (CloudTrail delivers most events within 5 to 15 minutes: 15m to 1h).
 */
export const DEFAULT_BATCH_LATENESS_MS = Number.POSITIVE_INFINITY;

/** Live correlation groups (all correlations together) before the least recently active is closed early. */
export const DEFAULT_MAX_GROUPS = 100_000;

/** Entries one group may buffer before its oldest windows are decided early. */
export const DEFAULT_MAX_GROUP_EVENTS = 10_000;

/**
 * `--correlation-lateness`: a duration (`90s`, `15m`, `2h`, `1d`, or `0`) or `unbounded`.
 * Undefined when invalid.
 */
export function parseLateness(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unbounded' || trimmed === 'infinity' || trimmed === 'inf') return Number.POSITIVE_INFINITY;
  if (trimmed === '0') return 0;
  return parseTimespan(trimmed);
}

/** `--max-groups`: a positive integer. Undefined when invalid. */
export function parseMaxGroups(text: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : undefined;
}
