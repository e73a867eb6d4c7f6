import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeArgument } from '../../src/cli/time-argument.ts';

const now = Date.parse('2026-11-26T12:00:00Z');

test('relative durations count back from now', () => {
  assert.equal(parseTimeArgument('24h', now), Date.parse('2026-11-25T12:00:00Z'));
  assert.equal(parseTimeArgument('30m', now), Date.parse('2026-11-26T11:30:00Z'));
  assert.equal(parseTimeArgument('7d', now), Date.parse('2026-11-19T12:00:00Z'));
  assert.equal(parseTimeArgument('2w', now), Date.parse('2026-11-12T12:00:00Z'));
  assert.equal(parseTimeArgument('90s', now), now - 90_000);
});

test('RFC 3339 timestamps and plain dates are absolute', () => {
  assert.equal(parseTimeArgument('2026-11-02T09:00:00Z', now), Date.parse('2026-11-02T09:00:00Z'));
  assert.equal(parseTimeArgument('2026-11-02T10:00:00+01:00', now), Date.parse('2026-11-02T09:00:00Z'));
  assert.equal(parseTimeArgument('2026-11-02T09:00:00.250Z', now), Date.parse('2026-11-02T09:00:00.250Z'));
  assert.equal(parseTimeArgument('2026-11-02', now), Date.parse('2026-11-02T00:00:00Z'));
});

test('anything else is refused rather than guessed', () => {
  for (const text of ['yesterday', '24', 'h24', '2026-13-45', '2026-11-02T09:00:00', '']) {
    assert.equal(parseTimeArgument(text, now), undefined, text);
  }
});
