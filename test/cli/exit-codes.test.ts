import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineExitCodes, EXIT } from '../../src/cli/exit-codes.ts';

test('the outcome that most needs a human decides the exit code', () => {
  assert.equal(combineExitCodes({ ruleErrors: false, inputErrors: false, failOnReached: false }), EXIT.OK);
  assert.equal(combineExitCodes({ ruleErrors: false, inputErrors: false, failOnReached: true }), EXIT.ALERTS);
  assert.equal(combineExitCodes({ ruleErrors: false, inputErrors: true, failOnReached: true }), EXIT.INPUT_ERROR);
  assert.equal(combineExitCodes({ ruleErrors: true, inputErrors: true, failOnReached: true }), EXIT.RULE_OR_CONFIG_ERROR);
  assert.deepEqual([EXIT.OK, EXIT.ALERTS, EXIT.RULE_OR_CONFIG_ERROR, EXIT.INPUT_ERROR], [0, 1, 2, 3]);
});
