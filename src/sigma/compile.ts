/**
 * A detection section (search identifiers + condition) compiled into one predicate and the
 * promises it makes about every record it matches: the required values the engine indexes on,
 * the required substrings its raw pre-filter reads and the required networks its flow-log
 * pre-filter reads (src/sigma/required-values.ts, required-substrings.ts, required-cidrs.ts).
 *
 * Search identifiers (sigma-rules-specification.md, "Detection"):
 * - a mapping: AND of its items (`field|modifiers: value(s)`, or `'|modifiers'` keywords);
 * - a list of mappings: OR of the mappings;
 * - a list of plain values (or one plain value): keywords, OR-linked.
 *
 * `condition` is a string or a list of strings (ORed). `N of X` (N >= 2) holds when at least N
 * of the identifiers X names match; its promises are those of `1 of X` (at least one of them
 * holds, so only what every one of them promises is promised), which is sound and no weaker
 * than a choice among N of them would allow in general. The Sigma 1.0 aggregation (`| count()`,
 * `| near`) and the 1.0 `timeframe` key are rejected with TH_RULE_DEPRECATED_AGGREGATION.
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { LogRecord } from '../core/envelope.ts';
import type { CidrNetwork } from './cidr.ts';
import { parseCondition } from './condition.ts';
import type { ConditionNode } from './condition.ts';
import { compileDetectionItem } from './detection-item.ts';
import type { CompiledItem, ItemContext, RecordPredicate } from './detection-item.ts';
import { formatPosition, isSigmaNode, plainToNode, positionWithin } from './parse.ts';
import { cidrsAll, cidrsAny, NO_CIDRS } from './required-cidrs.ts';
import type { CidrConstraint } from './required-cidrs.ts';
import { NO_SUBSTRINGS, substringsAll, substringsAny } from './required-substrings.ts';
import type { SubstringConstraint } from './required-substrings.ts';
import { constrainAll, constrainAny, NO_CONSTRAINT } from './required-values.ts';
import type { Constraint } from './required-values.ts';
import type { CompileOptions, RequiredLiteral, SigmaMapNode, SigmaNode, SigmaScalarNode } from './types.ts';
import { identifierPatternRegExp } from './wildcard.ts';

/** A compiled detection (or filter) section. */
export interface CompiledSearch {
  /** True when the record satisfies the condition. Never throws. */
  match: (record: LogRecord) => boolean;
  /** See CompiledDetectionRule.requiredValues and src/sigma/required-values.ts. */
  requiredValues: ReadonlyMap<string, ReadonlySet<string>>;
  /** See CompiledDetectionRule.requiredSubstrings and src/sigma/required-substrings.ts. */
  requiredSubstrings: ReadonlyMap<string, readonly RequiredLiteral[]>;
  /** See CompiledDetectionRule.requiredCidrs and src/sigma/required-cidrs.ts. */
  requiredCidrs: ReadonlyMap<string, readonly CidrNetwork[]>;
}

export interface DetectionSectionOptions extends CompileOptions {
  /**
   * Keys of the section that are neither search identifiers nor `condition`, and are skipped.
   * A filter document passes `['rules']`.
   */
  reservedKeys?: readonly string[];
}

interface Compiled {
  test: RecordPredicate;
  constraint: Constraint;
  substrings: SubstringConstraint;
  cidrs: CidrConstraint;
}

/** A conjunction: the AND of the tests, and every promise of every part. */
function allOf(parts: readonly Compiled[]): Compiled {
  return {
    test: and(parts.map((p) => p.test)),
    constraint: constrainAll(parts.map((p) => p.constraint)),
    substrings: substringsAll(parts.map((p) => p.substrings)),
    cidrs: cidrsAll(parts.map((p) => p.cidrs)),
  };
}

/** A disjunction: the OR of the tests, and the promises every part makes. */
function anyOf(parts: readonly Compiled[]): Compiled {
  return {
    test: or(parts.map((p) => p.test)),
    constraint: constrainAny(parts.map((p) => p.constraint)),
    substrings: substringsAny(parts.map((p) => p.substrings)),
    cidrs: cidrsAny(parts.map((p) => p.cidrs)),
  };
}

/**
 * At least `count` of the parts (2 <= count <= parts.length): the tests run in order and stop as
 * soon as `count` held or too few remain; a counter on the stack, nothing allocated per record.
 * Its promises are anyOf's: every match satisfies at least one part.
 */
function atLeastOf(count: number, parts: readonly Compiled[]): Compiled {
  const tests = parts.map((p) => p.test);
  const total = tests.length;
  const test: RecordPredicate = (record) => {
    let held = 0;
    for (let i = 0; i < total; i++) {
      if ((tests[i] as RecordPredicate)(record)) {
        held++;
        if (held >= count) return true;
      } else if (total - i - 1 + held < count) {
        return false;
      }
    }
    return false;
  };
  const { constraint, substrings, cidrs } = anyOf(parts);
  return { test, constraint, substrings, cidrs };
}

function compileSearchIdentifier(name: string, node: SigmaNode, ctx: ItemContext): Compiled | undefined {
  const compileMap = (map: SigmaMapNode): Compiled | undefined => {
    if (map.entries.length === 0) {
      ctx.errors.push(located('TH_RULE_SCHEMA', `search identifier '${name}' has an empty mapping`, formatPosition(map.position)));
      return undefined;
    }
    const items: CompiledItem[] = [];
    let failed = false;
    for (const entry of map.entries) {
      const item = compileDetectionItem(entry.key, entry.keyPosition, entry.value, ctx);
      if (item === undefined) failed = true;
      else items.push(item);
    }
    if (failed) return undefined;
    return allOf(items);
  };
  if (node.kind === 'map') return compileMap(node);
  if (node.kind === 'scalar') {
    if (node.value === null) {
      ctx.errors.push(located('TH_RULE_SCHEMA', `search identifier '${name}' is empty`, formatPosition(node.position)));
      return undefined;
    }
    return compileDetectionItem(undefined, node.position, node, ctx);
  }
  if (node.items.length === 0) {
    ctx.errors.push(located('TH_RULE_SCHEMA', `search identifier '${name}' is an empty list`, formatPosition(node.position)));
    return undefined;
  }
  const maps = node.items.filter((item) => item.kind === 'map');
  if (maps.length === 0) return compileDetectionItem(undefined, node.position, node, ctx);
  if (maps.length !== node.items.length) {
    const odd = node.items.find((item) => item.kind !== 'map') as SigmaNode;
    ctx.errors.push(located('TH_RULE_SCHEMA', `search identifier '${name}' mixes mappings and plain values in one list: use a list of mappings (OR) or a list of values (keywords)`, formatPosition(odd.position)));
    return undefined;
  }
  const branches: Compiled[] = [];
  let failed = false;
  for (const map of maps) {
    const compiled = compileMap(map as SigmaMapNode);
    if (compiled === undefined) failed = true;
    else branches.push(compiled);
  }
  if (failed) return undefined;
  return anyOf(branches);
}

function and(tests: readonly RecordPredicate[]): RecordPredicate {
  if (tests.length === 1) return tests[0] as RecordPredicate;
  if (tests.length === 2) {
    const a = tests[0] as RecordPredicate;
    const b = tests[1] as RecordPredicate;
    return (record) => a(record) && b(record);
  }
  const list = tests.slice();
  return (record) => {
    for (let i = 0; i < list.length; i++) if (!(list[i] as RecordPredicate)(record)) return false;
    return true;
  };
}

function or(tests: readonly RecordPredicate[]): RecordPredicate {
  if (tests.length === 1) return tests[0] as RecordPredicate;
  if (tests.length === 2) {
    const a = tests[0] as RecordPredicate;
    const b = tests[1] as RecordPredicate;
    return (record) => a(record) || b(record);
  }
  const list = tests.slice();
  return (record) => {
    for (let i = 0; i < list.length; i++) if ((list[i] as RecordPredicate)(record)) return true;
    return false;
  };
}

const AGGREGATION_HINT = 'Sigma 2 replaced it with correlation rules: rewrite it as a correlation rule (a `correlation:` document';

function aggregationAdvice(aggregation: string): string {
  const lower = aggregation.toLowerCase();
  if (/^count\(\s*\)/.test(lower)) return `${AGGREGATION_HINT} with type: event_count, group-by and timespan)`;
  if (/^count\(/.test(lower)) return `${AGGREGATION_HINT} with type: value_count, group-by and timespan)`;
  if (/^near\b/.test(lower)) return `${AGGREGATION_HINT} with type: temporal or temporal_ordered and timespan)`;
  if (/^sum\(/.test(lower)) return `${AGGREGATION_HINT} with type: value_sum)`;
  if (/^avg\(/.test(lower)) return `${AGGREGATION_HINT} with type: value_avg)`;
  return `${AGGREGATION_HINT})`;
}

/**
 * Compile a detection section. `section` is the located node (from `RawSigmaDocument.tree` or
 * the loader), or a plain parsed object (errors then point at `file:1:1`).
 *
 * How a filter compiler uses it: take the filter document's `tree`, find its `filter` entry
 * (a mapping node) and call
 * `compileDetectionSection(filterEntry.value, file, { ...options, reservedKeys: ['rules'] })`:
 * the selections and `condition` of a filter follow exactly the detection rules, and the
 * result is either `{ match, requiredValues, requiredSubstrings, requiredCidrs }` or the located errors.
 */
export function compileDetectionSection(section: SigmaNode | Readonly<Record<string, unknown>>, file: string, options: DetectionSectionOptions = {}): CompiledSearch | LocatedError[] {
  const node = isSigmaNode(section) ? section : plainToNode(section, { file, line: 1, col: 1 });
  const errors: LocatedError[] = [];
  if (node.kind !== 'map') {
    return [located('TH_RULE_SCHEMA', 'the detection must be a mapping of search identifiers and a condition', formatPosition(node.position))];
  }
  const reserved = new Set(options.reservedKeys ?? []);
  const conditionEntry = node.entries.find((entry) => entry.key === 'condition');
  const timeframeEntry = node.entries.find((entry) => entry.key === 'timeframe');
  if (conditionEntry === undefined) {
    return [located('TH_RULE_SCHEMA', "the detection has no 'condition'", formatPosition(node.position))];
  }

  // The condition: a string or a list of strings.
  const conditionNodes: SigmaScalarNode[] = [];
  const conditionValue = conditionEntry.value;
  const candidates = conditionValue.kind === 'seq' ? conditionValue.items : [conditionValue];
  if (candidates.length === 0) {
    return [located('TH_RULE_SCHEMA', "'condition' is an empty list", formatPosition(conditionValue.position))];
  }
  for (const candidate of candidates) {
    if (candidate.kind !== 'scalar' || typeof candidate.value !== 'string') {
      errors.push(located('TH_RULE_SCHEMA', "'condition' must be a string or a list of strings", formatPosition(candidate.position)));
    } else {
      conditionNodes.push(candidate);
    }
  }
  if (errors.length > 0) return errors;

  const parsed: { ast: ConditionNode; node: SigmaScalarNode }[] = [];
  for (const conditionNode of conditionNodes) {
    const text = conditionNode.value as string;
    const result = parseCondition(text);
    if (result.ok) {
      parsed.push({ ast: result.ast, node: conditionNode });
    } else if (result.kind === 'aggregation') {
      const timeframe = timeframeEntry !== undefined && timeframeEntry.value.kind === 'scalar' ? ` (with timeframe: ${String(timeframeEntry.value.value)})` : '';
      errors.push(located('TH_RULE_DEPRECATED_AGGREGATION', `the condition uses the Sigma 1.0 aggregation '${result.aggregation ?? ''}'${timeframe}, which this engine does not run. ${aggregationAdvice(result.aggregation ?? '')}`, formatPosition(positionWithin(conditionNode, result.offset))));
    } else {
      errors.push(located('TH_RULE_CONDITION', `${result.message} in condition '${text}'`, formatPosition(positionWithin(conditionNode, result.offset))));
    }
  }
  if (errors.some((error) => error.code === 'TH_RULE_DEPRECATED_AGGREGATION')) return errors;
  if (timeframeEntry !== undefined) {
    const value = timeframeEntry.value.kind === 'scalar' ? String(timeframeEntry.value.value) : '...';
    return [located('TH_RULE_DEPRECATED_AGGREGATION', `'timeframe: ${value}' in the detection is the Sigma 1.0 aggregation syntax, which this engine does not run: events that must occur together within a time window are a correlation rule in Sigma 2 (a \`correlation:\` document with type: temporal, event_count or value_count and timespan: ${value})`, formatPosition(timeframeEntry.keyPosition))];
  }

  // Search identifiers, in the order written.
  const ctx: ItemContext = { errors, vars: options.vars, ...(options.deferRegex === true ? { deferRegex: true } : {}) };
  const identifiers = new Map<string, Compiled | undefined>();
  const order: string[] = [];
  for (const entry of node.entries) {
    if (entry.key === 'condition' || reserved.has(entry.key)) continue;
    order.push(entry.key);
    identifiers.set(entry.key, compileSearchIdentifier(entry.key, entry.value, ctx));
  }
  const patternCache = new Map<string, RegExp>();
  const patternRegExp = (pattern: string): RegExp => {
    let regexp = patternCache.get(pattern);
    if (regexp === undefined) {
      regexp = identifierPatternRegExp(pattern);
      patternCache.set(pattern, regexp);
    }
    return regexp;
  };

  // Resolve the condition against them.
  const resolve = (ast: ConditionNode, conditionNode: SigmaScalarNode): Compiled | undefined => {
    switch (ast.kind) {
      case 'identifier': {
        if (!identifiers.has(ast.name)) {
          errors.push(located('TH_RULE_IDENTIFIER', `the condition names '${ast.name}', which the detection does not define${order.length > 0 ? ` (defined: ${order.join(', ')})` : ''}`, formatPosition(positionWithin(conditionNode, ast.offset))));
          return undefined;
        }
        return identifiers.get(ast.name);
      }
      case 'of': {
        const names = ast.pattern === 'them'
          ? order.filter((name) => !name.startsWith('_'))
          : order.filter((name) => patternRegExp(ast.pattern).test(name));
        if (names.length === 0) {
          errors.push(located('TH_RULE_IDENTIFIER', ast.pattern === 'them'
              ? "'them' refers to no search identifier (identifiers starting with '_' are left out)"
              : `the pattern '${ast.pattern}' matches no search identifier${order.length > 0 ? ` (defined: ${order.join(', ')})` : ''}`, formatPosition(positionWithin(conditionNode, ast.offset))));
          return undefined;
        }
        const parts = names.map((name) => identifiers.get(name));
        if (parts.some((part) => part === undefined)) return undefined;
        const compiled = parts as Compiled[];
        if (ast.quantifier === 'count') {
          const count = ast.count ?? 1;
          if (count > compiled.length) {
            errors.push(located('TH_RULE_CONDITION', `'${count} of ${ast.pattern}' can never hold: ${ast.pattern === 'them' ? "'them'" : `the pattern '${ast.pattern}'`} names ${compiled.length} search identifier${compiled.length === 1 ? '' : 's'} (${names.join(', ')}); lower the count or use 'all of'`, formatPosition(positionWithin(conditionNode, ast.offset))));
            return undefined;
          }
          return count === compiled.length ? allOf(compiled) : atLeastOf(count, compiled);
        }
        return ast.quantifier === 'all' ? allOf(compiled) : anyOf(compiled);
      }
      case 'not': {
        const operand = resolve(ast.operand, conditionNode);
        if (operand === undefined) return undefined;
        const inner = operand.test;
        return { test: (record) => !inner(record), constraint: NO_CONSTRAINT, substrings: NO_SUBSTRINGS, cidrs: NO_CIDRS };
      }
      case 'and':
      case 'or': {
        const operands = ast.operands.map((operand) => resolve(operand, conditionNode));
        if (operands.some((operand) => operand === undefined)) return undefined;
        const compiled = operands as Compiled[];
        return ast.kind === 'and' ? allOf(compiled) : anyOf(compiled);
      }
    }
  };
  const conditions: Compiled[] = [];
  for (const { ast, node: conditionNode } of parsed) {
    const compiled = resolve(ast, conditionNode);
    if (compiled !== undefined) conditions.push(compiled);
  }
  if (errors.length > 0 || conditions.length === 0) {
    return errors.length > 0 ? errors : [located('TH_RULE_SCHEMA', 'the detection has no usable condition', formatPosition(conditionEntry.keyPosition))];
  }
  const { test, constraint: requiredValues, substrings: requiredSubstrings, cidrs: requiredCidrs } = anyOf(conditions);
  const match = (record: LogRecord): boolean => {
    try {
      return test(record);
    } catch {
      return false;
    }
  };
  return { match, requiredValues, requiredSubstrings, requiredCidrs };
}
