/**
 * Field paths: how a Sigma field name reaches values in an AWS record.
 *
 * - `a.b.c` walks nested objects. At each level the longest literal key is tried first, so a
 *   key that itself contains dots (`"a.b": ...`) is found; when it is absent, the shorter
 *   splits are tried (`a` then `b.c`, ...). The first key present wins.
 * - A path that crosses an array continues into every element: the field matches when any
 *   element's branch matches. An empty array is a missing value.
 * - The final value is handed to a terminal test as is (an array, an object, a scalar, null, or
 *   undefined when missing); `someScalar` then tests every scalar inside it, so a field whose
 *   value is an array or an object matches when any value inside it matches.
 *
 * - Walks are depth-bounded: a record is level 1, and no container nested deeper than
 *   MAX_JSON_DEPTH (64) levels is entered (it holds no value a rule can see), so a hostile
 *   record of any depth cannot exhaust the stack. Records of normal depth are read whole.
 *
 * Nothing here allocates per record.
 */
import { MAX_JSON_DEPTH } from '../core/json-depth.ts';

interface Step {
  readonly key: string;
  /** Index of the segment after this key. */
  readonly next: number;
  /** The key is an Object.prototype name (`constructor`, ...): check it is an own property. */
  readonly guard: boolean;
}

export interface FieldPath {
  readonly text: string;
  /** For each segment index, the keys to try from there, longest first. */
  readonly steps: readonly (readonly Step[])[];
}

/**
 * A test on the value a path reached (undefined when missing). `depth` is the value's level in
 * the record (the record is 1): pass it on to someScalar so that the whole walk stays bounded.
 */
export type Terminal = (value: unknown, depth: number) => boolean;

export function compileFieldPath(text: string): FieldPath {
  const segments = text.split('.');
  const steps: Step[][] = [];
  for (let i = 0; i < segments.length; i++) {
    const options: Step[] = [];
    for (let j = segments.length; j > i; j--) {
      const key = segments.slice(i, j).join('.');
      options.push({ key, next: j, guard: key in Object.prototype });
    }
    steps.push(options);
  }
  return { text, steps };
}

function walk(node: unknown, steps: readonly (readonly Step[])[], index: number, terminal: Terminal, depth: number): boolean {
  if (index === steps.length) return terminal(node, depth);
  if (Array.isArray(node)) {
    if (node.length === 0) return terminal(undefined, depth);
    // Deeper than a rule reads (arrays in arrays do not advance the path): nothing in there.
    if (depth > MAX_JSON_DEPTH) return terminal(undefined, depth);
    for (let i = 0; i < node.length; i++) if (walk(node[i], steps, index, terminal, depth + 1)) return true;
    return false;
  }
  if (node === null || typeof node !== 'object' || depth > MAX_JSON_DEPTH) return terminal(undefined, depth);
  const options = steps[index] as readonly Step[];
  for (let k = 0; k < options.length; k++) {
    const step = options[k] as Step;
    const value = (node as Record<string, unknown>)[step.key];
    if (value !== undefined && (!step.guard || Object.hasOwn(node, step.key))) return walk(value, steps, step.next, terminal, depth + 1);
  }
  return terminal(undefined, depth);
}

/** True when the terminal test holds for some branch of the path through the record. */
export function someTerminal(record: unknown, path: FieldPath, terminal: Terminal): boolean {
  return walk(record, path.steps, 0, terminal, 1);
}

export type ScalarVisitor = (value: string | number | boolean) => boolean;

/**
 * True when `test` holds for some scalar in `value` (arrays and objects searched recursively).
 * `depth` is the level of `value` in its record (a record is 1): containers nested deeper than
 * MAX_JSON_DEPTH levels are not searched.
 */
export function someScalar(value: unknown, test: ScalarVisitor, depth = 1): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return test(value);
    case 'object': {
      if (value === null || depth > MAX_JSON_DEPTH) return false;
      const next = depth + 1;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (someScalar(value[i], test, next)) return true;
        return false;
      }
      for (const key in value) {
        if (Object.hasOwn(value, key) && someScalar((value as Record<string, unknown>)[key], test, next)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

/** The terminal for `field: null`: missing, null, an empty array, or an array holding null. */
export function isNullTerminal(value: unknown, depth = 1): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value) && depth <= MAX_JSON_DEPTH) {
    if (value.length === 0) return true;
    for (let i = 0; i < value.length; i++) if (isNullTerminal(value[i], depth + 1) && value[i] !== undefined) return true;
  }
  return false;
}

/** The terminal for `field|exists: true`: the field is present, whatever its value. */
export function existsTerminal(value: unknown): boolean {
  return value !== undefined;
}

/**
 * A predicate on a record: some scalar reached by the path passes `test`. Single-key paths read
 * the key directly and test a string value without any call in between.
 */
export function compileFieldScalarTest(path: FieldPath, test: ScalarVisitor): (record: Record<string, unknown>) => boolean {
  const terminal: Terminal = (value, depth) => someScalar(value, test, depth);
  const only = path.steps.length === 1 ? path.steps[0]?.[0] : undefined;
  if (only !== undefined && !only.guard) {
    const key = only.key;
    return (record) => {
      const value = record[key];
      if (typeof value === 'string') return test(value);
      return value !== undefined && someScalar(value, test, 2);
    };
  }
  return (record) => walk(record, path.steps, 0, terminal, 1);
}
