/**
 * The decompressed-size limit of a gzip unit (DecodeOptions.maxDecompressed, `scan
 * --max-decompressed`): a unit stops there with a located TH_INPUT_LIMIT that names the limit,
 * the records before it kept, whichever path reads the unit; and the whole-unit path never
 * holds more than WHOLE_UNIT_MAX_PLAIN_BYTES (it streams beyond). Memory itself is measured in
 * a subprocess in test/cli/hardening-inputs.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { LocatedError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../src/formats/open-unit.ts';
import { decodeUnitBytes, gunzipUnitBytes, prepareUnit, readUnitBytes, WHOLE_UNIT_MAX_PLAIN_BYTES } from '../../src/formats/read-unit.ts';
import { formatBytes } from '../../src/formats/gunzip.ts';
import { codes, memoryUnit } from './helpers.ts';

const line = (i: number): string =>
  JSON.stringify({ eventVersion: '1.09', eventTime: '2026-11-03T00:00:00Z', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventID: `id-${String(i).padStart(6, '0')}` });
const LINE_BYTES = line(0).length + 1;

function fileUnit(uri: string, bytes: Buffer, chunk = 65536): InputUnit {
  return { ...memoryUnit(uri, bytes, chunk), size: bytes.length, readAll: () => Promise.resolve(bytes) };
}

interface Result {
  envelopes: Envelope[];
  errors: LocatedError[];
}

async function decode(unit: InputUnit, maxDecompressed: number | undefined, how: 'stream' | 'pool' | 'thread'): Promise<Result> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const options = { onError: (e: LocatedError) => errors.push(e), stats, ...(maxDecompressed === undefined ? {} : { maxDecompressed }) };
  const envelopes: Envelope[] = [];
  const batches =
    how === 'stream'
      ? decodeUnit(unit, options)
      : decodeUnitBytes(unit, how === 'pool' ? await prepareUnit(unit, maxDecompressed) : gunzipUnitBytes(await readUnitBytes(unit), maxDecompressed), options);
  for await (const batch of batches) envelopes.push(...batch);
  return { envelopes, errors };
}

describe('the decompressed-size limit', () => {
  const count = 3000;
  const plain = Buffer.from(Array.from({ length: count }, (_, i) => line(i)).join('\n') + '\n');
  const gz = gzipSync(plain);

  for (const how of ['stream', 'pool', 'thread'] as const) {
    it(`${how}: beyond the limit, TH_INPUT_LIMIT naming the file and the limit; every record wholly before it kept`, async () => {
      for (const limit of [100 * LINE_BYTES, 100 * LINE_BYTES + 7, 64 * 1024, 150 * 1024]) {
        const { envelopes, errors } = await decode(fileUnit('bomb.jsonl.gz', gz, 4096), limit, how);
        assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT bomb.jsonl.gz'], `limit ${limit}`);
        assert.match(errors[0]?.message ?? '', new RegExp(`decompresses to more than ${formatBytes(limit).replace('.', '\\.')} \\(the --max-decompressed limit\\)`));
        // The records wholly inside the limit, no more, no fewer; the cut one is not reported twice.
        assert.equal(envelopes.length, Math.floor(limit / LINE_BYTES), `limit ${limit}`);
        assert.equal(envelopes.at(-1)?.record.eventID, `id-${String(envelopes.length - 1).padStart(6, '0')}`);
      }
    });

    it(`${how}: at or under the limit, everything and no error`, async () => {
      for (const limit of [plain.length, plain.length + 1, DEFAULT_MAX_DECOMPRESSED_BYTES]) {
        const { envelopes, errors } = await decode(fileUnit('fits.jsonl.gz', gz), limit, how);
        assert.deepEqual(errors, []);
        assert.equal(envelopes.length, count);
      }
    });
  }

  it('the limit bounds gzip output only: a plain file larger than the limit is read whole', async () => {
    const { envelopes, errors } = await decode(fileUnit('plain.jsonl', plain), 1024, 'stream');
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, count);
  });

  it('a Records file cut by the limit: the records before it, one TH_INPUT_LIMIT, no other error', async () => {
    const file = Buffer.from(JSON.stringify({ Records: Array.from({ length: 2000 }, (_, i) => JSON.parse(line(i)) as unknown) }));
    for (const how of ['stream', 'pool'] as const) {
      const { envelopes, errors } = await decode(fileUnit('records.json.gz', gzipSync(file)), Math.floor(file.length / 2), how);
      assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT records.json.gz'], how);
      assert.ok(envelopes.length > 900 && envelopes.length < 1000, `${how}: ${envelopes.length}`);
    }
  });

  it('the whole-unit path holds at most 256 MiB, a unit beyond it (even when its trailer lies) is streamed', async () => {
    assert.equal(WHOLE_UNIT_MAX_PLAIN_BYTES, 256 * 1024 * 1024);
    const big = gzipSync(Buffer.alloc(WHOLE_UNIT_MAX_PLAIN_BYTES + 1, 0x20), { level: 1 });
    const unit = fileUnit('big.gz', big);
    assert.deepEqual(await prepareUnit(unit), {});
    assert.deepEqual(gunzipUnitBytes({ raw: big }), {});
    // A trailer announcing little: the gunzip stops at the ratio bound, and the unit is streamed.
    const lying = Buffer.from(big);
    lying.writeUInt32LE(100, lying.length - 4);
    assert.deepEqual(gunzipUnitBytes({ raw: lying }), {});
    // Small units are still held whole.
    assert.ok(gunzipUnitBytes({ raw: gz }).plain?.equals(plain));
  });

  it('formats sizes for the messages', () => {
    assert.equal(formatBytes(4 * 1024 ** 3), '4 GiB');
    assert.equal(formatBytes(512 * 1024 ** 2), '512 MiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(999), '999 bytes');
  });
});

describe('leading white space is counted, not held', () => {
  const record = line(1);
  for (const [what, blank] of [['spaces', 0x20], ['newlines', 0x0a], ['tabs and CRLF', -1]] as const) {
    it(`${what}: 8 MiB before a record, then the record decodes with its true line number`, async () => {
      const size = 8 * 1024 * 1024;
      const lead = blank === -1 ? Buffer.from('\t\r\n'.repeat(size / 3)) : Buffer.alloc(size, blank);
      const newlines = lead.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      const unit = memoryUnit(`blank-${what}.json`, Buffer.concat([lead, Buffer.from(`${record}\n{"not":"a record"}\n`)]), 65536);
      const { envelopes, errors } = await decode(unit, undefined, 'stream');
      assert.equal(envelopes.length, 1);
      assert.equal(envelopes[0]?.origin.line, newlines + 1);
      assert.deepEqual(codes(errors), [`TH_INPUT_FORMAT blank-${what}.json:${newlines + 2}`]);
    });
  }

  it('a flow log after 4 MiB of blank lines keeps its line numbers', async () => {
    const lead = Buffer.alloc(4 * 1024 * 1024, 0x0a);
    const flow = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n' +
      '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK\n' + 'not a flow line\n';
    const { envelopes, errors } = await decode(memoryUnit('flows.log', Buffer.concat([lead, Buffer.from(flow)]), 65536), undefined, 'stream');
    assert.equal(envelopes.length, 1);
    assert.deepEqual(codes(errors), [`TH_INPUT_RECORD flows.log:${lead.length + 3}`]);
  });

  it('only white space: nothing, no error', async () => {
    const { envelopes, errors } = await decode(fileUnit('blank.gz', gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20))), undefined, 'stream');
    assert.deepEqual([envelopes.length, errors], [0, []]);
  });
});

describe('Readable units of unknown size', () => {
  it('stdin-like units: the limit applies to their gzip too', async () => {
    const gz = gzipSync(Buffer.from(Array.from({ length: 500 }, (_, i) => line(i)).join('\n') + '\n'));
    const unit: InputUnit = { uri: '-', open: () => Readable.from([gz]) };
    const { envelopes, errors } = await decode(unit, 10 * LINE_BYTES, 'stream');
    assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT -']);
    assert.equal(envelopes.length, 10);
  });
});
