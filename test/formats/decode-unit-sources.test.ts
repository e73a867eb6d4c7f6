/**
 * Every VPC Flow Logs and GuardDuty shape through decodeUnit, as a scan meets them: content
 * sniffed (never the name), gzip undone, Parquet routed on its magic number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { LocatedError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import type { DecodeStats, FlowLineTap } from '../../src/formats/types.ts';
import { TGW_DEFAULT_FORMAT } from '../../src/formats/vpcflow/fields.ts';
import { codes, memoryUnit } from './helpers.ts';

const DIR = fileURLToPath(new URL('../fixtures/flow-cti/', import.meta.url));
const read = (name: string): Buffer => readFileSync(`${DIR}${name}`);
const CUSTOM_FORMAT = '${version} ${vpc-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${log-status} ${start} ${region}';

interface Decoded {
  envelopes: Envelope[];
  errors: LocatedError[];
  stats: DecodeStats;
}

async function decode(uri: string, bytes: Buffer | string, extra: { flowFormat?: string; flowTap?: FlowLineTap; chunk?: number } = {}): Promise<Decoded> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const envelopes: Envelope[] = [];
  const options = {
    onError: (e: LocatedError) => errors.push(e),
    stats,
    ...(extra.flowFormat === undefined ? {} : { flowFormat: extra.flowFormat }),
    ...(extra.flowTap === undefined ? {} : { flowTap: extra.flowTap }),
  };
  for await (const batch of decodeUnit(memoryUnit(uri, bytes, extra.chunk ?? 0), options)) envelopes.push(...batch);
  return { envelopes, errors, stats };
}

test('flow logs with a header line, plain and gzip (any name), in small chunks: every field where AWS puts it', async () => {
  for (const [uri, bytes, chunk] of [
    ['v5.log', read('v5-header.log'), 0],
    ['v5.json', gzipSync(read('v5-header.log')), 0],
    ['v5.log.gz', gzipSync(read('v5-header.log')), 3],
  ] as const) {
    const { envelopes, errors, stats } = await decode(uri, bytes, { chunk });
    assert.deepEqual(errors, [], uri);
    assert.equal(stats.records, 6, uri);
    assert.ok(envelopes.every((e) => e.source === 'vpcflow'));
    const [egress, reply, nat, v6, nodata, skipdata] = envelopes.map((e) => e.record);
    assert.deepEqual(egress, {
      version: 5,
      'account-id': '111122223333',
      'interface-id': 'eni-0aaa000000000001',
      'instance-id': 'i-0aaa000000000001',
      srcaddr: '10.0.1.10',
      dstaddr: '198.51.100.77',
      srcport: 40001,
      dstport: 3333,
      protocol: 6,
      packets: 30,
      bytes: 4200,
      start: 1793610000,
      end: 1793610060,
      action: 'ACCEPT',
      'log-status': 'OK',
      'tcp-flags': 2,
      'flow-direction': 'egress',
      'pkt-srcaddr': '10.0.1.10',
      'pkt-dstaddr': '198.51.100.77',
      region: 'us-east-1',
    });
    assert.equal(reply?.['tcp-flags'], 18);
    assert.equal(nat?.['pkt-dstaddr'], '203.0.113.80');
    assert.equal(nat?.['instance-id'], undefined, '`-` leaves the field out');
    assert.equal(v6?.srcaddr, '2001:db8:bad::66');
    assert.deepEqual([nodata?.['log-status'], nodata?.srcaddr, skipdata?.['log-status']], ['NODATA', undefined, 'SKIPDATA']);
    assert.equal(envelopes[0]?.time, 1793610000 * 1000);
    assert.deepEqual(envelopes[1]?.origin, { uri, index: 1, line: 3 });
  }
});

test('flow logs without a header: the default version-2 order, or --flow-format (custom, Transit Gateway)', async () => {
  const v2 = await decode('cwl-export.log', read('v2-noheader.log'));
  assert.deepEqual(v2.errors, []);
  assert.deepEqual(v2.envelopes.map((e) => [e.record.srcaddr, e.record.dstport, e.record['log-status']]), [
    ['10.0.2.15', 3333, 'OK'],
    ['192.0.2.20', 22, 'OK'],
    [undefined, undefined, 'NODATA'],
  ]);

  const custom = await decode('custom.log', read('custom-noheader.log'), { flowFormat: CUSTOM_FORMAT });
  assert.deepEqual(custom.errors, []);
  assert.deepEqual(custom.envelopes[0]?.record, {
    version: 4,
    'vpc-id': 'vpc-0abc',
    'interface-id': 'eni-0eee000000000005',
    srcaddr: '10.0.3.3',
    dstaddr: '203.0.113.80',
    srcport: 44000,
    dstport: 443,
    protocol: 6,
    action: 'ACCEPT',
    'log-status': 'OK',
    start: 1793610000,
    region: 'eu-west-1',
  });
  const wrong = await decode('custom.log', read('custom-noheader.log'));
  assert.deepEqual(codes(wrong.errors), ['TH_INPUT_RECORD custom.log:1', 'TH_INPUT_RECORD custom.log:2'], 'without the format: located errors, no guess');

  const tgw = await decode('tgw.log', read('tgw-noheader.log'), { flowFormat: TGW_DEFAULT_FORMAT });
  assert.deepEqual(tgw.errors, []);
  assert.deepEqual([tgw.envelopes[0]?.record['tgw-attachment-id'], tgw.envelopes[0]?.record.dstaddr, tgw.envelopes[0]?.record['flow-direction']], ['tgw-attach-0bb', '198.51.100.77', 'egress']);
});

test('Parquet flow logs are routed on the PAR1 magic number, whatever the name', async () => {
  const parquet = Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'version', data: [5, 5], type: 'INT32' },
        { name: 'interface_id', data: ['eni-0p', 'eni-0p'], type: 'STRING' },
        { name: 'srcaddr', data: ['10.0.0.1', null], type: 'STRING' },
        { name: 'dstaddr', data: ['198.51.100.77', null], type: 'STRING' },
        { name: 'dstport', data: [3333, null], type: 'INT32' },
        { name: 'start', data: [1793610000n, 1793610001n], type: 'INT64' },
        { name: 'action', data: ['ACCEPT', null], type: 'STRING' },
        { name: 'log_status', data: ['OK', 'NODATA'], type: 'STRING' },
        { name: 'flow_direction', data: ['egress', null], type: 'STRING' },
      ],
    }),
  );
  for (const uri of ['flows.parquet', 'flows.log']) {
    const { envelopes, errors, stats } = await decode(uri, parquet, { chunk: 2 });
    assert.deepEqual(errors, []);
    assert.equal(stats.records, 2);
    assert.deepEqual(envelopes[0]?.record, { version: 5, 'interface-id': 'eni-0p', srcaddr: '10.0.0.1', dstaddr: '198.51.100.77', dstport: 3333, start: 1793610000, action: 'ACCEPT', 'log-status': 'OK', 'flow-direction': 'egress' });
    assert.deepEqual(envelopes[1]?.record, { version: 5, 'interface-id': 'eni-0p', start: 1793610001, 'log-status': 'NODATA' });
    assert.equal(envelopes[0]?.time, 1793610000 * 1000);
  }
  const damaged = await decode('cut.parquet', parquet.subarray(0, 40));
  assert.deepEqual(codes(damaged.errors), ['TH_INPUT_READ cut.parquet']);
});

test('the flow tap reads text lines in place of records, and still counts them', async () => {
  const seen: string[] = [];
  const tap: FlowLineTap = { line: (view, uri, index) => seen.push(`${uri}#${index}:${view.line} ${view.text(view.header.srcaddr) ?? '-'}`) };
  const { envelopes, stats } = await decode('v5.log', read('v5-header.log'), { flowTap: tap });
  assert.deepEqual(envelopes, []);
  assert.equal(stats.records, 6);
  assert.deepEqual(seen.slice(0, 2), ['v5.log#0:2 10.0.1.10', 'v5.log#1:3 198.51.100.77']);
});

test('GuardDuty: a raw finding, an EventBridge event, GetFindings output (sample dropped)', async () => {
  const raw = await decode('finding.json', read('gd-raw.json'));
  assert.deepEqual(raw.errors, []);
  assert.deepEqual(raw.envelopes.map((e) => [e.source, e.record.id, e.time]), [['guardduty', 'aaaa0000000000000000000000000001', Date.parse('2026-11-02T09:10:00Z')]]);

  const event = await decode('event.json', read('gd-eventbridge.json'));
  assert.deepEqual(event.errors, []);
  assert.equal(event.envelopes[0]?.record.type, 'CryptoCurrency:EC2/BitcoinTool.B');
  assert.equal(event.envelopes[0]?.record.id, 'aaaa0000000000000000000000000002', 'the record is the detail');

  const list = await decode('findings.json', read('gd-getfindings.json'));
  assert.deepEqual(list.errors, []);
  assert.deepEqual(list.envelopes.map((e) => e.record.id), ['aaaa0000000000000000000000000003', 'aaaa0000000000000000000000000005']);
  assert.deepEqual(list.stats, { records: 2, skipped: 1, errors: 0 });
});

test('GuardDuty S3 export (.jsonl.gz): one finding per line, samples dropped, lines located', async () => {
  const { envelopes, errors, stats } = await decode('export.jsonl.gz', gzipSync(read('gd-export.jsonl')), { chunk: 100 });
  assert.deepEqual(errors, []);
  assert.deepEqual(stats, { records: 3, skipped: 1, errors: 0 });
  assert.deepEqual(envelopes.map((e) => [e.record.id, (e.record.service as { count: number }).count, e.origin.line]), [
    ['aaaa0000000000000000000000000006', 5, 1],
    ['aaaa0000000000000000000000000006', 9, 2],
    ['aaaa0000000000000000000000000006', 1, 3],
  ]);
});

test('GuardDuty GetFindings damaged in a member: the intact findings are recovered, the hole is not reported twice', async () => {
  const text = read('gd-getfindings.json').toString();
  const second = text.indexOf('"severity"', text.indexOf('"severity"') + 1);
  const damaged = `${text.slice(0, second)}"severity": 8,,${text.slice(second + '"severity": 8.0,'.length)}`;
  const { envelopes, errors } = await decode('damaged.json', damaged);
  assert.deepEqual(codes(errors), ['TH_INPUT_JSON damaged.json#0.Findings[1]']);
  assert.deepEqual(envelopes.map((e) => e.record.id), ['aaaa0000000000000000000000000003', 'aaaa0000000000000000000000000005']);
});
