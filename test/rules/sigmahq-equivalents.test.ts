/**
 * The SigmaHQ AWS rules written in the deprecated Sigma 1.0 aggregation syntax have working
 * Sigma 2 equivalents (test/fixtures/sigmahq-equivalents): each fires on events written for it
 * and not on near misses. When the corpus is present (../shared/corpus), each original is
 * rejected with TH_RULE_DEPRECATED_AGGREGATION and each equivalent's selections are the
 * original's, unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadSet, event, run, alertsOf, MINUTE, SECOND } from '../engine/correlation/helpers.ts';
import type { TestRuleSet } from '../engine/correlation/helpers.ts';
import { parse } from 'yaml';
import { loadRuleText } from '../../src/sigma/load.ts';
import type { LogRecord } from '../../src/core/envelope.ts';

const FIXTURES = new URL('../fixtures/sigmahq-equivalents/', import.meta.url);
const CORPUS = new URL('../../../shared/corpus/sigmahq-aws/unsupported/', import.meta.url);

function equivalent(file: string): { set: TestRuleSet; correlationId: string } {
  const path = new URL(file, FIXTURES).pathname;
  const set = loadSet(readFileSync(path, 'utf8'), { file: path });
  assert.deepEqual(set.errors, [], file);
  assert.equal(set.correlations.length, 1, file);
  return { set, correlationId: (set.correlations[0] as { id: string }).id };
}

const who = (arn: string): LogRecord => ({ userIdentity: { type: 'IAMUser', arn }, recipientAccountId: '111122223333', sourceIPAddress: '198.51.100.9' });
const mallory = who('arn:aws:iam::111122223333:user/mallory');

function calls(count: number, spacingMs: number, fields: (i: number) => LogRecord): LogRecord[] {
  return Array.from({ length: count }, (_, i) => event(i * spacingMs, { ...mallory, ...fields(i) }));
}

interface Case {
  file: string;
  fires: LogRecord[];
  misses: [string, LogRecord[]][];
}

const ec2 = (eventName: string, extra: LogRecord = {}): LogRecord => ({ eventSource: 'ec2.amazonaws.com', eventName, ...extra });

const CASES: Case[] = [
  {
    file: 'aws_ec2_download_userdata.yml',
    fires: calls(11, 30 * SECOND, () => ec2('DescribeInstanceAttribute', { requestParameters: { attribute: 'userData', instanceId: 'i-0abc' } })),
    misses: [
      ['exactly 10 (gt 10)', calls(10, 30 * SECOND, () => ec2('DescribeInstanceAttribute', { requestParameters: { attribute: 'userData' } }))],
      ['another attribute', calls(11, 30 * SECOND, () => ec2('DescribeInstanceAttribute', { requestParameters: { attribute: 'instanceType' } }))],
      ['11 over 31 minutes apart', calls(11, 3.1 * MINUTE, () => ec2('DescribeInstanceAttribute', { requestParameters: { attribute: 'userData' } }))],
    ],
  },
  {
    file: 'aws_enum_backup.yml',
    fires: calls(6, 20 * SECOND, (i) => ec2(['GetPasswordData', 'DescribeVolumes', 'DescribeImages'][i % 3] as string)),
    misses: [
      ['5 calls (gt 5)', calls(5, 20 * SECOND, () => ec2('DescribeVolumes'))],
      ['6 calls of an unlisted API', calls(6, 20 * SECOND, () => ec2('DescribeInstances'))],
    ],
  },
  {
    file: 'aws_enum_listing.yml',
    fires: calls(51, 5 * SECOND, (i) => ({ eventSource: 'iam.amazonaws.com', eventName: i % 2 ? 'ListUsers' : 'ListRoles' })),
    misses: [
      ['50 calls', calls(50, 5 * SECOND, () => ({ eventSource: 'iam.amazonaws.com', eventName: 'ListUsers' }))],
      ['51 Get calls', calls(51, 5 * SECOND, () => ({ eventSource: 'iam.amazonaws.com', eventName: 'GetUser' }))],
    ],
  },
  {
    file: 'aws_enum_network.yml',
    fires: calls(6, 10 * SECOND, (i) => ec2(['DescribeDhcpOptions', 'DescribeClientVpnRoutes', 'DescribeCarrierGateways'][i % 3] as string)),
    misses: [
      ['5 calls', calls(5, 10 * SECOND, () => ec2('DescribeDhcpOptions'))],
      ['6 calls over 11 minutes', calls(6, 2.2 * MINUTE, () => ec2('DescribeDhcpOptions'))],
    ],
  },
  {
    file: 'aws_enum_storage.yml',
    fires: calls(6, 10 * SECOND, (i) => ({ eventSource: 's3.amazonaws.com', eventName: ['ListBuckets', 'GetBucketPolicy', 'GetBucketTagging'][i % 3] })),
    misses: [
      ['5 calls', calls(5, 10 * SECOND, () => ({ eventSource: 's3.amazonaws.com', eventName: 'GetBucketPolicy' }))],
      ['6 object reads', calls(6, 10 * SECOND, () => ({ eventSource: 's3.amazonaws.com', eventName: 'GetObject' }))],
    ],
  },
  {
    file: 'aws_lambda_function_created_or_invoked.yml',
    fires: [event(0, { ...mallory, eventSource: 'lambda.amazonaws.com', eventName: 'CreateFunction' }), event(20 * MINUTE, { ...mallory, eventSource: 'lambda.amazonaws.com', eventName: 'Invoke' })],
    misses: [
      ['a creation only', [event(0, { ...mallory, eventSource: 'lambda.amazonaws.com', eventName: 'CreateFunction' })]],
      ['an invocation 61 minutes later', [event(0, { ...mallory, eventSource: 'lambda.amazonaws.com', eventName: 'CreateFunction' }), event(61 * MINUTE, { ...mallory, eventSource: 'lambda.amazonaws.com', eventName: 'Invoke' })]],
    ],
  },
  {
    file: 'aws_macic_evasion.yml',
    fires: calls(6, 30 * SECOND, (i) => ({ eventSource: 'macie2.amazonaws.com', eventName: ['ArchiveFindings', 'UpdateFindingsFilter', 'DisableMacie'][i % 3] })),
    misses: [
      ['5 calls', calls(5, 30 * SECOND, () => ({ eventSource: 'macie2.amazonaws.com', eventName: 'ArchiveFindings' }))],
      ['6 calls from two addresses (by sourceIPAddress)', calls(6, 30 * SECOND, (i) => ({ eventSource: 'macie2.amazonaws.com', eventName: 'ArchiveFindings', sourceIPAddress: i % 2 ? '198.51.100.9' : '203.0.113.5' }))],
    ],
  },
  {
    file: 'aws_ses_messaging_enabled.yml',
    fires: [event(0, { ...mallory, eventSource: 'ses.amazonaws.com', eventName: 'VerifyEmailIdentity' }), event(2 * MINUTE, { ...mallory, eventSource: 'ses.amazonaws.com', eventName: 'UpdateAccountSendingEnabled' })],
    misses: [
      ['verification only', [event(0, { ...mallory, eventSource: 'ses.amazonaws.com', eventName: 'VerifyEmailIdentity' })]],
      ['six minutes apart', [event(0, { ...mallory, eventSource: 'ses.amazonaws.com', eventName: 'UpdateAccountSendingEnabled' }), event(6 * MINUTE, { ...mallory, eventSource: 'ses.amazonaws.com', eventName: 'VerifyEmailIdentity' })]],
    ],
  },
];

for (const item of CASES) {
  test(`${item.file}: the equivalent fires on its events and not on near misses`, () => {
    const { set, correlationId } = equivalent(item.file);
    const alerts = run(set, item.fires);
    assert.equal(alertsOf(alerts, correlationId).length, 1);
    assert.equal(alerts.length, 1, 'the building blocks do not alert by themselves');
    for (const [label, records] of item.misses) assert.equal(alertsOf(run(set, records), correlationId).length, 0, label);
  });
}

const corpusPresent = existsSync(CORPUS);

test('every original in the corpus has an equivalent, is rejected as deprecated, and shares its selections', { skip: corpusPresent ? false : 'corpus not present (../shared/corpus)' }, () => {
  for (const item of CASES) {
    const path = new URL(item.file, CORPUS).pathname;
    const text = readFileSync(path, 'utf8');
    const loaded = loadRuleText(text, path);
    assert.equal(loaded.rules.length, 0, item.file);
    assert.ok(loaded.errors.some((error) => error.code === 'TH_RULE_DEPRECATED_AGGREGATION'), `${item.file}: ${JSON.stringify(loaded.errors)}`);

    const originalDetection = (parse(text) as { detection: Record<string, unknown> }).detection;
    const { set } = equivalent(item.file);
    const selections: Record<string, unknown> = {};
    for (const rule of set.rules) {
      const detection = rule.source.detection as Record<string, unknown>;
      for (const [key, value] of Object.entries(detection)) if (key !== 'condition') selections[key] = value;
    }
    const wanted = Object.fromEntries(Object.entries(originalDetection).filter(([key]) => key !== 'condition' && key !== 'timeframe'));
    assert.deepEqual(selections, wanted, item.file);
  }
});
