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
 * - A list of maps, a value list, `1 of`, `N of` (at least one of its identifiers holds), `or`,
 *   a list of conditions: only fields constrained in every branch, with the union of their sets.
 * - `not` constrains nothing.
 * (AND and OR are the shared combinations of src/sigma/field-constraints.ts.)
 */
import { allFields, anyFields } from './field-constraints.ts';
import type { FieldConstraints } from './field-constraints.ts';
import { compileFieldPath, someScalar, someTerminal } from './field-path.ts';

export type Constraint = FieldConstraints<ReadonlySet<string>>;

export const NO_CONSTRAINT: Constraint = new Map();

/** Constraints of a conjunction: per field, the smallest set. */
export function constrainAll(constraints: readonly Constraint[]): Constraint {
  return allFields(constraints, (candidate, kept) => candidate.size < kept.size);
}

/** Constraints of a disjunction: fields constrained in every branch, with the union of their sets. */
export function constrainAny(constraints: readonly Constraint[]): Constraint {
  return anyFields(constraints, (sets) => {
    const union = new Set<string>();
    for (const set of sets) for (const value of set) union.add(value);
    return union;
  });
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
