import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../src/core/alert.ts';
import { attacksOf, principalUser, toDetectionFinding, type TriageStatus } from '../../src/sinks/ocsf/detection-finding.ts';
import { detectionFindingJson, OcsfSink, trailhoundVersion } from '../../src/sinks/ocsf/ocsf-sink.ts';
import { FileSink } from '../../src/sinks/file.ts';
import { createSink, OUTPUT_FORMATS } from '../../src/sinks/index.ts';
import { sinkAlert } from '../../src/sinks/sink.ts';
import { runCli } from '../cli/run-cli.ts';
import { testAlert } from './alert-fixture.ts';
import { OcsfSchema } from './ocsf-schema.ts';

/** The OCSF schema source beside the repository (../shared/ocsf-schema-1.7.0, Apache-2.0); never copied in. */
const SCHEMA_DIR = fileURLToPath(new URL('../../../shared/ocsf-schema-1.7.0/', import.meta.url));
const SCHEMA_PRESENT = OcsfSchema.available(SCHEMA_DIR);
const skipSchema = SCHEMA_PRESENT ? false : `OCSF schema 1.7.0 not found at ${SCHEMA_DIR}: schema checks skipped`;
if (!SCHEMA_PRESENT) console.log(`# ${skipSchema}`);

/**
 * Top-level recommended attributes a finding may lack, and why: the alert has nothing for them
 * (docs/ocsf.md). Anything else recommended and missing fails the test.
 */
const NOT_MAPPED_RECOMMENDED = new Set([
  'confidence_id', // a Sigma rule states no confidence
  'status_code', // the finding has no source status code
  'status_detail', // only with a close reason
  'resources', // only GuardDuty resources and the `resources` of CloudTrail records
  'observables', // only when an account, principal ARN or IP is known
  'actor', // (host profile) only when the alert has a principal
  'evidences', // only with records or an actor/source IP
  'cloud.region', // flow-log alerts have none
  'cloud.account.name',
  'metadata.reporter',
  'metadata.tenant_uid',
  'metadata.product.uid',
  'finding_info.product.uid', // GuardDuty as the product of its findings: no uid or version to give
  'finding_info.product.version',
]);

/** A finding as a JSON tree the tests read and change freely (its shape is what the schema checks). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON tree, checked by the schema rather than by types
type JsonTree = Record<string, any>;

interface Sample {
  alerts: Alert[];
  ocsfLines: Record<string, unknown>[];
  noEvents: Alert[];
}
let sample: Sample;

function lines<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const SCAN = ['scan', 'samples/', '--cti', 'samples/intel/feed.txt', '--workers', '1', '-q'];

before(async () => {
  const [jsonl, ocsf, noEvents] = await Promise.all([runCli([...SCAN, '--format', 'jsonl']), runCli([...SCAN, '--format', 'ocsf']), runCli([...SCAN, '--format', 'jsonl', '--no-events'])]);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  assert.equal(ocsf.code, 0, ocsf.stderr);
  assert.equal(noEvents.code, 0, noEvents.stderr);
  sample = { alerts: lines<Alert>(jsonl.stdout), ocsfLines: lines<Record<string, unknown>>(ocsf.stdout), noEvents: lines<Alert>(noEvents.stdout) };
});

/** The four kinds of alert the engine raises, each found in the samples' alerts. */
function kinds(alerts: readonly Alert[]): Record<string, Alert[]> {
  return {
    'single-event CloudTrail': alerts.filter((alert) => alert.source === 'cloudtrail' && alert.correlation === undefined && alert.cti === undefined),
    correlation: alerts.filter((alert) => alert.correlation !== undefined),
    'flow-log CTI': alerts.filter((alert) => alert.source === 'vpcflow' && alert.cti !== undefined),
    'GuardDuty finding': alerts.filter((alert) => alert.guardduty !== undefined && alert.cti === undefined),
    'GuardDuty CTI': alerts.filter((alert) => alert.guardduty !== undefined && alert.cti !== undefined),
  };
}

test('the samples raise every kind of alert (the schema test covers each)', () => {
  for (const [kind, alerts] of Object.entries(kinds(sample.alerts))) assert.ok(alerts.length > 0, `no ${kind} alert in the samples`);
});

test('--format ocsf writes, line for line, the converter output of the jsonl alerts', () => {
  assert.ok(OUTPUT_FORMATS.includes('ocsf'));
  assert.equal(sample.ocsfLines.length, sample.alerts.length);
  const expected = sample.alerts.map((alert) => toDetectionFinding(alert, { productVersion: trailhoundVersion() }));
  assert.deepEqual(sample.ocsfLines, JSON.parse(JSON.stringify(expected)));
});

test('every emitted finding conforms to OCSF 1.7.0 Detection Finding (required, recommended, types, enums)', { skip: skipSchema }, (t) => {
  const schema = new OcsfSchema(SCHEMA_DIR);
  assert.equal(schema.version, '1.7.0');
  const detection = schema.eventClass('detection_finding');
  assert.equal(detection.uid, 2004);
  assert.equal(detection.categoryUid, 2);
  const findings: Array<{ label: string; finding: Record<string, unknown> }> = [];
  const statuses: Array<{ status?: TriageStatus; reason?: string }> = [{}, { status: 'acknowledged' }, { status: 'closed', reason: 'false_positive' }];
  for (const [kind, alerts] of Object.entries(kinds(sample.alerts))) {
    for (const alert of alerts) {
      for (const status of statuses) findings.push({ label: `${kind} ${alert.rule.name} ${status.status ?? 'open'}`, finding: JSON.parse(JSON.stringify(toDetectionFinding(alert, { productVersion: '0.1.0', ...status }))) as Record<string, unknown> });
    }
  }
  for (const alert of sample.noEvents) findings.push({ label: `--no-events ${alert.rule.name}`, finding: toDetectionFinding(alert, { productVersion: '0.1.0' }) });
  for (const [index, finding] of sample.ocsfLines.entries()) findings.push({ label: `--format ocsf line ${index + 1}`, finding });
  findings.push({ label: 'GuardDuty update', finding: toDetectionFinding({ ...(kinds(sample.alerts)['GuardDuty finding']?.[0] as Alert), update: true }, { productVersion: '0.1.0' }) });

  let values = 0;
  const missingSeen = new Set<string>();
  for (const { label, finding } of findings) {
    const result = schema.checkEvent(finding, 'detection_finding');
    values += result.checkedValues;
    assert.deepEqual(result.errors, [], `${label}: ${result.errors.join('; ')}`);
    // Top level (and its direct objects): only what the alert cannot fill may be missing.
    const topMissing = result.missingRecommended.filter((path) => !path.includes('[') && path.split('.').length <= 3 && !path.startsWith('actor.') && !path.startsWith('osint'));
    for (const path of topMissing) assert.ok(NOT_MAPPED_RECOMMENDED.has(path), `${label}: recommended ${path} is missing`);
    for (const path of result.missingRecommended) missingSeen.add(path.replace(/\[\d+\]/g, '[]'));
    // What the schema leaves to the producer, checked here.
    assert.equal(finding.type_uid, (finding.class_uid as number) * 100 + (finding.activity_id as number));
    assert.equal((finding.metadata as { version: string }).version, schema.version);
  }
  t.diagnostic(`${findings.length} findings checked against ${SCHEMA_DIR} (${values} attribute values); recommended attributes missing from at least one finding, nested ones included: ${[...missingSeen].sort().join(', ')}`);
});

test('the schema checker itself catches what it is meant to catch', { skip: skipSchema }, () => {
  const schema = new OcsfSchema(SCHEMA_DIR);
  const good = toDetectionFinding(testAlert({ events: [{ eventID: 'e-1', eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', sourceIPAddress: '203.0.113.7' }] }), { productVersion: '0.1.0' });
  assert.deepEqual(schema.checkEvent(good, 'detection_finding').errors, []);
  const broken = (change: (finding: JsonTree) => void): string[] => {
    const copy = structuredClone(good) as JsonTree;
    change(copy);
    return schema.checkEvent(copy, 'detection_finding').errors;
  };
  assert.match(broken((f) => (f.severity_id = 7)).join(), /severity_id: 7 is not one of/);
  assert.match(broken((f) => (f.severity = 'Low')).join(), /not the caption of severity_id 4/);
  assert.match(broken((f) => delete f.finding_info).join(), /finding_info: required/);
  assert.match(broken((f) => delete f.cloud).join(), /cloud: required/);
  assert.match(broken((f) => (f.src_endpoint = { ip: '203.0.113.7' })).join(), /has no attribute src_endpoint/);
  assert.match(broken((f) => (f.metadata.profiles = ['cloud'])).join(), /actor: belongs to the host profile/);
  assert.match(broken((f) => (f.type_uid = 200409)).join(), /type_uid: 200409 is not one of/);
  assert.match(broken((f) => (f.status_id = 7)).join(), /status_id: 7/);
  assert.match(broken((f) => (f.time = 1_793_610_277)).join(), /timestamp in milliseconds/);
  assert.match(broken((f) => (f.evidences[0].src_endpoint.ip = 'not-an-ip')).join(), /ip_t pattern/);
  assert.match(broken((f) => (f.finding_info.attacks[0].tactics = [])).join(), /tactics: deprecated/);
  assert.match(broken((f) => delete f.finding_info.analytic.type_id).join(), /analytic.type_id: required/);
  assert.match(broken((f) => (f.count = '1')).join(), /count: "1" is not an integer/);
  assert.match(broken((f) => (f.evidences = [{ name: 'x' }])).join(), /needs at least one of actor/);
});

test('severity follows the level; status the triage state; activity Create, or Update for an updated finding', () => {
  const levels = { informational: [1, 'Informational'], low: [2, 'Low'], medium: [3, 'Medium'], high: [4, 'High'], critical: [5, 'Critical'] } as const;
  for (const [level, [id, caption]] of Object.entries(levels)) {
    const finding = toDetectionFinding(testAlert({ rule: { id: 'r', name: 'n', title: 't', level: level as Alert['rule']['level'] } }));
    assert.deepEqual([finding.severity_id, finding.severity], [id, caption]);
  }
  const status = (options: { status?: TriageStatus; reason?: string }): unknown[] => {
    const finding = toDetectionFinding(testAlert(), options);
    return [finding.status_id, finding.status, finding.status_detail];
  };
  assert.deepEqual(status({}), [1, 'New', undefined]);
  assert.deepEqual(status({ status: 'open' }), [1, 'New', undefined]);
  assert.deepEqual(status({ status: 'acknowledged' }), [2, 'In Progress', undefined]);
  assert.deepEqual(status({ status: 'closed', reason: 'false_positive' }), [4, 'Resolved', 'closed as false_positive']);
  const created = toDetectionFinding(testAlert());
  assert.deepEqual([created.activity_id, created.type_uid, created.class_uid, created.category_uid], [1, 200401, 2004, 2]);
  const updated = toDetectionFinding(testAlert({ update: true }));
  assert.deepEqual([updated.activity_id, updated.activity_name, updated.type_uid], [2, 'Update', 200402]);
});

test('finding_info: uid the alert id, title, the rule as analytic, ATT&CK with names from the technique table', () => {
  const finding = toDetectionFinding(testAlert({ attack: { techniques: ['T1098.001', 'T1562.008', 'T1685.002'], tactics: ['persistence', 'defense-evasion', 'defense-impairment'] } }));
  const info = finding.finding_info as JsonTree;
  assert.equal(info.uid, '0123456789abcdef0123456789abcdef');
  assert.equal(info.title, 'Test rule');
  assert.deepEqual(info.analytic, { uid: 'r-1', name: 'aws-ct-test', type_id: 1, type: 'Rule', category: 'cloudtrail' });
  assert.deepEqual(info.attacks[0], {
    technique: { uid: 'T1098', name: 'Account Manipulation' },
    sub_technique: { uid: 'T1098.001', name: 'Additional Cloud Credentials' },
    tactic: { uid: 'TA0003', name: 'Persistence' },
    version: '18',
  });
  assert.deepEqual(info.attacks[2], { technique: { uid: 'T1685', name: 'Disable or Modify Tools (v19 id of T1562.001)' }, sub_technique: { uid: 'T1685.002', name: 'Disable or Modify Cloud Logs (v19 id of T1562.008)' }, tactic: { uid: 'TA0112', name: 'Defense Impairment' }, version: '19' });
  // A technique outside the table keeps its id; a tactic no technique claims gets its own entry.
  assert.deepEqual(attacksOf({ techniques: ['T1999'], tactics: ['reconnaissance'] }), [{ technique: { uid: 'T1999' }, tactic: { uid: 'TA0043', name: 'Reconnaissance' }, version: '18' }]);
  assert.deepEqual(attacksOf({ techniques: [], tactics: ['stealth'] }), [{ tactic: { name: 'Stealth' }, version: '19' }]);
});

test('cloud, actor, evidences, time and metadata', () => {
  const event = { eventID: 'e-1', eventTime: '2026-11-05T09:59:00Z', eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', sourceIPAddress: '203.0.113.7', userIdentity: { arn: 'arn:aws:iam::111122223333:user/alice' } };
  const finding = toDetectionFinding(testAlert({ events: [event] }), { productVersion: '9.9.9' });
  assert.deepEqual(finding.cloud, { provider: 'AWS', region: 'us-east-1', account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } });
  assert.deepEqual(finding.actor, { user: { uid: 'arn:aws:iam::111122223333:user/alice', name: 'alice', type_id: 1, type: 'User', account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } } });
  const [evidence] = finding.evidences as Record<string, unknown>[];
  assert.deepEqual(evidence?.data, event);
  assert.deepEqual(evidence?.src_endpoint, { ip: '203.0.113.7' });
  assert.deepEqual(evidence?.api, { operation: 'StopLogging', service: { name: 'cloudtrail.amazonaws.com' } });
  assert.equal(finding.time, Date.parse('2026-11-05T10:00:00.000Z'));
  assert.equal(finding.start_time, Date.parse('2026-11-05T09:59:00Z'));
  assert.deepEqual(finding.metadata, {
    version: '1.7.0',
    uid: '0123456789abcdef0123456789abcdef',
    product: { name: 'trailhound', vendor_name: 'trailhound', version: '9.9.9' },
    profiles: ['cloud', 'host'],
    original_time: '2026-11-05T10:00:00.000Z',
    log_name: 'AWS CloudTrail',
  });
  assert.deepEqual(principalUser('arn:aws:sts::111122223333:assumed-role/Admin/sam'), { uid: 'arn:aws:sts::111122223333:assumed-role/Admin/sam', name: 'sam', type_id: 99, type: 'AssumedRole', account: { uid: '111122223333', type_id: 10, type: 'AWS Account' } });
  assert.equal(principalUser('arn:aws:iam::111122223333:root').type_id, 2);
  assert.equal(principalUser('AWS Internal').type_id, 4);
});

test('trailhound specifics go to unmapped.trailhound; an alert without time uses the window end', () => {
  const correlation = { type: 'event_count', group: { actor: 'x' }, window: { start: '2026-11-05T09:00:00.000Z', end: '2026-11-05T09:30:00.000Z' } };
  const finding = toDetectionFinding(testAlert({ time: null, correlation }), { status: 'closed', reason: 'duplicate' });
  const unmapped = (finding.unmapped as { trailhound: Record<string, unknown> }).trailhound;
  assert.deepEqual(unmapped.correlation, correlation);
  assert.deepEqual(unmapped.triage, { status: 'closed', reason: 'duplicate' });
  assert.deepEqual(unmapped.event_ids, ['e-1']);
  assert.equal(finding.time, Date.parse('2026-11-05T09:30:00.000Z'));
  assert.equal((finding.finding_info as { first_seen_time: number }).first_seen_time, Date.parse('2026-11-05T09:00:00.000Z'));
});

test('a record too deep for JSON.stringify still gives a finding (the alert as it was written)', () => {
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 20_000; i++) deep = { next: deep };
  const alert = testAlert({ events: [{ eventID: 'e-1', deep }] });
  const text = detectionFindingJson(sinkAlert(alert));
  const finding = JSON.parse(text) as { finding_info: { uid: string }; evidences: unknown[] };
  assert.equal(finding.finding_info.uid, alert.id);
  assert.equal(finding.evidences.length, 1);
});

test('the OCSF file sink writes one finding per line, exactly once per alert id across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'th-ocsf-'));
  try {
    const path = join(dir, 'findings.ocsf.jsonl');
    const first = new OcsfSink(new FileSink(path));
    await first.start();
    const a = sinkAlert(testAlert({ id: 'a'.repeat(32) }));
    const b = sinkAlert(testAlert({ id: 'b'.repeat(32) }));
    assert.equal((await first.deliver([a])).delivered, 1);
    await first.close();
    // A restart that does not know where the file ended (a crash before the outbox recorded it): `a` is read back by metadata.uid.
    const second = new OcsfSink(new FileSink(path));
    await second.start();
    assert.equal((await second.deliver([a, b])).delivered, 1);
    await second.close();
    const written = lines<{ class_uid: number; metadata: { uid: string } }>(await readFile(path, 'utf8'));
    assert.deepEqual(written.map((line) => [line.class_uid, line.metadata.uid]), [[2004, 'a'.repeat(32)], [2004, 'b'.repeat(32)]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('createSink("ocsf") writes findings to the stream', async () => {
  const chunks: string[] = [];
  const { Writable } = await import('node:stream');
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const sink = createSink('ocsf', stream, { colour: false });
  await sink.deliver([sinkAlert(testAlert())]);
  await sink.close();
  const [finding] = lines<{ class_uid: number; finding_info: { uid: string } }>(chunks.join(''));
  assert.equal(finding?.class_uid, 2004);
  assert.equal(finding?.finding_info.uid, testAlert().id);
  assert.ok(existsSync(SCHEMA_DIR) || !SCHEMA_PRESENT);
});
