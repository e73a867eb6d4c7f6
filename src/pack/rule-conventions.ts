import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { SigmaDocumentMeta } from '../sigma/types.ts';

/** A detection or correlation rule: what the conventions look at. */
export type ConventionSubject = SigmaDocumentMeta & { source: Readonly<Record<string, unknown>> };
import { readRuleTests, testsFileOf } from './rule-tests.ts';

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
 * What a rule must have to be shipped or shared: a stable kebab-case name (filters and
 * correlations reference it), an explicit level, well-formed ATT&CK tags with at least one
 * technique, and tests beside it with a matching and a non-matching case.
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
