/** The --since / --until bounds of a scan, apart from scan.ts so that scan workers need not import the sources. */

/** Event-time bounds from --since / --until, epoch ms, inclusive. */
export interface TimeRange {
  since?: number;
  until?: number;
}

/** True when the event time is inside --since / --until (always, when neither is given). */
export function inRange(time: number, range: TimeRange): boolean {
  if (range.since === undefined && range.until === undefined) return true;
  if (!Number.isFinite(time)) return false;
  if (range.since !== undefined && time < range.since) return false;
  if (range.until !== undefined && time > range.until) return false;
  return true;
}
