/**
 * The built-in discovery detections end to end: CloudTrail log files on disk, the scan pipeline
 * (sources, formats, detector, correlator) and the CLI flags, with the shipped rule pack.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Detector } from '../../src/engine/detector.ts';
import type { DetectorOptions } from '../../src/engine/detector.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../../src/pack/rule-set.ts';
import type { RuleSet } from '../../src/pack/rule-set.ts';
import { scan } from '../../src/scan/scan.ts';
import type { Alert } from '../../src/core/alert.ts';
import type { LogRecord } from '../../src/core/envelope.ts';

const BURST = 'aws-ct-discovery-burst';
const BY_KEY = 'aws-ct-discovery-burst-by-access-key';
const ACCOUNT = '111122223333';
const T0 = Date.parse('2026-11-04T10:00:00Z');
const MINUTE = 60_000;
const exec = promisify(execFile);
const BIN = new URL('../../bin/trailhound.js', import.meta.url).pathname;

let dir = '';
let pack: RuleSet;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailhound-discovery-'));
  pack = await loadRuleSet({ paths: [DEFAULT_RULES_DIR] });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let sequence = 0;

function assumedRole(role: string, session: string): LogRecord {
  return {
    type: 'AssumedRole',
    principalId: `AROA3Q7ZK4EXAMPLEROL1:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: 'ASIA3Q7ZK4EXAMPLE2XM',
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROA3Q7ZK4EXAMPLEROL1', arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role },
      attributes: { creationDate: '2026-11-04T09:12:44Z', mfaAuthenticated: 'false' },
    },
  };
}

const ATTACKER = assumedRole('web-app-role', 'i-0a1b2c3d4e5f60718');

function describe(offsetMs: number, eventName: string, identity: LogRecord = ATTACKER, eventSource = 'ec2.amazonaws.com'): LogRecord {
  sequence += 1;
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: new Date(T0 + offsetMs).toISOString().replace('.000Z', 'Z'),
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.23',
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws',
    requestParameters: { filterSet: {} },
    responseElements: null,
    requestID: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    eventID: `10000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
}

/** Ten distinct read-only calls across five services: the smallest burst the pack alerts on. */
const CALLS: ReadonlyArray<readonly [eventName: string, eventSource: string]> = [
  ['GetCallerIdentity', 'sts.amazonaws.com'],
  ['ListUsers', 'iam.amazonaws.com'],
  ['ListRoles', 'iam.amazonaws.com'],
  ['ListBuckets', 's3.amazonaws.com'],
  ['GetBucketPolicy', 's3.amazonaws.com'],
  ['DescribeDBInstances', 'rds.amazonaws.com'],
  ['DescribeDBClusters', 'rds.amazonaws.com'],
  ['ListFunctions20150331', 'lambda.amazonaws.com'],
  ['GetFunction20150331v2', 'lambda.amazonaws.com'],
  ['DescribeInstances', 'ec2.amazonaws.com'],
];

/** The CALLS burst by one identity, one call every `stepMs` from `startMs`. */
function sweep(identity: LogRecord = ATTACKER, startMs = 0, stepMs = MINUTE, calls = CALLS): LogRecord[] {
  return calls.map(([eventName, eventSource], i) => describe(startMs + i * stepMs, eventName, identity, eventSource));
}

function iamUser(user: string, accessKeyId: string): LogRecord {
  return { type: 'IAMUser', principalId: 'AIDA3Q7ZK4EXAMPLEUSR9', arn: `arn:aws:iam::${ACCOUNT}:user/${user}`, accountId: ACCOUNT, accessKeyId, userName: user };
}

/** A CloudTrail log file as AWS delivers it (gzipped `{"Records": [...]}`), named like one. */
async function logFile(name: string, records: LogRecord[]): Promise<string> {
  const path = join(dir, `${ACCOUNT}_CloudTrail_us-east-1_${name}.json.gz`);
  await writeFile(path, gzipSync(JSON.stringify({ Records: records })));
  return path;
}

async function scanFiles(files: string[], options: Partial<DetectorOptions> = {}, ruleSet: RuleSet = pack): Promise<Alert[]> {
  const detector = new Detector({ rules: ruleSet.rules, correlations: ruleSet.correlations, filters: ruleSet.filters, includeEvents: false, ...options });
  const alerts: Alert[] = [];
  const summary = await scan({ inputs: files, detector, onAlert: (alert) => void alerts.push(alert), onError: (error) => assert.fail(`${error.location}: ${error.code} ${error.message}`) });
  assert.equal(summary.inputErrors, 0);
  return alerts;
}

const bursts = (alerts: readonly Alert[], name = BURST): Alert[] => alerts.filter((alert) => alert.rule.name === name);

test('the pack loads the discovery rules and correlations without errors of their own', () => {
  const ours = pack.errors.filter((error) => /discovery|region-enumeration|stop-instances|start-instances|userdata-modify-call|stop-modify|userdata-read|snapshot-public/.test(error.location));
  assert.deepEqual(ours, []);
  for (const name of [BURST, BY_KEY, 'aws-ct-ec2-discovery-denied-probing', 'aws-ct-ec2-multi-region-enumeration', 'aws-ct-ec2-stop-modify-userdata-start', 'aws-ct-ec2-userdata-read-burst']) {
    assert.ok(pack.correlations.some((rule) => rule.name === name), name);
  }
  for (const gone of ['aws-ct-ec2-discovery-call', 'aws-ct-ec2-discovery-call-long-term-key', 'aws-ct-ec2-discovery-burst', 'aws-ct-ec2-discovery-burst-by-access-key']) {
    assert.ok(![...pack.rules, ...pack.correlations].some((rule) => rule.name === gone), `${gone} is replaced`);
  }
});

test('a burst split across two log files delivered in reverse order is found (one alert)', async () => {
  const early = await logFile('20261104T1005Z_early', sweep(ATTACKER, 0, MINUTE, CALLS.slice(0, 5)));
  const late = await logFile('20261104T1015Z_late', sweep(ATTACKER, 8 * MINUTE, MINUTE, CALLS.slice(5)));
  for (const options of [{}, { lateness: 15 * MINUTE }]) {
    const alerts = bursts(await scanFiles([late, early], options));
    assert.equal(alerts.length, 1, JSON.stringify(options));
    assert.equal(alerts[0]?.correlation?.value_count, 10);
    assert.deepEqual(alerts[0]?.correlation?.group, { recipientAccountId: ACCOUNT, 'userIdentity.arn': ATTACKER.arn });
    assert.equal(alerts[0]?.correlation?.window.start, '2026-11-04T10:00:00.000Z');
    assert.equal(alerts[0]?.time, '2026-11-04T10:12:00.000Z', 'time of the last triggering event');
    assert.equal(alerts[0]?.count, 10);
  }
  const tooStrict = bursts(await scanFiles([late, early], { lateness: MINUTE }));
  assert.equal(tooStrict.length, 0, 'control: with a 1-minute lateness the earlier file is too late to be correlated');
  const alone = await scanFiles([early]);
  assert.equal(bursts(alone).length, 0, 'neither file alone holds a burst');
  assert.equal(alone.length, 0, 'the building block raises nothing by itself');
});

test('ten distinct calls across IAM, S3, RDS, Lambda and STS fire; so do seven EC2 Describe* calls outside the old fixed list plus three others', async () => {
  const crossService = await logFile('20261104T1000Z_cross', sweep(ATTACKER, 0, 20_000, CALLS.slice(0, 9).concat([['GetAccountAuthorizationDetails', 'iam.amazonaws.com']])));
  const found = bursts(await scanFiles([crossService]));
  assert.equal(found.length, 1);
  assert.deepEqual([...(found[0]?.correlation?.values ?? [])].map(String).sort(), [...CALLS.slice(0, 9).map(([name]) => name), 'GetAccountAuthorizationDetails'].sort());

  const ec2Breadth: Array<readonly [string, string]> = ['DescribeNetworkInterfaces', 'DescribeRouteTables', 'DescribeNatGateways', 'DescribeAddresses', 'DescribeInstanceTypes', 'DescribeAvailabilityZones', 'DescribeTags'].map((name) => [name, 'ec2.amazonaws.com'] as const);
  const instance = assumedRole('web-app-role', 'i-0c0ffee0c0ffee000');
  const file = await logFile('20261104T1100Z_ec2', sweep(instance, hours(1), 15_000, [...ec2Breadth, ['GetCallerIdentity', 'sts.amazonaws.com'], ['ListRoles', 'iam.amazonaws.com'], ['ListBuckets', 's3.amazonaws.com']]));
  assert.deepEqual(bursts(await scanFiles([file])).map((alert) => alert.actor), [instance.arn]);
  const nine = await logFile('20261104T1200Z_nine', sweep(ATTACKER, hours(2), 20_000, CALLS.slice(0, 9)));
  assert.equal(bursts(await scanFiles([nine])).length, 0, 'nine distinct calls stay under the threshold');
});

test('one principal polling one API 500 times (an autoscaler) does not fire', async () => {
  const autoscaler = assumedRole('eks-cluster-autoscaler', '1700000000000000000');
  const file = await logFile('20261104T1000Z_poll', Array.from({ length: 500 }, (_, i) => describe(i * 3000, 'DescribeInstances', autoscaler)));
  assert.equal((await scanFiles([file])).length, 0);
});

test('calls by AWS services, on a principal\'s behalf (invokedBy) or from console sessions do not fire', async () => {
  const service: LogRecord = { type: 'AWSService', invokedBy: 'securityhub.amazonaws.com' };
  const cloudformation: LogRecord = { ...assumedRole('cfn-exec-role', 'AWSCloudFormation'), invokedBy: 'cloudformation.amazonaws.com' };
  const consoleAdmin = assumedRole('AWSReservedSSO_AdministratorAccess_5f3c2a1b9d8e7f60', 'jane.doe@example.com');
  const records = [
    ...sweep(service, 0, 10_000).map((record) => ({ ...record, sourceIPAddress: 'securityhub.amazonaws.com', userAgent: 'securityhub.amazonaws.com' })),
    ...sweep(cloudformation, 0, 10_000).map((record) => ({ ...record, sourceIPAddress: 'cloudformation.amazonaws.com', userAgent: 'cloudformation.amazonaws.com' })),
    ...sweep(consoleAdmin, 0, 5_000).map((record) => ({ ...record, userAgent: 'AWS Internal', sessionCredentialFromConsole: 'true' })),
  ];
  const file = await logFile('20261104T1000Z_services', records);
  assert.deepEqual((await scanFiles([file])).map((alert) => `${alert.rule.name} ${alert.actor}`), []);
  const control = await logFile('20261104T1000Z_console_control', sweep(consoleAdmin, 0, 5_000));
  assert.equal(bursts(await scanFiles([control])).length, 1, 'control: the same calls outside the console fire');
});

test('the same calls spread over hours do not fire', async () => {
  const file = await logFile('20261104T1000Z_spread', sweep(ATTACKER, 0, 45 * MINUTE));
  assert.equal(bursts(await scanFiles([file])).length, 0);
});

test('calls split between two principals do not add up', async () => {
  const other = assumedRole('web-app-role', 'i-0ffff0000aaaa1111');
  const file = await logFile('20261104T1000Z_split', CALLS.map(([name, source], i) => describe(i * MINUTE, name, i % 2 === 0 ? ATTACKER : other, source)));
  assert.equal(bursts(await scanFiles([file])).length, 0);
});

test('a leaked long-term key raises both bursts; one allowlist filter on aws-ct-discovery-call silences both for an allowlisted user', async () => {
  const leaked = iamUser('svc-reporting', 'AKIA3Q7ZREPORTKEY4VN');
  const scanner = iamUser('inventory-scanner', 'AKIA3Q7ZINVENTORY7QX');
  const leakedFile = await logFile('20261104T1000Z_leaked', sweep(leaked, 0, 15_000));
  const scannerFile = await logFile('20261104T1100Z_scanner', sweep(scanner, hours(1), 15_000));
  const unfiltered = await scanFiles([leakedFile, scannerFile]);
  assert.deepEqual(bursts(unfiltered).map((alert) => alert.actor).sort(), [leaked.arn, scanner.arn].sort());
  assert.deepEqual(bursts(unfiltered, BY_KEY).map((alert) => alert.correlation?.group['userIdentity.accessKeyId']).sort(), ['AKIA3Q7ZINVENTORY7QX', 'AKIA3Q7ZREPORTKEY4VN']);

  const filterFile = join(dir, 'allow-inventory-user.yml');
  await writeFile(filterFile, `title: The inventory user enumerates by design
id: 5b0c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4
owner: cloud-security@example.com
reason: nightly inventory export, reviewed in SEC-1301
expires: 2999-12-31
logsource:
    product: aws
    service: cloudtrail
filter:
    rules:
        - aws-ct-discovery-call    # and the rules derived from it (the long-term-key building block)
    inventory_user:
        userIdentity.arn: 'arn:aws:iam::${ACCOUNT}:user/inventory-scanner'
    condition: not inventory_user
`);
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], filterPaths: [filterFile] });
  assert.deepEqual(ruleSet.errors.filter((error) => error.location.startsWith(dir)), []);
  const filtered = await scanFiles([leakedFile, scannerFile], {}, ruleSet);
  assert.deepEqual(bursts(filtered).map((alert) => alert.actor), [leaked.arn]);
  assert.deepEqual(bursts(filtered, BY_KEY).map((alert) => alert.correlation?.group['userIdentity.accessKeyId']), ['AKIA3Q7ZREPORTKEY4VN'], 'the by-access-key burst is silenced by the same filter');
});

test('user data read on several instances, and public snapshot enumeration, alert through the scan', async () => {
  const instances = ['i-0a1b2c3d4e5f60718', 'i-0b2c3d4e5f6071829', 'i-0c3d4e5f607182930'];
  const reads = instances.map((instanceId, i) => ({ ...describe(i * 30_000, 'DescribeInstanceAttribute'), requestParameters: { instanceId, attribute: 'userData' } }));
  const snapshots: LogRecord[] = [
    { ...describe(2 * MINUTE, 'DescribeSnapshots'), requestParameters: { snapshotSet: {}, ownersSet: {}, restorableBySet: { items: [{ user: 'all' }] } } },
    { ...describe(3 * MINUTE, 'DescribeDBSnapshots', ATTACKER, 'rds.amazonaws.com'), requestParameters: { includePublic: true, maxRecords: 100 } },
    { ...describe(4 * MINUTE, 'DescribeSnapshots'), requestParameters: { snapshotSet: {}, ownersSet: { items: [{ owner: 'self' }] } } },
  ];
  const alerts = await scanFiles([await logFile('20261104T1000Z_userdata', [...reads, ...snapshots])]);
  const userdata = alerts.filter((alert) => alert.rule.name === 'aws-ct-ec2-userdata-read-burst');
  assert.equal(userdata.length, 1);
  assert.equal(userdata[0]?.rule.level, 'medium');
  assert.equal(userdata[0]?.correlation?.value_count, 3);
  assert.deepEqual(alerts.filter((alert) => alert.rule.name === 'aws-ct-snapshot-public-enumeration').map((alert) => alert.event_ids[0]), [snapshots[0]?.eventID, snapshots[1]?.eventID]);
  const twice = await scanFiles([await logFile('20261104T1100Z_userdata_one', [0, 1, 2, 3].map((i) => ({ ...describe(hours(1) + i * 30_000, 'DescribeInstanceAttribute'), requestParameters: { instanceId: instances[0] ?? '', attribute: 'userData' } })))]);
  assert.equal(twice.length, 0, 'one instance read four times does not alert');
});

test('an allowlisted role (a filter on sessionIssuer.arn, list from --vars %admin_principals%) does not fire; another role doing the same does', async () => {
  const admin = assumedRole('InventoryScanner', 'scan-42');
  const varsFile = join(dir, 'vars.yml');
  await writeFile(varsFile, `admin_principals:\n  - arn:aws:iam::${ACCOUNT}:role/InventoryScanner\n  - arn:aws:iam::${ACCOUNT}:role/BreakGlass*\n`);
  const filterFile = join(dir, 'allow-admins.yml');
  await writeFile(filterFile, `title: Inventory and break-glass roles enumerate by design
id: 7ae7dfa7-0e21-4179-b9df-76153260a520
owner: cloud-security@example.com
reason: CSPM scanner role, reviewed in SEC-1234
expires: 2999-12-31
logsource:
    product: aws
    service: cloudtrail
filter:
    rules:
        - aws-ct-discovery-call
    admin_principal:
        userIdentity.sessionContext.sessionIssuer.arn|expand: '%admin_principals%'
    condition: not admin_principal
`);
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], filterPaths: [filterFile], varsFile });
  assert.deepEqual(ruleSet.errors.filter((error) => error.location.startsWith(dir)), []);
  assert.equal(ruleSet.filters.length, 1);
  const adminFile = await logFile('20261104T1000Z_admin', sweep(admin));
  const attackerFile = await logFile('20261104T1100Z_attacker', sweep(ATTACKER, hours(1)));
  const alerts = bursts(await scanFiles([adminFile, attackerFile], {}, ruleSet));
  assert.deepEqual(alerts.map((alert) => alert.actor), [ATTACKER.arn]);
  assert.equal(bursts(await scanFiles([adminFile], {}, pack)).length, 1, 'without the filter the admin role fires too');

  // The same through the CLI: --filters, --vars, --correlation-lateness and --max-groups pass through.
  const cli = await exec(process.execPath, [BIN, 'scan', '--no-default-rules', '--rules', DEFAULT_RULES_DIR, '--filters', filterFile, '--vars', varsFile, '--correlation-lateness', '15m', '--max-groups', '1000', '--format', 'jsonl', '--no-events', '-q', adminFile, attackerFile]).catch((error: { stdout: string; stderr: string; code: number }) => error);
  const lines = cli.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Alert);
  assert.deepEqual(bursts(lines).map((alert) => alert.actor), [ATTACKER.arn], cli.stderr);
});

test('the CLI rejects a bad --correlation-lateness or --max-groups with TH_CONFIG and exit code 2', async () => {
  for (const args of [['--correlation-lateness', '15 minutes'], ['--max-groups', '0']]) {
    const result = await exec(process.execPath, [BIN, 'scan', ...args, join(dir, 'none.json')]).then(() => ({ code: 0, stderr: '' }), (error: { code: number; stderr: string }) => error);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`TH_CONFIG ${args[0]}`));
  }
});

test('the multi-region sweep and the stop/modify/start sequence fire through the scan too', async () => {
  const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-central-1', 'ap-south-1', 'ap-northeast-1', 'sa-east-1'];
  const files: string[] = [];
  for (const [i, region] of regions.entries()) {
    files.push(await logFile(`20261104T1000Z_region_${region}`, [{ ...describe(i * 10_000, 'DescribeInstances'), awsRegion: region }]));
  }
  const sweep = (await scanFiles(files.reverse())).filter((alert) => alert.rule.name === 'aws-ct-ec2-multi-region-enumeration');
  assert.equal(sweep.length, 1);
  assert.equal(sweep[0]?.correlation?.value_count, 10);

  const instance = 'i-0d4e5f6a7b8c9d0e1';
  const call = (offset: number, eventName: string, requestParameters: LogRecord): LogRecord => ({ ...describe(offset, eventName), readOnly: false, requestParameters });
  const chain = await logFile('20261104T1200Z_chain', [
    call(0, 'StopInstances', { instancesSet: { items: [{ instanceId: instance }] }, force: false }),
    call(MINUTE, 'ModifyInstanceAttribute', { instanceId: instance, userData: '<sensitiveDataRemoved>' }),
    call(2 * MINUTE, 'StartInstances', { instancesSet: { items: [{ instanceId: instance }] } }),
  ]);
  const alerts = await scanFiles([chain]);
  const critical = alerts.filter((alert) => alert.rule.name === 'aws-ct-ec2-stop-modify-userdata-start');
  assert.equal(critical.length, 1);
  assert.equal(critical[0]?.rule.level, 'critical');
  assert.deepEqual(critical[0]?.correlation?.group, { recipientAccountId: ACCOUNT, instance });
  assert.ok(alerts.some((alert) => alert.rule.name === 'aws-ct-ec2-userdata-modified'), 'the single-event rule still alerts on its own');
});

function hours(n: number): number {
  return n * 60 * MINUTE;
}
