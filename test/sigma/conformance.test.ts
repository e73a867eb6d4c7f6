/**
 * Conformance with the Sigma specification, case by case (the table is in conformance-cases.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SECTIONS } from './conformance-cases.ts';
import { compileRule, varsOf } from './helpers.ts';

for (const [section, cases] of Object.entries(SECTIONS)) {
  describe(`conformance: ${section}`, () => {
    for (const c of cases) {
      test(c.name, () => {
        const rule = compileRule(c.detection, varsOf(c.vars));
        for (const record of c.match) assert.equal(rule.match(record), true, `should match ${JSON.stringify(record)}`);
        for (const record of c.noMatch) assert.equal(rule.match(record), false, `should not match ${JSON.stringify(record)}`);
      });
    }
  });
}

test('every conformance section has cases that match and cases that do not', () => {
  for (const cases of Object.values(SECTIONS)) {
    for (const c of cases) {
      assert.ok(c.match.length > 0, `${c.name}: no matching record`);
      assert.ok(c.noMatch.length > 0, `${c.name}: no non-matching record`);
    }
  }
});
