/**
 * How the compiler's promises about matching records combine through AND and OR. Required
 * values (src/sigma/required-values.ts), required substrings (required-substrings.ts) and
 * required networks (required-cidrs.ts) are each a map from a field path to one promise about
 * that field's values ("some value is one of these", "...contains one of these literals", "...lies
 * in one of these networks"). They differ in what a promise is, not in how maps combine, so the
 * combination is written once here:
 *
 * - AND: every conjunct's promises hold, so all their fields are kept; when several constrain
 *   the same field, one of their promises is kept (the one `stronger` prefers). Never their
 *   intersection: a field holding an array may keep each promise through another element
 *   (`tags: a` and `tags: b` both match `tags: [a, b]`).
 * - OR: only a field every branch constrains stays constrained, by the union of the branches'
 *   promises on it (`union`).
 */

export type FieldConstraints<T> = ReadonlyMap<string, T>;

/** The constraints of a conjunction: per field, the promise `stronger(candidate, kept)` prefers (the first when none is). */
export function allFields<T>(constraints: readonly FieldConstraints<T>[], stronger: (candidate: T, kept: T) => boolean): FieldConstraints<T> {
  const out = new Map<string, T>();
  for (const constraint of constraints) {
    for (const [field, promise] of constraint) {
      const kept = out.get(field);
      if (kept === undefined || stronger(promise, kept)) out.set(field, promise);
    }
  }
  return out;
}

/** The constraints of a disjunction: the fields every branch constrains, with the `union` of their promises (in branch order). */
export function anyFields<T>(constraints: readonly FieldConstraints<T>[], union: (promises: readonly T[]) => T): FieldConstraints<T> {
  const first = constraints[0];
  const out = new Map<string, T>();
  if (first === undefined) return out;
  next: for (const field of first.keys()) {
    const promises: T[] = [];
    for (const constraint of constraints) {
      const promise = constraint.get(field);
      if (promise === undefined) continue next;
      promises.push(promise);
    }
    out.set(field, union(promises));
  }
  return out;
}

/** The lists concatenated in order, each item kept once (by `key`): the union of what OR's branches allow. */
export function unionBy<T>(lists: readonly (readonly T[])[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const list of lists) {
    for (const item of list) {
      const k = key(item);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(item);
    }
  }
  return out;
}
