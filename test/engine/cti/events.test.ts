/**
 * CloudTrail sourceIPAddress and GuardDuty remote addresses against the same feeds as flows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../../src/core/alert.ts';
import { Detector } from '../../../src/engine/detector.ts';
import type { Envelope, LogRecord } from '../../../src/core/envelope.ts';
import { CLOUDTRAIL_CTI_RULE, GUARDDUTY_CTI_RULE } from '../../../src/engine/alerts/builtin-rules.ts';
import { guardDutyRemoteIps } from '../../../src/formats/guardduty/fields.ts';
import { IntelIndex } from '../../../src/intel/intel-index.ts';
import { parseListFeed } from '../../../src/intel/feed-list.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/flow-cti/', import.meta.url));
const NOW = Date.parse('2026-11-02T12:00:00Z');
const feedText = readFileSync(`${FIXTURES}feed.txt`, 'utf8');
const intel = IntelIndex.of(parseListFeed(feedText, { feed: 'feed.txt', file: 'feed.txt', invalid: assert.fail, unsupported: assert.fail, skip: () => {}, fail: assert.fail }), { now: NOW });

function call(eventName: string, at: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/svc-reporting', accountId: '111122223333', accessKeyId: 'AKIA3Q7ZREPORTKEY4VN' },
    eventTime: at,
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.47',
    eventID: `00000000-0000-4000-8000-${String(Date.parse(at) % 1e12).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
    ...extra,
  };
}

function process(envelopes: readonly Envelope[], includeEvents = false): Alert[] {
  const detector = new Detector({ rules: [], includeEvents, intel });
  const out: Alert[] = [];
  for (const envelope of envelopes) detector.process(envelope, out);
  detector.flush(out);
  return out;
}

const trail = (record: LogRecord, index = 0): Envelope => ({ source: 'cloudtrail', time: Date.parse(String(record.eventTime)), record, origin: { uri: 'trail.json', index } });

test('CloudTrail: API calls from an indicator are one alert per principal and hour; high when a call succeeded', () => {
  const alerts = process([
    trail(call('DescribeInstances', '2026-11-02T09:02:05Z'), 0),
    trail(call('ListBuckets', '2026-11-02T09:03:00Z', { errorCode: 'AccessDenied' }), 1),
    trail(call('GetCallerIdentity', '2026-11-02T09:05:00Z', { sourceIPAddress: '198.51.100.9' }), 2),
    trail(call('RunInstances', '2026-11-02T09:06:00Z', { sourceIPAddress: 'ec2.amazonaws.com' }), 3),
    trail(call('CreateKeyPair', '2026-11-02T09:11:00Z', { sourceIPAddress: '203.0.113.47', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/legacy-backup' }, errorCode: 'UnauthorizedOperation' }), 4),
  ]);
  assert.deepEqual(alerts.map((a) => [a.rule.name, a.rule.level, a.actor, a.count]), [
    ['aws-ct-cti-source-ip-match', 'high', 'arn:aws:iam::111122223333:user/svc-reporting', 2],
    ['aws-ct-cti-source-ip-match', 'medium', 'arn:aws:iam::111122223333:user/legacy-backup', 1],
  ]);
  const first = alerts[0] as Alert;
  assert.equal(first.rule.id, CLOUDTRAIL_CTI_RULE.id);
  assert.deepEqual(first.attack, { techniques: ['T1078.004'], tactics: ['initial-access'] });
  assert.deepEqual(first.cti, { indicator: '203.0.113.47', matched: '203.0.113.47', field: 'sourceIPAddress', feed: 'feed.txt', provenance: 'line 6', window: { start: '2026-11-02T09:00:00.000Z', end: '2026-11-02T10:00:00.000Z' } });
  assert.deepEqual([first.source, first.source_ip, first.account, first.region, first.time], ['cloudtrail', '203.0.113.47', '111122223333', 'us-east-1', '2026-11-02T09:03:00.000Z']);
  assert.equal(first.event_ids.length, 2);
});

test('GuardDuty: every remote address of a finding is checked; the alert follows the finding level (at least medium) and its versions', () => {
  const findings = JSON.parse(readFileSync(`${FIXTURES}gd-getfindings.json`, 'utf8')) as { Findings: LogRecord[] };
  const stealth = findings.Findings[0] as LogRecord; // 203.0.113.52: not in the feed
  const sweep = findings.Findings[2] as LogRecord; // 192.0.2.30, INBOUND, severity 9
  const gd = (record: LogRecord): Envelope => ({ source: 'guardduty', time: Date.parse(String(record.updatedAt)), record, origin: { uri: 'gd.json', index: 0 } });
  const alerts = process([gd(stealth), gd(sweep), gd(sweep)]);
  assert.deepEqual(alerts.map((a) => [a.rule.name, a.rule.level, a.guardduty?.id]), [
    ['aws-gd-finding-passthrough', 'low', 'aaaa0000000000000000000000000003'],
    ['aws-gd-finding-passthrough', 'critical', 'aaaa0000000000000000000000000005'],
    ['aws-gd-cti-remote-ip-match', 'critical', 'aaaa0000000000000000000000000005'],
  ]);
  const match = alerts[2] as Alert;
  assert.equal(match.rule.id, GUARDDUTY_CTI_RULE.id);
  assert.deepEqual(match.cti, {
    indicator: '192.0.2.0/26',
    matched: '192.0.2.30',
    field: 'service.action.networkConnectionAction.remoteIpDetails.ipAddressV4',
    feed: 'feed.txt',
    direction: 'ingress',
    provenance: 'line 3',
  });
  assert.deepEqual(match.attack, alerts[1]?.attack);
  assert.equal(match.source_ip, '192.0.2.30');

  const raw = JSON.parse(readFileSync(`${FIXTURES}gd-raw.json`, 'utf8')) as LogRecord; // severity 2, 203.0.113.47
  assert.deepEqual(process([gd(raw)]).map((a) => `${a.rule.name} ${a.rule.level}`), ['aws-gd-finding-passthrough low', 'aws-gd-cti-remote-ip-match medium']);
});

test('remote addresses are read from every action GuardDuty writes, port probes included', () => {
  const finding: LogRecord = {
    service: {
      action: {
        actionType: 'PORT_PROBE',
        portProbeAction: {
          blocked: false,
          portProbeDetails: [
            { localPortDetails: { port: 22 }, remoteIpDetails: { ipAddressV4: '192.0.2.1' } },
            { localPortDetails: { port: 3389 }, remoteIpDetails: { ipAddressV4: '192.0.2.2' } },
            { localPortDetails: { port: 80 }, remoteIpDetails: { ipAddressV4: '192.0.2.1' } },
          ],
        },
        kubernetesApiCallAction: { remoteIpDetails: { ipAddressV6: '2001:db8:bad::5' } },
      },
    },
  };
  assert.deepEqual(guardDutyRemoteIps(finding), [
    { ip: '192.0.2.1', field: 'service.action.portProbeAction.portProbeDetails[0].remoteIpDetails.ipAddressV4', direction: 'ingress' },
    { ip: '192.0.2.2', field: 'service.action.portProbeAction.portProbeDetails[1].remoteIpDetails.ipAddressV4', direction: 'ingress' },
    { ip: '2001:db8:bad::5', field: 'service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV6', direction: 'ingress' },
  ]);
  assert.deepEqual(guardDutyRemoteIps({ service: {} }), []);
});

test('a long-running consumer: advancing event time closes the intel buckets it has passed', () => {
  const detector = new Detector({ rules: [], includeEvents: false, intel, guardDuty: { maxPending: 0 } });
  const out: Alert[] = [];
  detector.process(trail(call('DescribeInstances', '2026-11-02T09:02:05Z')), out);
  detector.advanceEventTime(Date.parse('2026-11-02T10:14:59Z'), out);
  assert.equal(out.length, 0, 'within the lateness');
  detector.advanceEventTime(Date.parse('2026-11-02T10:15:00Z'), out);
  assert.deepEqual(out.map((a) => `${a.rule.name} x${a.count}`), ['aws-ct-cti-source-ip-match x1']);
});
