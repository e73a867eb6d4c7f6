/**
 * Reading a unit whole (src/engine/worker-file.ts) decodes exactly what streaming it does:
 * the same envelopes, errors and counts, for well-formed inputs and for damaged ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { decodeUnit } from '../../src/formats/index.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { decodeUnitBytes, gunzipChunkSize, gunzipUnitBytes, prepareUnit, readUnitBytes } from '../../src/formats/read-unit.ts';
import { planPrefilter } from '../../src/engine/prefilter/cloudtrail.ts';
import { fakeRule } from '../engine/fake-rule.ts';

function unit(bytes: Buffer, uri = 'mem://unit'): InputUnit {
  return { uri, size: bytes.length, open: () => Readable.from([bytes], { objectMode: false }) };
}

/** A unit read in one piece, as a local file is. */
function wholeFileUnit(bytes: Buffer): InputUnit {
  return { ...unit(bytes), readAll: () => Promise.resolve(bytes) };
}

interface Decoded {
  envelopes: Envelope[];
  errors: LocatedError[];
  stats: DecodeStats;
}

async function collect(batches: AsyncIterable<Envelope[]>, errors: LocatedError[], stats: DecodeStats): Promise<Decoded> {
  const envelopes: Envelope[] = [];
  for await (const batch of batches) envelopes.push(...batch);
  return { envelopes, errors, stats };
}

async function streamed(bytes: Buffer): Promise<Decoded> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  return collect(decodeUnit(unit(bytes), { onError: (e) => errors.push(e), stats }), errors, stats);
}

async function whole(bytes: Buffer, how: 'pool' | 'thread' | 'readAll'): Promise<Decoded> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const u = how === 'readAll' ? wholeFileUnit(bytes) : unit(bytes);
  const prepared = how === 'pool' ? await prepareUnit(u) : gunzipUnitBytes(await readUnitBytes(u));
  return collect(decodeUnitBytes(u, prepared, { onError: (e) => errors.push(e), stats }), errors, stats);
}

const record = (i: number, name = 'DescribeInstances'): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: `2026-11-03T00:00:${String(i % 60).padStart(2, '0')}Z`,
  eventSource: 'ec2.amazonaws.com',
  eventName: name,
  eventID: `id-${i}`,
  requestParameters: { note: i % 3 === 0 ? 'a "quoted" \\ value' : 'plain' },
});
const records = Array.from({ length: 50 }, (_, i) => record(i, i === 7 ? 'StopLogging' : 'DescribeInstances'));
const file = JSON.stringify({ Records: records });

const manyLines = Array.from({ length: 2000 }, (_, i) => JSON.stringify(record(i)));

const CASES: Record<string, Buffer> = {
  'S3 file': Buffer.from(file),
  'S3 file, gzip': gzipSync(file),
  'S3 file, trailing newline': Buffer.from(`${file}\n`),
  'pretty-printed': Buffer.from(JSON.stringify({ Records: records }, null, 2)),
  'BOM': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(file)]),
  'JSON lines': Buffer.from(records.map((r) => JSON.stringify(r)).join('\n')),
  'two documents': Buffer.from(`${file}\n${file}\n`),
  'a non-object element': Buffer.from(JSON.stringify({ Records: [records[0], 42, records[1]] })),
  'a damaged element': Buffer.from(file.replace('"id-3"', '"id-3",,')),
  'cut short': Buffer.from(file.slice(0, file.length - 500)),
  'gzip cut short': gzipSync(file).subarray(0, 900),
  'gzip inside gzip': gzipSync(gzipSync(file)),
  // The trailer of the last member announces only its own size: the output takes several chunks.
  'gzip of two members': Buffer.concat([gzipSync(manyLines.slice(0, -3).join('\n') + '\n'), gzipSync(manyLines.slice(-3).join('\n'))]),
  'digest': Buffer.from(JSON.stringify({ digestStartTime: '2026-11-03T00:00:00Z', logFiles: [] })),
  'not a log': Buffer.from('hello world\n'),
  'empty': Buffer.alloc(0),
};

test('reading a unit whole decodes what streaming it decodes', async () => {
  for (const [name, bytes] of Object.entries(CASES)) {
    const expected = await streamed(bytes);
    for (const how of ['pool', 'thread', 'readAll'] as const) {
      assert.deepEqual(await whole(bytes, how), expected, `${name} (${how})`);
    }
  }
});

test('with the raw pre-filter: the same minus records no rule can match', async () => {
  const rule = fakeRule({ id: 'stop', service: 'cloudtrail', requiredValues: { eventName: ['stoplogging'] }, match: (r) => r.eventName === 'StopLogging' });
  const plan = planPrefilter([rule]);
  assert.ok(plan.prefilter !== undefined);
  for (const [name, bytes] of Object.entries(CASES)) {
    const expected = await streamed(bytes);
    const errors: LocatedError[] = [];
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    const u = unit(bytes);
    const got = await collect(decodeUnitBytes(u, await prepareUnit(u), { onError: (e) => errors.push(e), stats }, plan.prefilter), errors, stats);
    assert.deepEqual(got.stats, expected.stats, name);
    assert.deepEqual(got.errors, expected.errors, name);
    // Every envelope a rule matches is there, in order, as the decoder made it.
    assert.deepEqual(
      got.envelopes.filter((e) => rule.match(e.record)),
      expected.envelopes.filter((e) => rule.match(e.record)),
      name,
    );
    if (name.startsWith('S3 file')) assert.ok(got.envelopes.length < expected.envelopes.length, `${name}: nothing was skipped`);
  }
});

test("gunzip's output chunk is the size the gzip trailer announces, within bounds", () => {
  const big = Buffer.alloc(300_000, 'a');
  assert.equal(gunzipChunkSize(gzipSync(big)), 300_001);
  // Small outputs get the smallest chunk; a trailer announcing gigabytes does not get them.
  assert.equal(gunzipChunkSize(gzipSync('x')), 64 * 1024);
  const lying = Buffer.from(gzipSync(big));
  lying.writeUInt32LE(0xfffffff0, lying.length - 4);
  assert.equal(gunzipChunkSize(lying), 64 * 1024 * 1024);
  assert.equal(gunzipChunkSize(Buffer.from([0x1f, 0x8b])), 64 * 1024);
});
