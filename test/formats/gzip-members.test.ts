/**
 * Gzip read member by member (src/formats/gunzip.ts): what follows a valid member (garbage, a
 * fake header, zero padding) never loses the members before it, the error says where the good
 * data ends and what was kept, and the outcome is the same however the bytes are chunked and
 * whichever path reads the unit (streamed, or read whole and gunzipped at once).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import type { LocatedError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import { decodeUnitBytes, gunzipUnitBytes, prepareUnit, readUnitBytes } from '../../src/formats/read-unit.ts';
import { GzipMembers } from '../../src/formats/gunzip.ts';
import { random } from '../random.ts';
import { codes, decodeAll, memoryUnit } from './helpers.ts';

const record = (name: string, i: number): string =>
  JSON.stringify({ eventVersion: '1.09', eventTime: '2026-11-03T00:00:00Z', eventSource: 'cloudtrail.amazonaws.com', eventName: name, eventID: `${name}-${i}` });

function lines(name: string, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => record(name, i)).join('\n') + '\n');
}

/** A gzip member built by hand, with the optional header fields of RFC 1952. */
function member(data: Buffer, options: { name?: string; comment?: string; extra?: Buffer; hcrc?: boolean } = {}): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  if (options.extra !== undefined) {
    flags |= 0x04;
    const xlen = Buffer.alloc(2);
    xlen.writeUInt16LE(options.extra.length);
    parts.push(xlen, options.extra);
  }
  if (options.name !== undefined) {
    flags |= 0x08;
    parts.push(Buffer.from(`${options.name}\0`, 'latin1'));
  }
  if (options.comment !== undefined) {
    flags |= 0x10;
    parts.push(Buffer.from(`${options.comment}\0`, 'latin1'));
  }
  if (options.hcrc === true) flags |= 0x02;
  let header = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]), ...parts]);
  if (options.hcrc === true) {
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(zlib.crc32(header) & 0xffff);
    header = Buffer.concat([header, crc]);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([header, deflateRawSync(data), trailer]);
}

interface Outcome {
  ids: unknown[];
  errors: LocatedError[];
}

function ids(envelopes: readonly Envelope[]): unknown[] {
  return envelopes.map((e) => e.record.eventID);
}

/** The unit streamed in chunks of `chunk` bytes (0: one piece), its size known as a file's is. */
async function streamed(uri: string, bytes: Buffer, chunk: number): Promise<Outcome> {
  const { envelopes, errors } = await decodeAll({ ...memoryUnit(uri, bytes, chunk), size: bytes.length });
  return { ids: ids(envelopes), errors };
}

/** The unit read whole (as a local file is), gunzipped in the pool or on this thread. */
async function whole(uri: string, bytes: Buffer, how: 'pool' | 'thread'): Promise<Outcome> {
  const unit: InputUnit = { uri, size: bytes.length, open: () => Readable.from([bytes]), readAll: () => Promise.resolve(bytes) };
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const prepared = how === 'pool' ? await prepareUnit(unit) : gunzipUnitBytes(await readUnitBytes(unit));
  const envelopes: Envelope[] = [];
  for await (const batch of decodeUnitBytes(unit, prepared, { onError: (e) => errors.push(e), stats })) envelopes.push(...batch);
  return { ids: ids(envelopes), errors };
}

/** Every way of reading the unit gives `expected`. */
async function everyWay(uri: string, bytes: Buffer): Promise<Outcome> {
  const first = await streamed(uri, bytes, 0);
  for (const chunk of [1, 7, 4096]) assert.deepEqual(await streamed(uri, bytes, chunk), first, `${uri}: chunks of ${chunk}`);
  for (const how of ['pool', 'thread'] as const) assert.deepEqual(await whole(uri, bytes, how), first, `${uri}: read whole (${how})`);
  return first;
}

const A = lines('A', 40);
const B = lines('B', 25);
const memberA = gzipSync(A);
const memberB = gzipSync(B);
const idsOf = (name: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${name}-${i}`);

describe('trailing bytes after gzip members', () => {
  const rand = random(20261103);
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const garbage: Record<string, Buffer> = {
    text: Buffer.from('this is not gzip\n'),
    'random binary': Buffer.concat([Buffer.from([0x42]), randomBytes(300)]),
    'one byte': Buffer.from([0x7a]),
    'a lone 1f': Buffer.from([0x1f, 0x00, 0x41]),
    'a newline': Buffer.from('\n'),
  };

  for (const [kind, tail] of Object.entries(garbage)) {
    it(`one member + ${kind}: the member is read in full, the trailing bytes reported with their offset`, async () => {
      const bytes = Buffer.concat([memberA, tail]);
      const { ids: got, errors } = await everyWay('one.gz', bytes);
      assert.deepEqual(got, idsOf('A', 40));
      assert.deepEqual(codes(errors), ['TH_INPUT_GZIP one.gz']);
      const message = errors[0]?.message ?? '';
      assert.match(message, new RegExp(`ends at byte ${memberA.length}: 1 complete gzip member \\(${A.length} bytes decompressed\\), all read`));
      assert.match(message, new RegExp(`The ${tail.length} bytes after it are not gzip and were ignored`));
      assert.doesNotMatch(message, /before that point/);
    });

    it(`two members + ${kind}: both members are read in full`, async () => {
      const bytes = Buffer.concat([memberA, memberB, tail]);
      const { ids: got, errors } = await everyWay('two.gz', bytes);
      assert.deepEqual(got, [...idsOf('A', 40), ...idsOf('B', 25)]);
      assert.deepEqual(codes(errors), ['TH_INPUT_GZIP two.gz']);
      assert.match(errors[0]?.message ?? '', new RegExp(`ends at byte ${memberA.length + memberB.length}: 2 complete gzip members \\(${A.length + B.length} bytes decompressed\\), all read`));
    });
  }

  it('garbage that looks like a gzip header (1f 8b, a full header, damaged deflate): the members before it are kept, the damage located', async () => {
    const fakes: Record<string, Buffer> = {
      'magic only': Buffer.from([0x1f, 0x8b, 0x55, 0x55]),
      'full header, junk data': Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]),
      'full header, random data': Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from([0x07]), randomBytes(200)]),
      'a header with reserved flags': Buffer.from([0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 3, 1, 2, 3]),
    };
    for (const [kind, fake] of Object.entries(fakes)) {
      const bytes = Buffer.concat([memberA, memberB, fake]);
      const { ids: got, errors } = await everyWay(`fake-${kind}.gz`, bytes);
      assert.deepEqual(got.slice(0, 65), [...idsOf('A', 40), ...idsOf('B', 25)], kind);
      const gzip = errors.filter((e) => e.code === 'TH_INPUT_GZIP');
      assert.equal(gzip.length, 1, `${kind}: ${JSON.stringify(errors)}`);
      assert.match(gzip[0]?.message ?? '', new RegExp(`member 3 \\(from byte ${memberA.length + memberB.length}\\)`), kind);
      assert.match(gzip[0]?.message ?? '', /Read: 2 complete gzip members/, kind);
    }
  });

  it('zero padding after the last member is ignored, as gzip does; garbage after the padding is not', async () => {
    const padded = await everyWay('padded.gz', Buffer.concat([memberA, memberB, Buffer.alloc(512)]));
    assert.deepEqual(padded, { ids: [...idsOf('A', 40), ...idsOf('B', 25)], errors: [] });
    const after = await everyWay('after.gz', Buffer.concat([memberA, Buffer.alloc(100), Buffer.from('junk')]));
    assert.deepEqual(after.ids, idsOf('A', 40));
    assert.deepEqual(codes(after.errors), ['TH_INPUT_GZIP after.gz']);
    assert.match(after.errors[0]?.message ?? '', new RegExp(`ends at byte ${memberA.length + 100}`));
  });

  it('random garbage after random members, 40 seeds: never throws, every complete member is read', async () => {
    const rnd = random(7);
    for (let seed = 0; seed < 40; seed++) {
      const count = 1 + Math.floor(rnd() * 3);
      const members = Array.from({ length: count }, (_, m) => gzipSync(lines(`S${seed}M${m}`, 1 + Math.floor(rnd() * 20))));
      const tail = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      if (tail[0] === 0x1f || tail[0] === 0) tail[0] = 0x20;
      const bytes = Buffer.concat([...members, tail]);
      const { envelopes, errors } = await decodeAll(memoryUnit(`seed-${seed}.gz`, bytes, 1 + Math.floor(rnd() * 50)));
      const expected = members.map((m) => gunzipSync(m).toString().trim().split('\n').length).reduce((a, b) => a + b, 0);
      assert.equal(envelopes.length, expected, `seed ${seed}`);
      assert.deepEqual(errors.map((e) => e.code), ['TH_INPUT_GZIP'], `seed ${seed}`);
    }
  });
});

describe('gzip members, one by one', () => {
  it('header fields (name, comment, extra, header CRC) are skipped in any chunking', async () => {
    const bytes = Buffer.concat([
      member(A, { name: 'a.json', comment: 'a comment', extra: Buffer.from('xx\u0002\u0000ab', 'latin1'), hcrc: true }),
      member(B, { name: 'b'.repeat(5000) }),
      member(Buffer.from(`${record('C', 0)}\n`), { extra: Buffer.alloc(0) }),
    ]);
    assert.equal(gunzipSync(bytes).length, A.length + B.length + record('C', 0).length + 1, 'the hand-built members are valid gzip');
    const { ids: got, errors } = await everyWay('fields.gz', bytes);
    assert.deepEqual(errors, []);
    assert.deepEqual(got, [...idsOf('A', 40), ...idsOf('B', 25), 'C-0']);
  });

  it('a member whose deflate data ends exactly at a chunk end, for every split point', async () => {
    const bytes = Buffer.concat([memberA, memberB]);
    for (let split = 1; split < bytes.length; split += 3) {
      const parts = [bytes.subarray(0, split), bytes.subarray(split)];
      const { envelopes, errors } = await decodeAll({ uri: 'split.gz', open: () => Readable.from(parts) });
      assert.equal(envelopes.length, 65, `split at ${split}`);
      assert.deepEqual(errors, [], `split at ${split}`);
    }
  });

  it('a CRC or length mismatch is TH_INPUT_GZIP; the data and the members before it were read', async () => {
    for (const at of [8, 4]) {
      const bad = Buffer.from(memberB);
      bad[bad.length - at] = (bad[bad.length - at] as number) ^ 0xff;
      const { ids: got, errors } = await everyWay('crc.gz', Buffer.concat([memberA, bad, memberA]));
      assert.deepEqual(got, [...idsOf('A', 40), ...idsOf('B', 25)]);
      assert.deepEqual(codes(errors), ['TH_INPUT_GZIP crc.gz']);
      assert.match(errors[0]?.message ?? '', /member 2 .* fails its check \((CRC-32|length) mismatch\)/);
    }
  });

  it('truncated in a header, in the data, in the trailer: TH_INPUT_GZIP, what came before kept', async () => {
    const both = Buffer.concat([memberA, memberB]);
    for (const cut of [memberA.length + 1, memberA.length + 5, memberA.length + 30, both.length - 3]) {
      const { envelopes, errors } = await decodeAll(memoryUnit('cut.gz', both.subarray(0, cut), 64));
      assert.ok(envelopes.length >= 40, `cut at ${cut}: ${envelopes.length}`);
      assert.deepEqual(codes(errors), ['TH_INPUT_GZIP cut.gz'], `cut at ${cut}`);
      assert.match(errors[0]?.message ?? '', /truncated: it ends inside member 2/);
    }
  });

  it('a consumer that stops early stops the decoding at once (a bomb is not decoded to its end)', async () => {
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
    let read = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < bomb.length; i += 65536) {
        read += 65536;
        yield bomb.subarray(i, i + 65536);
      }
    }
    const members = new GzipMembers();
    let out = 0;
    for await (const chunk of members.decode(source())) {
      out += chunk.length;
      if (out > 1024 * 1024) break;
    }
    assert.ok(read <= 4 * 65536, `${read} compressed bytes read`);
    assert.equal(members.failure, undefined);
  });
});
