import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/core/envelope.ts';
import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import { SECTIONS } from './conformance-cases.ts';
import { compileRule, varsOf } from './helpers.ts';

/** What a soundness check is told about one promise a compiled rule makes (requiredValues, requiredSubstrings). */
export interface RulePromise {
  /** The rule promises something at all. */
  constrains(rule: CompiledDetectionRule): boolean;
  /** The record keeps the promise. */
  admits(rule: CompiledDetectionRule, record: LogRecord): boolean;
  /** The promise, for the failure message. */
  describe(rule: CompiledDetectionRule): string;
}

/**
 * Every conformance case's rule over its match and no-match records and their mutations:
 * whenever the rule matches, the record keeps the rule's promise (asserted here). Returns how
 * many records were checked and matched, and how many rules promised something.
 */
export function conformanceSoundness(promise: RulePromise, mutations: (record: LogRecord) => LogRecord[]): { checked: number; matched: number; constrained: number } {
  let checked = 0;
  let matched = 0;
  let constrained = 0;
  for (const cases of Object.values(SECTIONS)) {
    for (const c of cases) {
      const rule = compileRule(c.detection, varsOf(c.vars));
      if (promise.constrains(rule)) constrained++;
      for (const base of [...c.match, ...c.noMatch]) {
        for (const record of [base, ...mutations(base)]) {
          checked++;
          if (rule.match(record)) {
            matched++;
            assert.ok(promise.admits(rule, record), `${c.name}: ${JSON.stringify(record)} matches but is not admitted by ${promise.describe(rule)}`);
          }
        }
      }
    }
  }
  return { checked, matched, constrained };
}
