/**
 * Sigma filters (sigma-filters-specification.md; pySigma semantics: the rule's condition AND
 * the filter's condition): documents, audit fields and expiry, `|expand` placeholders, and
 * their place in the pipeline: before alerts and before correlation counting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { alertsOf, event, loadSet, MINUTE, run } from '../correlation/helpers.ts';
import { isCalendarDate, isExpired } from '../../../src/sigma/filter.ts';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import type { LogRecord } from '../../../src/core/envelope.ts';

const RULE_ID = 'b0000000-0000-4000-8000-000000000001';
const CORRELATION_ID = 'b0000000-0000-4000-8000-000000000002';

const RULES = `
title: Security group opened
id: ${RULE_ID}
name: sg-opened
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: AuthorizeSecurityGroupIngress}
    condition: selection
level: medium
---
title: Describe call
id: b0000000-0000-4000-8000-000000000003
name: describe-call
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: Describe}
    condition: selection
level: informational
---
title: Describe burst
id: ${CORRELATION_ID}
name: describe-burst
level: low
correlation:
    type: value_count
    rules: [describe-call]
    group-by: [recipientAccountId]
    timespan: 30m
    condition: {field: eventName, gte: 3}
`;

function filterDoc(body: string, extra = ''): string {
  return `---\ntitle: Allowlist the admin role\nid: b0000000-0000-4000-8000-0000000000f1\nowner: cloud-platform@example.com\nreason: Terraform pipeline manages security groups\n${extra}logsource: {product: aws, service: cloudtrail}\nfilter:\n${body}`;
}

const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/TerraformAdmin';
const byRole = (role: string, fields: LogRecord): LogRecord => ({
  ...fields,
  recipientAccountId: '111122223333',
  userIdentity: { type: 'AssumedRole', arn: `${role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/session-1`, sessionContext: { sessionIssuer: { type: 'Role', arn: role } } },
});
const ATTACKER_ROLE = 'arn:aws:iam::111122223333:role/web-app-role';

const SG_FILTER = filterDoc(`    rules: [sg-opened]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn: '${ADMIN_ROLE}'\n    condition: not admin\n`);

test('a filter drops the allowlisted principal\'s matches of the rules it names, and only those', () => {
  const set = loadSet(RULES + SG_FILTER);
  assert.deepEqual(set.errors, []);
  const filter = set.filters[0];
  assert.equal(filter?.owner, 'cloud-platform@example.com');
  assert.equal(filter?.reason, 'Terraform pipeline manages security groups');
  const alerts = run(set, [
    event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' })),
    event(MINUTE, byRole(ATTACKER_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' })),
  ]);
  assert.equal(alertsOf(alerts, RULE_ID).length, 1);
  assert.match(alertsOf(alerts, RULE_ID)[0]?.actor ?? '', /web-app-role/);
});

test('|expand placeholders in a filter take their values from --vars (one list for the whole environment)', () => {
  const vars = new Map([['admin_principals', [ADMIN_ROLE, 'arn:aws:iam::111122223333:role/Inventory*']]]);
  const set = loadSet(RULES + filterDoc(`    rules: [sg-opened]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn|expand: '%admin_principals%'\n    condition: not admin\n`), { vars });
  assert.deepEqual(set.errors, []);
  const alerts = run(set, [
    event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' })),
    event(MINUTE, byRole('arn:aws:iam::111122223333:role/InventoryReader', { eventName: 'AuthorizeSecurityGroupIngress' })),
    event(2 * MINUTE, byRole(ATTACKER_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' })),
  ]);
  assert.equal(alertsOf(alerts, RULE_ID).length, 1);
  const missing = loadSet(RULES + filterDoc(`    rules: [sg-opened]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn|expand: '%admin_principals%'\n    condition: not admin\n`));
  assert.ok(missing.errors.some((error) => error.code === 'TH_RULE_PLACEHOLDER'), 'a placeholder without a value rejects the filter');
});

test('filters apply before correlation counting: an allowlisted principal never feeds a count', () => {
  const set = loadSet(RULES + filterDoc(`    rules: [describe-call]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn: '${ADMIN_ROLE}'\n    condition: not admin\n`));
  const mixed = [
    event(0, byRole(ADMIN_ROLE, { eventName: 'DescribeInstances' })),
    event(MINUTE, byRole(ADMIN_ROLE, { eventName: 'DescribeVpcs' })),
    event(2 * MINUTE, byRole(ATTACKER_ROLE, { eventName: 'DescribeKeyPairs' })),
    event(3 * MINUTE, byRole(ATTACKER_ROLE, { eventName: 'DescribeKeyPairs' })),
  ];
  assert.equal(alertsOf(run(set, mixed), CORRELATION_ID).length, 0, 'the admin\'s two distinct calls are not counted for the account');
  assert.equal(alertsOf(run(loadSet(RULES), mixed), CORRELATION_ID).length, 1, 'without the filter they are');
});

test('a filter naming a correlation keeps records out of that correlation only', () => {
  const set = loadSet(RULES + filterDoc(`    rules: [describe-burst]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn: '${ADMIN_ROLE}'\n    condition: not admin\n`));
  assert.deepEqual(set.errors, []);
  const calls = ['DescribeInstances', 'DescribeVpcs', 'DescribeKeyPairs'].map((name, i) => event(i * MINUTE, byRole(ADMIN_ROLE, { eventName: name })));
  assert.equal(alertsOf(run(set, calls), CORRELATION_ID).length, 0);
});

test('rules: any applies to every rule of the filter\'s log source', () => {
  const set = loadSet(RULES + filterDoc(`    rules: any\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn: '${ADMIN_ROLE}'\n    condition: not admin\n`));
  assert.equal(run(set, [event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' }))]).length, 0);
  const other = loadSet(RULES + filterDoc(`    rules: any\n    admin: {eventName: AuthorizeSecurityGroupIngress}\n    condition: not admin\n`).replace('service: cloudtrail}', 'service: vpcflow}'));
  assert.equal(run(other, [event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' }))]).length, 1, 'a VPC Flow Logs filter does not touch CloudTrail rules');
});

test('pySigma semantics: the rule matches when its condition AND the filter\'s hold (the spec example\'s "condition: selection" keeps only the selection)', () => {
  const set = loadSet(RULES + filterDoc(`    rules: [sg-opened]\n    selection:\n        userIdentity.sessionContext.sessionIssuer.arn|startswith: 'arn:aws:iam::111122223333:role/Terraform'\n    condition: selection\n`));
  const alerts = run(set, [event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' })), event(MINUTE, byRole(ATTACKER_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' }))]);
  assert.deepEqual(alerts.map((alert) => alert.actor?.includes('Terraform')), [true]);
});

test('expires: valid through its day (UTC); an expired filter stops applying', () => {
  assert.equal(isExpired('2026-03-01', new Date('2026-03-01T23:59:59Z')), false);
  assert.equal(isExpired('2026-03-01', new Date('2026-03-02T00:00:00Z')), true);
  assert.equal(isCalendarDate('2026-02-29'), false);
  assert.equal(isCalendarDate('2028-02-29'), true);
  const now = new Date('2026-06-01T12:00:00Z');
  const expired = loadSet(RULES + SG_FILTER.replace('owner:', 'expires: 2026-05-31\nowner:'), { now });
  assert.equal(expired.filters[0]?.expired, true);
  assert.equal(run(expired, [event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' }))]).length, 1, 'the admin alerts again');
  const valid = loadSet(RULES + SG_FILTER.replace('owner:', 'expires: 2026-06-01\nowner:'), { now });
  assert.equal(valid.filters[0]?.expired, false);
  assert.equal(run(valid, [event(0, byRole(ADMIN_ROLE, { eventName: 'AuthorizeSecurityGroupIngress' }))]).length, 0);
});

test('filter documents: located schema and reference errors', () => {
  const badDate = loadSet(RULES + SG_FILTER.replace('owner:', 'expires: 31/05/2026\nowner:'));
  assert.ok(badDate.errors.some((error) => error.code === 'TH_RULE_SCHEMA' && /YYYY-MM-DD/.test(error.message) && /^test\.yml:\d+:\d+$/.test(error.location)));
  const noRules = loadSet(RULES + filterDoc('    admin: {eventName: x}\n    condition: not admin\n'));
  assert.ok(noRules.errors.some((error) => /'filter.rules' is required/.test(error.message)));
  const noCondition = loadSet(RULES + filterDoc('    rules: [sg-opened]\n    admin: {eventName: x}\n'));
  assert.ok(noCondition.errors.some((error) => /no 'condition'/.test(error.message)));
  const badIdentifier = loadSet(RULES + filterDoc('    rules: [sg-opened]\n    admin: {eventName: x}\n    condition: not adm\n'));
  assert.ok(badIdentifier.errors.some((error) => error.code === 'TH_RULE_IDENTIFIER'));
  const unknown = loadSet(RULES + filterDoc('    rules: [sg-openned]\n    admin: {eventName: x}\n    condition: not admin\n'));
  const reference = unknown.errors.find((error) => error.code === 'TH_RULE_REFERENCE');
  assert.ok(reference);
  assert.match(reference.message, /sg-openned/);
  const lines = (RULES + filterDoc('    rules: [sg-openned]\n')).split('\n');
  assert.equal(reference.location, `test.yml:${lines.findIndex((line) => line.includes('sg-openned')) + 1}:13`);
  const otherSource = loadSet(RULES + filterDoc('    rules: [sg-opened]\n    admin: {eventName: x}\n    condition: not admin\n').replace('service: cloudtrail}', 'service: guardduty}'));
  assert.ok(otherSource.errors.some((error) => error.code === 'TH_RULE_REFERENCE' && /outside the filter's/.test(error.message)));
});

test('rule sets: --filters paths and filters in rule folders both apply; expired filters are reported as TH_RULE_EXPIRED', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trailhound-filters-'));
  try {
    await mkdir(join(dir, 'rules'));
    await mkdir(join(dir, 'filters'));
    await writeFile(join(dir, 'rules', 'rules.yml'), RULES);
    await writeFile(join(dir, 'filters', 'admin.yml'), SG_FILTER.replace('owner:', 'expires: 2020-01-01\nowner:'));
    await writeFile(join(dir, 'filters', 'stray-rule.yml'), RULES.split('---')[0] ?? '');
    const set = await loadRuleSet({ paths: [join(dir, 'rules')], filterPaths: [join(dir, 'filters')] });
    assert.equal(set.filters.length, 1);
    assert.equal(set.warnings.length, 1);
    assert.equal(set.warnings[0]?.code, 'TH_RULE_EXPIRED');
    assert.match(set.warnings[0]?.message ?? '', /expired on 2020-01-01 \(owner: cloud-platform@example.com; reason: Terraform pipeline/);
    assert.ok(set.errors.some((error) => /--filters loads filter documents only/.test(error.message)), 'a rule in a filters folder is reported, not loaded');
    assert.equal(set.correlations.length, 1);

    const exec = promisify(execFile);
    const bin = new URL('../../../bin/trailhound.js', import.meta.url).pathname;
    await writeFile(join(dir, 'rules', 'admin-filter.yml'), SG_FILTER.replace('owner:', 'expires: 2020-01-01\nowner:'));
    const lint = await exec(process.execPath, [bin, 'rules', 'lint', join(dir, 'rules')]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    assert.equal(lint.code, 2);
    assert.match(lint.stderr, /TH_RULE_EXPIRED filter b0000000-0000-4000-8000-0000000000f1 expired on 2020-01-01/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a filter naming a rule also applies to the rules derived from it (related: derived), transitively', () => {
  const derived = `
---
title: Describe call with a long-term key
id: b0000000-0000-4000-8000-000000000004
name: describe-call-long-term-key
related:
    - id: b0000000-0000-4000-8000-000000000003
      type: derived
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: Describe, userIdentity.accessKeyId|startswith: AKIA}
    condition: selection
level: low
---
title: Describe call with a long-term key, in us-east-1
id: b0000000-0000-4000-8000-000000000005
name: describe-call-long-term-key-use1
related:
    - id: b0000000-0000-4000-8000-000000000004
      type: derived
    - id: ${RULE_ID}
      type: similar
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName|startswith: Describe, userIdentity.accessKeyId|startswith: AKIA, awsRegion: us-east-1}
    condition: selection
level: low
`;
  const withKey = (role: string): LogRecord => {
    const record = byRole(role, { eventName: 'DescribeInstances', awsRegion: 'us-east-1' });
    return { ...record, userIdentity: { ...(record['userIdentity'] as object), accessKeyId: 'AKIAEXAMPLE' } };
  };
  const allowAdmin = filterDoc(`    rules: [describe-call]\n    admin:\n        userIdentity.sessionContext.sessionIssuer.arn: '${ADMIN_ROLE}'\n    condition: not admin\n`);
  const names = (set: ReturnType<typeof loadSet>, role: string): string[] =>
    run(set, [event(0, withKey(role))])
      .map((alert) => alert.rule.name ?? '')
      .sort();
  const plain = loadSet(RULES + derived);
  assert.deepEqual(names(plain, ADMIN_ROLE), ['describe-call-long-term-key', 'describe-call-long-term-key-use1']);
  const filtered = loadSet(RULES + derived + allowAdmin);
  assert.deepEqual(filtered.errors, []);
  assert.deepEqual(names(filtered, ADMIN_ROLE), [], 'one allowlist on the parent silences every derived variant');
  assert.deepEqual(names(filtered, ATTACKER_ROLE), ['describe-call-long-term-key', 'describe-call-long-term-key-use1'], 'others still alert');
  // `similar` is not `derived`: a filter on sg-opened does not reach the variant.
  const similar = loadSet(RULES + derived + SG_FILTER);
  assert.deepEqual(names(similar, ADMIN_ROLE), ['describe-call-long-term-key', 'describe-call-long-term-key-use1']);
});
