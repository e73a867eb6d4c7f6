/**
 * Sigma correlation documents (sigma-correlation-rules-specification.md, v2.1): parsed and
 * checked into a typed CorrelationRule. References to other rules are kept as written here;
 * they are resolved against the whole rule set by src/engine/correlation-resolve.ts.
 *
 * Choices where the specification is loose or silent:
 * - `value_median` (pySigma) is the 50th percentile; `value_percentile` needs
 *   `condition.percentile` (0-100, as in pySigma): the specification's own example omits it and
 *   cannot be computed without it, so such a rule is rejected rather than guessed at.
 * - `group-by` may be left out: every event then falls in one group.
 * - `generate` is read at the top level (JSON schema) or inside `correlation:` (pySigma).
 * - `timespan` is one number and one unit (s, m, h, d, w); `1h30m` is rejected ("use 90m").
 * - `condition` holds one or two of gt gte lt lte eq neq (two make a range); temporal types
 *   default to `gte: <number of rules>`.
 */
import type { LocatedError } from '../core/errors.ts';
import { readDocumentMeta } from './meta.ts';
import { formatPosition, mapEntry, plainToNode } from './parse.ts';
import type { RawSigmaDocument, SigmaDocumentMeta, SigmaMapNode, SigmaNode, SourcePosition } from './types.ts';

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
] as const;

export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const CONDITION_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface ConditionTerm {
  operator: ConditionOperator;
  threshold: number;
}

export interface CorrelationCondition {
  /** One term, or two for a range; all must hold. */
  terms: ConditionTerm[];
  /** `field` for the value_* types: the field (or alias) whose values are aggregated; several for value_count (distinct combinations). */
  fields: string[];
  /** value_percentile only: which percentile (0-100); value_median uses 50. */
  percentile?: number;
}

/** A correlation document, checked; `rules` and alias keys are references still to resolve. */
export interface CorrelationRule extends SigmaDocumentMeta {
  kind: 'correlation';
  type: CorrelationType;
  /** Referenced rules, by `name` or `id`, in order (order matters to temporal_ordered). */
  rules: string[];
  /** Group-by entries: field paths, or alias names from `aliases`. */
  groupBy: string[];
  /** alias -> (rule reference as written -> field path in that rule's events). */
  aliases: ReadonlyMap<string, ReadonlyMap<string, string>>;
  timespanMs: number;
  timespan: string;
  condition: CorrelationCondition;
  generate: boolean;
  /** Where each reference of `rules` was written, for located reference errors. */
  rulePositions: SourcePosition[];
  source: Readonly<Record<string, unknown>>;
}

export const VALUE_TYPES: ReadonlySet<CorrelationType> = new Set(['value_count', 'value_sum', 'value_avg', 'value_percentile', 'value_median']);
export const TEMPORAL_TYPES: ReadonlySet<CorrelationType> = new Set(['temporal', 'temporal_ordered']);

const TIMESPAN_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m` -> 1 800 000 ms. Undefined when the text is not one positive number and one unit (s, m, h, d, w). */
export function parseTimespan(text: string): number | undefined {
  const match = /^([1-9][0-9]*)([smhdw])$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = TIMESPAN_UNITS[match[2] as string] as number;
  const value = Number(match[1]) * unit;
  return Number.isSafeInteger(value) ? value : undefined;
}

function timespanAdvice(text: string): string {
  if (/^\d+[My]$/.test(text)) return 'months and years are not fixed durations: use days (e.g. 30d)';
  if (/^(\d+[smhdw]){2,}$/.test(text)) return 'write one number and one unit (for 1h30m, write 90m)';
  if (/^\d+$/.test(text)) return 'add a unit: s, m, h, d or w (e.g. 30m)';
  return 'write a positive number and one unit: s, m, h, d or w (e.g. 30m)';
}

const SECTION_KEYS = new Set(['type', 'rules', 'aliases', 'group-by', 'timespan', 'condition', 'generate']);

class Reader {
  readonly errors: LocatedError[] = [];

  fail(node: { position: SourcePosition }, message: string, code: LocatedError['code'] = 'TH_RULE_SCHEMA'): void {
    this.errors.push({ code, message, location: formatPosition(node.position) });
  }

  /** A string, or a list of strings (a single string is taken as a one-item list). */
  stringList(node: SigmaNode, what: string): { values: string[]; positions: SourcePosition[] } | undefined {
    const items = node.kind === 'seq' ? node.items : [node];
    const values: string[] = [];
    const positions: SourcePosition[] = [];
    for (const item of items) {
      if (item.kind !== 'scalar' || item.value === null || item.value === '') {
        this.fail(item, `${what} must be a string or a list of strings`);
        return undefined;
      }
      values.push(String(item.value));
      positions.push(item.position);
    }
    return { values, positions };
  }
}

/** "an event_count correlation", "a value_sum correlation". */
function withArticle(type: CorrelationType): string {
  return `${type.startsWith('e') ? 'an' : 'a'} ${type}`;
}

function isNull(node: SigmaNode): boolean {
  return node.kind === 'scalar' && node.value === null;
}

function readType(section: SigmaMapNode, reader: Reader): CorrelationType | undefined {
  const entry = mapEntry(section, 'type');
  if (entry === undefined) {
    reader.fail(section, `'correlation.type' is required: one of ${CORRELATION_TYPES.join(', ')}`);
    return undefined;
  }
  const value = entry.value.kind === 'scalar' ? entry.value.value : undefined;
  if (typeof value === 'string' && (CORRELATION_TYPES as readonly string[]).includes(value)) return value as CorrelationType;
  if (typeof value === 'string' && /^temporal(_ordered)?_extended$/.test(value)) {
    reader.fail(entry.value, `correlation type '${value}' (pySigma's boolean-expression extension) is not supported: use temporal or temporal_ordered with a count condition`, 'TH_RULE_UNSUPPORTED');
    return undefined;
  }
  reader.fail(entry.value, `unknown correlation type ${JSON.stringify(value)}: use one of ${CORRELATION_TYPES.join(', ')}`);
  return undefined;
}

function readRules(section: SigmaMapNode, type: CorrelationType | undefined, reader: Reader): { values: string[]; positions: SourcePosition[] } | undefined {
  const entry = mapEntry(section, 'rules');
  if (entry === undefined || isNull(entry.value)) {
    reader.fail(entry?.value ?? section, "'correlation.rules' is required: the names or ids of the rules to correlate");
    return undefined;
  }
  const list = reader.stringList(entry.value, "'correlation.rules'");
  if (list === undefined) return undefined;
  if (list.values.length === 0) {
    reader.fail(entry.value, "'correlation.rules' is empty");
    return undefined;
  }
  const seen = new Set<string>();
  for (const [index, value] of list.values.entries()) {
    if (seen.has(value)) {
      reader.fail({ position: list.positions[index] as SourcePosition }, `rule '${value}' is listed twice in 'correlation.rules'`);
      return undefined;
    }
    seen.add(value);
  }
  if (type !== undefined && TEMPORAL_TYPES.has(type) && list.values.length < 2) {
    reader.fail(entry.value, `${withArticle(type)} correlation relates at least two rules; for one rule use event_count`);
    return undefined;
  }
  return list;
}

function readGroupBy(section: SigmaMapNode, reader: Reader): string[] | undefined {
  const entry = mapEntry(section, 'group-by');
  if (entry === undefined || isNull(entry.value)) return [];
  const list = reader.stringList(entry.value, "'correlation.group-by'");
  if (list === undefined) return undefined;
  if (new Set(list.values).size !== list.values.length) {
    reader.fail(entry.value, "'correlation.group-by' lists a field twice");
    return undefined;
  }
  return list.values;
}

function readAliases(section: SigmaMapNode, reader: Reader): Map<string, Map<string, string>> | undefined {
  const aliases = new Map<string, Map<string, string>>();
  const entry = mapEntry(section, 'aliases');
  if (entry === undefined || isNull(entry.value)) return aliases;
  if (entry.value.kind !== 'map') {
    reader.fail(entry.value, "'correlation.aliases' must map each alias to {rule name: field}");
    return undefined;
  }
  for (const alias of entry.value.entries) {
    if (alias.value.kind !== 'map' || alias.value.entries.length === 0) {
      reader.fail(alias.value, `alias '${alias.key}' must map rule names to field names (e.g. ${alias.key}: {rule_a: source.ip})`);
      return undefined;
    }
    const mapping = new Map<string, string>();
    for (const item of alias.value.entries) {
      if (item.value.kind !== 'scalar' || item.value.value === null || item.value.value === '') {
        reader.fail(item.value, `alias '${alias.key}': the field for rule '${item.key}' must be a field name`);
        return undefined;
      }
      mapping.set(item.key, String(item.value.value));
    }
    aliases.set(alias.key, mapping);
  }
  return aliases;
}

function readTimespan(section: SigmaMapNode, reader: Reader): { text: string; ms: number } | undefined {
  const entry = mapEntry(section, 'timespan');
  if (entry === undefined || isNull(entry.value)) {
    reader.fail(section, "'correlation.timespan' is required (e.g. 30m)");
    return undefined;
  }
  const text = entry.value.kind === 'scalar' ? String(entry.value.value) : '';
  const ms = parseTimespan(text);
  if (ms === undefined) {
    reader.fail(entry.value, `invalid timespan ${JSON.stringify(text)}: ${timespanAdvice(text)}`);
    return undefined;
  }
  return { text, ms };
}

function readCondition(section: SigmaMapNode, type: CorrelationType, ruleCount: number, reader: Reader): CorrelationCondition | undefined {
  const entry = mapEntry(section, 'condition');
  const temporal = TEMPORAL_TYPES.has(type);
  if (entry === undefined || isNull(entry.value)) {
    if (temporal) return { terms: [{ operator: 'gte', threshold: ruleCount }], fields: [] };
    reader.fail(section, `${withArticle(type)} correlation needs a 'condition' (e.g. condition: {gte: 10}${VALUE_TYPES.has(type) ? ' with field' : ''})`);
    return undefined;
  }
  const node = entry.value;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    reader.fail(node, 'a correlation condition written as an expression (pySigma extended conditions) is not supported: use a mapping such as {gte: 2}', 'TH_RULE_UNSUPPORTED');
    return undefined;
  }
  if (node.kind !== 'map') {
    reader.fail(node, "'correlation.condition' must be a mapping such as {gte: 5} or {gt: 100, lte: 200}");
    return undefined;
  }
  const terms: ConditionTerm[] = [];
  let fields: string[] = [];
  let percentile: number | undefined;
  for (const item of node.entries) {
    if ((CONDITION_OPERATORS as readonly string[]).includes(item.key)) {
      const value = item.value.kind === 'scalar' ? item.value.value : undefined;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        reader.fail(item.value, `condition '${item.key}' must be a number`);
        return undefined;
      }
      terms.push({ operator: item.key as ConditionOperator, threshold: value });
    } else if (item.key === 'field') {
      const list = reader.stringList(item.value, "'condition.field'");
      if (list === undefined) return undefined;
      fields = list.values;
    } else if (item.key === 'percentile') {
      const value = item.value.kind === 'scalar' ? item.value.value : undefined;
      if (typeof value !== 'number' || !(value >= 0 && value <= 100)) {
        reader.fail(item.value, "'condition.percentile' must be a number from 0 to 100");
        return undefined;
      }
      percentile = value;
    } else {
      reader.fail({ position: item.keyPosition }, `unknown condition key '${item.key}': use ${CONDITION_OPERATORS.join(', ')}, field${type === 'value_percentile' ? ', percentile' : ''}`);
      return undefined;
    }
  }
  if (terms.length === 0 || terms.length > 2) {
    reader.fail(node, `the condition needs one comparison (${CONDITION_OPERATORS.join(', ')}), or two for a range; it has ${terms.length}`);
    return undefined;
  }
  if (VALUE_TYPES.has(type)) {
    if (fields.length === 0) {
      reader.fail(node, `${withArticle(type)} correlation needs 'condition.field': the field whose values it aggregates`);
      return undefined;
    }
    if (type !== 'value_count' && fields.length > 1) {
      reader.fail(node, `${withArticle(type)} correlation aggregates one numeric field; 'condition.field' lists ${fields.length}`);
      return undefined;
    }
  } else if (fields.length > 0) {
    reader.fail(node, `'condition.field' has no meaning for ${withArticle(type)} correlation (it counts ${temporal ? 'rules' : 'events'}); did you mean value_count?`);
    return undefined;
  }
  if (type === 'value_percentile' && percentile === undefined) {
    reader.fail(node, "a value_percentile correlation needs 'condition.percentile' (0-100): which percentile of the field to compare, e.g. {field: bytes, percentile: 95, gt: 1000000}");
    return undefined;
  }
  if (type !== 'value_percentile' && percentile !== undefined) {
    reader.fail(node, `'condition.percentile' only applies to value_percentile`);
    return undefined;
  }
  const condition: CorrelationCondition = { terms, fields };
  if (type === 'value_median') condition.percentile = 50;
  else if (percentile !== undefined) condition.percentile = percentile;
  return condition;
}

function readGenerate(tree: SigmaMapNode, section: SigmaMapNode, reader: Reader): boolean | undefined {
  let generate: boolean | undefined;
  for (const where of [tree, section]) {
    const entry = mapEntry(where, 'generate');
    if (entry === undefined || isNull(entry.value)) continue;
    const value = entry.value.kind === 'scalar' ? entry.value.value : undefined;
    if (typeof value !== 'boolean') {
      reader.fail(entry.value, "'generate' must be true or false");
      return undefined;
    }
    if (generate !== undefined && generate !== value) {
      reader.fail(entry.value, "'generate' is given twice with different values");
      return undefined;
    }
    generate = value;
  }
  return generate ?? false;
}

/** Check a correlation document. Errors are located at the offending key or value. */
export function parseCorrelationDocument(document: RawSigmaDocument): { rule?: CorrelationRule; errors: LocatedError[] } {
  const reader = new Reader();
  const tree = document.tree ?? plainToNode(document.body, document.position);
  if (tree.kind !== 'map') {
    reader.fail(tree, 'a correlation document must be a mapping');
    return { errors: reader.errors };
  }
  const meta = readDocumentMeta(tree, reader.errors);
  const sectionEntry = mapEntry(tree, 'correlation');
  if (sectionEntry === undefined || sectionEntry.value.kind !== 'map') {
    reader.fail(sectionEntry?.value ?? tree, "'correlation' must be a mapping (type, rules, group-by, timespan, condition)");
    return { errors: reader.errors };
  }
  const section = sectionEntry.value;
  for (const entry of section.entries) {
    if (!SECTION_KEYS.has(entry.key)) {
      reader.fail({ position: entry.keyPosition }, `unknown key 'correlation.${entry.key}': use ${[...SECTION_KEYS].join(', ')}`);
    }
  }
  const type = readType(section, reader);
  const rules = readRules(section, type, reader);
  const groupBy = readGroupBy(section, reader);
  const aliases = readAliases(section, reader);
  const timespan = readTimespan(section, reader);
  const condition = type === undefined ? undefined : readCondition(section, type, rules?.values.length ?? 0, reader);
  const generate = readGenerate(tree, section, reader);
  if (
    reader.errors.length > 0 || meta === undefined || type === undefined || rules === undefined || groupBy === undefined ||
    aliases === undefined || timespan === undefined || condition === undefined || generate === undefined
  ) {
    return { errors: reader.errors };
  }
  const rule: CorrelationRule = {
    ...meta,
    kind: 'correlation',
    type,
    rules: rules.values,
    rulePositions: rules.positions,
    groupBy,
    aliases,
    timespan: timespan.text,
    timespanMs: timespan.ms,
    condition,
    generate,
    source: document.body,
  };
  return { rule, errors: [] };
}
