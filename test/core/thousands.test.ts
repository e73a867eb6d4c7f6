import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thousands } from '../../src/core/thousands.ts';

test('thousands writes counts as toLocaleString("en-US") does', () => {
  for (const value of [0, 1, 12, 999, 1000, 1234, 99_999, 100_000, 1_234_567, 1_000_000_000, -1, -1234, -1_000_000, Number.MAX_SAFE_INTEGER, 1.5, -0.25, 1234.5]) {
    assert.equal(thousands(value), value.toLocaleString('en-US'), String(value));
  }
});
