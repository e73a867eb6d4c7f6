/**
 * Required values: the derivation rules, and the soundness property the engine's index relies
 * on: a record that the required values do not admit never matches.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogRecord } from '../../src/core/envelope.ts';
import { admitsRecord } from '../../src/sigma/required-values.ts';
import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import { compileRule, varsOf } from './helpers.ts';
import { recordMutations } from './record-mutations.ts';
import { conformanceSoundness } from './conformance-soundness.ts';
import { pickFrom, randomRuleSoundness } from './random-rules.ts';
import { random } from '../random.ts';

function required(rule: CompiledDetectionRule): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [field, values] of rule.requiredValues) out[field] = [...values].sort();
  return out;
}

describe('required values: derivation', () => {
  test('plain equality, lowercased; numbers and booleans by string form', () => {
    const rule = compileRule(`
      sel:
        eventSource: IAM.amazonaws.com
        eventName:
          - CreateUser
          - DeleteUser
        code: 5
        flag: true
      condition: sel`);
    assert.deepEqual(required(rule), { eventSource: ['iam.amazonaws.com'], eventName: ['createuser', 'deleteuser'], code: ['5'], flag: ['true'] });
  });

  test('modifiers, wildcards, cased, null and keywords constrain nothing', () => {
    const rule = compileRule(`
      sel:
        a|contains: x
        b: 'x*'
        c|cased: X
        d: null
        e|re: x
        f|neq: x
        g|exists: true
        h|startswith: x
        i|fieldref: j
        k|gt: 5
        l|windash: '-x'
      kw:
        - evil
      condition: sel and kw`);
    assert.deepEqual(required(rule), {});
  });

  test('AND takes constraints from any conjunct; the smallest set when several constrain a field', () => {
    const rule = compileRule(`
      a:
        eventName:
          - A
          - B
      b:
        eventName: B
        eventSource: s
      condition: a and b`);
    assert.deepEqual(required(rule), { eventName: ['b'], eventSource: ['s'] });
  });

  test('OR keeps only fields constrained in every branch, with the union of values', () => {
    const rule = compileRule(`
      a:
        eventName: A
        eventSource: s1
      b:
        eventName: B
      condition: a or b`);
    assert.deepEqual(required(rule), { eventName: ['a', 'b'] });
  });

  test('a list of maps is an OR', () => {
    const rule = compileRule(`
      sel:
        - eventName: A
          x: 1
        - eventName: B
      condition: sel`);
    assert.deepEqual(required(rule), { eventName: ['a', 'b'] });
  });

  test('not constrains nothing; and with a negation keeps the positive side', () => {
    const negated = compileRule(`
      a:
        eventName: A
      condition: not a`);
    assert.deepEqual(required(negated), {});
    const mixed = compileRule(`
      a:
        eventName: A
      f:
        user: root
      condition: a and not f`);
    assert.deepEqual(required(mixed), { eventName: ['a'] });
  });

  test('1 of / all of / them / a list of conditions', () => {
    const one = compileRule(`
      sel_a:
        eventName: A
      sel_b:
        eventName: B
        eventSource: s
      condition: 1 of sel_*`);
    assert.deepEqual(required(one), { eventName: ['a', 'b'] });
    const all = compileRule(`
      sel_a:
        eventName: A
      sel_b:
        eventSource: s
      condition: all of them`);
    assert.deepEqual(required(all), { eventName: ['a'], eventSource: ['s'] });
    const list = compileRule(`
      a:
        eventName: A
      b:
        eventSource: s
      condition:
        - a
        - b`);
    assert.deepEqual(required(list), {});
  });

  test('|all over plain values keeps one of the sets (sound even when the field is an array)', () => {
    const rule = compileRule(`
      sel:
        tags|all:
          - a
          - b
      condition: sel`);
    assert.equal(rule.match({ tags: ['a', 'b'] }), true);
    assert.equal(admitsRecord(rule.requiredValues, { tags: ['a', 'b'] }), true);
    assert.equal(rule.requiredValues.get('tags')?.size, 1);
  });

  test('expand with plain values constrains; with wildcards it does not', () => {
    const plain = compileRule(`
      sel:
        eventName|expand: '%names%'
      condition: sel`, varsOf({ names: ['CreateUser', 'DeleteUser'] }));
    assert.deepEqual(required(plain), { eventName: ['createuser', 'deleteuser'] });
    const wild = compileRule(`
      sel:
        eventName|expand: '%names%'
      condition: sel`, varsOf({ names: ['Create*'] }));
    assert.deepEqual(required(wild), {});
  });

  test('the SigmaHQ-style rule: selection and not filter', () => {
    const rule = compileRule(`
      selection:
        eventSource: cloudtrail.amazonaws.com
        eventName:
          - StopLogging
          - UpdateTrail
          - DeleteTrail
      filter:
        userAgent|contains: terraform
      condition: selection and not filter`);
    assert.deepEqual(required(rule), { eventSource: ['cloudtrail.amazonaws.com'], eventName: ['deletetrail', 'stoplogging', 'updatetrail'] });
  });
});

/** Variants of a record that keep its shape but change values: case, numbers, arrays, removal. */
function mutations(record: LogRecord, next: () => number): LogRecord[] {
  const pool: unknown[] = ['x', 'X', '', 'createuser', 'CREATEUSER', 5, '5', true, 'false', null, ['x', 'y'], []];
  return recordMutations(record, next, pool, (value) => (next() < 0.5 ? value.toUpperCase() : value.toLowerCase()));
}

describe('required values: soundness', () => {
  test('over the conformance cases and their mutations, no record outside the required values matches', () => {
    const next = random(42);
    const promise = { constrains: (rule: CompiledDetectionRule) => rule.requiredValues.size > 0, admits: (rule: CompiledDetectionRule, record: LogRecord) => admitsRecord(rule.requiredValues, record), describe: (rule: CompiledDetectionRule) => JSON.stringify(required(rule)) };
    const { checked, matched, constrained } = conformanceSoundness(promise, (record) => mutations(record, next));
    assert.ok(checked > 1000, `checked ${checked}`);
    assert.ok(matched > 200, `matched ${matched}`);
    assert.ok(constrained > 20, `constrained rules ${constrained}`);
  });

  test('over random rules and records, no record outside the required values matches', () => {
    const next = random(7);
    const pick = pickFrom(next);
    const FIELDS = ['eventName', 'eventSource', 'a.b', 'tags'];
    const VALUES: (string | number | boolean)[] = ['x', 'X', 'y', 'xy', '', 5, '5', true, 'true'];
    const MODIFIERS = ['', '', '', '', '|contains', '|startswith', '|neq', '|cased', '|all', '|exists', '|re'];
    const yamlValue = (value: unknown): string => JSON.stringify(value);
    const entry = (indent: string): string => {
      const field = pick(FIELDS);
      const modifier = pick(MODIFIERS);
      if (modifier === '|exists') return `${indent}${yamlValue(field + modifier)}: ${next() < 0.5}`;
      if (modifier === '|re') return `${indent}${yamlValue(field + modifier)}: ${yamlValue(pick(['^x', 'y$', '5']))}`;
      if (modifier === '' && next() < 0.1) return `${indent}${yamlValue(field)}: null`;
      const count = modifier === '|all' ? 2 + Math.floor(next() * 2) : 1 + Math.floor(next() * 3);
      const values = Array.from({ length: count }, () => pick(VALUES));
      if (count === 1 && modifier !== '|all') return `${indent}${yamlValue(field + modifier)}: ${yamlValue(values[0])}`;
      return `${indent}${yamlValue(field + modifier)}:\n${values.map((v) => `${indent}  - ${yamlValue(v)}`).join('\n')}`;
    };
    const scalar = (): unknown => (next() < 0.15 ? null : pick(VALUES));
    const fieldValue = (): unknown => (next() < 0.25 ? Array.from({ length: Math.floor(next() * 3) }, scalar) : scalar());
    const promise = { constrains: (rule: CompiledDetectionRule) => rule.requiredValues.size > 0, admits: (rule: CompiledDetectionRule, record: LogRecord) => admitsRecord(rule.requiredValues, record), describe: (rule: CompiledDetectionRule) => JSON.stringify(required(rule)) };
    const { rules, constrained, matched, excluded } = randomRuleSoundness({ next, entry, keywords: ['x', 'y'], fields: FIELDS, fieldValue, missing: 0.3 }, promise, 400, 150);
    assert.ok(rules > 300, `compiled ${rules} random rules`);
    assert.ok(constrained > 50, `${constrained} rules had required values`);
    assert.ok(matched > 2000, `${matched} matches`);
    assert.ok(excluded > 2000, `${excluded} records excluded by required values`);
  });
});
