/**
 * The raw pre-filter's plan: which raw keys and values of a CloudTrail S3 file decide that a
 * record must be parsed, from what every loaded rule requires (required values, or failing
 * that required substrings). Why a record it rules out provably matches no rule is argued in
 * src/formats/cloudtrail/record-scan.ts, which walks the bytes.
 */
import type { CompiledDetectionRule } from '../../sigma/types.ts';
import type { PrefilterLiteral, RawPrefilter } from '../../formats/cloudtrail/record-scan.ts';
import { sourcesOfRule } from '../../sigma/log-sources.ts';

export type PrefilterPlan = { readonly prefilter: RawPrefilter; readonly reason?: undefined } | { readonly prefilter?: undefined; readonly reason: string };

/** Fields a rule is best filed under for the raw test: the most selective usual ones first. */
const PREFERRED = ['eventName', 'eventSource'];

/** How a rule is filed for the raw test: a field and the values or literals it requires. */
type Requirement = { field: string; values: ReadonlySet<string>; literals: readonly PrefilterLiteral[] };

function shortestLiteral(literals: readonly PrefilterLiteral[]): number {
  return Math.min(...literals.map((literal) => literal.text.length));
}

/**
 * Fields whose few values nearly every record shares (`AssumedRole`, `true`, `Management`): a
 * rule pinned only there would have most records parsed, so a literal it requires elsewhere is
 * the better test. Any one requirement of a rule is sound; this only picks the selective one.
 */
const UNSELECTIVE = new Set(['userIdentity.type', 'readOnly', 'eventType', 'eventCategory', 'managementEvent']);

function requirementOf(rule: CompiledDetectionRule): Requirement | undefined {
  const none: readonly PrefilterLiteral[] = [];
  for (const field of PREFERRED) {
    const values = rule.requiredValues.get(field);
    if (values !== undefined && values.size > 0) return { field, values, literals: none };
  }
  let best: Requirement | undefined;
  for (const [field, values] of rule.requiredValues) {
    if (UNSELECTIVE.has(field)) continue;
    if (values.size > 0 && (best === undefined || values.size < best.values.size)) best = { field, values, literals: none };
  }
  if (best !== undefined) return best;
  // No selective pinned value: the field whose literals are the most selective (the longest shortest one).
  for (const [field, literals] of rule.requiredSubstrings) {
    if (UNSELECTIVE.has(field)) continue;
    if (literals.length > 0 && (best === undefined || shortestLiteral(literals) > shortestLiteral(best.literals))) best = { field, values: new Set(), literals };
  }
  if (best !== undefined) return best;
  // Only unselective requirements: still better than none.
  for (const [field, values] of rule.requiredValues) if (values.size > 0) return { field, values, literals: none };
  for (const [field, literals] of rule.requiredSubstrings) if (literals.length > 0) return { field, values: new Set(), literals };
  return undefined;
}

/** The raw pre-filter for these rules, or why there is none (a rule that reads CloudTrail and is not indexed). */
export function planPrefilter(rules: readonly CompiledDetectionRule[]): PrefilterPlan {
  const byKey = new Map<string, { values: Set<string>; literals: PrefilterLiteral[]; seen: Set<string> }>();
  for (const rule of rules) {
    if (!sourcesOfRule(rule).includes('cloudtrail')) continue;
    const requirement = requirementOf(rule);
    if (requirement === undefined) return { reason: `rule ${rule.name ?? rule.title} (${rule.position.file}) requires no field value or substring: it is tried on every record` };
    const segments = requirement.field.split('.');
    for (let i = segments.length - 1; i >= 0; i--) {
      const key = segments.slice(i).join('.');
      const entry = byKey.get(key) ?? { values: new Set<string>(), literals: [], seen: new Set<string>() };
      for (const value of requirement.values) entry.values.add(value);
      for (const literal of requirement.literals) {
        // A set, not a scan of the list: a rule's value list may hold 100k literals.
        const seenKey = `${literal.caseSensitive ? 'c' : 'i'}${literal.text}`;
        if (entry.seen.has(seenKey)) continue;
        entry.seen.add(seenKey);
        entry.literals.push(literal);
      }
      byKey.set(key, entry);
    }
  }
  return { prefilter: { keys: [...byKey].map(([key, { values, literals }]) => ({ key: Buffer.from(JSON.stringify(key), 'utf8'), values, literals })) } };
}
