import { located } from '../../core/errors.ts';
import type { LocatedError } from '../../core/errors.ts';
import type { CorrelationRule } from '../../sigma/correlation.ts';
import { formatPosition } from '../../sigma/parse.ts';
import type { CompiledDetectionRule } from '../../sigma/types.ts';

/** What a correlation references: a detection rule, or another correlation (chaining). */
export type CorrelationInput =
  | { kind: 'detection'; rule: CompiledDetectionRule }
  | { kind: 'correlation'; rule: CorrelationRule };

/** A correlation with its references resolved against the whole rule set. */
export interface ResolvedCorrelation {
  rule: CorrelationRule;
  /** One per `rule.rules` entry, same order. */
  inputs: CorrelationInput[];
  /** For each input, the field each group-by entry reads in that input's events (aliases applied). */
  groupFields: string[][];
  /** For each input, the fields of `condition.field` (aliases applied). */
  valueFields: string[][];
}

function locate(rule: CorrelationRule, index?: number): string {
  const position = index === undefined ? rule.position : (rule.rulePositions[index] ?? rule.position);
  return formatPosition(position);
}

function refersTo(reference: string, input: CorrelationInput): boolean {
  return input.rule.id === reference || input.rule.name === reference;
}

/**
 * Resolves every correlation's references (by `name` or `id`) and aliases against the rules
 * and correlations loaded together, rejects cycles, and returns the correlations that can run,
 * inner ones before the ones that reference them. A correlation that cannot run is reported
 * with a located error, and so is every correlation that depends on it.
 */
export function resolveCorrelations(
  rules: readonly CompiledDetectionRule[],
  correlations: readonly CorrelationRule[],
): { resolved: ResolvedCorrelation[]; errors: LocatedError[] } {
  const errors: LocatedError[] = [];
  const byReference = new Map<string, CorrelationInput>();
  for (const rule of rules) {
    byReference.set(rule.id, { kind: 'detection', rule });
    if (rule.name !== undefined && !byReference.has(rule.name)) byReference.set(rule.name, { kind: 'detection', rule });
  }
  const unique: CorrelationRule[] = [];
  for (const correlation of correlations) {
    const clash = [correlation.id, correlation.name].find((key) => key !== undefined && byReference.has(key));
    if (clash !== undefined) {
      const other = byReference.get(clash)?.rule;
      errors.push(located('TH_RULE_DUPLICATE', `correlation ${correlation.name ?? correlation.id}: ${clash} is already used by ${other?.position.file ?? 'another rule'}`, locate(correlation)));
      continue;
    }
    byReference.set(correlation.id, { kind: 'correlation', rule: correlation });
    if (correlation.name !== undefined) byReference.set(correlation.name, { kind: 'correlation', rule: correlation });
    unique.push(correlation);
  }

  const candidates = new Map<CorrelationRule, ResolvedCorrelation>();
  for (const correlation of unique) {
    const resolved = resolveOne(correlation, byReference, errors);
    if (resolved !== undefined) candidates.set(correlation, resolved);
  }

  // Depth-first, inner correlations first; a cycle or a broken inner correlation breaks the outer one.
  const state = new Map<CorrelationRule, 'visiting' | 'ok' | 'broken'>();
  const ordered: ResolvedCorrelation[] = [];
  const visit = (correlation: CorrelationRule): boolean => {
    const seen = state.get(correlation);
    if (seen === 'ok') return true;
    if (seen === 'broken') return false;
    if (seen === 'visiting') {
      errors.push(located('TH_RULE_REFERENCE', `correlation ${correlation.name ?? correlation.id} references itself through a chain of correlations`, locate(correlation)));
      state.set(correlation, 'broken');
      return false;
    }
    const resolved = candidates.get(correlation);
    if (resolved === undefined) {
      state.set(correlation, 'broken');
      return false;
    }
    state.set(correlation, 'visiting');
    let ok = true;
    resolved.inputs.forEach((input, index) => {
      if (input.kind !== 'correlation') return;
      if (!visit(input.rule)) {
        if (state.get(correlation) !== 'broken') {
          errors.push(located('TH_RULE_REFERENCE', `correlation ${correlation.name ?? correlation.id}: the referenced correlation ${correlation.rules[index] ?? ''} cannot run (see its error)`, locate(correlation, index)));
        }
        ok = false;
      }
    });
    if (state.get(correlation) === 'broken') ok = false;
    state.set(correlation, ok ? 'ok' : 'broken');
    if (ok) ordered.push(resolved);
    return ok;
  };
  for (const correlation of unique) visit(correlation);
  return { resolved: ordered, errors };
}

function resolveOne(correlation: CorrelationRule, byReference: ReadonlyMap<string, CorrelationInput>, errors: LocatedError[]): ResolvedCorrelation | undefined {
  const label = correlation.name ?? correlation.id;
  const inputs: CorrelationInput[] = [];
  let ok = true;
  correlation.rules.forEach((reference, index) => {
    const input = byReference.get(reference);
    if (input === undefined) {
      errors.push(located('TH_RULE_REFERENCE', `correlation ${label} references '${reference}', which is not loaded: no rule or correlation has that name or id`, locate(correlation, index)));
      ok = false;
      return;
    }
    if (inputs.some((other) => other.rule === input.rule)) {
      errors.push(located('TH_RULE_REFERENCE', `correlation ${label} references ${reference} twice (by name and by id)`, locate(correlation, index)));
      ok = false;
      return;
    }
    inputs.push(input);
  });
  if (!ok) return undefined;

  for (const [alias, mapping] of correlation.aliases) {
    for (const reference of mapping.keys()) {
      if (!inputs.some((input) => refersTo(reference, input))) {
        errors.push(located('TH_RULE_REFERENCE', `correlation ${label}: alias '${alias}' maps '${reference}', which is not one of its rules (${correlation.rules.join(', ')})`, locate(correlation)));
        ok = false;
      }
    }
  }
  const fieldFor = (name: string, input: CorrelationInput): string | undefined => {
    const mapping = correlation.aliases.get(name);
    if (mapping === undefined) return name;
    for (const [reference, field] of mapping) if (refersTo(reference, input)) return field;
    return undefined;
  };
  const fieldsOf = (names: readonly string[], what: string): string[][] =>
    inputs.map((input, index) =>
      names.map((name) => {
        const field = fieldFor(name, input);
        if (field !== undefined) return field;
        errors.push(located('TH_RULE_SCHEMA', `correlation ${label}: alias '${name}' (in ${what}) gives no field for rule ${correlation.rules[index] ?? ''}: add '${correlation.rules[index] ?? ''}: <field>' under aliases.${name}`, locate(correlation)));
        ok = false;
        return name;
      }),
    );
  const groupFields = fieldsOf(correlation.groupBy, 'group-by');
  const valueFields = fieldsOf(correlation.condition.fields, 'condition.field');
  return ok ? { rule: correlation, inputs, groupFields, valueFields } : undefined;
}
