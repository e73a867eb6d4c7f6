import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { LocatedError } from '../../../src/core/errors.ts';
import type { Envelope } from '../../../src/core/envelope.ts';
import type { DecodeStats } from '../../../src/formats/types.ts';
import { decodeFlowParquet, isParquet } from '../../../src/formats/vpcflow/parquet.ts';

/** A Parquet flow log as AWS writes it: underscore column names, INT32/INT64 numbers, nulls. */
function flowParquet(rowGroupSize?: number): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: 'version', data: [5, 5, 5], type: 'INT32' },
      { name: 'account_id', data: ['111122223333', '111122223333', '111122223333'], type: 'STRING' },
      { name: 'interface_id', data: ['eni-01', 'eni-01', 'eni-02'], type: 'STRING' },
      { name: 'srcaddr', data: ['10.0.0.1', '2001:db8::5', null], type: 'STRING' },
      { name: 'dstaddr', data: ['198.51.100.1', '2001:db8::6', null], type: 'STRING' },
      { name: 'srcport', data: [40000, 443, null], type: 'INT32' },
      { name: 'dstport', data: [443, 40001, null], type: 'INT32' },
      { name: 'protocol', data: [6, 6, null], type: 'INT32' },
      { name: 'packets', data: [10n, 3n, null], type: 'INT64' },
      { name: 'bytes', data: [9000n, 300n, null], type: 'INT64' },
      { name: 'start', data: [1700000000n, 1700000001n, 1700000002n], type: 'INT64' },
      { name: 'end', data: [1700000060n, 1700000061n, 1700000062n], type: 'INT64' },
      { name: 'action', data: ['ACCEPT', 'REJECT', null], type: 'STRING' },
      { name: 'log_status', data: ['OK', 'OK', 'NODATA'], type: 'STRING' },
      { name: 'pkt_srcaddr', data: ['10.0.0.1', '-', null], type: 'STRING' },
      { name: 'flow_direction', data: ['egress', 'ingress', null], type: 'STRING' },
      { name: 'traffic_path', data: [8, null, null], type: 'INT32' },
      { name: 'tcp_flags', data: [19, 2, null], type: 'INT32' },
    ],
    ...(rowGroupSize === undefined ? {} : { rowGroupSize }),
  });
}

async function decode(bytes: Buffer | ArrayBuffer, batchSize?: number): Promise<{ envelopes: Envelope[]; batches: number[]; errors: LocatedError[]; stats: DecodeStats }> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const envelopes: Envelope[] = [];
  const batches: number[] = [];
  for await (const batch of decodeFlowParquet(bytes, 's3://bucket/flow.parquet', { onError: (e) => errors.push(e), stats, ...(batchSize === undefined ? {} : { batchSize }) })) {
    batches.push(batch.length);
    envelopes.push(...batch);
  }
  return { envelopes, batches, errors, stats };
}

test('isParquet checks the PAR1 magic', () => {
  assert.equal(isParquet(Buffer.from(flowParquet())), true);
  assert.equal(isParquet(Buffer.from('version srcaddr')), false);
  assert.equal(isParquet(Buffer.from('PAR')), false);
});

test('Parquet flow logs decode to the AWS hyphenated record shape', async () => {
  const { envelopes, errors, stats } = await decode(Buffer.from(flowParquet()));
  assert.deepEqual(errors, []);
  assert.equal(stats.records, 3);
  assert.deepEqual(envelopes[0], {
    source: 'vpcflow',
    time: 1700000000000,
    origin: { uri: 's3://bucket/flow.parquet', index: 0 },
    record: {
      version: 5,
      'account-id': '111122223333',
      'interface-id': 'eni-01',
      srcaddr: '10.0.0.1',
      dstaddr: '198.51.100.1',
      srcport: 40000,
      dstport: 443,
      protocol: 6,
      packets: 10,
      bytes: 9000,
      start: 1700000000,
      end: 1700000060,
      action: 'ACCEPT',
      'log-status': 'OK',
      'pkt-srcaddr': '10.0.0.1',
      'flow-direction': 'egress',
      'traffic-path': 8,
      'tcp-flags': 19,
    },
  });
  const second = envelopes[1]?.record ?? {};
  assert.equal(second.srcaddr, '2001:db8::5');
  assert.equal('pkt-srcaddr' in second, false, '`-` is left out');
  assert.equal('traffic-path' in second, false, 'null is left out');
  const nodata = envelopes[2]?.record ?? {};
  assert.deepEqual(Object.keys(nodata).sort(), ['account-id', 'end', 'interface-id', 'log-status', 'start', 'version']);
});

test('row groups and batch size', async () => {
  const { envelopes, batches } = await decode(flowParquet(2), 1);
  assert.deepEqual(batches, [1, 1, 1]);
  assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1, 2]);
});

test('damaged Parquet is a located TH_INPUT_READ error, not a throw', async () => {
  const { envelopes, errors, stats } = await decode(Buffer.from('PAR1 this is not parquet PAR1'));
  assert.equal(envelopes.length, 0);
  assert.equal(errors[0]?.code, 'TH_INPUT_READ');
  assert.equal(errors[0]?.location, 's3://bucket/flow.parquet');
  assert.equal(stats.errors, 1);
  const plain = await decode(Buffer.from('version srcaddr\n'));
  assert.match(plain.errors[0]?.message ?? '', /PAR1/);
});

test('a non-integer in an integer column is reported as uri#row and the row skipped', async () => {
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'srcaddr', data: ['10.0.0.1', '10.0.0.2'], type: 'STRING' },
      { name: 'dstport', data: ['443', 'https'], type: 'STRING' },
    ],
  });
  const { envelopes, errors } = await decode(bytes);
  assert.deepEqual(envelopes.map((e) => e.record), [{ srcaddr: '10.0.0.1', dstport: 443 }]);
  assert.equal(errors[0]?.location, 's3://bucket/flow.parquet#1');
  assert.equal(errors[0]?.code, 'TH_INPUT_RECORD');
});
