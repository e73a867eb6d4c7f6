import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';
import { inapplicableRuleWarnings, loadRuleSet } from '../../src/pack/rule-set.ts';

const WINDOWS_RULE = `title: Windows whoami
id: 3f8c2a10-1111-4222-8333-444455556666
name: win-process-whoami
logsource:
    product: windows
    category: process_creation
tags: [attack.discovery, attack.t1033]
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
level: low
`;

const WINDOWS_TESTS = `- description: whoami
  expect: match
  event: {Image: 'C:\\Windows\\System32\\whoami.exe'}
- description: cmd
  expect: no-match
  event: {Image: 'C:\\Windows\\System32\\cmd.exe'}
`;

const AWS_RULE = `title: Root console login
id: 3f8c2a10-1111-4222-8333-444455556667
name: aws-ct-root-console-login
logsource: {product: aws, service: cloudtrail}
tags: [attack.initial-access, attack.t1078.004]
detection:
    selection:
        eventName: ConsoleLogin
        userIdentity.type: Root
    condition: selection
level: high
`;

const AWS_TESTS = `- description: root
  expect: match
  event: {eventName: ConsoleLogin, userIdentity: {type: Root}}
- description: a user
  expect: no-match
  event: {eventName: ConsoleLogin, userIdentity: {type: IAMUser}}
`;

const NEVER_MATCH = / has logsource \{"category":"process_creation","product":"windows"\}, which no AWS input provides; it will never match$/;

let dir = '';
let rules = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-rules-lint-'));
  rules = join(dir, 'rules');
  mkdirSync(rules);
  // A blank line first, so the rule's location is line 2, not the file's start.
  writeFileSync(join(rules, 'win-process-whoami.yml'), `\n${WINDOWS_RULE}`);
  writeFileSync(join(rules, 'win-process-whoami.tests.yml'), WINDOWS_TESTS);
  writeFileSync(join(rules, 'aws-ct-root-console-login.yml'), AWS_RULE);
  writeFileSync(join(rules, 'aws-ct-root-console-login.tests.yml'), AWS_TESTS);
  writeFileSync(join(dir, 'empty.json'), '{"Records":[]}');
});

after(() => rmSync(dir, { recursive: true, force: true }));

function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('warning: '));
}

test('rules lint warns, located at file:line:col, about a rule no AWS input can match', async () => {
  const result = await runCli(['rules', 'lint', rules]);
  const warnings = warningLines(result.stderr);
  assert.equal(warnings.length, 1, result.stderr);
  const file = join(rules, 'win-process-whoami.yml');
  assert.ok(warnings[0]?.startsWith(`warning: ${file}:2:1: rule win-process-whoami has logsource `), warnings[0]);
  assert.match(warnings[0] ?? '', NEVER_MATCH);
  assert.doesNotMatch(result.stderr, /aws-ct-root-console-login/, 'an AWS rule is not warned about');
  // A warning, not a problem: the rule is well-formed, so lint still passes.
  assert.match(result.stderr, /rules lint: 2 rules, 0 correlations, 0 filters, 0 problems, 1 warnings/);
  assert.equal(result.code, 0, result.stderr);
});

test("rules lint words the warning as scan does", async () => {
  const lint = await runCli(['rules', 'lint', rules]);
  const scan = await runCli(['scan', '--no-default-rules', '--rules', rules, join(dir, 'empty.json')]);
  const message = (stderr: string): string | undefined => warningLines(stderr).map((line) => line.slice(line.indexOf(': rule ') + 2))[0];
  assert.ok(message(scan.stderr) !== undefined, scan.stderr);
  assert.equal(message(lint.stderr), message(scan.stderr));
});

test('the built-in pack has no rule that never matches', async () => {
  const result = await runCli(['rules', 'lint']);
  assert.deepEqual(warningLines(result.stderr), []);
  assert.match(result.stderr, /, 0 warnings\n/);
});

test('inapplicableRuleWarnings: one per rule of another product, none for AWS rules', async () => {
  const set = await loadRuleSet({ paths: [rules] });
  assert.equal(set.rules.length, 2);
  const warnings = inapplicableRuleWarnings(set.rules);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', NEVER_MATCH);
});
