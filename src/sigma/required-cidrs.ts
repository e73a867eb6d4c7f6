/**
 * Required networks: a third promise a detection makes about every record it matches, beside
 * required values (src/sigma/required-values.ts) and required substrings
 * (required-substrings.ts). A constraint maps a field path to a list of networks
 * (src/sigma/cidr.ts); it promises that a record can only match when, for every constrained
 * field, some string value the path reaches (through arrays and objects, exactly as the matcher
 * reads fields: `someTerminal`, then `someScalar`) lies in one of the networks, as `cidrContains`
 * reads it (an IPv4 network holds dotted quads only, an IPv6 network IPv6 text only). An empty
 * list is a promise too: no record matches. An empty map promises nothing. The flow pre-filter
 * (src/engine/prefilter/flow.ts) reads it to skip flow-log lines whose address lies outside
 * every network a rule requires, before any record is built.
 *
 * Derivation (sound by construction; test/sigma/required-cidrs.test.ts checks it):
 * - `field|cidr: network` or `field|cidr: [networks]` (also with `expand`: the networks the
 *   placeholders give): the field to the networks (any one holds).
 * - `field|cidr|all: [networks]`: each network constrains the field on its own (AND, below).
 * - `neq`, a keyword (`'|cidr'`, no field) and every item that is not `cidr` give nothing.
 * - AND (a map, `|all`, `all of`, `and`): every conjunct's constraints hold; when several
 *   constrain the same field, the list admitting fewer IPv4 addresses is kept (then the shorter
 *   list): not an intersection, as the field may hold an array whose elements satisfy
 *   different conjuncts.
 * - OR (a list of maps, `1 of` and `N of`, `or`, a list of conditions): only fields constrained in every
 *   branch, with the union of their networks.
 * - `not` constrains nothing.
 * (AND and OR are the shared combinations of src/sigma/field-constraints.ts.)
 */
import { cidrContains } from './cidr.ts';
import type { CidrNetwork } from './cidr.ts';
import { allFields, anyFields, unionBy } from './field-constraints.ts';
import type { FieldConstraints } from './field-constraints.ts';
import { compileFieldPath, someScalar, someTerminal } from './field-path.ts';

export type CidrConstraint = FieldConstraints<readonly CidrNetwork[]>;

export const NO_CIDRS: CidrConstraint = new Map();

/** How many IPv4 addresses the networks hold (the flow pre-filter tests IPv4 columns). */
function ipv4Span(networks: readonly CidrNetwork[]): number {
  let span = 0;
  for (const network of networks) if (network.family === 4) span += 2 ** (32 - network.prefix);
  return span;
}

/** Constraints of a conjunction: per field, the list admitting fewer IPv4 addresses (then the shorter list). */
export function cidrsAll(constraints: readonly CidrConstraint[]): CidrConstraint {
  return allFields(constraints, (candidate, kept) => {
    const a = ipv4Span(candidate);
    const b = ipv4Span(kept);
    return a < b || (a === b && candidate.length < kept.length);
  });
}

function networkKey(network: CidrNetwork): string {
  return network.family === 4 ? `4 ${network.v4}/${network.prefix}` : `6 ${network.v6.join(':')}/${network.prefix}`;
}

/** The union of network lists, without duplicates, in order. */
function unionNetworks(lists: readonly (readonly CidrNetwork[])[]): CidrNetwork[] {
  return unionBy(lists, networkKey);
}

/** Constraints of a disjunction: fields constrained in every branch, networks unioned. */
export function cidrsAny(constraints: readonly CidrConstraint[]): CidrConstraint {
  return anyFields(constraints, unionNetworks);
}

/**
 * The constraint of one `field|cidr` item (not `neq`, not a keyword): `perValue` holds, for each
 * listed value, the networks it stands for (one, or those `expand` gives). The values are ORed,
 * or ANDed with `all`.
 */
export function itemCidrs(field: string, perValue: readonly (readonly CidrNetwork[])[], all: boolean): CidrConstraint {
  if (perValue.length === 0) return NO_CIDRS;
  if (all) return cidrsAll(perValue.map((networks) => new Map([[field, networks]])));
  return new Map([[field, unionNetworks(perValue)]]);
}

/**
 * True when the record satisfies the constraint, read exactly as the matcher reads fields. A
 * record for which this is false never matches the rule.
 */
export function admitsRecordCidrs(required: CidrConstraint, record: unknown): boolean {
  for (const [field, networks] of required) {
    const path = compileFieldPath(field);
    const ok = someTerminal(record, path, (value) => someScalar(value, (scalar) => typeof scalar === 'string' && networks.some((network) => cidrContains(network, scalar))));
    if (!ok) return false;
  }
  return true;
}
