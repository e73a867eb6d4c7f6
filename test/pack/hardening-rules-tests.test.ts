/**
 * Rule tests files are read like rule files: aliases resolve (`event: *base`), within the same
 * limits, with located errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRuleTests, readRuleTests, runRuleTests } from '../../src/pack/rule-tests.ts';
import { loadRuleText } from '../../src/sigma/load.ts';

const RULE = `title: create user
id: 33333333-3333-4333-8333-333333333333
name: create-user
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: CreateUser
    userIdentity.type: IAMUser
  condition: sel
`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'th-hardening-tests-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('aliases in tests files', () => {
  test('a case reuses an anchored event, a whole anchored case, or an anchored part of an event', () => {
    const text = `- description: base
  expect: match
  event: &ev
    eventName: CreateUser
    userIdentity: &who {type: IAMUser, arn: 'arn:aws:iam::1:user/a'}
- description: the same event again
  expect: match
  event: *ev
- description: events list of aliases
  expect: match
  events: [*ev, *ev]
- description: an anchored part
  expect: no-match
  event: {eventName: DeleteUser, userIdentity: *who}
- &case
  description: anchored case
  expect: match
  event: *ev
- *case
`;
    const { cases, errors } = parseRuleTests(text, 'x.tests.yml');
    assert.deepEqual(errors, []);
    assert.equal(cases.length, 6);
    const event = { eventName: 'CreateUser', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::1:user/a' } };
    assert.deepEqual(cases[1]?.events, [event]);
    assert.deepEqual(cases[2]?.events, [event, event]);
    assert.deepEqual(cases[3]?.events, [{ eventName: 'DeleteUser', userIdentity: event.userIdentity }]);
    assert.deepEqual(cases[5]?.events, [event]);
    assert.equal(cases[1]?.location, 'x.tests.yml:6:3');
    // Each case has its own copy: a detector that annotated one event would not touch another.
    assert.notEqual(cases[2]?.events[0], cases[2]?.events[1]);
  });

  test('run against the rule, the aliased cases pass', async () => {
    const ruleFile = join(dir, 'create-user.yml');
    writeFileSync(ruleFile, RULE);
    writeFileSync(join(dir, 'create-user.tests.yml'), `- description: base\n  expect: match\n  event: &ev {eventName: CreateUser, userIdentity: {type: IAMUser}}\n- description: alias\n  expect: match\n  event: *ev\n- description: other\n  expect: no-match\n  event: {eventName: CreateUser, userIdentity: {type: Root}}\n`);
    const rules = loadRuleText(RULE, ruleFile).rules;
    const [result] = await runRuleTests(rules);
    assert.ok(result !== undefined);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.outcomes.map((outcome) => [outcome.testCase.description, outcome.passed]), [['base', true], ['alias', true], ['other', true]]);
  });

  test('the limits apply: an alias bomb, nesting, several documents, invalid YAML', () => {
    const levels = ['- description: bomb', '  expect: match', '  a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `  a${i + 1}: &a${i + 1} [${Array.from({ length: 10 }, () => `*a${i}`).join(', ')}]`), '  event: {k: *a6}'];
    const bomb = parseRuleTests(`${levels.join('\n')}\n`, 'b.tests.yml');
    assert.deepEqual(bomb.cases, []);
    assert.equal(bomb.errors[0]?.code, 'TH_RULE_LIMIT');
    // a4 holds ten uses of a3 (11,111 nodes each): the budget runs out there.
    assert.match(bomb.errors[0]?.location ?? '', /^b\.tests\.yml:7:\d+$/);

    const deep = parseRuleTests(`- expect: match\n  event: {k: ${'['.repeat(250)}${']'.repeat(250)}}\n`, 'd.tests.yml');
    assert.equal(deep.errors[0]?.code, 'TH_RULE_LIMIT');

    const two = parseRuleTests('- expect: match\n  event: {a: 1}\n---\n- expect: match\n  event: {a: 2}\n', 't.tests.yml');
    assert.deepEqual(two.errors.map((error) => [error.code, error.location]), [['TH_RULE_TEST', 't.tests.yml:4:1']]);

    const broken = parseRuleTests('- expect: match\n  event: {a: [1\n', 'y.tests.yml');
    assert.equal(broken.errors[0]?.code, 'TH_RULE_TEST');
    assert.match(broken.errors[0]?.message ?? '', /^invalid YAML/);

    const dup = parseRuleTests('- expect: match\n  expect: no-match\n  event: {a: 1}\n', 'k.tests.yml');
    assert.deepEqual(dup.errors.map((error) => [error.code, error.location]), [['TH_RULE_TEST', 'k.tests.yml:2:3']]);
  });

  test('readRuleTests: missing is undefined, too large is TH_RULE_LIMIT', async () => {
    assert.equal(await readRuleTests(join(dir, 'none.tests.yml')), undefined);
    const big = join(dir, 'big.tests.yml');
    writeFileSync(big, '');
    const { truncateSync } = await import('node:fs');
    truncateSync(big, 33 * 1024 * 1024);
    const read = await readRuleTests(big);
    assert.equal(read?.errors[0]?.code, 'TH_RULE_LIMIT');
    assert.equal(read?.errors[0]?.location, big);
  });
});
