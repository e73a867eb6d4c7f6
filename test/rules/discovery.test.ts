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

const BURST = 'aws-ct-ec2-discovery-burst';
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

function describe(offsetMs: number, eventName: string, identity: LogRecord = ATTACKER): LogRecord {
  sequence += 1;
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: new Date(T0 + offsetMs).toISOString().replace('.000Z', 'Z'),
    eventSource: 'ec2.amazonaws.com',
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

const CALLS = ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeKeyPairs', 'DescribeVpcs', 'DescribeSnapshots', 'DescribeImages'];

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

const bursts = (alerts: readonly Alert[]): Alert[] => alerts.filter((alert) => alert.rule.name === BURST);

test('the pack loads the discovery rules and correlations without errors of their own', () => {
  const ours = pack.errors.filter((error) => /discovery|region-enumeration|stop-instances|start-instances|userdata-modify-call|stop-modify/.test(error.location));
  assert.deepEqual(ours, []);
  for (const name of [BURST, 'aws-ct-ec2-discovery-burst-by-access-key', 'aws-ct-ec2-discovery-denied-probing', 'aws-ct-ec2-multi-region-enumeration', 'aws-ct-ec2-stop-modify-userdata-start']) {
    assert.ok(pack.correlations.some((rule) => rule.name === name), name);
  }
});

test('a burst split across two log files delivered in reverse order is found (one alert)', async () => {
  const early = await logFile('20261104T1005Z_early', CALLS.slice(0, 3).map((name, i) => describe(i * MINUTE, name)));
  const late = await logFile('20261104T1015Z_late', CALLS.slice(3).map((name, i) => describe((8 + i) * MINUTE, name)));
  for (const options of [{}, { lateness: 15 * MINUTE }]) {
    const alerts = bursts(await scanFiles([late, early], options));
    assert.equal(alerts.length, 1, JSON.stringify(options));
    assert.equal(alerts[0]?.correlation?.value_count, 6);
    assert.deepEqual(alerts[0]?.correlation?.group, { recipientAccountId: ACCOUNT, 'userIdentity.arn': ATTACKER.arn });
    assert.equal(alerts[0]?.correlation?.window.start, '2026-11-04T10:00:00.000Z');
    assert.equal(alerts[0]?.time, '2026-11-04T10:10:00.000Z', 'time of the last triggering event');
    assert.equal(alerts[0]?.count, 6);
  }
  const tooStrict = bursts(await scanFiles([late, early], { lateness: MINUTE }));
  assert.equal(tooStrict.length, 0, 'control: with a 1-minute lateness the earlier file is too late to be correlated');
  const alone = await scanFiles([early]);
  assert.equal(bursts(alone).length, 0, 'neither file alone holds a burst');
  assert.equal(alone.length, 0, 'the building block raises nothing by itself');
});

test('one API polled hundreds of times (an autoscaler) does not fire', async () => {
  const autoscaler = assumedRole('eks-cluster-autoscaler', '1700000000000000000');
  const file = await logFile('20261104T1000Z_poll', Array.from({ length: 400 }, (_, i) => describe(i * 4500, 'DescribeInstances', autoscaler)));
  assert.equal((await scanFiles([file])).length, 0);
});

test('the same calls spread over hours do not fire', async () => {
  const file = await logFile('20261104T1000Z_spread', CALLS.map((name, i) => describe(i * 45 * MINUTE, name)));
  assert.equal(bursts(await scanFiles([file])).length, 0);
});

test('calls split between two principals do not add up', async () => {
  const other = assumedRole('web-app-role', 'i-0ffff0000aaaa1111');
  const file = await logFile('20261104T1000Z_split', CALLS.map((name, i) => describe(i * MINUTE, name, i % 2 === 0 ? ATTACKER : other)));
  assert.equal(bursts(await scanFiles([file])).length, 0);
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
        - aws-ct-ec2-discovery-call
    admin_principal:
        userIdentity.sessionContext.sessionIssuer.arn|expand: '%admin_principals%'
    condition: not admin_principal
`);
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], filterPaths: [filterFile], varsFile });
  assert.deepEqual(ruleSet.errors.filter((error) => error.location.startsWith(dir)), []);
  assert.equal(ruleSet.filters.length, 1);
  const adminFile = await logFile('20261104T1000Z_admin', CALLS.map((name, i) => describe(i * MINUTE, name, admin)));
  const attackerFile = await logFile('20261104T1100Z_attacker', CALLS.map((name, i) => describe(hours(1) + i * MINUTE, name)));
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
