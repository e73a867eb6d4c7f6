/**
 * GuardDuty findings as alerts: the passthrough pseudo-rule (level bands, ATT&CK, title,
 * resource and remote IP) and one alert per finding id however the versions arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../../src/core/alert.ts';
import { Detector } from '../../../src/engine/detector.ts';
import type { Envelope, LogRecord } from '../../../src/core/envelope.ts';
import { GUARDDUTY_PASSTHROUGH_RULE } from '../../../src/engine/alerts/builtin-rules.ts';
import { guardDutyFindingAlert } from '../../../src/engine/guardduty/alerts.ts';
import { GuardDutyFindings } from '../../../src/engine/guardduty/findings.ts';
import { scan } from '../../../src/scan/scan.ts';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import { formatLocatedError } from '../../../src/core/errors.ts';

const DIR = fileURLToPath(new URL('../../fixtures/flow-cti/', import.meta.url));
const RAW = JSON.parse(readFileSync(`${DIR}gd-raw.json`, 'utf8')) as LogRecord;

function finding(overrides: { id?: string; type?: string; severity?: number | string; count?: number; updatedAt?: string; title?: string }): LogRecord {
  const copy = structuredClone(RAW);
  const service = copy.service as Record<string, unknown>;
  if (overrides.id !== undefined) copy.id = overrides.id;
  if (overrides.type !== undefined) copy.type = overrides.type;
  if (overrides.severity !== undefined) copy.severity = overrides.severity;
  if (overrides.count !== undefined) service.count = overrides.count;
  if (overrides.updatedAt !== undefined) copy.updatedAt = overrides.updatedAt;
  if (overrides.title !== undefined) copy.title = overrides.title;
  return copy;
}

function envelope(record: LogRecord, index = 0): Envelope {
  return { source: 'guardduty', time: Date.parse(String(record.updatedAt)), record, origin: { uri: 'findings.jsonl', index, line: index + 1 } };
}

function run(records: readonly LogRecord[], options: ConstructorParameters<typeof Detector>[0] = { rules: [], includeEvents: false }): Alert[] {
  const detector = new Detector(options);
  const out: Alert[] = [];
  records.forEach((record, i) => detector.process(envelope(record, i), out));
  detector.flush(out);
  return out;
}

test('a finding is one alert: the passthrough pseudo-rule, its title, level, ATT&CK, resource and remote IP', () => {
  const alert = guardDutyFindingAlert(envelope(RAW), { includeEvents: true });
  assert.deepEqual(alert.rule, { id: GUARDDUTY_PASSTHROUGH_RULE.id, name: 'aws-gd-finding-passthrough', title: 'Finding Discovery:IAMUser/AnomalousBehavior', level: 'low' });
  assert.deepEqual(alert.attack, { techniques: ['T1078.004', 'T1580'], tactics: ['discovery'] });
  assert.equal(alert.source, 'guardduty');
  assert.deepEqual([alert.account, alert.region, alert.actor, alert.source_ip], ['111122223333', 'eu-west-1', 'app-role', '203.0.113.47']);
  assert.deepEqual(alert.guardduty, {
    id: 'aaaa0000000000000000000000000001',
    type: 'Discovery:IAMUser/AnomalousBehavior',
    severity: 2,
    count: 1,
    updated_at: '2026-11-02T09:10:00.000Z',
    resource_type: 'AccessKey',
    resource_id: 'ASIAEXAMPLE',
    archived: false,
  });
  assert.deepEqual(alert.event_ids, ['aaaa0000000000000000000000000001']);
  assert.equal(alert.time, '2026-11-02T09:10:00.000Z');
  assert.deepEqual(alert.events, [RAW]);
  assert.equal(alert.id, guardDutyFindingAlert(envelope(finding({ count: 7, severity: 8 })), { includeEvents: false }).id, 'the id depends on the finding id only');
});

test('severity bands are half-open: >= 9 critical, [7, 9) high, [4, 7) medium, below 4 low', () => {
  const level = (severity: number | string): string => guardDutyFindingAlert(envelope(finding({ severity })), { includeEvents: false }).rule.level;
  assert.deepEqual([10, 9, 8.99, 8.95, 7, 6.99, 4, 3.99, 1, 0].map(level), ['critical', 'critical', 'high', 'high', 'high', 'medium', 'medium', 'low', 'low', 'low']);
  assert.equal(level('7.5'), 'high', 'a numeric string as some exports write it');
});

test('ATT&CK follows the finding type, with the ThreatPurpose as the fallback tactic', () => {
  const attack = (type: string): Alert['attack'] => guardDutyFindingAlert(envelope(finding({ type })), { includeEvents: false }).attack;
  assert.deepEqual(attack('CryptoCurrency:EC2/BitcoinTool.B!DNS'), { techniques: ['T1496'], tactics: ['impact'] });
  assert.deepEqual(attack('UnauthorizedAccess:EC2/SSHBruteForce'), { techniques: ['T1110'], tactics: ['initial-access'] });
  assert.deepEqual(attack('Trojan:EC2/DGADomainRequest.C!DNS'), { techniques: ['T1568.002'], tactics: ['command-and-control'] });
  assert.deepEqual(attack('Exfiltration:S3/MaliciousIPCaller'), { techniques: ['T1530', 'T1567.002'], tactics: ['exfiltration'] });
  assert.deepEqual(attack('Persistence:Runtime/NewUnusualBinary'), { techniques: [], tactics: ['persistence'] });
  const title = guardDutyFindingAlert(envelope(finding({ title: '' })), { includeEvents: false }).rule.title;
  assert.equal(title, 'Discovery:IAMUser/AnomalousBehavior', 'no title: the type');
});

test('updates of one finding: only the newest version is emitted, in whichever order they arrive', () => {
  const v1 = finding({ count: 1, updatedAt: '2026-11-02T09:00:00.000Z' });
  const v2 = finding({ count: 4, updatedAt: '2026-11-02T10:00:00.000Z' });
  const v3 = finding({ count: 9, updatedAt: '2026-11-02T11:00:00.000Z' });
  const orders = [
    [v1, v2, v3],
    [v3, v2, v1],
    [v2, v3, v1],
    [v3, v1, v3],
  ];
  for (const order of orders) {
    const alerts = run(order);
    assert.equal(alerts.length, 1, JSON.stringify(order.map((f) => (f.service as { count: number }).count)));
    assert.deepEqual([alerts[0]?.count, alerts[0]?.guardduty?.count, alerts[0]?.guardduty?.updated_at, alerts[0]?.update], [9, 9, '2026-11-02T11:00:00.000Z', undefined]);
  }
  // Same count: the later updatedAt wins. Other findings are independent.
  const sameCount = run([finding({ count: 2, updatedAt: '2026-11-02T10:00:00.000Z' }), finding({ count: 2, updatedAt: '2026-11-02T09:00:00.000Z' }), finding({ id: 'other' })]);
  assert.deepEqual(sameCount.map((a) => [a.guardduty?.id, a.guardduty?.updated_at]), [
    ['aaaa0000000000000000000000000001', '2026-11-02T10:00:00.000Z'],
    ['other', '2026-11-02T09:10:00.000Z'],
  ]);
});

test('a long-running consumer (maxPending 0) emits each newer version as an update with the same id; older ones are ignored', () => {
  const alerts = run(
    [finding({ count: 1 }), finding({ count: 5, updatedAt: '2026-11-02T12:00:00.000Z' }), finding({ count: 3, updatedAt: '2026-11-02T11:00:00.000Z' }), finding({ count: 5, updatedAt: '2026-11-02T12:00:00.000Z' })],
    { rules: [], includeEvents: false, guardDuty: { maxPending: 0 } },
  );
  assert.deepEqual(alerts.map((a) => [a.count, a.update]), [
    [1, undefined],
    [5, true],
  ]);
  assert.equal(alerts[0]?.id, alerts[1]?.id);
});

test('held findings are bounded: past maxPending the least recently updated is emitted early, a later version is an update', () => {
  const findings = new GuardDutyFindings({ maxPending: 2, maxKnown: 10 });
  const out: Alert[] = [];
  const offer = (record: LogRecord): void => findings.offer(envelope(record), (alerts) => alerts.push(guardDutyFindingAlert(envelope(record), { includeEvents: false })), out);
  offer(finding({ id: 'a' }));
  offer(finding({ id: 'b' }));
  assert.equal(out.length, 0);
  offer(finding({ id: 'c' }));
  assert.deepEqual(out.map((a) => a.guardduty?.id), ['a']);
  offer(finding({ id: 'a', count: 2 }));
  findings.flush(out);
  assert.deepEqual(out.map((a) => [a.guardduty?.id, a.count, a.update]), [
    ['a', 1, undefined],
    ['b', 1, undefined],
    ['c', 1, undefined],
    ['a', 2, true],
  ]);
  assert.deepEqual(findings.stats, { admitted: 4, stale: 0, replaced: 0, updates: 1 });
});

test('Sigma rules with logsource guardduty run over findings and follow their versions', async () => {
  const set = await loadRuleSet({ paths: [fileURLToPath(new URL('../../fixtures/flow-cti/rules/', import.meta.url))] });
  assert.deepEqual(set.errors.map(formatLocatedError), []);
  const alerts = run([finding({ count: 1 }), finding({ count: 2, updatedAt: '2026-11-02T12:00:00.000Z' })], { rules: set.rules, includeEvents: false });
  assert.deepEqual(alerts.map((a) => [a.rule.name, a.count]), [
    ['aws-gd-finding-passthrough', 2],
    ['test-gd-iam-discovery-finding', 1],
  ]);
  assert.equal(alerts[1]?.event_ids[0], 'aaaa0000000000000000000000000001');
});

test('updates spread over two export files: one alert, the newer version, through scan()', async () => {
  for (const inputs of [
    [`${DIR}gd-update-1.jsonl`, `${DIR}gd-update-2.jsonl`],
    [`${DIR}gd-update-2.jsonl`, `${DIR}gd-update-1.jsonl`],
  ]) {
    const alerts: Alert[] = [];
    const summary = await scan({ inputs, detector: new Detector({ rules: [], includeEvents: false }), onAlert: (a) => void alerts.push(a), onError: (e) => assert.fail(formatLocatedError(e)) });
    assert.equal(summary.records, 2);
    assert.deepEqual(alerts.map((a) => [a.rule.name, a.guardduty?.count, a.time]), [['aws-gd-finding-passthrough', 4, '2026-11-02T09:45:00.000Z']]);
  }
});
