/** `rules test` for correlations: a case's `events:` run through the correlation and the rules it references. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import { runRuleTests } from '../../../src/pack/rule-tests.ts';

const BASE = `title: Login failed
id: e0000000-0000-4000-8000-000000000001
name: login-failed
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: ConsoleLogin, errorMessage: Failed authentication}
    condition: selection
level: informational
`;

const CORRELATION = `title: Console brute force
id: e0000000-0000-4000-8000-000000000002
name: console-brute-force
correlation:
    type: event_count
    rules: [login-failed]
    group-by: [sourceIPAddress]
    timespan: 5m
    condition: {gte: 3}
level: high
`;

const failure = (time: string, ip = '203.0.113.9'): string => `    - {eventTime: '${time}', eventName: ConsoleLogin, errorMessage: Failed authentication, sourceIPAddress: ${ip}}\n`;

const TESTS = `- description: three failures from one address in two minutes
  expect: match
  events:
${failure('2026-01-01T10:00:00Z')}${failure('2026-01-01T10:01:00Z')}${failure('2026-01-01T10:02:00Z')}- description: three failures from three addresses
  expect: no-match
  events:
${failure('2026-01-01T10:00:00Z', '198.51.100.1')}${failure('2026-01-01T10:01:00Z', '198.51.100.2')}${failure('2026-01-01T10:02:00Z', '198.51.100.3')}- description: a wrong expectation, to show that a case can fail
  expect: match
  events:
${failure('2026-01-01T10:00:00Z')}`;

test('correlation cases run with the rules they reference, from another file of the same set', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trailhound-rule-tests-'));
  try {
    await writeFile(join(dir, 'login-failed.yml'), BASE);
    await writeFile(join(dir, 'login-failed.tests.yml'), `- description: one failure\n  expect: match\n  event: {eventTime: '2026-01-01T10:00:00Z', eventName: ConsoleLogin, errorMessage: Failed authentication}\n`);
    await writeFile(join(dir, 'console-brute-force.yml'), CORRELATION);
    await writeFile(join(dir, 'console-brute-force.tests.yml'), TESTS);
    const set = await loadRuleSet({ paths: [dir] });
    assert.deepEqual(set.errors, []);
    const results = await runRuleTests(set.rules, set);
    const outcomes = results.flatMap((result) => result.outcomes);
    assert.deepEqual(results.flatMap((result) => result.errors), []);
    assert.deepEqual(
      outcomes.map((outcome) => [outcome.rule.name, outcome.testCase.description, outcome.passed]),
      [
        ['login-failed', 'one failure', true],
        ['console-brute-force', 'three failures from one address in two minutes', true],
        ['console-brute-force', 'three failures from three addresses', true],
        ['console-brute-force', 'a wrong expectation, to show that a case can fail', false],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file mixing a detection and a correlation names the rule each case tests', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trailhound-rule-tests-'));
  try {
    await writeFile(join(dir, 'brute-force.yml'), `${BASE}---\n${CORRELATION}`);
    await writeFile(join(dir, 'brute-force.tests.yml'), `- description: the correlation
  rule: console-brute-force
  expect: match
  events:
${failure('2026-01-01T10:00:00Z')}${failure('2026-01-01T10:01:00Z')}${failure('2026-01-01T10:02:00Z')}- description: no rule named
  expect: match
  events:
${failure('2026-01-01T10:00:00Z')}`);
    const set = await loadRuleSet({ paths: [dir] });
    const [result] = await runRuleTests(set.rules, set);
    assert.deepEqual(result?.outcomes.map((outcome) => outcome.passed), [true]);
    assert.equal(result?.errors[0]?.code, 'TH_RULE_TEST');
    assert.match(result?.errors[0]?.message ?? '', /holds several rules/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
