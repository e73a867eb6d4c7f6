/**
 * Required values: what a detection promises about every record it matches, for the engine's
 * candidate index. A constraint maps a field path to a set of lowercased values; a record can
 * only match when, for every constrained field, some value the path reaches (through arrays and
 * objects, as the matcher reads it) lowercased is in the set. An empty map promises nothing.
 *
 * Derivation (sound by construction; test/sigma/required-values.test.ts checks it):
 * - `field: value` or `field: [values]` with no modifier (or only `expand`), no wildcard and
 *   not `cased`: the field to the lowercased values (numbers and booleans by string form).
 *   Anything else (other modifiers, wildcards, null, keywords, fieldref...) constrains nothing.
 * - `field|all: [...]` and a map of fields (AND), `all of`, `and`: every conjunct's constraints
 *   hold; when several constrain the same field, the smallest set is kept. Intersecting would be
 *   wrong for a field that holds an array (`tags: a` and `tags: b` both match `tags: [a, b]`).
 * - A list of maps, a value list, `1 of`, `or`, a list of conditions: only fields constrained
 *   in every branch, with the union of their sets.
 * - `not` constrains nothing.
 */
import { compileFieldPath, someScalar, someTerminal } from './field-path.ts';

export type Constraint = ReadonlyMap<string, ReadonlySet<string>>;

export const NO_CONSTRAINT: Constraint = new Map();

/** Constraints of a conjunction. */
export function constrainAll(constraints: readonly Constraint[]): Constraint {
  const out = new Map<string, ReadonlySet<string>>();
  for (const constraint of constraints) {
    for (const [field, values] of constraint) {
      const current = out.get(field);
      if (current === undefined || values.size < current.size) out.set(field, values);
    }
  }
  return out;
}

/** Constraints of a disjunction. */
export function constrainAny(constraints: readonly Constraint[]): Constraint {
  const first = constraints[0];
  if (first === undefined) return NO_CONSTRAINT;
  const out = new Map<string, ReadonlySet<string>>();
  for (const [field, values] of first) {
    let union: Set<string> | undefined = new Set(values);
    for (let i = 1; i < constraints.length && union !== undefined; i++) {
      const other = (constraints[i] as Constraint).get(field);
      if (other === undefined) union = undefined;
      else for (const value of other) union.add(value);
    }
    if (union !== undefined) out.set(field, union);
  }
  return out;
}

/**
 * True when the record satisfies the constraint, read exactly as the matcher reads fields. A
 * record for which this is false never matches the rule; the engine's index may rely on it.
 */
export function admitsRecord(required: Constraint, record: unknown): boolean {
  for (const [field, values] of required) {
    const path = compileFieldPath(field);
    const ok = someTerminal(record, path, (value) => someScalar(value, (scalar) => values.has(String(scalar).toLowerCase())));
    if (!ok) return false;
  }
  return true;
}
