import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { SigmaDocumentMeta } from '../sigma/types.ts';

/** A detection or correlation rule: what the conventions look at. */
export type ConventionSubject = SigmaDocumentMeta & { source: Readonly<Record<string, unknown>> };
import { readRuleTests, testsFileOf } from './rule-tests.ts';
import { catalogVersion } from '../attack/catalog.ts';
import { techniqueStatus } from '../attack/techniques.ts';

/** ATT&CK tactics as Sigma tags name them, plus the v19 split of Defense Evasion. */
export const ATTACK_TACTICS = new Set([
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'defense-impairment',
  'stealth',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'exfiltration',
  'command-and-control',
  'impact',
]);

const ATTACK_OBJECT_TAG = /^attack\.(t\d{4}(\.\d{3})?|g\d{4}|s\d{4}|ds\d{4}|m\d{4}|a\d{4})$/;
const KEBAB_CASE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function locationOf(rule: ConventionSubject): string {
  return `${rule.position.file}:${rule.position.line}:${rule.position.col}`;
}

/** Whether an `attack.*` tag names a known tactic or a well-formed technique/group/software id. */
export function isWellFormedAttackTag(tag: string): boolean {
  if (!tag.startsWith('attack.')) return true;
  return ATTACK_OBJECT_TAG.test(tag) || ATTACK_TACTICS.has(tag.slice('attack.'.length));
}

/**
 * TH_RULE_ATTACK for each technique tag whose id the Enterprise catalog (src/attack/catalog.ts)
 * does not know, or knows as revoked (naming the replacement) or deprecated. `rules lint`
 * prints them as warnings for outside rules and counts them as problems under pack conventions.
 */
export function attackTechniqueProblems(rule: ConventionSubject): LocatedError[] {
  const problems: LocatedError[] = [];
  const location = locationOf(rule);
  const seen = new Set<string>();
  for (const raw of rule.tags) {
    const match = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(raw.trim());
    if (match?.[1] === undefined) continue;
    const id = match[1].toUpperCase();
    if (seen.has(id)) continue;
    seen.add(id);
    const status = techniqueStatus(id);
    const subject = `${rule.name ?? rule.id}: ATT&CK tag ${JSON.stringify(raw)}`;
    if (status.kind === 'revoked') {
      const was = status.name === undefined ? '' : ` (${status.name})`;
      const instead = status.replacedBy === undefined ? '' : `: tag attack.${status.replacedBy.toLowerCase()} instead`;
      problems.push(located('TH_RULE_ATTACK', `${subject} names ${id}${was}, which MITRE revoked${status.replacedBy === undefined ? '' : ` in favour of ${status.replacedBy}`}${instead}`, location));
    } else if (status.kind === 'deprecated') {
      const was = status.name === undefined ? '' : ` (${status.name})`;
      problems.push(located('TH_RULE_ATTACK', `${subject} names ${id}${was}, which MITRE deprecated without a replacement: tag the technique the rule detects today`, location));
    } else if (status.kind === 'unknown') {
      problems.push(located('TH_RULE_ATTACK', `${subject} names ${id}, which is not an Enterprise ATT&CK technique (catalog: ATT&CK v${catalogVersion()} plus the v19 ids trailhound knows): check the id`, location));
    }
  }
  return problems;
}

/**
 * What a rule must have to be shipped or shared: a stable kebab-case name (filters and
 * correlations reference it), an explicit level, well-formed ATT&CK tags with at least one
 * technique, every technique id known and current (attackTechniqueProblems), and tests beside it with a matching and a non-matching case.
 */
export async function checkRuleConventions(rule: ConventionSubject): Promise<LocatedError[]> {
  const errors: LocatedError[] = [];
  const location = locationOf(rule);
  const fail = (message: string): void => {
    errors.push(located('TH_RULE_SCHEMA', `${rule.name ?? rule.id}: ${message}`, location));
  };
  if (rule.name === undefined) fail('no name: give the rule a stable kebab-case `name`');
  else if (!KEBAB_CASE.test(rule.name)) fail(`name ${JSON.stringify(rule.name)} is not kebab-case`);
  if (rule.source.level === undefined) fail('no level');
  const attackTags = rule.tags.filter((tag) => tag.startsWith('attack.'));
  for (const tag of attackTags) if (!isWellFormedAttackTag(tag)) fail(`malformed ATT&CK tag ${JSON.stringify(tag)}`);
  if (!attackTags.some((tag) => /^attack\.t\d{4}/.test(tag))) fail('no ATT&CK technique tag (attack.tNNNN)');
  errors.push(...attackTechniqueProblems(rule));

  const testsFile = testsFileOf(rule.position.file);
  const parsed = await readRuleTests(testsFile);
  if (parsed === undefined) {
    errors.push(located('TH_RULE_TEST', `${rule.name ?? rule.id}: no tests file ${testsFile}`, location));
    return errors;
  }
  errors.push(...parsed.errors);
  const mine = parsed.cases.filter((testCase) => testCase.rule === undefined || testCase.rule === rule.name || testCase.rule === rule.id);
  if (!mine.some((testCase) => testCase.expect === 'match')) fail(`${testsFile} has no case that must match`);
  if (!mine.some((testCase) => testCase.expect === 'no-match')) fail(`${testsFile} has no case that must not match`);
  return errors;
}
