import type { Envelope, LogSourceName } from '../../core/envelope.ts';
import { sourcesOfRule } from '../../sigma/log-sources.ts';
import type { CompiledDetectionRule } from '../../sigma/types.ts';

/** Fields worth indexing on, best first: nearly every CloudTrail rule pins eventName. */
const PREFERRED_INDEX_FIELDS = ['eventName', 'eventSource', 'type', 'action'];

interface FieldIndex {
  field: string;
  byValue: Map<string, CompiledDetectionRule[]>;
}

interface SourceIndex {
  fields: FieldIndex[];
  /** Rules whose condition pins no indexable field: tried on every record of the source. */
  unindexed: CompiledDetectionRule[];
}

/**
 * Picks the candidate rules for a record instead of trying every rule (docs/architecture.md, Performance).
 * A rule is filed under one field whose value its condition requires; a record is then
 * offered only to the rules filed under its own value of that field, plus the unindexed ones.
 */
export class RuleIndex {
  readonly rules: readonly CompiledDetectionRule[];
  private readonly bySource = new Map<LogSourceName, SourceIndex>();
  private readonly ordinal = new Map<CompiledDetectionRule, number>();

  constructor(rules: readonly CompiledDetectionRule[]) {
    this.rules = rules;
    rules.forEach((rule, position) => {
      this.ordinal.set(rule, position);
      for (const source of sourcesOfRule(rule)) this.file(source, rule);
    });
  }

  /** Identifies the rule list and its order: two indexes with the same fingerprint number rules alike. */
  fingerprint(): string {
    return this.rules.map((rule) => `${rule.id}@${rule.position.file}:${rule.position.line}`).join('\n');
  }

  /** The rule's position in load order. */
  ordinalOf(rule: CompiledDetectionRule): number {
    return this.ordinal.get(rule) ?? -1;
  }

  /** Rules that apply to no source we read (for example `product: windows`). */
  inapplicableRules(): CompiledDetectionRule[] {
    return this.rules.filter((rule) => sourcesOfRule(rule).length === 0);
  }

  /** Calls `visit` for each candidate rule of the envelope, in rule load order. */
  forEachCandidate(envelope: Envelope, visit: (rule: CompiledDetectionRule) => void): void {
    const index = this.bySource.get(envelope.source);
    if (index === undefined) return;
    const record = envelope.record;
    for (const fieldIndex of index.fields) {
      const raw = record[fieldIndex.field];
      const value = indexValueOf(raw);
      if (value !== undefined) {
        const rules = fieldIndex.byValue.get(value);
        if (rules !== undefined) for (const rule of rules) visit(rule);
      } else if (typeof raw === 'object' && raw !== null) {
        // An array (or object) where a scalar is usual: Sigma matches if any element does,
        // so offer every rule filed under this field, once each.
        for (const rule of new Set([...fieldIndex.byValue.values()].flat())) visit(rule);
      }
    }
    for (const rule of index.unindexed) visit(rule);
  }

  /** The matching rules of an envelope, in rule load order. */
  matchingRules(envelope: Envelope): CompiledDetectionRule[] {
    const matched: CompiledDetectionRule[] = [];
    this.forEachCandidate(envelope, (rule) => {
      if (rule.match(envelope.record)) matched.push(rule);
    });
    if (matched.length > 1) matched.sort((a, b) => (this.ordinal.get(a) ?? 0) - (this.ordinal.get(b) ?? 0));
    return matched;
  }

  private file(source: LogSourceName, rule: CompiledDetectionRule): void {
    let index = this.bySource.get(source);
    if (index === undefined) {
      index = { fields: [], unindexed: [] };
      this.bySource.set(source, index);
    }
    const field = chooseIndexField(rule);
    if (field === undefined) {
      index.unindexed.push(rule);
      return;
    }
    let fieldIndex = index.fields.find((candidate) => candidate.field === field);
    if (fieldIndex === undefined) {
      fieldIndex = { field, byValue: new Map() };
      index.fields.push(fieldIndex);
      index.fields.sort((a, b) => fieldRank(a.field) - fieldRank(b.field));
    }
    for (const value of rule.requiredValues.get(field) ?? []) {
      const bucket = fieldIndex.byValue.get(value);
      if (bucket === undefined) fieldIndex.byValue.set(value, [rule]);
      else if (!bucket.includes(rule)) bucket.push(rule);
    }
  }
}

function fieldRank(field: string): number {
  const rank = PREFERRED_INDEX_FIELDS.indexOf(field);
  return rank === -1 ? PREFERRED_INDEX_FIELDS.length : rank;
}

/** Only top-level fields are indexed: they are read without walking the record. */
function chooseIndexField(rule: CompiledDetectionRule): string | undefined {
  let best: string | undefined;
  for (const [field, values] of rule.requiredValues) {
    if (field.includes('.') || values.size === 0) continue;
    if (best === undefined || fieldRank(field) < fieldRank(best)) best = field;
  }
  return best;
}

/** The lowercased string form of a top-level field, as requiredValues holds it. */
function indexValueOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).toLowerCase();
  return undefined;
}
