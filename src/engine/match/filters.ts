/**
 * Applying Sigma filters (allowlists) to the rules they name, before anything else sees a
 * match: a filtered-out event raises no alert and feeds no correlation count. A filter that
 * names a correlation keeps the event out of that correlation only.
 */
import { located } from '../../core/errors.ts';
import type { LocatedError } from '../../core/errors.ts';
import type { CorrelationRule } from '../../sigma/correlation.ts';
import type { CompiledFilter } from '../../sigma/filter.ts';
import { formatPosition } from '../../sigma/parse.ts';
import type { CompiledDetectionRule, SigmaLogSource } from '../../sigma/types.ts';
import type { LogRecord } from '../../core/envelope.ts';
import { BUILTIN_RULE_SERVICES, BUILTIN_RULES } from '../alerts/builtin-rules.ts';

type Predicate = (record: LogRecord) => boolean;

/** pySigma's rule: every logsource field the filter sets must equal the rule's (case-insensitively). */
export function logSourceCovers(filter: SigmaLogSource, rule: SigmaLogSource): boolean {
  for (const key of ['category', 'product', 'service'] as const) {
    const wanted = filter[key];
    if (wanted === undefined) continue;
    const actual = rule[key];
    if (actual === undefined || actual.toLowerCase() !== wanted.toLowerCase()) return false;
  }
  return true;
}

export interface FilterTargets {
  rules: Map<CompiledDetectionRule, CompiledFilter[]>;
  correlations: Map<CorrelationRule, CompiledFilter[]>;
  /** Filters naming a built-in pseudo-rule (GuardDuty passthrough, threat-intel matches), by the pseudo-rule's id. */
  builtin: Map<string, CompiledFilter[]>;
  errors: LocatedError[];
}

/** The ids a rule declares itself derived from (Sigma `related: [{id, type: derived}]`). */
function derivedFrom(rule: CompiledDetectionRule): string[] {
  const related = rule.source['related'];
  if (!Array.isArray(related)) return [];
  const ids: string[] = [];
  for (const item of related) {
    if (item === null || typeof item !== 'object') continue;
    const { id, type } = item as { id?: unknown; type?: unknown };
    if (typeof id === 'string' && type === 'derived') ids.push(id);
  }
  return ids;
}

/**
 * A rule and every rule derived from it, transitively (`related: derived`): allowlisting a
 * principal on a rule also allowlists it on its variants (a discovery building block and its
 * long-term-key sibling), so one filter suppresses it everywhere it is meant to.
 */
function withDerived(rule: CompiledDetectionRule, derived: ReadonlyMap<string, readonly CompiledDetectionRule[]>): CompiledDetectionRule[] {
  const found = [rule];
  for (let index = 0; index < found.length && index < 10_000; index++) {
    for (const child of derived.get((found[index] as CompiledDetectionRule).id) ?? []) if (!found.includes(child)) found.push(child);
  }
  return found;
}

/**
 * Which rules each filter applies to. Expired filters apply to nothing (rule-set reports them).
 * A filter naming a rule also applies to the rules derived from it. A reference that matches no
 * loaded rule, or a rule of another log source, is an error; one that names a rule a tuning file
 * switched off (`disabled`) applies to nothing, silently.
 */
export function resolveFilterTargets(
  filters: readonly CompiledFilter[],
  rules: readonly CompiledDetectionRule[],
  correlations: readonly CorrelationRule[],
  disabled: readonly { name: string; id: string }[] = [],
): FilterTargets {
  const derived = new Map<string, CompiledDetectionRule[]>();
  for (const rule of rules) {
    for (const parent of derivedFrom(rule)) {
      const list = derived.get(parent);
      if (list === undefined) derived.set(parent, [rule]);
      else list.push(rule);
    }
  }
  const targets: FilterTargets = { rules: new Map(), correlations: new Map(), builtin: new Map(), errors: [] };
  const add = <K>(map: Map<K, CompiledFilter[]>, key: K, filter: CompiledFilter): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [filter]);
    else if (!list.includes(filter)) list.push(filter);
  };
  for (const filter of filters) {
    if (filter.expired) continue;
    if (filter.rules === 'any') {
      for (const rule of rules) if (logSourceCovers(filter.logsource, rule.logsource)) add(targets.rules, rule, filter);
      continue;
    }
    filter.rules.forEach((reference, index) => {
      const location = formatPosition(filter.rulePositions[index] ?? filter.position);
      const rule = rules.find((candidate) => candidate.id === reference || candidate.name === reference);
      if (rule !== undefined) {
        if (logSourceCovers(filter.logsource, rule.logsource)) {
          for (const target of withDerived(rule, derived)) if (logSourceCovers(filter.logsource, target.logsource)) add(targets.rules, target, filter);
        } else {
          targets.errors.push(located('TH_RULE_REFERENCE', `filter ${filter.label}: rule ${reference} has logsource ${JSON.stringify(rule.logsource)}, outside the filter's ${JSON.stringify(filter.logsource)}; the filter does not apply to it`, location));
        }
        return;
      }
      const builtin = BUILTIN_RULES.find((candidate) => candidate.id === reference || candidate.name === reference);
      if (builtin !== undefined) {
        const service = BUILTIN_RULE_SERVICES.get(builtin.id) as string;
        if (logSourceCovers(filter.logsource, { product: 'aws', service })) add(targets.builtin, builtin.id, filter);
        else targets.errors.push(located('TH_RULE_REFERENCE', `filter ${filter.label}: the built-in ${builtin.name ?? builtin.id} reads service ${service}, outside the filter's ${JSON.stringify(filter.logsource)}; the filter does not apply to it`, location));
        return;
      }
      if (disabled.some((item) => item.name === reference || item.id === reference)) return;
      const correlation = correlations.find((candidate) => candidate.id === reference || candidate.name === reference);
      if (correlation !== undefined) {
        add(targets.correlations, correlation, filter);
        return;
      }
      targets.errors.push(located('TH_RULE_REFERENCE', `filter ${filter.label} names '${reference}', which is not loaded: no rule or correlation has that name or id`, location));
    });
  }
  return targets;
}

/** Matches each filter kept out, by the filter's id (or label): what an analyst sees as "suppressed". */
export type SuppressionCounts = Map<string, number>;

function allOf(filters: readonly CompiledFilter[], counts: SuppressionCounts): Predicate {
  if (filters.length === 1) {
    const filter = filters[0] as CompiledFilter;
    const key = filter.id ?? filter.label;
    const test = filter.match;
    return (record) => {
      if (test(record)) return true;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return false;
    };
  }
  return (record) => {
    for (const filter of filters) {
      if (filter.match(record)) continue;
      const key = filter.id ?? filter.label;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return false;
    }
    return true;
  };
}

/**
 * The filters of a run, per rule: a match of a filtered rule stands only if every filter's
 * condition holds. What each filter keeps out is counted (`suppressed`), never silently dropped.
 */
export class FilterSet {
  private readonly byRule = new Map<CompiledDetectionRule, Predicate>();
  private readonly byCorrelation = new Map<CorrelationRule, Predicate>();
  private readonly byBuiltin = new Map<string, Predicate>();
  /** Matches kept out so far, per filter. */
  readonly suppressed: SuppressionCounts = new Map();

  constructor(filters: readonly CompiledFilter[], rules: readonly CompiledDetectionRule[], correlations: readonly CorrelationRule[] = [], disabled: readonly { name: string; id: string }[] = []) {
    const targets = resolveFilterTargets(filters, rules, correlations, disabled);
    for (const [rule, list] of targets.rules) this.byRule.set(rule, allOf(list, this.suppressed));
    for (const [correlation, list] of targets.correlations) this.byCorrelation.set(correlation, allOf(list, this.suppressed));
    for (const [id, list] of targets.builtin) this.byBuiltin.set(id, allOf(list, this.suppressed));
  }

  get empty(): boolean {
    return this.byRule.size === 0 && this.byCorrelation.size === 0 && this.byBuiltin.size === 0;
  }

  /** False when a filter of the rule drops this record. */
  passes(rule: CompiledDetectionRule, record: LogRecord): boolean {
    const test = this.byRule.get(rule);
    return test === undefined || test(record);
  }

  /** False when a filter naming the correlation keeps this record out of it. */
  passesCorrelation(correlation: CorrelationRule, record: LogRecord): boolean {
    const test = this.byCorrelation.get(correlation);
    return test === undefined || test(record);
  }

  /** False when a filter naming the built-in pseudo-rule (by id) drops this record (a finding, a record matching an indicator). */
  passesBuiltin(ruleId: string, record: LogRecord): boolean {
    const test = this.byBuiltin.get(ruleId);
    return test === undefined || test(record);
  }

  /** Whether any filter names the built-in pseudo-rule. */
  filtersBuiltin(ruleId: string): boolean {
    return this.byBuiltin.has(ruleId);
  }

  hasCorrelationFilters(): boolean {
    return this.byCorrelation.size > 0;
  }
}
