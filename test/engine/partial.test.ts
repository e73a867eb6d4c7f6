/**
 * The cluster promise (src/engine/partial.ts): split the input into units, run a `node: true`
 * Detector over each unit (its immediate alerts kept), hand over drainPartial() as JSON, and let
 * one ordinary Detector absorb every unit's part in unit order and flush(). The immediate alerts
 * of all units plus the decider's flushed alerts are, as a multiset, exactly what one ordinary
 * Detector gives over the whole input: correlations (with the discovery baseline), GuardDuty
 * finding versions and threat-intel buckets alike, whatever the split.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../src/core/alert.ts';
import type { Envelope, LogRecord, LogSourceName } from '../../src/core/envelope.ts';
import { Detector, type DetectorOptions } from '../../src/engine/detector.ts';
import { isEmptyPartial, type DetectorPartial } from '../../src/engine/partial.ts';
import { CLOUDTRAIL_CTI_RULE, GUARDDUTY_CTI_RULE, GUARDDUTY_PASSTHROUGH_RULE, VPCFLOW_CTI_RULE } from '../../src/engine/alerts/builtin-rules.ts';
import { DEFAULT_RULES_DIR, loadRuleSet, type RuleSet } from '../../src/pack/rule-set.ts';
import { formatLocatedError } from '../../src/core/errors.ts';
import { IntelIndex } from '../../src/intel/intel-index.ts';
import { parseListFeed } from '../../src/intel/feed-list.ts';
import { random } from '../random.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/flow-cti/', import.meta.url));
const NOW = Date.parse('2026-11-04T12:00:00Z');
// 198.51.100.77, 192.0.2.0/26, 203.0.113.80, 2001:db8:bad::/48, 203.0.113.47
const intel = IntelIndex.of(
  parseListFeed(readFileSync(`${FIXTURES}feed.txt`, 'utf8'), { feed: 'feed.txt', file: 'feed.txt', invalid: assert.fail, unsupported: assert.fail, skip: () => {}, fail: assert.fail }),
  { now: NOW },
);
const GD_RAW = JSON.parse(readFileSync(`${FIXTURES}gd-raw.json`, 'utf8')) as LogRecord;

let ruleSet: RuleSet;

before(async () => {
  ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], now: new Date(NOW) });
  assert.deepEqual(ruleSet.errors.map(formatLocatedError), []);
});

function options(includeEvents: boolean): DetectorOptions {
  return { rules: ruleSet.rules, correlations: ruleSet.correlations, filters: ruleSet.filters, includeEvents, intel };
}

// ---------------------------------------------------------------------------------------------
// The input: CloudTrail, VPC flow records and GuardDuty findings on 2026-11-04.

const at = (hms: string): number => Date.parse(`2026-11-04T${hms}Z`);
const MINUTE = 60_000;
const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';

interface Caller {
  arn: string;
  account: string;
  type: 'IAMUser' | 'AssumedRole';
  accessKeyId: string;
  principalId: string;
  /** The role behind a session (sessionContext.sessionIssuer.arn). */
  issuer?: string;
  ip: string;
}

function user(name: string, key: string, ip: string, account = ACCOUNT): Caller {
  return { arn: `arn:aws:iam::${account}:user/${name}`, account, type: 'IAMUser', accessKeyId: key, principalId: `AIDA${name.toUpperCase()}`, ip };
}

function session(role: string, name: string, ip: string, account = ACCOUNT): Caller {
  return {
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${name}`,
    account,
    type: 'AssumedRole',
    accessKeyId: `ASIA${role.toUpperCase()}${name.toUpperCase()}`.slice(0, 20),
    principalId: `AROA${role.toUpperCase()}:${name}`,
    issuer: `arn:aws:iam::${account}:role/${role}`,
    ip,
  };
}

let eventCounter = 0;

function call(caller: Caller, time: number, eventSource: string, eventName: string, extra: LogRecord = {}, withSession = true): LogRecord {
  eventCounter += 1;
  const identity: LogRecord = { type: caller.type, principalId: caller.principalId, arn: caller.arn, accountId: caller.account, accessKeyId: caller.accessKeyId };
  if (caller.type === 'IAMUser') identity.userName = caller.arn.slice(caller.arn.lastIndexOf('/') + 1);
  if (caller.issuer !== undefined && withSession) {
    identity.sessionContext = {
      sessionIssuer: { type: 'Role', principalId: caller.principalId.split(':')[0], arn: caller.issuer, accountId: caller.account, userName: caller.issuer.slice(caller.issuer.lastIndexOf('/') + 1) },
      attributes: { creationDate: new Date(time - 5 * MINUTE).toISOString(), mfaAuthenticated: 'false' },
    };
  }
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: new Date(time).toISOString(),
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: caller.ip,
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${String(eventCounter).padStart(6, '0')}`,
    eventID: `00000000-0000-4000-8000-${String(eventCounter).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: caller.account,
    eventCategory: 'Management',
    ...extra,
  };
}

/** Read-only enumeration calls (aws-ct-discovery-call): [eventSource, eventName], all names distinct. */
const DISCOVERY: readonly (readonly [string, string])[] = [
  ['sts.amazonaws.com', 'GetCallerIdentity'],
  ['iam.amazonaws.com', 'ListUsers'],
  ['iam.amazonaws.com', 'ListRoles'],
  ['s3.amazonaws.com', 'ListBuckets'],
  ['s3.amazonaws.com', 'GetBucketPolicy'],
  ['rds.amazonaws.com', 'DescribeDBInstances'],
  ['lambda.amazonaws.com', 'ListFunctions20150331'],
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'DescribeSecurityGroups'],
  ['kms.amazonaws.com', 'ListKeys'],
  ['secretsmanager.amazonaws.com', 'ListSecrets'],
  ['cloudtrail.amazonaws.com', 'DescribeTrails'],
  ['organizations.amazonaws.com', 'DescribeOrganization'],
  ['iam.amazonaws.com', 'ListPolicies'],
  ['ec2.amazonaws.com', 'DescribeVpcs'],
  ['ec2.amazonaws.com', 'DescribeSubnets'],
];

/** Services a deploy role never used before: the baseline's `new_services`. */
const NOVEL_SERVICES: readonly (readonly [string, string])[] = [
  ['dynamodb.amazonaws.com', 'ListTables'],
  ['dynamodb.amazonaws.com', 'DescribeTable'],
  ['sns.amazonaws.com', 'ListTopics'],
  ['sqs.amazonaws.com', 'ListQueues'],
  ['route53.amazonaws.com', 'ListHostedZones'],
  ['guardduty.amazonaws.com', 'ListDetectors'],
];

/** `calls` one after another, `step` ms apart from `start`. */
function sweep(caller: Caller, start: number, calls: readonly (readonly [string, string])[], step = 25_000, extra: (i: number) => LogRecord = () => ({}), withSession: (i: number) => boolean = () => true): LogRecord[] {
  return calls.map(([source, name], i) => call(caller, start + i * step, source, name, extra(i), withSession(i)));
}

interface Stream {
  records: { source: LogSourceName; time: number; record: LogRecord }[];
}

// Who does what.
const leakedKey = user('legacy-backup', 'AKIA3Q7ZK4EXAMPLEKEY1', '203.0.113.47'); // from an indicator
const auditor = user('auditor', 'AKIA4R8ZL5EXAMPLEKEY2', '198.51.100.10', OTHER_ACCOUNT);
const almost = user('almost', 'AKIA5S9ZM6EXAMPLEKEY3', '198.51.100.11', OTHER_ACCOUNT);
const inventory1 = session('inventory', 'run-1', '10.0.5.5');
const inventory2 = session('inventory', 'run-2', '10.0.5.5');
const deploy77 = session('ci-deploy', 'build-77', '10.0.6.6');
const deploy78 = session('ci-deploy', 'build-78', '10.0.6.6');
const opsErin = session('ops', 'erin', '10.0.7.7');
const opsDana = session('ops', 'dana', '10.0.7.7');
const intern = user('intern', 'AKIA6T0ZN7EXAMPLEKEY4', '198.51.100.12');
const scanner = user('scanner', 'AKIA7U1ZO8EXAMPLEKEY5', '198.51.100.13');
const admin = session('admin', 'mallory', '198.51.100.14');
const web = { ...session('web', 'i-0abcd1234abcd1234', '198.51.100.200'), principalId: 'AROAWEBROLE:i-0abcd1234abcd1234' };
const reporting = user('svc-reporting', 'AKIA8V2ZP9EXAMPLEKEY6', '192.0.2.5'); // in 192.0.2.0/26

function cloudTrail(): LogRecord[] {
  const out: LogRecord[] = [];
  // A leaked key sweeping 12 services in five minutes: no history (its later calls are not
  // reads), both discovery bursts (by ARN and by access key), and threat intel on every call.
  const burst = sweep(leakedKey, at('10:00:00'), DISCOVERY.slice(0, 12), 25_000, (i) => (i === 7 ? { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized' } : {}));
  out.push(...burst);
  // The same event delivered twice, a little later (counted once by the correlation).
  out.push(structuredClone(burst[3] as LogRecord));
  out.push(call(leakedKey, at('11:30:00'), 'ec2.amazonaws.com', 'CreateKeyPair', { readOnly: false, requestParameters: { keyName: 'backdoor' } }));
  out.push(call(leakedKey, at('11:31:00'), 'iam.amazonaws.com', 'AttachUserPolicy', { readOnly: false, requestParameters: { userName: 'legacy-backup', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }));

  // An inventory role: the same 12 reads every few hours, by fresh sessions. Its history makes
  // both sweeps usual: suppressed by the baseline.
  out.push(...sweep(inventory1, at('06:00:00'), DISCOVERY.slice(0, 12), 10_000));
  out.push(...sweep(inventory2, at('10:10:00'), DISCOVERY.slice(0, 12), 10_000));

  // A deploy role with a little history, reaching into five services it never used: stands on
  // six novel calls (half the threshold) and its new services.
  const usual = [DISCOVERY[0], DISCOVERY[3], DISCOVERY[7], DISCOVERY[14], DISCOVERY[15]] as (readonly [string, string])[];
  out.push(...sweep(deploy77, at('04:00:00'), usual, 10_000));
  out.push(...sweep(deploy78, at('10:20:00'), [...usual, ...NOVEL_SERVICES], 15_000));

  // An ops role with history (erin, hours earlier); dana's session first appears without its
  // sessionContext, then with it: the group is judged by the role it was last seen with.
  out.push(...sweep(opsErin, at('06:30:00'), DISCOVERY.slice(0, 12), 10_000));
  out.push(...sweep(opsDana, at('10:30:00'), DISCOVERY.slice(0, 12), 20_000, () => ({}), (i) => i >= 4));

  // Bursts in a second account: one over the threshold, one just under (9 distinct calls).
  out.push(...sweep(auditor, at('10:40:00'), DISCOVERY.slice(2, 13), 20_000));
  out.push(...sweep(almost, at('10:41:00'), DISCOVERY.slice(4, 13), 20_000));

  // Denied EC2 probing: six denied Describe calls (event_count >= 5).
  const denied = ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeKeyPairs', 'DescribeVpcs', 'DescribeSubnets', 'DescribeVolumes'].map((name) => ['ec2.amazonaws.com', name] as const);
  out.push(...sweep(intern, at('10:50:00'), denied, 15_000, () => ({ errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized' })));

  // Multi-region enumeration: DescribeRegions then DescribeInstances in 10 regions in 3 minutes.
  const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-central-1', 'ap-south-1', 'ap-northeast-1', 'sa-east-1'];
  out.push(call(scanner, at('11:00:00'), 'ec2.amazonaws.com', 'DescribeRegions'));
  regions.forEach((region, i) => out.push(call(scanner, at('11:00:10') + i * 15_000, 'ec2.amazonaws.com', 'DescribeInstances', { awsRegion: region })));

  // Stop, modify user data, start (temporal_ordered), plus the single-event user-data alert.
  const instanceSet = { instancesSet: { items: [{ instanceId: 'i-0feed0000beef0001' }] } };
  out.push(call(admin, at('10:05:00'), 'ec2.amazonaws.com', 'StopInstances', { readOnly: false, requestParameters: instanceSet }));
  out.push(call(admin, at('10:07:00'), 'ec2.amazonaws.com', 'ModifyInstanceAttribute', { readOnly: false, requestParameters: { instanceId: 'i-0feed0000beef0001', userData: '<sensitiveDataRemoved>' } }));
  out.push(call(admin, at('10:09:00'), 'ec2.amazonaws.com', 'StartInstances', { readOnly: false, requestParameters: instanceSet }));
  // A trail stopped: single-event, high.
  out.push(call(admin, at('10:55:00'), 'cloudtrail.amazonaws.com', 'StopLogging', { readOnly: false, requestParameters: { name: 'org-trail' } }));

  // Instance credentials used from two public addresses, one an indicator (C2 behind a NAT).
  out.push(call(web, at('10:12:00'), 's3.amazonaws.com', 'PutObject', { readOnly: false, managementEvent: false, eventCategory: 'Data' }));
  out.push(call({ ...web, ip: '203.0.113.80' }, at('10:14:00'), 's3.amazonaws.com', 'PutObject', { readOnly: false, managementEvent: false, eventCategory: 'Data' }));

  // Calls from an indicator block, one failed.
  out.push(call(reporting, at('10:25:00'), 'ec2.amazonaws.com', 'RunInstances', { readOnly: false }));
  out.push(call(reporting, at('10:26:00'), 'ec2.amazonaws.com', 'RunInstances', { readOnly: false, errorCode: 'AccessDenied' }));
  return out;
}

interface FlowMore {
  direction?: string;
  bytes?: number;
  flags?: number;
}

function flow(time: number, eni: string, src: string, dst: string, sport: number, dport: number, action: 'ACCEPT' | 'REJECT', more: FlowMore = {}): LogRecord {
  const start = Math.floor(time / 1000);
  return {
    version: 5,
    'account-id': ACCOUNT,
    'interface-id': eni,
    srcaddr: src,
    dstaddr: dst,
    srcport: sport,
    dstport: dport,
    protocol: 6,
    packets: 10,
    bytes: more.bytes ?? 1000,
    start,
    end: start + 60,
    action,
    'log-status': 'OK',
    ...(more.flags === undefined ? {} : { 'tcp-flags': more.flags }),
    ...(more.direction === undefined ? {} : { 'flow-direction': more.direction }),
    'pkt-srcaddr': src,
    'pkt-dstaddr': dst,
  };
}

function flows(): LogRecord[] {
  return [
    // Egress to a mining pool: five matches in the 10:00 bucket.
    flow(at('10:05:00'), 'eni-01', '10.0.1.10', '198.51.100.77', 40001, 3333, 'ACCEPT', { direction: 'egress', flags: 2, bytes: 4000 }),
    flow(at('10:20:00'), 'eni-01', '10.0.1.10', '198.51.100.77', 40002, 3333, 'ACCEPT', { direction: 'egress', flags: 16, bytes: 9000 }),
    flow(at('10:30:00'), 'eni-01', '10.0.1.12', '198.51.100.77', 40003, 4444, 'REJECT', { direction: 'egress', flags: 2 }),
    flow(at('10:40:00'), 'eni-01', '10.0.1.10', '198.51.100.77', 40004, 3333, 'ACCEPT', { direction: 'egress', flags: 1, bytes: 12_000 }),
    flow(at('10:55:00'), 'eni-01', '10.0.1.10', '198.51.100.77', 40005, 3333, 'ACCEPT', { direction: 'egress', flags: 2 }),
    // SSH from a scanner block to a private address (also aws-vpcflow-remote-admin-from-internet),
    // across two buckets: 10:00 (one match) and 11:00 (three).
    flow(at('10:50:00'), 'eni-02', '192.0.2.20', '10.0.1.11', 55123, 22, 'ACCEPT', { direction: 'ingress', flags: 2 }),
    flow(at('11:05:00'), 'eni-02', '192.0.2.20', '10.0.1.11', 55124, 22, 'ACCEPT', { direction: 'ingress', flags: 2 }),
    flow(at('11:20:00'), 'eni-02', '192.0.2.21', '10.0.1.11', 55125, 22, 'ACCEPT', { direction: 'ingress', flags: 2 }),
    flow(at('11:20:00'), 'eni-02', '192.0.2.20', '10.0.1.11', 55126, 22, 'ACCEPT', { direction: 'ingress', flags: 2 }),
    flow(at('11:40:00'), 'eni-02', '192.0.2.20', '10.0.1.11', 55127, 22, 'REJECT', { direction: 'ingress', flags: 2 }),
    // IPv6 scanner, rejected.
    flow(at('10:33:00'), 'eni-03', '2001:db8:bad::9', '2001:db8:1::10', 51000, 443, 'REJECT', { direction: 'ingress', flags: 2 }),
    // Nothing to see.
    flow(at('10:10:00'), 'eni-01', '10.0.1.10', '10.0.2.20', 40010, 5432, 'ACCEPT', { direction: 'egress' }),
    flow(at('10:45:00'), 'eni-02', '10.0.2.20', '10.0.1.11', 40011, 443, 'ACCEPT', { direction: 'ingress' }),
  ];
}

function finding(overrides: { id?: string; count?: number; updatedAt: string; title?: string; severity?: number; type?: string; remoteIp?: string }): LogRecord {
  const copy = structuredClone(GD_RAW);
  const service = copy.service as Record<string, unknown>;
  if (overrides.id !== undefined) copy.id = overrides.id;
  if (overrides.count !== undefined) service.count = overrides.count;
  copy.updatedAt = overrides.updatedAt;
  if (overrides.title !== undefined) copy.title = overrides.title;
  if (overrides.severity !== undefined) copy.severity = overrides.severity;
  if (overrides.type !== undefined) copy.type = overrides.type;
  if (overrides.remoteIp !== undefined) {
    ((service.action as Record<string, Record<string, Record<string, unknown>>>).awsApiCallAction as Record<string, Record<string, unknown>>).remoteIpDetails = { ipAddressV4: overrides.remoteIp };
  }
  return copy;
}

const F1 = 'aaaa0000000000000000000000000001';
const F2 = 'bbbb0000000000000000000000000002';
const F3 = 'cccc0000000000000000000000000003';

/** GuardDuty findings, each with the position in the input it goes to (fraction of the way). */
function findings(): { at: number; record: LogRecord }[] {
  return [
    // F1: versions 2, 1, 3 and an equal copy of 3 (a re-delivery with another title: the first copy stands).
    { at: 0.1, record: finding({ id: F1, count: 2, updatedAt: '2026-11-04T10:40:00.000Z', title: 'F1 version 2' }) },
    { at: 0.3, record: finding({ id: F1, count: 1, updatedAt: '2026-11-04T10:10:00.000Z', title: 'F1 version 1' }) },
    { at: 0.55, record: finding({ id: F1, count: 3, updatedAt: '2026-11-04T11:20:00.000Z', title: 'F1 version 3' }) },
    { at: 0.8, record: finding({ id: F1, count: 3, updatedAt: '2026-11-04T11:20:00.000Z', title: 'F1 version 3 again' }) },
    // F2: same count, later updatedAt first (newer), the older one after it (stale); remote IP an indicator.
    { at: 0.2, record: finding({ id: F2, count: 1, updatedAt: '2026-11-04T10:45:00.000Z', title: 'F2 later', remoteIp: '198.51.100.77', severity: 8, type: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller' }) },
    { at: 0.65, record: finding({ id: F2, count: 1, updatedAt: '2026-11-04T10:15:00.000Z', title: 'F2 earlier', remoteIp: '198.51.100.77', severity: 8, type: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller' }) },
    // F3: one version, a remote address outside the intel.
    { at: 0.45, record: finding({ id: F3, updatedAt: '2026-11-04T10:30:00.000Z', title: 'F3 only', remoteIp: '198.51.100.250', severity: 5 }) },
  ];
}

/** The whole input: CloudTrail and flows in time order, GuardDuty findings interleaved out of order. */
function buildInput(): Envelope[] {
  eventCounter = 0;
  const timed: Stream['records'] = [
    ...cloudTrail().map((record) => ({ source: 'cloudtrail' as const, time: Date.parse(String(record.eventTime)), record })),
    ...flows().map((record) => ({ source: 'vpcflow' as const, time: (record.start as number) * 1000, record })),
  ];
  // Stable: the duplicate delivery stays right after the events of its minute.
  timed.sort((a, b) => a.time - b.time);
  const ordered: Stream['records'] = [...timed];
  for (const item of findings().sort((a, b) => b.at - a.at)) {
    ordered.splice(Math.floor(item.at * timed.length), 0, { source: 'guardduty', time: Date.parse(String(item.record.updatedAt)), record: item.record });
  }
  const indexes = new Map<string, number>();
  return ordered.map(({ source, time, record }) => {
    const uri = `${source}.log`;
    const index = indexes.get(uri) ?? 0;
    indexes.set(uri, index + 1);
    return { source, time, record, origin: { uri, index, line: index + 1 } };
  });
}

// ---------------------------------------------------------------------------------------------
// One detector, and the cluster way.

function oneDetector(envelopes: readonly Envelope[], includeEvents: boolean): Alert[] {
  const detector = new Detector(options(includeEvents));
  const out: Alert[] = [];
  for (const envelope of envelopes) detector.process(envelope, out);
  detector.flush(out);
  return out;
}

interface ClusterRun {
  alerts: Alert[];
  immediate: Alert[];
  parts: DetectorPartial[];
}

/**
 * Each unit on a node detector (fresh per unit, or `nodes` of them reused round-robin), its part
 * through JSON; one decider absorbs the parts in unit order and flushes.
 */
function cluster(units: readonly (readonly Envelope[])[], includeEvents: boolean, nodes?: number): ClusterRun {
  const pool = nodes === undefined ? undefined : Array.from({ length: nodes }, () => new Detector({ ...options(includeEvents), node: true }));
  const immediate: Alert[] = [];
  const parts: DetectorPartial[] = [];
  units.forEach((unit, u) => {
    const node = pool === undefined ? new Detector({ ...options(includeEvents), node: true }) : (pool[u % pool.length] as Detector);
    for (const envelope of unit) node.process(envelope, immediate);
    parts.push(JSON.parse(JSON.stringify(node.drainPartial())) as DetectorPartial);
    const again = node.drainPartial();
    assert.ok(isEmptyPartial(again), `unit ${u}: drainPartial() leaves the node empty, got ${JSON.stringify(again).slice(0, 300)}`);
  });
  const decider = new Detector(options(includeEvents));
  for (const part of parts) decider.absorbPartial(part);
  const out: Alert[] = [...immediate];
  decider.flush(out);
  return { alerts: out, immediate, parts };
}

/** JSON with sorted keys: the identity two alerts are compared by. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The alerts as a multiset: JSON round-tripped, sorted by id then content. */
function multiset(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((alert) => ({ alert: JSON.parse(JSON.stringify(alert)) as Alert, key: canonical(alert) }))
    .sort((a, b) => (a.alert.id < b.alert.id ? -1 : a.alert.id > b.alert.id ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((item) => item.alert);
}

function assertSameAlerts(actual: readonly Alert[], expected: readonly Alert[], label: string): void {
  const a = multiset(actual);
  const e = multiset(expected);
  const brief = (alert: Alert): string => `${alert.rule.name ?? alert.rule.id} ${alert.actor ?? '-'} x${alert.count} ${alert.id.slice(0, 8)}`;
  assert.deepEqual(a.map(brief), e.map(brief), `${label}: the same alerts`);
  for (let i = 0; i < e.length; i++) {
    const want = e[i] as Alert;
    const got = a[i] as Alert;
    assert.deepEqual([got.rule.id, got.count, got.event_ids, got.correlation, got.cti, got.guardduty, got.flow, got.rule.level], [want.rule.id, want.count, want.event_ids, want.correlation, want.cti, want.guardduty, want.flow, want.rule.level], `${label}: ${brief(want)}`);
    assert.deepEqual(got, want, `${label}: ${brief(want)}, full JSON`);
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Random cut points (seeded): units of 1 to about 20 envelopes, the odd empty unit included. */
function randomSplit(items: readonly Envelope[], seed: number): Envelope[][] {
  const next = random(seed);
  const out: Envelope[][] = [];
  let i = 0;
  while (i < items.length) {
    const size = next() < 0.05 ? 0 : 1 + Math.floor(next() * 20);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const byRule = (alerts: readonly Alert[], name: string): Alert[] => alerts.filter((alert) => alert.rule.name === name || alert.rule.id === name);

test('the reference run raises what the input was built to raise', () => {
  const input = buildInput();
  const alerts = oneDetector(input, false);

  const discovery = byRule(alerts, 'aws-ct-discovery-burst');
  const actors = discovery.map((alert) => alert.correlation?.group['userIdentity.arn']).sort();
  assert.deepEqual(actors, [auditor.arn, deploy78.arn, leakedKey.arn].sort(), 'the inventory sweeps and dana are usual for their role; 9 calls are not a burst');
  const leaked = discovery.find((alert) => alert.actor === leakedKey.arn) as Alert;
  assert.equal(leaked.correlation?.baseline?.history, false, 'no history');
  assert.equal(leaked.correlation?.value_count, 12);
  assert.equal(leaked.count, 12, 'the duplicate delivery counts once');
  const deploy = discovery.find((alert) => alert.actor === deploy78.arn) as Alert;
  assert.equal(deploy.correlation?.baseline?.history, true);
  assert.equal(deploy.correlation?.baseline?.principal, deploy78.issuer);
  assert.equal(deploy.correlation?.baseline?.novel_count, 6);
  assert.deepEqual(deploy.correlation?.baseline?.new_services, ['dynamodb.amazonaws.com', 'guardduty.amazonaws.com', 'route53.amazonaws.com', 'sns.amazonaws.com', 'sqs.amazonaws.com']);
  assert.deepEqual(discovery.find((alert) => alert.actor === auditor.arn)?.account, OTHER_ACCOUNT);
  assert.deepEqual(byRule(alerts, 'aws-ct-discovery-burst-by-access-key').map((alert) => alert.correlation?.group['userIdentity.accessKeyId']).sort(), [auditor.accessKeyId, leakedKey.accessKeyId].sort());
  for (const name of ['aws-ct-ec2-discovery-denied-probing', 'aws-ct-ec2-multi-region-enumeration', 'aws-ct-ec2-stop-modify-userdata-start', 'aws-ct-ec2-instance-credentials-multiple-public-ips']) {
    assert.equal(byRule(alerts, name).length, 1, name);
  }
  for (const name of ['aws-ct-cloudtrail-stopped-or-deleted', 'aws-ct-iam-admin-policy-attached', 'aws-ct-ec2-keypair-created-or-imported', 'aws-ct-ec2-userdata-modified']) {
    assert.equal(byRule(alerts, name).length, 1, name);
  }
  assert.equal(byRule(alerts, 'aws-vpcflow-remote-admin-from-internet').length, 4);

  const gd = byRule(alerts, GUARDDUTY_PASSTHROUGH_RULE.id);
  assert.deepEqual(gd.map((alert) => [alert.guardduty?.id, alert.guardduty?.count, alert.guardduty?.updated_at, alert.rule.title]).sort(), [
    [F1, 3, '2026-11-04T11:20:00.000Z', 'F1 version 3'],
    [F2, 1, '2026-11-04T10:45:00.000Z', 'F2 later'],
    [F3, 1, '2026-11-04T10:30:00.000Z', 'F3 only'],
  ]);
  assert.deepEqual(byRule(alerts, GUARDDUTY_CTI_RULE.id).map((alert) => alert.cti?.indicator).sort(), ['198.51.100.77', '203.0.113.47'], 'F2 and F1 remote addresses; F3 is outside the intel');

  const trailCti = byRule(alerts, CLOUDTRAIL_CTI_RULE.id).map((alert) => [alert.actor, alert.cti?.indicator, alert.cti?.window?.start, alert.count, alert.rule.level]);
  assert.deepEqual(trailCti.sort(), [
    [leakedKey.arn, '203.0.113.47', '2026-11-04T10:00:00.000Z', 13, 'high'],
    [leakedKey.arn, '203.0.113.47', '2026-11-04T11:00:00.000Z', 2, 'high'],
    [reporting.arn, '192.0.2.0/26', '2026-11-04T10:00:00.000Z', 2, 'high'],
    [web.arn, '203.0.113.80', '2026-11-04T10:00:00.000Z', 1, 'high'],
  ]);
  const flowCti = byRule(alerts, VPCFLOW_CTI_RULE.id).map((alert) => [alert.flow?.interface_id, alert.cti?.indicator, alert.cti?.direction, alert.cti?.window?.start, alert.count]);
  assert.deepEqual(flowCti.sort(), [
    ['eni-01', '198.51.100.77', 'egress', '2026-11-04T10:00:00.000Z', 5],
    ['eni-02', '192.0.2.0/26', 'ingress', '2026-11-04T10:00:00.000Z', 1],
    ['eni-02', '192.0.2.0/26', 'ingress', '2026-11-04T11:00:00.000Z', 4],
    ['eni-03', '2001:db8:bad::/48', 'ingress', '2026-11-04T10:00:00.000Z', 1],
  ]);
  assert.equal(alerts.filter((alert) => alert.update === true).length, 0, 'no bucket reopened, no finding emitted twice');
});

test('one unit per envelope: the same alerts as one detector', () => {
  const input = buildInput();
  const expected = oneDetector(input, false);
  const units = input.map((envelope) => [envelope]);
  const run = cluster(units, false);
  assertSameAlerts(run.alerts, expected, 'units of 1');

  // Nothing stateful was decided on a node.
  assert.deepEqual(
    run.immediate.filter((alert) => alert.correlation !== undefined || alert.cti !== undefined || alert.guardduty !== undefined).map((alert) => alert.rule.name),
    [],
    'no correlation, threat-intel or GuardDuty alert comes out of a node',
  );

  // What the decider had to put together from several units.
  const leaked = byRule(run.alerts, 'aws-ct-discovery-burst').find((alert) => alert.actor === leakedKey.arn) as Alert;
  assert.equal(leaked.count, 12);
  const f1 = byRule(run.alerts, GUARDDUTY_PASSTHROUGH_RULE.id).find((alert) => alert.guardduty?.id === F1) as Alert;
  assert.equal(f1.guardduty?.count, 3, 'the newest version of F1');
  assert.equal(f1.rule.title, 'F1 version 3', 'of two equal versions, the first in the input');
  const unitsWithFlowPart = run.parts.filter((part) => part.flowCti.some((bucket) => bucket.group.startsWith('198.51.100.77'))).length;
  assert.equal(unitsWithFlowPart, 5, 'the mining-pool bucket came in five parts');
  const pool = byRule(run.alerts, VPCFLOW_CTI_RULE.id).find((alert) => alert.flow?.interface_id === 'eni-01') as Alert;
  assert.equal(pool.count, 5);
  assert.deepEqual([pool.flow?.accepted, pool.flow?.rejected, pool.flow?.bytes_to_indicator, pool.flow?.tcp_flags, pool.flow?.dstports], [4, 1, 4000 + 9000 + 1000 + 12_000 + 1000, 19, [3333, 4444]]);
  const trail = byRule(run.alerts, CLOUDTRAIL_CTI_RULE.id).find((alert) => alert.actor === leakedKey.arn && alert.count === 13) as Alert;
  assert.ok(trail !== undefined, 'the leaked key bucket sums 13 matches from 13 units');
  assert.equal(run.parts.filter((part) => part.cloudTrailCti.some((bucket) => bucket.group === `203.0.113.47\u0001${leakedKey.arn}` && bucket.start === at('10:00:00'))).length, 13);
  assert.ok(run.parts.some((part) => part.baseline !== undefined && Object.keys(part.baseline.correlations).length > 0), 'baselines were handed over');
  assert.ok(run.parts.filter((part) => part.findings.length > 0).length === 7, 'every finding version (stale ones in other units included) was handed over');
});

test('units of 3, fresh nodes and reused nodes, events embedded or not', () => {
  const input = buildInput();
  for (const includeEvents of [false, true]) {
    const expected = oneDetector(input, includeEvents);
    const units = chunks(input, 3);
    assertSameAlerts(cluster(units, includeEvents).alerts, expected, `units of 3, events ${includeEvents}`);
    assertSameAlerts(cluster(units, includeEvents, 2).alerts, expected, `units of 3 on two reused nodes, events ${includeEvents}`);
  }
});

test('random splits (seeded) and the whole input as one unit', () => {
  const input = buildInput();
  const expected = oneDetector(input, false);
  assertSameAlerts(cluster([input], false).alerts, expected, 'one unit');
  for (const seed of [1, 7, 42, 1234, 99991]) {
    const units = randomSplit(input, seed);
    assertSameAlerts(cluster(units, false).alerts, expected, `random split, seed ${seed} (${units.length} units)`);
    assertSameAlerts(cluster(units, false, 3).alerts, expected, `random split on three reused nodes, seed ${seed}`);
  }
});

test('a unit with nothing stateful hands over an empty part', () => {
  const input = buildInput();
  const node = new Detector({ ...options(false), node: true });
  assert.ok(isEmptyPartial(node.drainPartial()), 'a node that saw nothing');
  const out: Alert[] = [];
  const stop = input.find((envelope) => envelope.record.eventName === 'StopLogging') as Envelope;
  node.process(stop, out);
  assert.deepEqual(out.map((alert) => alert.rule.name), ['aws-ct-cloudtrail-stopped-or-deleted']);
  assert.ok(isEmptyPartial(node.drainPartial()), 'a single-event rule leaves nothing to hand over');
  const finding = input.find((envelope) => envelope.source === 'guardduty') as Envelope;
  node.process(finding, out);
  assert.equal(out.length, 1, 'the finding is held, not emitted');
  const part = node.drainPartial();
  assert.equal(isEmptyPartial(part), false);
  assert.equal(part.findings.length, 1);
  assert.ok(isEmptyPartial(node.drainPartial()));
  assert.equal(node.correlationsChained, false, 'the built-in pack has no chained correlations');
});

// ---------------------------------------------------------------------------------------------
// A service's cluster (watch): a live decider, handed from node to node by liveState().

function liveOptions(includeEvents: boolean): DetectorOptions {
  return { ...options(includeEvents), baseline: { mode: 'live' }, lateness: 15 * MINUTE, guardDuty: { maxPending: 0 } };
}

/** A marker between the alerts decided as the stream went and those the last, much later event time decides. */
const END_OF_STREAM = { id: '~end of stream', rule: { id: '~', level: 'informational' }, event_ids: [] } as unknown as Alert;

/** A marker after each unit's alerts. */
const UNIT_END = { id: '~unit end', rule: { id: '~', level: 'informational' }, event_ids: [] } as unknown as Alert;

/** The alert ids each unit raised (or decided), in unit order, each unit's sorted. */
function byUnit(alerts: readonly Alert[]): string[][] {
  const out: string[][] = [[]];
  for (const alert of alerts) {
    if (alert === UNIT_END) out.push([]);
    else if (alert !== END_OF_STREAM) (out[out.length - 1] as string[]).push(`${alert.rule.name ?? alert.rule.id} ${alert.id}`);
  }
  return out.map((ids) => ids.sort());
}

const real = (alerts: readonly Alert[]): Alert[] => alerts.filter((alert) => alert !== UNIT_END && alert !== END_OF_STREAM);

/** A day after the input: every window and bucket is closed by then. */
const LATER = at('12:00:00') + 36 * 60 * MINUTE;

/** One live detector over the units in order, event time advanced after each unit (as watch does per batch). */
function oneLive(units: readonly (readonly Envelope[])[], includeEvents: boolean): Alert[] {
  const detector = new Detector(liveOptions(includeEvents));
  const out: Alert[] = [];
  for (const unit of units) {
    let newest = Number.NEGATIVE_INFINITY;
    for (const envelope of unit) {
      detector.process(envelope, out);
      newest = Math.max(newest, envelope.time);
    }
    if (Number.isFinite(newest)) detector.advanceEventTime(newest, out);
    out.push(UNIT_END);
  }
  out.push(END_OF_STREAM);
  detector.advanceEventTime(LATER, out);
  return out;
}

/**
 * The watch cluster: each unit on a node (findings emitted, the rest held), its part through
 * JSON to the decider, which absorbs it and advances event time; after every `handEvery` units
 * the decider's liveState() goes through JSON to a fresh decider (another node takes over).
 */
function liveCluster(units: readonly (readonly Envelope[])[], includeEvents: boolean, handEvery: number): Alert[] {
  const node = new Detector({ ...liveOptions(includeEvents), node: true });
  let decider = new Detector(liveOptions(includeEvents));
  const out: Alert[] = [];
  units.forEach((unit, u) => {
    let newest = Number.NEGATIVE_INFINITY;
    for (const envelope of unit) {
      node.process(envelope, out);
      newest = Math.max(newest, envelope.time);
    }
    decider.absorbPartial(JSON.parse(JSON.stringify(node.drainPartial())) as DetectorPartial);
    if (Number.isFinite(newest)) decider.advanceEventTime(newest, out);
    out.push(UNIT_END);
    if ((u + 1) % handEvery === 0) {
      const state = JSON.parse(JSON.stringify(decider.liveState())) as ReturnType<Detector['liveState']>;
      // Taking the state leaves the decider as it was: a second take is the same.
      assert.equal(canonical(decider.liveState()), canonical(state), `unit ${u}: liveState() is read-only`);
      decider = new Detector(liveOptions(includeEvents));
      decider.restoreLiveState(state);
    }
  });
  out.push(END_OF_STREAM);
  decider.advanceEventTime(LATER, out);
  return out;
}

test('a watch cluster (nodes hand their units to a live decider, handed over between nodes) alerts as one live detector', () => {
  // In event-time order: a service's lateness (15 minutes) leaves out what comes later than that.
  const input = [...buildInput()].sort((a, b) => a.time - b.time);
  // Units of 7 mixed envelopes, and units of one source each (as log files are: a unit's newest event is then often its last correlated one).
  const oneSource: Envelope[][] = [];
  for (const envelope of input) {
    const last = oneSource[oneSource.length - 1];
    if (last !== undefined && last.length < 7 && (last[0] as Envelope).source === envelope.source) last.push(envelope);
    else oneSource.push([envelope]);
  }
  for (const [layout, units, includeEvents] of [['mixed', chunks(input, 7), true], ['mixed', chunks(input, 7), false], ['one source', oneSource, true]] as const) {
    const expected = oneLive(units, includeEvents);
    const rules = new Set(real(expected).map((alert) => alert.rule.name ?? alert.rule.id));
    for (const rule of ['aws-ct-discovery-burst', 'aws-ct-discovery-burst-by-access-key', 'aws-gd-finding-passthrough', 'aws-vpcflow-cti-ip-match', 'aws-ct-cti-source-ip-match']) assert.ok(rules.has(rule), `the live run raises ${rule}: ${[...rules].join(', ')}`);
    // Most are decided as the stream goes, not by the last advance: the comparison covers when, too.
    const streamed = real(expected.slice(0, expected.indexOf(END_OF_STREAM)));
    assert.ok(streamed.filter((alert) => alert.correlation !== undefined).length >= 5, `windows close as event time moves on: ${streamed.length} alerts before the end`);
    for (const handEvery of [1000, 3, 1]) {
      const got = liveCluster(units, includeEvents, handEvery);
      const label = `${layout} units, handed over every ${handEvery}, events ${includeEvents}`;
      // Each unit's alerts are decided with that unit, as one process decides them.
      assert.deepEqual(byUnit(got), byUnit(expected), `${label}: unit by unit`);
      assertSameAlerts(real(got), real(expected), label);
    }
  }
});
