import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

// --- outside rules vs pack conventions, ATT&CK ids, references to the built-in pack ---------

const SIGMAHQ = new URL('../../../shared/corpus/sigmahq-aws/rules/', import.meta.url).pathname;

function ruleFile(id: string, name: string | undefined, tags: string[], extra = ''): string {
  return `title: Rule ${id}
id: ${id}
${name === undefined ? '' : `name: ${name}\n`}logsource: {product: aws, service: cloudtrail}
tags: [${tags.join(', ')}]
detection:
    selection:
        eventName: GetCallerIdentity
${extra}    condition: selection
level: low
`;
}

function problemLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('error: '));
}

let outside = '';

before(() => {
  outside = join(dir, 'outside');
  mkdirSync(outside);
  // No name, no tests file: fine for outside rules, not under pack conventions.
  writeFileSync(join(outside, 'plain.yml'), ruleFile('0a1b2c3d-0000-4000-8000-000000000001', undefined, ['attack.discovery', 'attack.t1087.004']));
  writeFileSync(join(outside, 'unknown-technique.yml'), ruleFile('0a1b2c3d-0000-4000-8000-000000000002', 'unknown-technique', ['attack.t9999']));
  writeFileSync(join(outside, 'revoked-technique.yml'), ruleFile('0a1b2c3d-0000-4000-8000-000000000003', 'revoked-technique', ['attack.execution', 'attack.t1086']));
  writeFileSync(join(outside, 'base64offset.yml'), ruleFile('0a1b2c3d-0000-4000-8000-000000000004', 'base64offset', ['attack.t1087.004'], "        userAgent|base64offset: 'curl'\n        requestParameters.x|base64offset|contains: 'curl'\n"));
});

const LINT_CASES: { name: string; args: () => string[]; code: number; problems: RegExp[]; warnings: RegExp[]; summary?: RegExp }[] = [
  {
    name: 'outside rules: Sigma validity only, ATT&CK ids and base64offset are warnings',
    args: () => ['rules', 'lint', outside],
    code: 0,
    problems: [],
    warnings: [
      /unknown-technique\.yml:1:1: TH_RULE_ATTACK unknown-technique: ATT&CK tag "attack\.t9999" names T9999, which is not an Enterprise ATT&CK technique/,
      /revoked-technique\.yml:1:1: TH_RULE_ATTACK revoked-technique: ATT&CK tag "attack\.t1086" names T1086 \(PowerShell\), which MITRE revoked in favour of T1059\.001: tag attack\.t1059\.001 instead/,
      /base64offset\.yml:9:9: TH_RULE_SUSPECT 'userAgent\|base64offset' compares the whole value .* 'userAgent\|base64offset\|contains'/,
    ],
    summary: /rules lint: 4 rules, 0 correlations, 0 filters, 0 problems, 3 warnings\n/,
  },
  {
    name: '--pack-conventions: conventions and ATT&CK ids are problems',
    args: () => ['rules', 'lint', '--pack-conventions', outside],
    code: 2,
    problems: [/plain\.yml:1:1: TH_RULE_SCHEMA .*no name/, /plain\.yml:1:1: TH_RULE_TEST .*no tests file/, /TH_RULE_ATTACK unknown-technique: .*T9999/, /TH_RULE_ATTACK revoked-technique: .*T1086/],
    warnings: [/TH_RULE_SUSPECT/],
  },
  {
    name: 'the built-in pack follows pack conventions by default and has no problem',
    args: () => ['rules', 'lint'],
    code: 0,
    problems: [],
    warnings: [],
  },
  {
    name: '--no-pack-conventions on the built-in pack: still clean',
    args: () => ['rules', 'lint', '--no-pack-conventions'],
    code: 0,
    problems: [],
    warnings: [],
  },
];

for (const { name, args, code, problems, warnings, summary } of LINT_CASES) {
  test(`rules lint: ${name}`, async () => {
    const result = await runCli(args());
    assert.equal(result.code, code, result.stderr);
    const errors = problemLines(result.stderr);
    assert.equal(errors.length >= problems.length, true, result.stderr);
    if (problems.length === 0) assert.deepEqual(errors, []);
    for (const problem of problems) assert.ok(errors.some((line) => problem.test(line)), `${problem}\n${result.stderr}`);
    const seen = warningLines(result.stderr);
    if (warnings.length === 0) assert.deepEqual(seen, []);
    for (const warning of warnings) assert.ok(seen.some((line) => warning.test(line)), `${warning}\n${result.stderr}`);
    if (summary !== undefined) assert.match(result.stderr, summary);
  });
}

test('rules lint: a folder of filters alone resolves the built-in rule names; --no-default-rules lints it alone', async () => {
  const filters = join(dir, 'filters-only');
  mkdirSync(filters);
  writeFileSync(join(filters, 'allow-scanner.yml'), `title: Scanner role
id: 0a1b2c3d-0000-4000-8000-0000000000f1
logsource: {product: aws, service: cloudtrail}
filter:
    rules:
        - aws-ct-discovery-call
    scanner:
        userIdentity.arn: arn:aws:iam::111122223333:role/scanner
    condition: not scanner
`);
  const withPack = await runCli(['rules', 'lint', filters]);
  assert.equal(withPack.code, 0, withPack.stderr);
  assert.match(withPack.stderr, /rules lint: 0 rules, 0 correlations, 1 filters, 0 problems, 0 warnings\n/);
  const alone = await runCli(['rules', 'lint', '--no-default-rules', filters]);
  assert.equal(alone.code, 2, alone.stderr);
  assert.ok(problemLines(alone.stderr).some((line) => line.includes('TH_RULE_REFERENCE') && line.includes('aws-ct-discovery-call') && line.includes('allow-scanner.yml')), alone.stderr);
});

test("rules lint: SigmaHQ's AWS rules pass Sigma validity, and fail only pack conventions when asked", { skip: !existsSync(SIGMAHQ) && 'no ../shared/corpus/sigmahq-aws here' }, async () => {
  const plain = await runCli(['rules', 'lint', SIGMAHQ]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(problemLines(plain.stderr), []);
  assert.match(plain.stderr, /rules lint: \d+ rules, 0 correlations, 0 filters, 0 problems, \d+ warnings\n/);
  const strict = await runCli(['rules', 'lint', '--pack-conventions', SIGMAHQ]);
  assert.equal(strict.code, 2, strict.stderr);
  assert.ok(problemLines(strict.stderr).every((line) => / TH_RULE_(SCHEMA|TEST|ATTACK) /.test(line)), strict.stderr);
});
