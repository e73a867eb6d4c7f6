import { compileFieldPath, someTerminal } from '../../sigma/field-path.ts';
import { stringifyDeep } from '../../core/json-depth.ts';
import type { FieldPath } from '../../sigma/field-path.ts';

export type { FieldPath };
export { compileFieldPath };

// One terminal for every lookup instead of a closure per call: these run once per event and
// per field on the correlation hot path. Not reentrant, which synchronous use never needs.
let found: unknown;
const firstValue = (value: unknown): boolean => {
  if (value === undefined) return false;
  found = value;
  return true;
};

/**
 * The value a field path reaches in a record, read as rules read it (dotted keys, nested
 * objects, through arrays: the first branch holding a value). Undefined when missing.
 */
export function fieldValue(record: unknown, path: FieldPath): unknown {
  found = undefined;
  someTerminal(record, path, firstValue);
  const value = found;
  found = undefined;
  return value;
}

/**
 * A group-by or value_count key: strings as they are, numbers and booleans by their string form
 * (as Sigma compares them), arrays and objects as JSON (of any depth: stringifyDeep does not
 * overflow the stack); missing or null is null, a group of its own.
 */
export function keyOf(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return value === null ? null : (stringifyDeep(value) as string);
    default:
      return null;
  }
}

/** A number for the value_* aggregates: numbers, and strings that are numbers ("1024"). */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** Group values one event may fan out to (the product over group-by fields) at most. */
export const MAX_GROUP_FANOUT = 16;

let firstKey: string | null | undefined;
let moreKeys: (string | null)[] | undefined;

function collectKey(value: unknown): void {
  const key = keyOf(value);
  if (key === null) return;
  if (firstKey === undefined) {
    firstKey = key;
    return;
  }
  if (key === firstKey) return;
  moreKeys ??= [firstKey];
  if (!moreKeys.includes(key) && moreKeys.length < MAX_GROUP_FANOUT) moreKeys.push(key);
}

const collectKeys = (value: unknown): boolean => {
  if (Array.isArray(value)) for (const item of value as unknown[]) collectKey(item);
  else collectKey(value);
  return false;
};

/**
 * Every group-by key a path reaches: one per distinct scalar when the path crosses an array
 * (`requestParameters.instancesSet.items.instanceId` of a StopInstances call that stopped
 * three instances is three groups); [null] when missing. At most MAX_GROUP_FANOUT keys.
 */
export function fieldKeys(record: unknown, path: FieldPath): (string | null)[] {
  firstKey = undefined;
  moreKeys = undefined;
  someTerminal(record, path, collectKeys);
  const keys = moreKeys ?? [firstKey ?? null];
  firstKey = undefined;
  moreKeys = undefined;
  return keys;
}
