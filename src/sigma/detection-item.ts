/**
 * One detection item, `field|modifiers: value(s)` (or a keyword list), compiled into a record
 * predicate plus the promises it makes about matching records: required values, substrings
 * and networks (src/sigma/required-values.ts, required-substrings.ts, required-cidrs.ts).
 *
 * Values in a list are OR-linked (AND with `|all`). `neq` negates the whole item: the field is
 * different from every listed value (a missing field counts as different). `null` matches a
 * missing or null field; per the specification it cannot share a list with other values.
 * Keywords (a plain value list, or a `'|modifier'` key with no field name) search every string,
 * number and boolean of the record; a keyword without `contains`/`startswith`/`endswith`/`re`
 * matches anywhere in a value (it is applied to "the full log message").
 */
import type { LocatedError } from '../core/errors.ts';
import type { LogRecord } from '../core/envelope.ts';
import { cidrContains, parseCidr } from './cidr.ts';
import type { CidrNetwork } from './cidr.ts';
import { base64, base64offset, utf16, windash, wrapWildcards } from './encoding.ts';
import { compileFieldPath, compileFieldScalarTest, existsTerminal, isNullTerminal, someScalar, someTerminal } from './field-path.ts';
import type { FieldPath } from './field-path.ts';
import { planModifiers, parseFieldKey } from './modifiers.ts';
import type { ModifierPlan } from './modifiers.ts';
import { formatPosition } from './parse.ts';
import { expandPlaceholders } from './placeholders.ts';
import { SigmaProblem } from './problem.ts';
import { compileSigmaRegex } from './regex.ts';
import { itemCidrs, NO_CIDRS } from './required-cidrs.ts';
import type { CidrConstraint } from './required-cidrs.ts';
import { itemSubstrings, NO_SUBSTRINGS, patternLiteral, regexLiteral } from './required-substrings.ts';
import type { SubstringConstraint } from './required-substrings.ts';
import { constrainAll, NO_CONSTRAINT } from './required-values.ts';
import type { Constraint } from './required-values.ts';
import { anyOfTests, compileEqualityTest, compilePatternTest } from './string-match.ts';
import type { ScalarTest } from './string-match.ts';
import { extractTimePart } from './time-parts.ts';
import type { PlaceholderValues, RequiredLiteral, SigmaNode, SigmaScalarNode, SourcePosition } from './types.ts';
import { literalText, parseSigmaString } from './wildcard.ts';
import type { SigmaPattern } from './wildcard.ts';

export type RecordPredicate = (record: LogRecord) => boolean;

export interface CompiledItem {
  readonly test: RecordPredicate;
  readonly constraint: Constraint;
  /** See src/sigma/required-substrings.ts. */
  readonly substrings: SubstringConstraint;
  /** See src/sigma/required-cidrs.ts. */
  readonly cidrs: CidrConstraint;
}

export interface ItemContext {
  readonly errors: LocatedError[];
  readonly vars: PlaceholderValues | undefined;
  /** CompileOptions.deferRegex. */
  readonly deferRegex?: boolean;
}

type Scalar = string | number | boolean;

const MATCH_NOTHING: RecordPredicate = () => false;

function report(ctx: ItemContext, code: LocatedError['code'], message: string, position: SourcePosition): undefined {
  ctx.errors.push({ code, message, location: formatPosition(position) });
  return undefined;
}

/** The scalar nodes of an item's value: one scalar or a flat list of scalars. */
function valueNodes(node: SigmaNode, ctx: ItemContext, what: string): SigmaScalarNode[] | undefined {
  if (node.kind === 'scalar') return [node];
  if (node.kind === 'map') return report(ctx, 'TH_RULE_VALUE', `${what} must be a value or a list of values, not a mapping`, node.position);
  if (node.items.length === 0) return report(ctx, 'TH_RULE_VALUE', `${what} has an empty list of values`, node.position);
  const out: SigmaScalarNode[] = [];
  for (const item of node.items) {
    if (item.kind !== 'scalar') return report(ctx, 'TH_RULE_VALUE', `${what}: a list of values cannot hold a ${item.kind === 'map' ? 'mapping' : 'list'}`, item.position);
    out.push(item);
  }
  return out;
}

function scalarText(value: Scalar): string {
  return typeof value === 'string' ? value : String(value);
}

/** The patterns a string value becomes after placeholders and transformations. */
function stringPatterns(value: Scalar, plan: ModifierPlan, keyword: boolean, vars: PlaceholderValues | undefined): SigmaPattern[] {
  const tokens = parseSigmaString(scalarText(value), plan.expand);
  let patterns: SigmaPattern[] = plan.expand
    ? expandPlaceholders(tokens, vars).map((list) => ({ tokens: list, bytes: false }))
    : [{ tokens, bytes: false }];
  for (const transform of plan.transforms) {
    switch (transform) {
      case 'contains':
        patterns = patterns.map((p) => wrapWildcards(p, true, true));
        break;
      case 'startswith':
        patterns = patterns.map((p) => wrapWildcards(p, false, true));
        break;
      case 'endswith':
        patterns = patterns.map((p) => wrapWildcards(p, true, false));
        break;
      case 'windash':
        patterns = patterns.map(windash);
        break;
      case 'base64':
        patterns = patterns.flatMap(base64);
        break;
      case 'base64offset':
        patterns = patterns.flatMap(base64offset);
        break;
      case 'utf16le':
      case 'wide':
        patterns = patterns.flatMap((p) => utf16(p, 'utf16le'));
        break;
      case 'utf16be':
        patterns = patterns.flatMap((p) => utf16(p, 'utf16be'));
        break;
      case 'utf16':
        patterns = patterns.flatMap((p) => utf16(p, 'utf16'));
        break;
    }
  }
  if (keyword && plan.shape === undefined) patterns = patterns.map((p) => wrapWildcards(p, true, true));
  return patterns;
}

/** One test for a set of patterns: literals share one equality test, the rest are ORed. */
function patternsTest(patterns: readonly SigmaPattern[], cased: boolean): ScalarTest {
  if (patterns.length === 0) return () => false;
  const literals: string[] = [];
  const tests: ScalarTest[] = [];
  for (const pattern of patterns) {
    const literal = literalText(pattern.tokens);
    if (literal !== undefined) literals.push(literal);
    else tests.push(compilePatternTest(pattern.tokens, cased));
  }
  if (literals.length > 0) tests.unshift(compileEqualityTest(literals, cased));
  return anyOfTests(tests);
}

/** A number from a rule value (a YAML number or a numeric string). */
function ruleNumber(value: Scalar): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

/** A number from an event value: a number, or a string that is exactly a number. NaN otherwise. */
function eventNumber(value: Scalar): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.length === 0) return Number.NaN;
  if (value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32) return Number.NaN;
  return Number(value);
}

function compareTest(plan: ModifierPlan, reference: number): ScalarTest {
  const part = plan.timePart;
  const read = part === undefined ? eventNumber : (value: Scalar): number => (typeof value === 'string' ? extractTimePart(value, part) : Number.NaN);
  switch (plan.compare) {
    case 'lt':
      return (value) => read(value) < reference;
    case 'lte':
      return (value) => read(value) <= reference;
    case 'gt':
      return (value) => read(value) > reference;
    case 'gte':
      return (value) => read(value) >= reference;
    default:
      return (value) => read(value) === reference;
  }
}

function cidrTest(networks: readonly CidrNetwork[]): ScalarTest {
  return (value) => {
    if (typeof value !== 'string') return false;
    for (let i = 0; i < networks.length; i++) if (cidrContains(networks[i] as CidrNetwork, value)) return true;
    return false;
  };
}

function fieldrefPredicate(path: FieldPath, reference: FieldPath, plan: ModifierPlan): RecordPredicate {
  const fold = (value: Scalar): string => (plan.cased ? scalarText(value) : scalarText(value).toLowerCase());
  const compare = plan.shape === 'contains'
    ? (a: string, b: string): boolean => a.includes(b)
    : plan.shape === 'startswith'
      ? (a: string, b: string): boolean => a.startsWith(b)
      : plan.shape === 'endswith'
        ? (a: string, b: string): boolean => a.endsWith(b)
        : (a: string, b: string): boolean => a === b;
  return (record) => {
    const others: string[] = [];
    // Depth passed on: the walk into the record stays bounded (field-path.ts).
    someTerminal(record, reference, (value, depth) => someScalar(value, (scalar) => {
      others.push(fold(scalar));
      return false;
    }, depth));
    if (others.length === 0) return false;
    return someTerminal(record, path, (value, depth) => someScalar(value, (scalar) => {
      const mine = fold(scalar);
      for (const other of others) if (compare(mine, other)) return true;
      return false;
    }, depth));
  };
}

function andAll(tests: readonly RecordPredicate[]): RecordPredicate {
  if (tests.length === 1) return tests[0] as RecordPredicate;
  const list = tests.slice();
  return (record) => {
    for (let i = 0; i < list.length; i++) if (!(list[i] as RecordPredicate)(record)) return false;
    return true;
  };
}

function orAll(tests: readonly RecordPredicate[]): RecordPredicate {
  if (tests.length === 1) return tests[0] as RecordPredicate;
  const list = tests.slice();
  return (record) => {
    for (let i = 0; i < list.length; i++) if ((list[i] as RecordPredicate)(record)) return true;
    return false;
  };
}

/**
 * Compile one item. `key` is the YAML key (`field|mods`; `''` or `'|mods'` for keywords, and
 * `undefined` for a keyword list given directly as the search identifier's value).
 */
export function compileDetectionItem(key: string | undefined, keyPosition: SourcePosition, valueNode: SigmaNode, ctx: ItemContext): CompiledItem | undefined {
  const { field, modifiers } = key === undefined ? { field: '', modifiers: [] as string[] } : parseFieldKey(key);
  const keyword = field === '';
  const planned = planModifiers(modifiers, keyword);
  const label = key === undefined ? 'keyword list' : `'${key}'`;
  if (typeof planned === 'string') return report(ctx, 'TH_RULE_MODIFIER', `${label}: ${planned}`, keyPosition);
  const plan = planned;
  const nodes = valueNodes(valueNode, ctx, label);
  if (nodes === undefined) return undefined;
  if (plan.all && nodes.length < 2) {
    return report(ctx, 'TH_RULE_MODIFIER', `${label}: 'all' needs a list of at least two values (the specification does not allow it on a single value)`, keyPosition);
  }

  // null: its own type, alone.
  const nulls = nodes.filter((node) => node.value === null);
  if (nulls.length > 0) {
    if (nodes.length > 1) {
      return report(ctx, 'TH_RULE_VALUE', `${label}: null cannot be part of a list of values; put 'field: null' in its own selection`, (nulls[0] as SigmaScalarNode).position);
    }
    if (keyword) return report(ctx, 'TH_RULE_VALUE', 'a keyword cannot be null', (nulls[0] as SigmaScalarNode).position);
    if (plan.modifiers.some((name) => name !== 'neq')) {
      return report(ctx, 'TH_RULE_VALUE', `${label}: null cannot take modifiers; use '|exists: false' to test that a field is missing`, (nulls[0] as SigmaScalarNode).position);
    }
    const path = compileFieldPath(field);
    const isNull: RecordPredicate = (record) => someTerminal(record, path, isNullTerminal);
    return { test: plan.neq ? (record) => !isNull(record) : isNull, constraint: NO_CONSTRAINT, substrings: NO_SUBSTRINGS, cidrs: NO_CIDRS };
  }
  const values = nodes as (SigmaScalarNode & { value: Scalar })[];
  const path = compileFieldPath(field);
  const onField = (test: ScalarTest): RecordPredicate => (keyword ? (record) => someScalar(record, test) : compileFieldScalarTest(path, test));
  const errorsBefore = ctx.errors.length;

  if (plan.kind === 'exists') {
    const value = (values[0] as SigmaScalarNode).value;
    if (typeof value !== 'boolean') return report(ctx, 'TH_RULE_VALUE', `${label}: exists takes true or false`, (values[0] as SigmaScalarNode).position);
    const exists: RecordPredicate = (record) => someTerminal(record, path, existsTerminal);
    return { test: value ? exists : (record) => !exists(record), constraint: NO_CONSTRAINT, substrings: NO_SUBSTRINGS, cidrs: NO_CIDRS };
  }

  // Per value: a scalar test (most kinds) or a record predicate (fieldref), for plain
  // equality the lowercased values it admits, the literals one of which it requires
  // (string patterns without encodings, and regular expressions), and for cidr its networks.
  const scalarTests: ScalarTest[] = [];
  const recordTests: RecordPredicate[] = [];
  const allPatterns: SigmaPattern[] = [];
  const admitted: (ReadonlySet<string> | undefined)[] = [];
  const literalsPerValue: (readonly RequiredLiteral[] | undefined)[] = [];
  const networksPerValue: (readonly CidrNetwork[])[] = [];
  const shapesOnly = plan.transforms.every((transform) => transform === 'contains' || transform === 'startswith' || transform === 'endswith');
  for (const node of values) {
    try {
      switch (plan.kind) {
        case 'string': {
          const patterns = stringPatterns(node.value, plan, keyword, ctx.vars);
          if (plan.all) scalarTests.push(patternsTest(patterns, plan.cased));
          else allPatterns.push(...patterns);
          const literals = patterns.map((p) => literalText(p.tokens));
          admitted.push(plan.plain && !keyword && literals.every((l) => l !== undefined)
            ? new Set(literals.map((l) => (l as string).toLowerCase()))
            : undefined);
          const required = shapesOnly && patterns.length > 0 ? patterns.map((p) => patternLiteral(p.tokens, plan.cased)) : [undefined];
          literalsPerValue.push(required.every((l) => l !== undefined) ? required as RequiredLiteral[] : undefined);
          break;
        }
        case 're': {
          const source = scalarText(node.value);
          const flags = plan.reFlags;
          let search = ctx.deferRegex === true ? undefined : compileSigmaRegex(source, flags).test;
          // Deferred (CompileOptions.deferRegex): a pattern the first load refused matches nothing here (that load left its rule out).
          const first = (): ((text: string) => boolean) => {
            try {
              return compileSigmaRegex(source, flags).test;
            } catch {
              return () => false;
            }
          };
          scalarTests.push((value) => (search ??= first())(typeof value === 'string' ? value : String(value)));
          const required = regexLiteral(scalarText(node.value), plan.reFlags);
          literalsPerValue.push(required === undefined ? undefined : [required]);
          break;
        }
        case 'cidr': {
          const texts = plan.expand
            ? expandPlaceholders(parseSigmaString(scalarText(node.value), true), ctx.vars).map((tokens) => literalText(tokens) ?? '*')
            : [scalarText(node.value)];
          const networks: CidrNetwork[] = [];
          for (const text of texts) {
            const network = parseCidr(text);
            if (network === undefined) throw new SigmaProblem('TH_RULE_VALUE', `'${text}' is not an IPv4 or IPv6 CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`);
            networks.push(network);
          }
          scalarTests.push(cidrTest(networks));
          networksPerValue.push(networks);
          break;
        }
        case 'numeric':
        case 'time': {
          const reference = ruleNumber(node.value);
          if (!Number.isFinite(reference)) throw new SigmaProblem('TH_RULE_VALUE', `'${scalarText(node.value)}' is not a number`);
          scalarTests.push(compareTest(plan, reference));
          break;
        }
        case 'fieldref': {
          if (typeof node.value !== 'string' || node.value.length === 0) throw new SigmaProblem('TH_RULE_VALUE', 'fieldref takes the name of another field');
          recordTests.push(fieldrefPredicate(path, compileFieldPath(node.value), plan));
          break;
        }
      }
    } catch (error) {
      if (error instanceof SigmaProblem) report(ctx, error.code, `${label}: ${error.message}`, node.position);
      else throw error;
    }
  }
  if (ctx.errors.length > errorsBefore) return undefined;

  let positive: RecordPredicate;
  if (plan.kind === 'fieldref') {
    positive = plan.all ? andAll(recordTests) : orAll(recordTests);
  } else if (plan.kind === 'string' && !plan.all) {
    positive = allPatterns.length === 0 ? MATCH_NOTHING : onField(patternsTest(allPatterns, plan.cased));
  } else if (plan.all) {
    positive = andAll(scalarTests.map(onField));
  } else {
    positive = onField(anyOfTests(scalarTests));
  }

  let constraint: Constraint = NO_CONSTRAINT;
  if (!plan.neq && admitted.length > 0 && admitted.every((set) => set !== undefined)) {
    const sets = admitted as ReadonlySet<string>[];
    if (plan.all) {
      constraint = constrainAll(sets.map((set) => new Map([[field, set]])));
    } else {
      const union = new Set<string>();
      for (const set of sets) for (const value of set) union.add(value);
      constraint = new Map([[field, union]]);
    }
  }
  const substrings = plan.neq || keyword || (plan.kind !== 'string' && plan.kind !== 're') || literalsPerValue.length !== values.length
    ? NO_SUBSTRINGS
    : itemSubstrings(field, literalsPerValue, plan.all);
  const cidrs = plan.kind === 'cidr' && !plan.neq && !keyword ? itemCidrs(field, networksPerValue, plan.all) : NO_CIDRS;
  return { test: plan.neq ? (record) => !positive(record) : positive, constraint, substrings, cidrs };
}
