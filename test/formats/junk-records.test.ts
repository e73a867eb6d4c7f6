/**
 * Junk elements in a list of records (`{}`, a number, a string, null, an array, a boolean) at
 * the top, in the middle or at the end: each is one located TH_INPUT_RECORD, and every valid
 * record around it is decoded, in every list shape (S3 `Records` files compact and pretty, a
 * bare array, lookup-events, CloudWatch Logs payloads, GuardDuty `Findings` and bare arrays),
 * whichever path reads the file (streamed, read whole, read whole with the raw pre-filter).
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
import { decodeUnitBytes, prepareUnit } from '../../src/formats/read-unit.ts';
import { RECOGNISE_ELEMENTS } from '../../src/formats/record-list.ts';
import { planPrefilter } from '../../src/engine/prefilter/cloudtrail.ts';
import { fakeRule } from '../engine/fake-rule.ts';

const JUNK: Record<string, unknown> = { 'an empty object': {}, 'a number': 42, 'a string': 'text', null: null, 'an array': [1], 'a boolean': true };

const trail = (name: string, i: number): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: `2026-11-03T00:00:${String(i % 60).padStart(2, '0')}Z`,
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: name,
  eventID: `${name}-${i}`,
});
const finding = (i: number): Record<string, unknown> => ({
  schemaVersion: '2.0',
  id: `finding-${i}`,
  type: 'Recon:EC2/PortProbeUnprotectedPort',
  severity: 5,
  updatedAt: '2026-11-03T00:00:00Z',
  service: { count: 1 },
  resource: { resourceType: 'Instance' },
});

const NAMES = ['StopLogging', 'DeleteTrail', 'ConsoleLogin', 'PutBucketPolicy', 'StopLogging'];
const records = NAMES.map((name, i) => trail(name, i));

interface Shape {
  /** The file's bytes with `list` as its list of records. */
  file(list: unknown[]): Buffer;
  /** The location of element i. */
  at(uri: string, i: number): string;
  /** What one valid element is, by index. */
  valid(i: number): unknown;
  ids: string[];
}

const SHAPES: Record<string, Shape> = {
  'Records (S3 file)': { file: (list) => Buffer.from(JSON.stringify({ Records: list })), at: (u, i) => `${u}#0.Records[${i}]`, valid: (i) => records[i], ids: records.map((r) => r.eventID as string) },
  'Records, pretty': { file: (list) => Buffer.from(JSON.stringify({ Records: list }, null, 2)), at: (u, i) => `${u}#0.Records[${i}]`, valid: (i) => records[i], ids: records.map((r) => r.eventID as string) },
  'bare array': { file: (list) => Buffer.from(JSON.stringify(list)), at: (u, i) => `${u}#0[${i}]`, valid: (i) => records[i], ids: records.map((r) => r.eventID as string) },
  'lookup-events': {
    file: (list) => Buffer.from(JSON.stringify({ Events: list })),
    at: (u, i) => `${u}#0.Events[${i}]`,
    valid: (i) => ({ EventId: `e${i}`, CloudTrailEvent: JSON.stringify(records[i]) }),
    ids: records.map((r) => r.eventID as string),
  },
  'CloudWatch Logs payload': {
    file: (list) => Buffer.from(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: 'g', logStream: 's', logEvents: list })),
    at: (u, i) => `${u}#0.logEvents[${i}]`,
    valid: (i) => ({ id: `l${i}`, timestamp: 1, message: JSON.stringify(records[i]) }),
    ids: records.map((r) => r.eventID as string),
  },
  'GuardDuty Findings': { file: (list) => Buffer.from(JSON.stringify({ Findings: list })), at: (u, i) => `${u}#0.Findings[${i}]`, valid: (i) => finding(i), ids: NAMES.map((_, i) => `finding-${i}`) },
  'GuardDuty bare array': { file: (list) => Buffer.from(JSON.stringify(list)), at: (u, i) => `${u}#0[${i}]`, valid: (i) => finding(i), ids: NAMES.map((_, i) => `finding-${i}`) },
};

interface Result {
  ids: unknown[];
  errors: string[];
}

function idOf(envelope: Envelope): unknown {
  return envelope.record.eventID ?? envelope.record.id;
}

function unitOf(uri: string, bytes: Buffer): InputUnit {
  return { uri, size: bytes.length, open: () => Readable.from([bytes]), readAll: () => Promise.resolve(bytes) };
}

const stopRule = fakeRule({ id: 'stop', service: 'cloudtrail', requiredValues: { eventName: ['stoplogging'] }, match: (r) => r.eventName === 'StopLogging' });
const plan = planPrefilter([stopRule]);

async function decodeWith(uri: string, bytes: Buffer, how: 'stream' | 'whole' | 'prefilter' | 'gzip'): Promise<Result> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const options = { onError: (e: LocatedError) => errors.push(e), stats };
  const unit = unitOf(uri, how === 'gzip' ? gzipSync(bytes) : bytes);
  const envelopes: Envelope[] = [];
  const batches = how === 'stream' || how === 'gzip' ? decodeUnit(unit, options) : decodeUnitBytes(unit, await prepareUnit(unit), options, how === 'prefilter' ? plan.prefilter : undefined);
  for await (const batch of batches) envelopes.push(...batch);
  // The pre-filter may leave out records no rule matches: compare what the rule matches there.
  const kept = how === 'prefilter' ? envelopes.filter((e) => e.record.eventName === 'StopLogging' || e.source !== 'cloudtrail') : envelopes;
  return { ids: kept.map(idOf), errors: errors.map((e) => `${e.code} ${e.location}`) };
}

describe('junk elements in a list of records', () => {
  assert.ok(plan.prefilter !== undefined);
  for (const [shapeName, shape] of Object.entries(SHAPES)) {
    it(`${shapeName}: each kind of junk at the top, in the middle, at the end`, async () => {
      for (const [junkName, junk] of Object.entries(JUNK)) {
        for (const position of [0, 2, NAMES.length]) {
          const list = NAMES.map((_, i) => shape.valid(i));
          list.splice(position, 0, junk);
          const uri = `${shapeName}-${junkName}-${position}.json`;
          const expected: Result = { ids: shape.ids, errors: [`TH_INPUT_RECORD ${shape.at(uri, position)}`] };
          for (const how of ['stream', 'gzip', 'whole', 'prefilter'] as const) {
            const got = await decodeWith(uri, shape.file(list), how);
            const want = how === 'prefilter' && !shapeName.startsWith('GuardDuty') ? { ...expected, ids: expected.ids.filter((id) => String(id).startsWith('StopLogging')) } : expected;
            assert.deepEqual(got, want, `${uri} (${how})`);
          }
        }
      }
    });
  }

  it('several junk elements of several kinds: one error each, every record decoded', async () => {
    const list: unknown[] = [{}, 7, records[0], null, records[1], 'x', {}, records[2], [], records[3], records[4], false, {}];
    const junkAt = list.flatMap((item, i) => (records.includes(item as Record<string, unknown>) ? [] : [i]));
    for (const shapeName of ['Records (S3 file)', 'bare array'] as const) {
      const shape = SHAPES[shapeName] as Shape;
      for (const how of ['stream', 'whole', 'prefilter'] as const) {
        const got = await decodeWith('many.json', shape.file(list), how);
        assert.deepEqual(got.errors, junkAt.map((i) => `TH_INPUT_RECORD ${shape.at('many.json', i)}`), `${shapeName} (${how})`);
        if (how !== 'prefilter') assert.deepEqual(got.ids, shape.ids, `${shapeName} (${how})`);
      }
    }
  });

  it(`recognition looks at the first ${RECOGNISE_ELEMENTS} elements: a Records file of junk first is still read, junk element by element`, async () => {
    const list = [...Array.from({ length: 100 }, () => ({})), ...records];
    const got = await decodeWith('junk-first.json', SHAPES['Records (S3 file)']?.file(list) as Buffer, 'stream');
    assert.equal(got.errors.length, 100);
    assert.deepEqual(got.ids, SHAPES['Records (S3 file)']?.ids);
  });

  it("another format's list is still not CloudTrail, junk or not (S3 event notifications)", async () => {
    const s3 = { eventVersion: '2.1', eventSource: 'aws:s3', eventTime: '2026-11-03T00:00:00Z', eventName: 'ObjectCreated:Put' };
    for (const list of [[s3], [{}, s3], [null, s3, s3]]) {
      const got = await decodeWith('s3-event.json', Buffer.from(JSON.stringify({ Records: list })), 'stream');
      assert.deepEqual(got, { ids: [], errors: ['TH_INPUT_FORMAT s3-event.json:1'] });
    }
  });

  it('JSON lines: a junk line anywhere is one error, the other lines decode', async () => {
    for (const junk of ['{}', '42', '"text"', 'null', '[]']) {
      for (const position of [0, 2, 5]) {
        const lines = records.map((r) => JSON.stringify(r));
        lines.splice(position, 0, junk);
        const got = await decodeWith('lines.jsonl', Buffer.from(lines.join('\n') + '\n'), 'stream');
        assert.deepEqual(got.ids, records.map((r) => r.eventID), `${junk} at ${position}`);
        assert.equal(got.errors.length, junk === '[]' ? 0 : 1, `${junk} at ${position}: ${got.errors.join(', ')}`);
      }
    }
  });
});
