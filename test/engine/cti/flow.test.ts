/**
 * VPC Flow Logs x threat intelligence through scan(): which side matched, the connection
 * direction, the level table, aggregation into time buckets, indicator validity, and the
 * fast path (no records) agreeing with the record path.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { Alert } from '../../../src/core/alert.ts';
import { Detector, type DetectorOptions } from '../../../src/engine/detector.ts';
import { VPCFLOW_CTI_RULE } from '../../../src/engine/alerts/builtin-rules.ts';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import { scan } from '../../../src/scan/scan.ts';
import { type ScanSummary } from '../../../src/scan/scan-run.ts';
import { type TimeRange } from '../../../src/core/time-range.ts';
import { formatLocatedError } from '../../../src/core/errors.ts';
import { loadFeeds } from '../../../src/intel/load.ts';
import type { IntelIndex } from '../../../src/intel/intel-index.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/flow-cti/', import.meta.url));
const NOW = Date.parse('2026-11-02T12:00:00Z');
const T9 = 1793610000; // 2026-11-02T09:00:00Z, epoch seconds
const V5 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags flow-direction pkt-srcaddr pkt-dstaddr';
const V2 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

let dir = '';
let intel: IntelIndex;
let fileCount = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-cti-flow-'));
  for (const name of ['feed.txt', 'feed-dated.json']) {
    copyFileSync(join(FIXTURES, name), join(dir, name));
    utimesSync(join(dir, name), NOW / 1000, NOW / 1000);
  }
  const loaded = await loadFeeds([join(dir, 'feed.txt'), join(dir, 'feed-dated.json')], { now: NOW });
  assert.deepEqual(loaded.errors.map(formatLocatedError), []);
  intel = loaded.index;
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A version-5 flow line: `eni src dst sport dport action [tcp-flags flow-direction pkt-src pkt-dst bytes start]`. */
function v5(eni: string, src: string, dst: string, sport: number, dport: number, action: string, more: { flags?: number | '-'; direction?: string; pktSrc?: string; pktDst?: string; bytes?: number; start?: number } = {}): string {
  const start = more.start ?? T9;
  return `5 111122223333 ${eni} ${src} ${dst} ${sport} ${dport} 6 10 ${more.bytes ?? 1000} ${start} ${start + 60} ${action} OK ${more.flags ?? '-'} ${more.direction ?? '-'} ${more.pktSrc ?? src} ${more.pktDst ?? dst}`;
}

function file(lines: readonly string[], gzip = true): string {
  const path = join(dir, `flows-${fileCount++}.log${gzip ? '.gz' : ''}`);
  const text = lines.join('\n') + '\n';
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

async function run(inputs: string[], options: Partial<DetectorOptions> = {}, timeRange?: TimeRange): Promise<{ alerts: Alert[]; summary: ScanSummary; detector: Detector }> {
  const detector = new Detector({ rules: [], includeEvents: false, intel, ...options });
  const alerts: Alert[] = [];
  const summary = await scan({ inputs, detector, ...(timeRange === undefined ? {} : { timeRange }), onAlert: (alert) => void alerts.push(alert), onError: (error) => assert.fail(formatLocatedError(error)) });
  return { alerts, summary, detector };
}

const brief = (alert: Alert): string => `${alert.rule.level} ${alert.cti?.direction ?? '-'} ${alert.cti?.field}=${alert.cti?.matched} (${alert.cti?.indicator}) x${alert.count}`;

test('the source side and the destination side match, and the alert says which and which way', async () => {
  const { alerts } = await run([
    file([
      V5,
      v5('eni-01', '10.0.1.10', '198.51.100.77', 40001, 3333, 'ACCEPT', { flags: 2, direction: 'egress' }),
      v5('eni-02', '192.0.2.20', '10.0.1.11', 55123, 22, 'REJECT', { flags: 2, direction: 'ingress' }),
    ]),
  ]);
  assert.deepEqual(alerts.map(brief).sort(), ['high egress dstaddr=198.51.100.77 (198.51.100.77) x1', 'informational ingress srcaddr=192.0.2.20 (192.0.2.0/26) x1']);
  const egress = alerts.find((a) => a.cti?.direction === 'egress') as Alert;
  assert.deepEqual(egress.rule, { id: VPCFLOW_CTI_RULE.id, name: 'aws-vpcflow-cti-ip-match', title: VPCFLOW_CTI_RULE.title, level: 'high' });
  assert.deepEqual(egress.attack, { techniques: ['T1071'], tactics: ['command-and-control'] });
  assert.deepEqual(egress.cti, {
    indicator: '198.51.100.77',
    matched: '198.51.100.77',
    field: 'dstaddr',
    feed: 'feed.txt',
    direction: 'egress',
    provenance: 'line 2',
    feeds: ['feed.txt', 'feed-dated.json'],
    window: { start: '2026-11-02T09:00:00.000Z', end: '2026-11-02T10:00:00.000Z' },
  });
  assert.deepEqual(egress.flow, { interface_id: 'eni-01', accepted: 1, rejected: 0, bytes: 1000, packets: 10, bytes_to_indicator: 1000, dstports: [3333], protocols: [6], tcp_flags: 2, local_addresses: ['10.0.1.10'] });
  assert.deepEqual([egress.source, egress.account, egress.actor, egress.source_ip, egress.time], ['vpcflow', '111122223333', 'eni-01', '10.0.1.10', '2026-11-02T09:00:00.000Z']);
  assert.match(egress.event_ids[0] ?? '', /flows-\d+\.log\.gz#2$/);
});

test('pkt-srcaddr / pkt-dstaddr: a NAT gateway interface sees our egress as ingress; the same address twice counts once', async () => {
  const { alerts } = await run([
    file([
      V5,
      v5('eni-nat', '10.0.1.20', '10.0.0.99', 40002, 443, 'ACCEPT', { flags: 2, direction: 'ingress', pktDst: '203.0.113.80' }),
      v5('eni-nat', '192.0.2.21', '10.0.0.99', 55000, 443, 'REJECT', { direction: 'ingress', pktSrc: '192.0.2.21' }),
    ]),
  ]);
  assert.deepEqual(alerts.map(brief).sort(), ['high egress pkt-dstaddr=203.0.113.80 (203.0.113.80) x1', 'informational ingress srcaddr=192.0.2.21 (192.0.2.0/26) x1']);
});

test('the level table: connection direction x action; a reply belongs to the connection it answers', async () => {
  const { alerts } = await run([
    file([
      V5,
      // our workload to the indicator, and its reply (SYN-ACK): one egress connection, high
      v5('eni-a', '10.0.1.10', '198.51.100.77', 40001, 3333, 'ACCEPT', { flags: 2, direction: 'egress' }),
      v5('eni-a', '198.51.100.77', '10.0.1.10', 3333, 40001, 'ACCEPT', { flags: 18, direction: 'ingress' }),
      // the indicator reaches a listening port, and our reply: ingress, medium
      v5('eni-b', '192.0.2.22', '10.0.1.12', 51000, 443, 'ACCEPT', { flags: 2, direction: 'ingress' }),
      v5('eni-b', '10.0.1.12', '192.0.2.22', 443, 51000, 'ACCEPT', { flags: 18, direction: 'egress' }),
      // a workload tried and was blocked: egress, medium
      v5('eni-c', '10.0.1.13', '198.51.100.77', 40003, 3333, 'REJECT', { flags: 2, direction: 'egress' }),
      // scanning noise: ingress, informational
      v5('eni-d', '192.0.2.23', '10.0.1.14', 51001, 3389, 'REJECT', { flags: 2, direction: 'ingress' }),
    ]),
  ]);
  const byInterface = Object.fromEntries(alerts.map((a) => [a.flow?.interface_id, brief(a)]));
  assert.deepEqual(byInterface, {
    'eni-a': 'high egress dstaddr=198.51.100.77 (198.51.100.77) x2',
    'eni-b': 'medium ingress srcaddr=192.0.2.22 (192.0.2.0/26) x2',
    'eni-c': 'medium egress dstaddr=198.51.100.77 (198.51.100.77) x1',
    'eni-d': 'informational ingress srcaddr=192.0.2.23 (192.0.2.0/26) x1',
  });
  assert.deepEqual(alerts.find((a) => a.flow?.interface_id === 'eni-a')?.flow?.dstports, [3333], 'the reply counts under the connection port');
  assert.deepEqual(alerts.find((a) => a.flow?.interface_id === 'eni-b')?.attack, { techniques: ['T1595'], tactics: ['reconnaissance'] });
});

test('without tcp-flags or flow-direction (default format) the sides and ports give the same answers', async () => {
  const { alerts } = await run([
    file([
      V2,
      `2 111122223333 eni-a 10.0.1.10 198.51.100.77 40001 3333 6 10 1000 ${T9} ${T9 + 60} ACCEPT OK`,
      `2 111122223333 eni-a 198.51.100.77 10.0.1.10 3333 40001 6 10 1000 ${T9} ${T9 + 60} ACCEPT OK`,
      `2 111122223333 eni-b 192.0.2.22 10.0.1.12 51000 443 6 10 1000 ${T9} ${T9 + 60} ACCEPT OK`,
      `2 111122223333 eni-b 10.0.1.12 192.0.2.22 443 51000 6 10 1000 ${T9} ${T9 + 60} ACCEPT OK`,
      `2 111122223333 eni-d 192.0.2.23 10.0.1.14 80 3389 6 1 40 ${T9} ${T9 + 60} REJECT OK`,
    ]),
  ]);
  assert.deepEqual(Object.fromEntries(alerts.map((a) => [a.flow?.interface_id, brief(a)])), {
    'eni-a': 'high egress dstaddr=198.51.100.77 (198.51.100.77) x2',
    'eni-b': 'medium ingress srcaddr=192.0.2.22 (192.0.2.0/26) x2',
    'eni-d': 'informational ingress srcaddr=192.0.2.23 (192.0.2.0/26) x1',
  });
});

test('accepted ingress that sends the indicator more than the threshold back is high', async () => {
  const lines = [V5, v5('eni-b', '192.0.2.22', '10.0.1.12', 51000, 443, 'ACCEPT', { flags: 2, direction: 'ingress', bytes: 600 })];
  for (let i = 0; i < 3; i++) lines.push(v5('eni-b', '10.0.1.12', '192.0.2.22', 443, 51000, 'ACCEPT', { direction: 'egress', bytes: 400_000 }));
  const path = file(lines);
  assert.deepEqual((await run([path], { cti: { egressBytesThreshold: 1_000_000 } })).alerts.map(brief), ['high ingress srcaddr=192.0.2.22 (192.0.2.0/26) x4']);
  assert.deepEqual((await run([path], { cti: { egressBytesThreshold: 2_000_000 } })).alerts.map(brief), ['medium ingress srcaddr=192.0.2.22 (192.0.2.0/26) x4']);
  assert.equal((await run([path])).alerts[0]?.flow?.bytes_to_indicator, 1_200_000);
});

test("a feed's port and side raise the level one step when the flow agrees with both", async () => {
  const { alerts } = await run([
    file([
      V5,
      v5('eni-p', '10.0.1.10', '198.51.100.13', 40001, 4444, 'REJECT', { flags: 2, direction: 'egress' }),
      v5('eni-q', '10.0.1.10', '198.51.100.13', 40001, 80, 'REJECT', { flags: 2, direction: 'egress' }),
    ]),
  ]);
  assert.deepEqual(Object.fromEntries(alerts.map((a) => [a.flow?.interface_id, brief(a)])), {
    'eni-p': 'high egress dstaddr=198.51.100.13 (198.51.100.13) x1',
    'eni-q': 'medium egress dstaddr=198.51.100.13 (198.51.100.13) x1',
  });
});

test('expired and revoked indicators do not match; a live one does, with its confidence and the wider block behind it', async () => {
  const { alerts } = await run([
    file([
      V5,
      v5('eni-x', '10.0.1.10', '198.51.100.10', 40001, 443, 'ACCEPT', { flags: 2 }),
      v5('eni-y', '10.0.1.10', '198.51.100.11', 40001, 443, 'ACCEPT', { flags: 2 }),
      v5('eni-z', '10.0.1.10', '198.51.100.12', 40001, 443, 'ACCEPT', { flags: 2 }),
    ]),
  ]);
  const byInterface = Object.fromEntries(alerts.map((a) => [a.flow?.interface_id, a.cti]));
  assert.deepEqual(byInterface['eni-x'], {
    indicator: '198.51.100.10',
    matched: '198.51.100.10',
    field: 'dstaddr',
    feed: 'feed-dated.json',
    direction: 'egress',
    provenance: 'stix:indicator--00000000-0000-4000-8000-000000000101',
    confidence: 90,
    window: { start: '2026-11-02T09:00:00.000Z', end: '2026-11-02T10:00:00.000Z' },
  });
  // 198.51.100.11 (expired) and .12 (revoked) only match the live /24 that covers them.
  assert.equal(byInterface['eni-y']?.indicator, '198.51.100.0/24');
  assert.equal(byInterface['eni-z']?.indicator, '198.51.100.0/24');

  const dated = await loadFeeds([join(dir, 'feed-dated.json')], { now: NOW });
  const only = await run([file([V5, v5('eni-y', '10.0.1.10', '198.51.100.11', 40001, 443, 'ACCEPT')])], { intel: dated.index });
  assert.deepEqual(dated.stats[0]?.expired, 1);
  assert.deepEqual(dated.stats[0]?.revoked, 1);
  assert.deepEqual(only.alerts.map((a) => a.cti?.indicator), ['198.51.100.0/24']);
});

test('IPv6 addresses match IPv6 blocks; NODATA and SKIPDATA records never match', async () => {
  const { alerts, summary } = await run([join(FIXTURES, 'v5-header.log')]);
  assert.equal(summary.records, 6);
  assert.ok(alerts.some((a) => a.cti?.indicator === '2001:db8:bad::/48' && a.cti.matched === '2001:db8:bad::66' && a.rule.level === 'informational'));
  assert.ok(alerts.every((a) => a.flow?.interface_id !== 'eni-0ccc000000000003'));
});

test('1000 matching records of one indicator, interface and direction in an hour are one alert with a count', async () => {
  const lines = [V5];
  for (let i = 0; i < 1000; i++) lines.push(v5('eni-a', '10.0.1.10', '198.51.100.77', 40000 + (i % 50), 3333, 'ACCEPT', { start: T9 + i * 3 }));
  const path = file(lines);
  const first = await run([path]);
  assert.deepEqual(first.alerts.map(brief), ['high egress dstaddr=198.51.100.77 (198.51.100.77) x1000']);
  assert.equal(first.alerts[0]?.event_ids.length, 100, 'event ids are capped, the count is exact');
  assert.equal(first.alerts[0]?.time, '2026-11-02T09:49:57.000Z', 'the last matching record');
  assert.equal((await run([path])).alerts[0]?.id, first.alerts[0]?.id, 'same input, same alert id');

  // Two interfaces: two alerts. The next hour: a new alert.
  const two = await run([path, file([V5, v5('eni-b', '10.0.1.11', '198.51.100.77', 40000, 3333, 'ACCEPT'), v5('eni-a', '10.0.1.10', '198.51.100.77', 40000, 3333, 'ACCEPT', { start: T9 + 3600 })])]);
  assert.deepEqual(two.alerts.map((a) => `${a.flow?.interface_id} ${a.cti?.window?.start} x${a.count}`).sort(), [
    'eni-a 2026-11-02T09:00:00.000Z x1000',
    'eni-a 2026-11-02T10:00:00.000Z x1',
    'eni-b 2026-11-02T09:00:00.000Z x1',
  ]);
  assert.equal(new Set(two.alerts.map((a) => a.id)).size, 3);
  assert.ok(two.alerts.some((a) => a.id === first.alerts[0]?.id), 'the bucket keeps its id');

  // --cti-bucket 1d: one alert for both hours.
  const day = await run([path, file([V5, v5('eni-a', '10.0.1.10', '198.51.100.77', 40000, 3333, 'ACCEPT', { start: T9 + 3600 })])], { cti: { bucketMs: 86_400_000 } });
  assert.deepEqual(day.alerts.map((a) => `${a.cti?.window?.start} x${a.count}`), ['2026-11-02T00:00:00.000Z x1001']);
});

test('the fast path (no record built) and the record path raise the same alerts', async () => {
  const inputs = [join(FIXTURES, 'v5-header.log'), file([V2, `2 111122223333 eni-a 10.0.1.10 198.51.100.77 40001 3333 6 10 1000 ${T9} ${T9 + 60} ACCEPT OK`, `2 111122223333 eni-d 192.0.2.23 10.0.1.14 80 3389 6 1 40 ${T9} ${T9 + 60} REJECT OK`])];
  const ruleFile = join(dir, 'any-flow.yml');
  writeFileSync(ruleFile, "title: t\nid: 0b7b8c5e-1d2f-4a3b-9c4d-5e6f7a8b9c0e\nname: test-never\nlogsource: {product: aws, service: vpcflow}\ndetection:\n  sel:\n    srcaddr|cidr: ['127.0.0.0/8']\n  condition: sel\nlevel: low\n");
  const unconstrained = await loadRuleSet({ paths: [ruleFile] });
  const recordPath = new Detector({ rules: unconstrained.rules, includeEvents: true, intel });
  assert.equal(recordPath.flowTap(), undefined, 'a flow rule that pins no value needs every record');
  const fast = await run(inputs, { includeEvents: true });
  const slow = await run(inputs, { rules: unconstrained.rules, includeEvents: true });
  assert.ok(fast.alerts.length >= 5);
  assert.deepEqual(fast.alerts, slow.alerts);
});

test('--since / --until leave lines out on the fast path and count them', async () => {
  const path = file([V5, v5('eni-a', '10.0.1.10', '198.51.100.77', 40001, 3333, 'ACCEPT', { start: T9 }), v5('eni-a', '10.0.1.10', '198.51.100.77', 40001, 3333, 'ACCEPT', { start: T9 + 7200 })]);
  const { alerts, summary } = await run([path], {}, { since: (T9 + 3600) * 1000 });
  assert.equal(summary.outsideTimeRange, 1);
  assert.deepEqual(alerts.map((a) => a.cti?.window?.start), ['2026-11-02T11:00:00.000Z']);
});

test('Parquet flow logs are matched through their records', async () => {
  const path = join(dir, 'flows.parquet');
  writeFileSync(
    path,
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'version', data: [5], type: 'INT32' },
          { name: 'interface_id', data: ['eni-pq'], type: 'STRING' },
          { name: 'srcaddr', data: ['10.0.0.1'], type: 'STRING' },
          { name: 'dstaddr', data: ['198.51.100.77'], type: 'STRING' },
          { name: 'srcport', data: [40000], type: 'INT32' },
          { name: 'dstport', data: [3333], type: 'INT32' },
          { name: 'protocol', data: [6], type: 'INT32' },
          { name: 'start', data: [BigInt(T9)], type: 'INT64' },
          { name: 'action', data: ['ACCEPT'], type: 'STRING' },
          { name: 'log_status', data: ['OK'], type: 'STRING' },
        ],
      }),
    ),
  );
  const { alerts } = await run([path]);
  assert.deepEqual(alerts.map(brief), ['high egress dstaddr=198.51.100.77 (198.51.100.77) x1']);
  assert.deepEqual(alerts[0]?.event_ids, [`${path}#0`]);
});

test('Sigma flow rules still see their records on the fast path (the prefilter lets them through)', async () => {
  const pack = await loadRuleSet({ paths: [fileURLToPath(new URL('../../../rules/aws/vpcflow/', import.meta.url))] });
  const detector = new Detector({ rules: pack.rules, includeEvents: false, intel });
  assert.notEqual(detector.flowTap(), undefined);
  const { alerts } = await run(
    [
      file([
        V5,
        v5('eni-s', '198.51.100.200', '10.0.1.25', 51234, 22, 'ACCEPT', { flags: 2, direction: 'ingress' }),
        v5('eni-s', '198.51.100.200', '10.0.1.25', 51234, 22, 'REJECT', { flags: 2, direction: 'ingress' }),
        v5('eni-s', '198.51.100.200', '10.0.1.25', 51234, 443, 'ACCEPT', { flags: 2, direction: 'ingress' }),
      ]),
    ],
    { rules: pack.rules },
  );
  assert.deepEqual(alerts.map((a) => `${a.rule.name} ${a.event_ids.map((id) => id.replace(/^.*#/, '#')).join()}`).sort(), [
    'aws-vpcflow-cti-ip-match #2,#3,#4',
    'aws-vpcflow-remote-admin-from-internet #2',
  ]);
});
