/** Shared helpers for the Sigma tests: build a rule around a detection block and compile it. */
import assert from 'node:assert/strict';
import type { LocatedError } from '../../src/core/errors.ts';
import { loadRuleText } from '../../src/sigma/load.ts';
import type { CompiledDetectionRule, CompileOptions } from '../../src/sigma/types.ts';

export const RULE_ID = '929a690e-bef0-4204-a928-ef5e620d6fcc';

/** Remove the common indentation of a block written inside a template literal. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common)).join('\n');
}

/** The text of a complete rule whose `detection:` section is `detection` (dedented). Detection starts on line 6. */
export function ruleText(detection: string): string {
  const body = dedent(detection).split('\n').map((line) => `  ${line}`).join('\n');
  return `title: Test rule\nid: ${RULE_ID}\nlogsource:\n  product: aws\ndetection:\n${body}\n`;
}

export function varsOf(vars: Record<string, string[]> | undefined): CompileOptions {
  return vars === undefined ? {} : { vars: new Map(Object.entries(vars)) };
}

/** Compile a detection block; fails the test when it does not compile. */
export function compileRule(detection: string, options: CompileOptions = {}): CompiledDetectionRule {
  const result = loadRuleText(ruleText(detection), 'rule.yml', options);
  assert.deepEqual(result.errors, [], 'the rule should compile without errors');
  assert.equal(result.rules.length, 1);
  return result.rules[0] as CompiledDetectionRule;
}

/** The errors of a detection block that must not compile. */
export function ruleErrors(detection: string, options: CompileOptions = {}): LocatedError[] {
  const result = loadRuleText(ruleText(detection), 'rule.yml', options);
  assert.equal(result.rules.length, 0, 'the rule should not compile');
  assert.ok(result.errors.length > 0);
  return result.errors;
}
