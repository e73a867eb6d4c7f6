/**
 * Recognising a list of records (`Records`, `Events`, `Findings`, a bare array) by its first
 * few elements, not its first one alone: one junk element at the top (`{}`, a number, a
 * string, null) must not hide the records after it. Bounded, so that recognition stays cheap
 * however long the list: a list whose first RECOGNISE_ELEMENTS elements hold no record of the
 * format is not recognised by it.
 */
import { isJsonObject } from '../core/json-object.ts';

/** Elements of a list that recognition looks at, at most. */
export const RECOGNISE_ELEMENTS = 64;

/** `{}`: an object without a single member is junk in a list of records, as a number is. */
export function isEmptyObject(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

/** True for an element that is a record of some kind (a non-empty object), not junk or a hole. */
function isCandidate(item: unknown): boolean {
  return isJsonObject(item) && !isEmptyObject(item);
}

/**
 * How the first RECOGNISE_ELEMENTS elements of a list look: `record` when one passes `test`,
 * `junk` when none is a candidate record (all holes, scalars, arrays or `{}`: the list is
 * unwrapped and each reported), `foreign` when candidates are there but none passes (the list
 * is something else's).
 */
export function firstElements(list: readonly unknown[], test: (item: Record<string, unknown>) => boolean): 'record' | 'junk' | 'foreign' {
  let foreign = false;
  const n = Math.min(list.length, RECOGNISE_ELEMENTS);
  for (let i = 0; i < n; i++) {
    const item = list[i];
    if (!isCandidate(item)) continue;
    if (test(item as Record<string, unknown>)) return 'record';
    foreign = true;
  }
  return foreign ? 'foreign' : 'junk';
}
