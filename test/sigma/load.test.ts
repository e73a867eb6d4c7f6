/**
 * Loading: documents of a file, rule metadata, folders, the --vars file, and the detection
 * compiler as a filter compiler will call it.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compileDetectionSection } from '../../src/sigma/compile.ts';
import { loadRulePaths, loadRuleText } from '../../src/sigma/load.ts';
import { parsePlaceholderFile } from '../../src/sigma/placeholders.ts';
import type { CompiledDetectionRule, SigmaMapNode } from '../../src/sigma/types.ts';
import { dedent, RULE_ID, ruleText } from './helpers.ts';

const FULL_RULE = dedent(`
  title: EC2 key pair created or imported
  name: aws-ct-ec2-keypair-created-or-imported
  id: 3f0b6a38-8f6e-4f7e-9a1e-5c2d7b1e9a40
  status: stable
  description: New SSH key material in EC2.
  author: trailhound
  date: 2025-01-02
  references:
    - https://example.com/a
  logsource:
    product: aws
    service: cloudtrail
  detection:
    selection:
      eventSource: ec2.amazonaws.com
      eventName:
        - CreateKeyPair
        - ImportKeyPair
    success:
      errorCode|exists: false
    condition: selection and success
  fields:
    - requestParameters.keyName
  falsepositives:
    - Provisioning pipelines
  level: high
  tags:
    - attack.persistence
    - attack.t1098.001
`);

const CORRELATION = dedent(`
  title: Many key pairs
  id: 0e95725d-7320-415d-80f7-004da920fc11
  correlation:
    type: event_count
    rules:
      - aws-ct-ec2-keypair-created-or-imported
    group-by:
      - userIdentity.arn
    timespan: 10m
    condition:
      gte: 5
`);

const FILTER = dedent(`
  title: Terraform role
  id: 6f3e2987-db24-4c78-a860-b4f4095a7095
  logsource:
    product: aws
    service: cloudtrail
  filter:
    rules:
      - aws-ct-ec2-keypair-created-or-imported
    selection:
      userIdentity.sessionContext.sessionIssuer.arn|endswith: ':role/terraform'
    condition: selection
`);

describe('loadRuleText', () => {
  test('metadata of a detection rule', () => {
    const result = loadRuleText(FULL_RULE, 'keypair.yml');
    assert.deepEqual(result.errors, []);
    const rule = result.rules[0];
    assert.ok(rule);
    assert.equal(rule.kind, 'detection');
    assert.equal(rule.id, '3f0b6a38-8f6e-4f7e-9a1e-5c2d7b1e9a40');
    assert.equal(rule.name, 'aws-ct-ec2-keypair-created-or-imported');
    assert.equal(rule.title, 'EC2 key pair created or imported');
    assert.equal(rule.level, 'high');
    assert.equal(rule.status, 'stable');
    assert.equal(rule.description, 'New SSH key material in EC2.');
    assert.equal(rule.author, 'trailhound');
    assert.equal(rule.date, '2025-01-02');
    assert.deepEqual(rule.tags, ['attack.persistence', 'attack.t1098.001']);
    assert.deepEqual(rule.falsepositives, ['Provisioning pipelines']);
    assert.deepEqual(rule.references, ['https://example.com/a']);
    assert.deepEqual(rule.fields, ['requestParameters.keyName']);
    assert.deepEqual(rule.logsource, { product: 'aws', service: 'cloudtrail' });
    assert.deepEqual(rule.position, { file: 'keypair.yml', line: 1, col: 1 });
    assert.equal((rule.source['detection'] as Record<string, unknown>)['condition'], 'selection and success');
    assert.equal(rule.match({ eventSource: 'ec2.amazonaws.com', eventName: 'ImportKeyPair' }), true);
    assert.equal(rule.match({ eventSource: 'ec2.amazonaws.com', eventName: 'ImportKeyPair', errorCode: 'AccessDenied' }), false);
  });

  test('level defaults to medium; lists default to empty', () => {
    const rule = loadRuleText(ruleText(`
      sel:
        f: x
      condition: sel`), 'r.yml').rules[0];
    assert.ok(rule);
    assert.equal(rule.level, 'medium');
    assert.deepEqual([rule.tags, rule.falsepositives, rule.references, rule.fields], [[], [], [], []]);
    assert.equal(rule.name, undefined);
  });

  test('several documents: rules, a correlation and a filter with their positions; empty documents skipped', () => {
    const text = `${FULL_RULE}\n---\n${CORRELATION}\n---\n${FILTER}\n---\n`;
    const result = loadRuleText(text, 'pack.yml');
    assert.deepEqual(result.errors, []);
    assert.equal(result.rules.length, 1);
    const lineOf = (needle: string): number => text.split('\n').findIndex((line) => line.startsWith(needle)) + 1;
    assert.deepEqual(result.otherDocuments.map((d) => [d.kind, d.position.line, d.position.col]), [
      ['correlation', lineOf('title: Many key pairs'), 1],
      ['filter', lineOf('title: Terraform role'), 1],
    ]);
    const correlation = result.otherDocuments[0];
    assert.equal((correlation?.body['correlation'] as Record<string, unknown>)['type'], 'event_count');
    assert.equal(correlation?.tree?.kind, 'map');
  });

  test('a filter section compiles with compileDetectionSection, located, reserving `rules`', () => {
    const result = loadRuleText(FILTER, 'filter.yml');
    const filter = result.otherDocuments[0];
    assert.ok(filter?.tree);
    const section = filter.tree.entries.find((entry) => entry.key === 'filter')?.value as SigmaMapNode;
    const compiled = compileDetectionSection(section, 'filter.yml', { reservedKeys: ['rules'] });
    assert.ok(!Array.isArray(compiled));
    assert.equal(compiled.match({ userIdentity: { sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::1:role/Terraform' } } } }), true);
    assert.equal(compiled.match({ userIdentity: { sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::1:role/admin' } } } }), false);
    // Without reserving `rules`, it would be a (keyword) search identifier that is never used: still fine.
    // A bad filter condition is located in the filter file.
    const bad = loadRuleText(FILTER.replace('condition: selection', 'condition: selection and nope'), 'filter.yml').otherDocuments[0];
    const section2 = bad?.tree?.entries.find((entry) => entry.key === 'filter')?.value as SigmaMapNode;
    const errors = compileDetectionSection(section2, 'filter.yml', { reservedKeys: ['rules'] });
    assert.ok(Array.isArray(errors));
    assert.equal(errors[0]?.code, 'TH_RULE_IDENTIFIER');
    // Line 11 is "  condition: selection and nope": the value starts at column 14, 'nope' at 28.
    assert.equal(errors[0]?.location, 'filter.yml:11:28');
  });

  test('compileDetectionSection also takes a plain object', () => {
    const compiled = compileDetectionSection({ sel: { 'eventName|startswith': 'Delete' }, condition: 'sel' }, 'plain.yml');
    assert.ok(!Array.isArray(compiled));
    assert.equal(compiled.match({ eventName: 'DeleteTrail' }), true);
    const errors = compileDetectionSection({ sel: { 'f|bogus': 'x' }, condition: 'sel' }, 'plain.yml');
    assert.ok(Array.isArray(errors));
    assert.deepEqual(errors.map((e) => [e.code, e.location]), [['TH_RULE_MODIFIER', 'plain.yml:1:1']]);
  });

  test('a byte order mark and CRLF line ends are fine', () => {
    const text = `\uFEFF${ruleText(`
      sel:
        f: x
      condition: sel`).replace(/\n/g, '\r\n')}`;
    const result = loadRuleText(text, 'bom.yml');
    assert.deepEqual(result.errors, []);
    assert.equal(result.rules[0]?.match({ f: 'X' }), true);
  });

  test('match never throws, whatever the record', () => {
    const rule = loadRuleText(ruleText(`
      sel:
        a.b|contains: x
      kw:
        - y
      condition: sel or kw`), 'r.yml').rules[0];
    assert.ok(rule);
    let deep: Record<string, unknown> = { v: 'z' };
    for (let i = 0; i < 100_000; i++) deep = { n: deep };
    const odd: unknown[] = [{}, { a: null }, { a: [] }, { a: 5 }, { a: { b: [null, 1, true, { c: 'x' }] } }, deep];
    for (const record of odd) assert.doesNotThrow(() => rule.match(record as Record<string, unknown>));
    assert.equal(rule.match({ a: { b: [null, 1, true, { c: 'x' }] } }), true);
  });
});

describe('loadRulePaths', () => {
  const root = mkdtempSync(join(tmpdir(), 'trailhound-sigma-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const rule = (id: string, title: string): string => ruleText(`
    sel:
      f: x
    condition: sel`).replace(RULE_ID, id).replace('Test rule', title);

  mkdirSync(join(root, 'b', 'deep'), { recursive: true });
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, '.hidden'));
  writeFileSync(join(root, 'b', 'deep', 'z.yml'), rule('00000000-0000-4000-8000-000000000003', 'z'));
  writeFileSync(join(root, 'b', 'c.yaml'), rule('00000000-0000-4000-8000-000000000002', 'c'));
  writeFileSync(join(root, 'a', 'a.yml'), rule('00000000-0000-4000-8000-000000000001', 'a'));
  writeFileSync(join(root, 'a', 'a.tests.yml'), '- expect: match\n  event: {}\n');
  writeFileSync(join(root, 'a', 'notes.txt'), 'not a rule');
  writeFileSync(join(root, '.hidden', 'h.yml'), rule('00000000-0000-4000-8000-000000000009', 'h'));
  writeFileSync(join(root, 'broken.yml'), 'title: [\n');

  test('folders recursively, sorted, .yml and .yaml, skipping *.tests.yml, other files and hidden folders', async () => {
    const result = await loadRulePaths([root]);
    assert.deepEqual(result.rules.map((r) => r.title), ['a', 'c', 'z']);
    assert.deepEqual(result.errors.map((e) => e.code), ['TH_RULE_YAML']);
    assert.ok(result.errors[0]?.location.startsWith(join(root, 'broken.yml')));
  });

  test('a file named directly, and a missing path', async () => {
    const missing = join(root, 'nope');
    const result = await loadRulePaths([join(root, 'b', 'c.yaml'), missing]);
    assert.deepEqual(result.rules.map((r) => r.title), ['c']);
    assert.deepEqual(result.errors.map((e) => [e.code, e.location]), [['TH_RULE_READ', missing]]);
  });

  test('an unreadable file is TH_RULE_READ and the rest loads', { skip: process.getuid?.() === 0 ? 'root reads everything' : false }, async () => {
    const locked = join(root, 'locked.yml');
    writeFileSync(locked, rule('00000000-0000-4000-8000-000000000005', 'locked'));
    chmodSync(locked, 0o000);
    try {
      const result = await loadRulePaths([locked, join(root, 'a')]);
      assert.deepEqual(result.rules.map((r) => r.title), ['a']);
      assert.deepEqual(result.errors.map((e) => e.code), ['TH_RULE_READ']);
    } finally {
      chmodSync(locked, 0o644);
      rmSync(locked);
    }
  });
});

describe('parsePlaceholderFile', () => {
  test('names to lists of strings; a single value; % signs tolerated', () => {
    const { vars, errors } = parsePlaceholderFile(dedent(`
      admin_principals:
        - arn:aws:iam::111122223333:role/OrganizationAccountAccessRole
        - arn:aws:iam::111122223333:role/terraform-deployer
      '%Servers%': srv*
      ports:
        - 22
        - 3389
      none: []
    `), 'vars.yml');
    assert.deepEqual(errors, []);
    assert.deepEqual(Object.fromEntries(vars), {
      admin_principals: ['arn:aws:iam::111122223333:role/OrganizationAccountAccessRole', 'arn:aws:iam::111122223333:role/terraform-deployer'],
      Servers: ['srv*'],
      ports: ['22', '3389'],
      none: [],
    });
  });

  test('errors are located TH_VARS', () => {
    const notMap = parsePlaceholderFile('- a\n- b\n', 'v.yml');
    assert.deepEqual(notMap.errors.map((e) => [e.code, e.location]), [['TH_VARS', 'v.yml:1:1']]);
    const badValue = parsePlaceholderFile('ok: x\nbad:\n  - {a: 1}\n', 'v.yml');
    assert.deepEqual(badValue.errors.map((e) => [e.code, e.location]), [['TH_VARS', 'v.yml:3:5']]);
    assert.deepEqual(Object.fromEntries(badValue.vars), { ok: ['x'] });
    const badYaml = parsePlaceholderFile('a: [\n', 'v.yml');
    assert.equal(badYaml.errors[0]?.code, 'TH_VARS');
    const badName = parsePlaceholderFile('"a b": x\n', 'v.yml');
    assert.deepEqual(badName.errors.map((e) => [e.code, e.location]), [['TH_VARS', 'v.yml:1:1']]);
  });

  test('an empty list makes the placeholder match nothing', () => {
    const { vars } = parsePlaceholderFile('none: []\n', 'v.yml');
    const rule = loadRuleText(ruleText(`
      sel:
        f: x
      filter:
        user|expand: '%none%'
      condition: sel and not filter`), 'r.yml', { vars }).rules[0];
    assert.equal(rule?.match({ f: 'x', user: 'anyone' }), true);
  });
});

const DEFAULT_RULES_DIR_FOR_TEXTS = new URL('../../rules/', import.meta.url).pathname;

test('the texts one load read compile, without reading, into the same rules (a scan worker starts from them)', async () => {
  const texts: [string, string][] = [];
  const read = await loadRulePaths([DEFAULT_RULES_DIR_FOR_TEXTS], {}, { onText: (file, text) => void texts.push([file, text]) });
  assert.ok(texts.length > 50, 'every rule file of the pack is told');
  assert.deepEqual([...new Set(texts.map(([file]) => file))].length, texts.length, 'each file once');
  const again = await loadRulePaths(['/nonexistent/never-read'], {}, { texts });
  assert.deepEqual(again.errors, [], 'nothing is read: the paths are not even looked at');
  assert.deepEqual(again.rules.map((rule) => [rule.id, rule.name, rule.level, rule.position]), read.rules.map((rule) => [rule.id, rule.name, rule.level, rule.position]));
  assert.deepEqual(again.otherDocuments.length, read.otherDocuments.length);
});

test('deferRegex: a regular expression compiles at its first test and matches as compiled at load; one the first load refused matches nothing, never throws', () => {
  const detection = `
    selection:
      eventName|re: '^(Get|List)[A-Z][a-z]+$'
      userAgent|re|i: 'AWS-CLI/2\\.'
    condition: selection
  `;
  const eager = loadRuleText(ruleText(detection), 'rule.yml');
  const deferred = loadRuleText(ruleText(detection), 'rule.yml', { deferRegex: true });
  assert.deepEqual(eager.errors, []);
  assert.deepEqual(deferred.errors, []);
  const records = [
    { eventName: 'GetObject', userAgent: 'aws-cli/2.15.30' },
    { eventName: 'GetObjectAcl', userAgent: 'aws-cli/2.15.30' },
    { eventName: 'ListBuckets', userAgent: 'Boto3/1.28' },
    { eventName: 'PutObject', userAgent: 'aws-cli/2.15.30' },
    { eventName: 42, userAgent: 'AWS-CLI/2.1' },
  ];
  const matches = (rule: CompiledDetectionRule | undefined): boolean[] => records.map((record) => rule?.match(record) ?? false);
  assert.deepEqual(matches(deferred.rules[0]), matches(eager.rules[0]));
  assert.deepEqual(matches(eager.rules[0]), [true, false, false, false, false]);

  const unsafe = `
    selection:
      requestParameters.roleName|re: '(a+)+\\1'
    condition: selection
  `;
  assert.equal(loadRuleText(ruleText(unsafe), 'rule.yml').rules.length, 0, 'refused at load');
  const late = loadRuleText(ruleText(unsafe), 'rule.yml', { deferRegex: true }).rules[0];
  assert.ok(late !== undefined);
  assert.equal(late.match({ requestParameters: { roleName: `${'a'.repeat(40)}!` } }), false);
});
