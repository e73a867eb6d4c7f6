/**
 * Rules that must be rejected: the error code, a message that names the problem, and the
 * `file:line:col` of the offending key or value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorCode } from '../../src/core/errors.ts';
import { loadRuleText } from '../../src/sigma/load.ts';
import { dedent, RULE_ID, ruleErrors, ruleText, varsOf } from './helpers.ts';

const r = String.raw;

/** `rule.yml:line:col` of the first occurrence of `needle` in the rule text built from `detection`. */
function locate(detection: string, needle: string, shift = 0): string {
  const lines = ruleText(detection).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const col = (lines[i] as string).indexOf(needle);
    if (col >= 0) return `rule.yml:${i + 1}:${col + 1 + shift}`;
  }
  throw new Error(`'${needle}' not in the rule`);
}

interface ErrorCase {
  name: string;
  detection: string;
  code: ErrorCode;
  /** Text whose first occurrence is where the error must point. */
  at: string;
  /** Columns to add to where `at` starts. */
  shift?: number;
  /** Words the message must contain. */
  says: string[];
  vars?: Record<string, string[]>;
}

const CASES: ErrorCase[] = [
  // Modifiers
  { name: 'unknown modifier', detection: r`
      sel:
        eventName|contians: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'eventName|contians', says: ["'contians'"] },
  { name: 'modifier in the wrong case', detection: r`
      sel:
        eventName|Contains: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'eventName|Contains', says: ["'Contains'", "'contains'"] },
  { name: 'all on a single value', detection: r`
      sel:
        f|contains|all: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|contains|all', says: ["'all'"] },
  { name: 'all on a one-item list', detection: r`
      sel:
        f|all:
          - x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|all', says: ["'all'"] },
  { name: 're with contains', detection: r`
      sel:
        f|re|contains: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|re|contains', says: ["'re'", "'contains'"] },
  { name: 'a regex sub-modifier without re', detection: r`
      sel:
        f|contains|i: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|contains|i', says: ["'i'", "'re'"] },
  { name: 'two match shapes', detection: r`
      sel:
        f|contains|startswith: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|contains', says: ["'contains'", "'startswith'"] },
  { name: 'base64 after contains would encode the wildcards', detection: r`
      sel:
        f|contains|base64: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|contains|base64', says: ['|base64|contains'] },
  { name: 'exists with another modifier', detection: r`
      sel:
        f|exists|neq: true
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|exists', says: ["'exists'"] },
  { name: 'two comparisons', detection: r`
      sel:
        f|gt|lt: 5
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|gt', says: ["'gt'", "'lt'"] },
  { name: 'cidr with contains', detection: r`
      sel:
        f|cidr|contains: 10.0.0.0/8
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|cidr', says: ["'cidr'", "'contains'"] },
  { name: 'a comparison on a keyword', detection: r`
      sel:
        '|gt': 5
      condition: sel`, code: 'TH_RULE_MODIFIER', at: "'|gt'", says: ['field name'] },
  { name: 'an empty modifier', detection: r`
      sel:
        f||contains: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f||', says: ['empty modifier'] },
  { name: 'a modifier given twice', detection: r`
      sel:
        f|cased|cased: x
      condition: sel`, code: 'TH_RULE_MODIFIER', at: 'f|cased', says: ['twice'] },
  // Values
  { name: 'invalid regular expression', detection: r`
      sel:
        f|re: 'a(['
      condition: sel`, code: 'TH_RULE_VALUE', at: "'a(['", says: ['regular expression'] },
  { name: 'unsupported inline regex flag', detection: r`
      sel:
        f|re: '(?x)a b'
      condition: sel`, code: 'TH_RULE_VALUE', at: "'(?x)", says: ["'x'"] },
  { name: 'invalid CIDR prefix', detection: r`
      sel:
        f|cidr: 10.0.0.0/33
      condition: sel`, code: 'TH_RULE_VALUE', at: '10.0.0.0/33', says: ['10.0.0.0/33', 'CIDR'] },
  { name: 'invalid CIDR address, in a list', detection: r`
      sel:
        f|cidr:
          - 10.0.0.0/8
          - 300.1.1.1/32
      condition: sel`, code: 'TH_RULE_VALUE', at: '300.1.1.1', says: ['300.1.1.1'] },
  { name: 'a comparison with a non-number', detection: r`
      sel:
        f|gte: many
      condition: sel`, code: 'TH_RULE_VALUE', at: 'many', says: ["'many'", 'number'] },
  { name: 'a time modifier with a non-number', detection: r`
      sel:
        f|hour: noon
      condition: sel`, code: 'TH_RULE_VALUE', at: 'noon', says: ['number'] },
  { name: 'exists takes a boolean', detection: r`
      sel:
        f|exists: 'yes'
      condition: sel`, code: 'TH_RULE_VALUE', at: "'yes'", says: ['true or false'] },
  { name: 'null in a list of values', detection: r`
      sel:
        FieldB:
          - ''
          - null
      condition: sel`, code: 'TH_RULE_VALUE', at: 'null', says: ['null'] },
  { name: 'null with a modifier', detection: r`
      sel:
        f|contains: null
      condition: sel`, code: 'TH_RULE_VALUE', at: 'null', says: ['exists'] },
  { name: 'base64 of a wildcard', detection: r`
      sel:
        f|base64: 'a*'
      condition: sel`, code: 'TH_RULE_VALUE', at: "'a*'", says: ['wildcard'] },
  { name: 'a mapping as a value', detection: r`
      sel:
        f:
          g: x
      condition: sel`, code: 'TH_RULE_VALUE', at: 'g: x', says: ['mapping'] },
  { name: 'fieldref without a field name', detection: r`
      sel:
        f|fieldref: 5
      condition: sel`, code: 'TH_RULE_VALUE', at: 'fieldref: 5', shift: 10, says: ['fieldref'] },
  // Placeholders
  { name: 'a placeholder without --vars', detection: r`
      sel:
        f|expand: '%admins%'
      condition: sel`, code: 'TH_RULE_PLACEHOLDER', at: "'%admins%'", says: ['%admins%', '--vars'] },
  { name: 'a placeholder the --vars file does not define', detection: r`
      sel:
        f|expand: 'x%other%'
      condition: sel`, vars: { admins: ['a'] }, code: 'TH_RULE_PLACEHOLDER', at: "'x%other%'", says: ['%other%'] },
  // Identifiers and conditions
  { name: 'an undefined identifier, pointed at in the condition', detection: r`
      sel:
        f: x
      condition: sel and selction`, code: 'TH_RULE_IDENTIFIER', at: 'selction', says: ["'selction'", 'sel'] },
  { name: 'an undefined identifier in a quoted condition', detection: r`
      sel:
        f: x
      condition: 'sel or nope'`, code: 'TH_RULE_IDENTIFIER', at: 'nope', says: ["'nope'"] },
  { name: 'a pattern that matches nothing', detection: r`
      selection:
        f: x
      condition: selection and not 1 of filter_*`, code: 'TH_RULE_IDENTIFIER', at: '1 of filter_*', says: ["'filter_*'"] },
  { name: "'them' with only _ identifiers", detection: r`
      _a:
        f: x
      condition: 1 of them`, code: 'TH_RULE_IDENTIFIER', at: '1 of them', says: ["'them'"] },
  { name: 'an unclosed bracket', detection: r`
      sel:
        f: x
      condition: sel and (sel or sel`, code: 'TH_RULE_CONDITION', at: '(sel', says: ["')'"] },
  { name: 'an extra closing bracket', detection: r`
      sel:
        f: x
      condition: sel)`, code: 'TH_RULE_CONDITION', at: ')', says: ["')'"] },
  { name: 'two identifiers without an operator', detection: r`
      sel:
        f: x
      other:
        g: y
      condition: sel other`, code: 'TH_RULE_CONDITION', at: 'sel other', shift: 4, says: ["'other'"] },
  { name: "'0 of' is not Sigma", detection: r`
      sel1:
        f: x
      condition: 0 of sel*`, code: 'TH_RULE_CONDITION', at: '0 of', says: ["'0 of'", "'N of'"] },
  { name: "'two of' is not Sigma", detection: r`
      sel1:
        f: x
      condition: two of sel*`, code: 'TH_RULE_CONDITION', at: 'two of', says: ["'two of'", "'all of'"] },
  { name: "'N of' with more than the pattern names can never hold", detection: r`
      sel1:
        f: x
      sel2:
        g: y
      condition: 3 of sel*`, code: 'TH_RULE_CONDITION', at: '3 of', says: ["'3 of sel*'", '2 search identifiers', 'sel1, sel2'] },
  { name: 'a dangling operator', detection: r`
      sel:
        f: x
      condition: sel and`, code: 'TH_RULE_CONDITION', at: 'sel and', shift: 7, says: ['ends'] },
  { name: 'a pattern without 1 of / all of', detection: r`
      sel1:
        f: x
      condition: sel*`, code: 'TH_RULE_CONDITION', at: 'sel*', says: ["'1 of'"] },
  { name: 'an empty condition', detection: r`
      sel:
        f: x
      condition: ''`, code: 'TH_RULE_CONDITION', at: "''", shift: 1, says: ['empty'] },
  { name: 'a condition that is not a string', detection: r`
      sel:
        f: x
      condition:
        a: b`, code: 'TH_RULE_SCHEMA', at: 'a: b', says: ["'condition'"] },
  { name: 'no condition', detection: r`
      sel:
        f: x`, code: 'TH_RULE_SCHEMA', at: 'sel:', says: ["'condition'"] },
  { name: 'an empty search identifier', detection: r`
      sel: []
      condition: sel`, code: 'TH_RULE_SCHEMA', at: '[]', says: ["'sel'"] },
  { name: 'a list mixing mappings and values', detection: r`
      sel:
        - f: x
        - plain
      condition: sel`, code: 'TH_RULE_SCHEMA', at: 'plain', says: ['mixes'] },
  // Sigma 1.0 aggregations
  { name: 'count() by ... > n', detection: r`
      selection:
        eventSource: macie.amazonaws.com
      condition: selection | count() by sourceIPAddress > 5`, code: 'TH_RULE_DEPRECATED_AGGREGATION', at: '| count()', says: ['count() by sourceIPAddress > 5', 'correlation rule', 'event_count'] },
  { name: 'near', detection: r`
      selection1:
        eventName: CreateFunction
      selection2:
        eventName: Invoke
      condition: selection1 | near selection2`, code: 'TH_RULE_DEPRECATED_AGGREGATION', at: '| near', says: ['near selection2', 'temporal'] },
  { name: 'count(field): value_count', detection: r`
      selection:
        eventName: ConsoleLogin
      condition: selection | count(userIdentity.arn) by sourceIPAddress > 10`, code: 'TH_RULE_DEPRECATED_AGGREGATION', at: '| count(', says: ['count(userIdentity.arn) by sourceIPAddress > 10', 'value_count'] },
  { name: 'timeframe without an aggregation', detection: r`
      selection1:
        eventName: UpdateAccountSendingEnabled
      timeframe: 5m
      condition: selection1`, code: 'TH_RULE_DEPRECATED_AGGREGATION', at: 'timeframe', says: ['timeframe: 5m', 'correlation'] },
];

describe('rejected rules: code, message and location', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const errors = ruleErrors(c.detection, varsOf(c.vars));
      const error = errors[0];
      assert.ok(error);
      assert.equal(error.code, c.code, `code of ${JSON.stringify(error)}`);
      assert.equal(error.location, locate(c.detection, c.at, c.shift), `location of ${JSON.stringify(error)}`);
      for (const words of c.says) assert.ok(error.message.includes(words), `message '${error.message}' should include '${words}'`);
    });
  }
});

describe('locations, checked by hand', () => {
  test('the helper counts lines and columns from 1', () => {
    // Line 6 is "  sel:", line 7 "    eventName|contians: x".
    const errors = ruleErrors(`
      sel:
        eventName|contians: x
      condition: sel`);
    assert.deepEqual(errors.map((e) => e.location), ['rule.yml:7:5']);
    // "  condition: sel and selction": the value starts at column 14, 'selction' at 22.
    const identifier = ruleErrors(`
      sel:
        f: x
      condition: sel and selction`);
    assert.deepEqual(identifier.map((e) => e.location), ['rule.yml:8:22']);
  });

  test('a condition in a block scalar points at the scalar', () => {
    const errors = ruleErrors(`
      sel:
        f: x
      condition: >-
        sel and
        nope`);
    assert.equal(errors[0]?.code, 'TH_RULE_IDENTIFIER');
    assert.equal(errors[0]?.location, 'rule.yml:8:14');
  });

  test('a list of conditions: the error points into the failing item', () => {
    const errors = ruleErrors(`
      sel:
        f: x
      condition:
        - sel
        - sel or missing`);
    assert.equal(errors[0]?.code, 'TH_RULE_IDENTIFIER');
    // "    - sel or missing": the item's text starts at column 7, 'missing' at 14.
    assert.equal(errors[0]?.location, 'rule.yml:10:14');
  });

  test('every error of a rule is reported, not only the first', () => {
    const errors = ruleErrors(`
      a:
        f|nope: x
      b:
        g|re: '('
      condition: a and b and c`);
    assert.deepEqual(errors.map((e) => e.code), ['TH_RULE_MODIFIER', 'TH_RULE_VALUE', 'TH_RULE_IDENTIFIER']);
  });
});

describe('document-level errors', () => {
  const header = (rest: string): string => `${dedent(rest)}\n`;

  test('missing id, bad level, missing logsource', () => {
    const text = header(`
      title: No id
      level: severe
      detection:
        sel:
          f: x
        condition: sel`);
    const result = loadRuleText(text, 'r.yml');
    assert.equal(result.rules.length, 0);
    const byCode = result.errors.map((e) => `${e.code} ${e.location}`);
    assert.deepEqual(byCode, ['TH_RULE_SCHEMA r.yml:1:1', 'TH_RULE_SCHEMA r.yml:2:8', 'TH_RULE_SCHEMA r.yml:1:1']);
    assert.match(result.errors[0]?.message ?? '', /'id'/);
    assert.match(result.errors[1]?.message ?? '', /'level'/);
    assert.match(result.errors[2]?.message ?? '', /'logsource'/);
  });

  test('an id that is not a UUID, a missing title', () => {
    const text = header(`
      id: 1234
      logsource:
        product: aws
      detection:
        sel:
          f: x
        condition: sel`);
    const result = loadRuleText(text, 'r.yml');
    assert.deepEqual(result.errors.map((e) => `${e.code} ${e.location}`), ['TH_RULE_SCHEMA r.yml:1:1', 'TH_RULE_SCHEMA r.yml:1:5']);
  });

  test('a detection that is not a mapping', () => {
    const result = loadRuleText(`title: t\nid: ${RULE_ID}\nlogsource: {product: aws}\ndetection: sel\n`, 'r.yml');
    assert.deepEqual(result.errors.map((e) => `${e.code} ${e.location}`), ['TH_RULE_SCHEMA r.yml:4:12']);
  });

  test('a document with no detection, correlation or filter', () => {
    const result = loadRuleText(`title: t\nid: ${RULE_ID}\n`, 'r.yml');
    assert.equal(result.errors[0]?.code, 'TH_RULE_SCHEMA');
    assert.match(result.errors[0]?.message ?? '', /detection/);
  });

  test('Sigma 1.0 collections (action: global) are rejected by name', () => {
    const result = loadRuleText(`action: global\ntitle: t\n`, 'r.yml');
    assert.equal(result.errors[0]?.code, 'TH_RULE_UNSUPPORTED');
    assert.equal(result.errors[0]?.location, 'r.yml:1:1');
    assert.match(result.errors[0]?.message ?? '', /action: global/);
  });

  test('invalid YAML is located, and the other documents of the file still load', () => {
    const good = ruleText(`
      sel:
        f: x
      condition: sel`);
    const text = `${good}---\ntitle: broken\nid: [unclosed\n---\n${good}`;
    const result = loadRuleText(text, 'multi.yml');
    assert.equal(result.rules.length, 2);
    assert.equal(result.errors.length >= 1, true);
    assert.equal(result.errors[0]?.code, 'TH_RULE_YAML');
    assert.match(result.errors[0]?.location ?? '', /^multi\.yml:1[0-2]:\d+$/);
  });

  test('duplicate keys are a YAML error', () => {
    const result = loadRuleText(ruleText(`
      sel:
        f: x
        f: y
      condition: sel`), 'r.yml');
    assert.equal(result.rules.length, 0);
    assert.equal(result.errors[0]?.code, 'TH_RULE_YAML');
    assert.equal(result.errors[0]?.location, 'r.yml:8:5');
  });
});
