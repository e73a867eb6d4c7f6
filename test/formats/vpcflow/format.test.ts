import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { LocatedError } from '../../../src/core/errors.ts';
import type { Envelope } from '../../../src/core/envelope.ts';
import type { DecodeOptions, DecodeStats } from '../../../src/formats/types.ts';
import { vpcFlowFormat, sniffFlowLine, scanFlowLines, DEFAULT_FLOW_HEADER, parseFlowFormat, type FlowLineView } from '../../../src/formats/vpcflow/format.ts';

const FIXTURES = new URL('../../fixtures/vpcflow/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

function chunks(bytes: Buffer, size = 64 * 1024): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

interface Decoded {
  envelopes: Envelope[];
  batches: number[];
  errors: LocatedError[];
  stats: DecodeStats;
}

async function decode(bytes: Buffer, extra: Partial<DecodeOptions> = {}, chunkSize?: number, uri = 'mem.log'): Promise<Decoded> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const envelopes: Envelope[] = [];
  const batches: number[] = [];
  for await (const batch of vpcFlowFormat.decode(chunks(bytes, chunkSize), uri, { onError: (e) => errors.push(e), stats, ...extra })) {
    batches.push(batch.length);
    envelopes.push(...batch);
  }
  return { envelopes, batches, errors, stats };
}

test('sniff recognises header lines and header-less records, and nothing else', () => {
  assert.equal(sniffFlowLine('version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'), true);
  assert.equal(sniffFlowLine('instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr'), true);
  assert.equal(sniffFlowLine('version vpc-id subnet-id'), true);
  assert.equal(sniffFlowLine('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK'), true);
  assert.equal(sniffFlowLine('2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA'), true);
  assert.equal(sniffFlowLine('2 unknown eni-1 2001:db8::1 2001:db8::2 1 2 6 1 1 1 2 ACCEPT OK'), true);
  assert.equal(sniffFlowLine('5 vpc-0abc 10.0.0.5 203.0.113.50 443 egress ACCEPT 1700000500'), true);
  assert.equal(sniffFlowLine('{"Records":[{"eventVersion":"1.08"}]}'), false);
  assert.equal(sniffFlowLine('hello world, this is not a flow log'), false);
  assert.equal(sniffFlowLine('srcaddr dstaddr {"x": 1}'), false);
  assert.equal(sniffFlowLine('9 a b c d e f'), false);
  assert.equal(sniffFlowLine(''), false);
});

test('default format with a header: AWS names, integers as numbers, `-` left out, NODATA/SKIPDATA kept', async () => {
  const { envelopes, errors, stats } = await decode(fixture('v2-header.log'), {}, undefined, 'v2.log');
  assert.deepEqual(errors, []);
  assert.equal(envelopes.length, 5);
  assert.equal(stats.records, 5);
  const first = envelopes[0] as Envelope;
  assert.equal(first.source, 'vpcflow');
  assert.equal(first.time, 1700000000 * 1000);
  assert.deepEqual(first.origin, { uri: 'v2.log', index: 0, line: 2 });
  assert.deepEqual(first.record, {
    version: 2,
    'account-id': '111122223333',
    'interface-id': 'eni-0a1b2c3d4e5f60001',
    srcaddr: '10.0.1.10',
    dstaddr: '198.51.100.7',
    srcport: 49152,
    dstport: 443,
    protocol: 6,
    packets: 12,
    bytes: 5120,
    start: 1700000000,
    end: 1700000060,
    action: 'ACCEPT',
    'log-status': 'OK',
  });
  assert.equal(envelopes[2]?.record.srcaddr, '2001:db8:0:1::10');
  const nodata = envelopes[3]?.record ?? {};
  assert.equal(nodata['log-status'], 'NODATA');
  assert.equal('srcaddr' in nodata, false);
  assert.equal('action' in nodata, false);
  assert.equal(nodata.start, 1700000000);
  assert.equal(envelopes[4]?.record['log-status'], 'SKIPDATA');
  assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1, 2, 3, 4]);
  assert.deepEqual(envelopes.map((e) => e.origin.line), [2, 3, 4, 5, 6]);
});

test('header-less records use the default version-2 order', async () => {
  const withHeader = await decode(fixture('v2-header.log'));
  const without = await decode(fixture('v2-noheader.log'));
  assert.deepEqual(without.errors, []);
  assert.deepEqual(
    without.envelopes.map((e) => e.record),
    withHeader.envelopes.map((e) => e.record),
  );
  assert.equal(without.envelopes[0]?.origin.line, 1);
});

test('a header in a custom order maps each column to its field', async () => {
  const { envelopes, errors } = await decode(fixture('custom-order.log'));
  assert.deepEqual(errors, []);
  assert.deepEqual(envelopes[0]?.record, {
    srcaddr: '10.0.2.20',
    dstaddr: '192.0.2.44',
    dstport: 3389,
    action: 'REJECT',
    'log-status': 'OK',
    start: 1700000100,
    version: 3,
    'interface-id': 'eni-0aaa',
  });
  assert.equal(envelopes[0]?.time, 1700000100000);
  assert.equal('interface-id' in (envelopes[1]?.record ?? {}), false);
});

test('all VPC fields of versions 2 to 8, ECS and reject-reason included', async () => {
  const { envelopes, errors } = await decode(fixture('v8-all-fields.log'));
  assert.deepEqual(errors, []);
  const [a, b] = envelopes.map((e) => e.record);
  assert.equal(a?.version, 8);
  assert.equal(a?.['tcp-flags'], 19);
  assert.equal(a?.type, 'IPv4');
  assert.equal(a?.['pkt-dstaddr'], '52.213.180.42');
  assert.equal(a?.region, 'eu-west-1');
  assert.equal(a?.['az-id'], 'euw1-az1');
  assert.equal(a?.['pkt-dst-aws-service'], 'S3');
  assert.equal('pkt-src-aws-service' in (a ?? {}), false);
  assert.equal(a?.['flow-direction'], 'egress');
  assert.equal(a?.['traffic-path'], 8);
  assert.equal(a?.['ecs-cluster-arn'], 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod');
  assert.equal(a?.['ecs-cluster-name'], 'prod');
  assert.equal(a?.['ecs-container-id'], 'c0ffee01');
  assert.equal('ecs-second-container-id' in (a ?? {}), false);
  assert.equal(a?.['ecs-service-name'], 'api');
  assert.equal(a?.['ecs-task-id'], 't1');
  assert.equal('reject-reason' in (a ?? {}), false);
  assert.equal(b?.['reject-reason'], 'BPA');
  assert.equal(b?.['sublocation-type'], 'outpost');
  assert.equal(b?.['sublocation-id'], 'op-1');
  assert.equal(b?.['tcp-flags'], 2);
  assert.equal(Object.keys(a ?? {}).length, 40 - 5);
});

test('Transit Gateway flow logs: TGW fields, packets-lost counters as numbers', async () => {
  const { envelopes, errors } = await decode(fixture('tgw-header.log'));
  assert.deepEqual(errors, []);
  const r = envelopes[0]?.record ?? {};
  assert.equal(r['resource-type'], 'TransitGateway');
  assert.equal(r['tgw-id'], 'tgw-0aa');
  assert.equal(r['tgw-attachment-id'], 'tgw-attach-0bb');
  assert.equal(r['tgw-dst-vpc-account-id'], '444455556666');
  assert.equal(r['tgw-pair-attachment-id'], 'tgw-attach-0cc');
  assert.equal(r['packets-lost-no-route'], 0);
  assert.equal(r['packets-lost-ttl-expired'], 2);
  assert.equal(r['tcp-flags'], 3);
  assert.equal(r['flow-direction'], 'egress');
  assert.equal(envelopes[0]?.time, 1700000400000);
});

test('options.flowFormat reads header-less custom records; a bad format falls back with TH_CONFIG', async () => {
  const format = '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${dstport} ${flow-direction} ${action} ${start}';
  const { envelopes, errors } = await decode(fixture('v5-noheader-custom.log'), { flowFormat: format });
  assert.deepEqual(errors, []);
  assert.deepEqual(envelopes[1]?.record, {
    version: 5,
    'vpc-id': 'vpc-0abc',
    srcaddr: '203.0.113.50',
    dstaddr: '10.0.0.5',
    dstport: 51234,
    'flow-direction': 'ingress',
    action: 'REJECT',
    start: 1700000501,
  });
  const bad = await decode(fixture('v2-noheader.log'), { flowFormat: '${version} $srcaddr' });
  assert.equal(bad.errors[0]?.code, 'TH_CONFIG');
  assert.equal(bad.envelopes.length, 5);
  assert.equal(typeof parseFlowFormat('version srcaddr dstaddr'), 'object');
  assert.equal(typeof parseFlowFormat(''), 'string');
});

test('a header line in the input overrides options.flowFormat', async () => {
  const { envelopes, errors } = await decode(fixture('v2-header.log'), { flowFormat: '${srcaddr} ${dstaddr}' });
  assert.deepEqual(errors, []);
  assert.equal(envelopes.length, 5);
});

test('malformed lines are located errors (uri:line) and decoding goes on', async () => {
  const { envelopes, errors, stats } = await decode(fixture('malformed.log'), {}, undefined, 's3://b/k.log');
  assert.deepEqual(
    errors.map((e) => [e.code, e.location]),
    [
      ['TH_INPUT_RECORD', 's3://b/k.log:4'],
      ['TH_INPUT_RECORD', 's3://b/k.log:5'],
      ['TH_INPUT_RECORD', 's3://b/k.log:6'],
    ],
  );
  assert.match(errors[0]?.message ?? '', /expected 7 fields .*found 6/);
  assert.match(errors[1]?.message ?? '', /dstport is not an integer: "http"/);
  assert.match(errors[2]?.message ?? '', /dstport is not an integer: "-80"/);
  assert.equal(stats.errors, 3);
  assert.equal(stats.records, 3);
  assert.deepEqual(envelopes.map((e) => e.origin.line), [2, 8, 9]);
  // CR stripped, runs of spaces collapsed, last line without a newline read.
  assert.equal(envelopes[0]?.record['log-status'], 'OK');
  assert.equal(envelopes[1]?.record.srcaddr, '10.0.0.3');
  assert.equal(envelopes[2]?.record.dstport, 22);
});

test('records split across chunks decode the same, down to one-byte chunks', async () => {
  for (const name of ['v2-header.log', 'v8-all-fields.log', 'malformed.log', 'concatenated.log']) {
    const whole = await decode(fixture(name), {}, 1 << 20);
    for (const size of [1, 2, 7, 64]) {
      const split = await decode(fixture(name), {}, size);
      assert.deepEqual(split.envelopes, whole.envelopes, `${name} in ${size}-byte chunks`);
      assert.deepEqual(split.errors, whole.errors);
    }
  }
});

test('concatenated objects: a later header line replaces the first', async () => {
  const { envelopes, errors } = await decode(fixture('concatenated.log'));
  assert.deepEqual(errors, []);
  assert.deepEqual(envelopes.map((e) => e.record), [
    { version: 2, srcaddr: '10.9.0.1', dstaddr: '10.9.0.2', action: 'ACCEPT', 'log-status': 'OK' },
    { version: 3, action: 'REJECT', srcaddr: '10.9.0.3', dstaddr: '10.9.0.4', 'log-status': 'OK', 'tcp-flags': 2 },
  ]);
  assert.ok(envelopes.every((e) => Number.isNaN(e.time)));
});

test('batches hold batchSize envelopes', async () => {
  const lines = ['version srcaddr dstaddr start'];
  for (let i = 0; i < 25; i++) lines.push(`2 10.0.0.${i} 10.0.1.${i} ${1700000000 + i}`);
  const { batches, envelopes } = await decode(Buffer.from(lines.join('\n')), { batchSize: 10 }, 50);
  assert.deepEqual(batches, [10, 10, 5]);
  assert.deepEqual(envelopes.map((e) => e.origin.index), [...Array(25).keys()]);
});

test('an over-long line is reported once and skipped', async () => {
  const long = `2 ${'x'.repeat((1 << 20) + 10)}`;
  const bytes = Buffer.from(`version srcaddr\n${long}\n2 10.0.0.1\n`);
  for (const size of [4096, 1 << 19, 1 << 22]) {
    const { envelopes, errors } = await decode(bytes, {}, size);
    assert.equal(errors.length, 1, `chunk size ${size}`);
    assert.equal(errors[0]?.location, 'mem.log:2');
    assert.deepEqual(envelopes.map((e) => [e.record.srcaddr, e.origin.line]), [['10.0.0.1', 3]]);
  }
});

test('scanFlowLines: the fast path reads addresses as u32 without records', async () => {
  const seen: [number, number, string | undefined, number, boolean, boolean][] = [];
  const stats = await scanFlowLines(chunks(fixture('v2-header.log'), 13), undefined, (v: FlowLineView) => {
    const h = v.header;
    seen.push([v.ipv4(h.srcaddr), v.ipv4(h.dstaddr), v.text(h.column('action')), v.int(h.column('dstport')), v.isAbsent(h.srcaddr), v.isIPv6(h.srcaddr)]);
  }, { uri: 'x' });
  assert.deepEqual(stats, { lines: 6, records: 5, headers: 1, errors: 0 });
  assert.deepEqual(seen[0], [((10 << 24) | (0 << 16) | (1 << 8) | 10) >>> 0, ((198 << 24) | (51 << 16) | (100 << 8) | 7) >>> 0, 'ACCEPT', 443, false, false]);
  assert.deepEqual(seen[2]?.slice(0, 2), [-1, -1]);
  assert.equal(seen[2]?.[5], true);
  assert.deepEqual(seen[3], [-1, -1, undefined, NaN, true, false]);
});

test('scanFlowLines: ipv4() rejects what is not a dotted quad', async () => {
  const values = ['0.0.0.0', '255.255.255.255', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4x', 'a.b.c.d', '-'];
  const got: number[] = [];
  await scanFlowLines(Readable.from([Buffer.from(values.map((v) => `2 ${v}`).join('\n'))]), parseFlowFormat('version srcaddr') as typeof DEFAULT_FLOW_HEADER, (v) => {
    got.push(v.ipv4(1));
  });
  assert.deepEqual(got, [0, 0xffffffff, -1, -1, -1, -1, -1, -1, -1]);
});

test('view.record() of the fast path equals the decoded record', async () => {
  const records: unknown[] = [];
  await scanFlowLines(chunks(fixture('v8-all-fields.log')), DEFAULT_FLOW_HEADER, (v) => {
    records.push(v.record());
  });
  const { envelopes } = await decode(fixture('v8-all-fields.log'));
  assert.deepEqual(records, envelopes.map((e) => e.record));
});

test('records that start with a lowercase word are not mistaken for headers', async () => {
  const bytes = Buffer.from('ingress 10.0.0.1 ACCEPT\negress 10.0.0.2 REJECT\ningress - -\n');
  const { envelopes, errors } = await decode(bytes, { flowFormat: '${flow-direction} ${srcaddr} ${action}' });
  assert.deepEqual(errors, []);
  assert.deepEqual(envelopes.map((e) => e.record), [
    { 'flow-direction': 'ingress', srcaddr: '10.0.0.1', action: 'ACCEPT' },
    { 'flow-direction': 'egress', srcaddr: '10.0.0.2', action: 'REJECT' },
    { 'flow-direction': 'ingress' },
  ]);
});

test('lines of the shape AWS writes and any other shape split the same (fast and general paths)', async () => {
  const INTEGERS = new Set([0, 5, 6, 7, 8, 9, 10, 11]);
  const fields = DEFAULT_FLOW_HEADER.fields;
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  const addresses = ['10.0.1.9', '198.51.100.7', '0.0.0.0', '255.255.255.255', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '2001:db8::1', '-', '1.2.3.4x'];
  const integers = ['2', '443', '0', '-', '1234567890123456'];
  const badIntegers = ['12345678901234567', '4x3', '--', '1-2', 'x'];
  const separators = ['  ', '\t', ' \t '];
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const values = fields.map((_, c) => (INTEGERS.has(c) ? ((rnd(60) === 0 ? badIntegers[rnd(badIntegers.length)] : integers[rnd(integers.length)]) as string) : c === 3 || c === 4 ? (addresses[rnd(addresses.length)] as string) : `v${c}-${rnd(5)}`));
    // Most lines are well formed; some lose or gain a field.
    if (rnd(20) === 0) values.pop();
    if (rnd(20) === 0) values.push('extra');
    let line = values.map((v, k) => (k === 0 ? v : `${rnd(40) === 0 ? separators[rnd(separators.length)] : ' '}${v}`)).join('');
    if (rnd(20) === 0) line = ` ${line}`;
    if (rnd(20) === 0) line = `${line} `;
    if (rnd(20) === 0) line = `${line}\r`;
    lines.push(line);
  }
  // The reference: split on runs of bytes up to 0x20, then the decoder's rules.
  const expected: { records: Record<string, string | number>[]; errors: string[]; ips: number[][] } = { records: [], errors: [], ips: [] };
  const strictIPv4 = (t: string): number => (/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(t) && t.split('.').every((o) => Number(o) <= 255) ? t.split('.').reduce((a, o) => a * 256 + Number(o), 0) : -1);
  lines.forEach((line, k) => {
    const tokens = line.split(/[ \t\r]+/).filter((t) => t !== ''); // the only separators generated
    if (tokens.length !== fields.length) {
      expected.errors.push(`mem.log:${k + 1} expected`);
      return;
    }
    const bad = tokens.findIndex((t, c) => INTEGERS.has(c) && t !== '-' && !/^\d{1,16}$/.test(t));
    if (bad >= 0) {
      expected.errors.push(`mem.log:${k + 1} field ${fields[bad]}`);
      return;
    }
    const record: Record<string, string | number> = {};
    tokens.forEach((t, c) => {
      if (t !== '-') record[fields[c] as string] = INTEGERS.has(c) ? Number(t) : t;
    });
    expected.records.push(record);
    expected.ips.push([strictIPv4(tokens[3] as string), strictIPv4(tokens[4] as string)]);
  });
  assert.ok(expected.records.length > 1000 && expected.errors.length > 300, `${expected.records.length} records, ${expected.errors.length} errors`);
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  for (const size of [1, 7, 4096, bytes.length]) {
    const records: unknown[] = [];
    const ips: number[][] = [];
    const errors: string[] = [];
    await scanFlowLines(chunks(bytes, size), DEFAULT_FLOW_HEADER, (v) => {
      records.push(v.record());
      ips.push([v.ipv4(3), v.ipv4(4)]);
    }, { uri: 'mem.log', onError: (e) => errors.push(`${e.location} ${e.message.split(' ').slice(0, 2).join(' ').replace(/ \d+$/, '')}`) });
    assert.deepEqual(records, expected.records, `chunk size ${size}`);
    assert.deepEqual(ips, expected.ips, `chunk size ${size}`);
    assert.deepEqual(errors, expected.errors, `chunk size ${size}`);
  }
});

test('every S3 object repeats the header line: the same layout reads the same from each', async () => {
  const header = 'version srcaddr dstaddr dstport action';
  const bytes = Buffer.from(`${header}\n2 10.0.0.1 198.51.100.7 443 ACCEPT\n${header}\n2 10.0.0.2 - - REJECT\nversion dstport srcaddr\n2 22 10.0.0.3\n`);
  const seen: unknown[] = [];
  const stats = await scanFlowLines(chunks(bytes), undefined, (v) => {
    seen.push([v.line, v.ipv4(v.header.srcaddr), v.int(v.header.column('dstport')), v.record()]);
  });
  assert.deepEqual(stats, { lines: 6, records: 3, headers: 3, errors: 0 });
  assert.deepEqual(seen, [
    [2, 0x0a000001, 443, { version: 2, srcaddr: '10.0.0.1', dstaddr: '198.51.100.7', dstport: 443, action: 'ACCEPT' }],
    [4, 0x0a000002, NaN, { version: 2, srcaddr: '10.0.0.2', action: 'REJECT' }],
    [6, 0x0a000003, 22, { version: 2, dstport: 22, srcaddr: '10.0.0.3' }],
  ]);
});
