/**
 * CloudWatch Logs subscription payloads and Firehose records (docs/formats.md, CloudTrail):
 * the payload as a Lambda receives it (`{"awslogs":{"data":base64(gzip)}}`), saved alone
 * (its base64 text, its gzip bytes, its JSON), the Firehose transformation input
 * (`{"records":[{"data":base64}]}`) and what Firehose writes to S3 (gzip members back to back).
 * Payloads are built here from real-looking records (embedded-payloads.ts); every damaged one
 * is a located error and the records around it are still read.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { LocatedError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import { decodeUnitBytes, prepareUnit } from '../../src/formats/read-unit.ts';
import type { DecodeOptions, DecodeStats } from '../../src/formats/types.ts';
import { decodeBase64 } from '../../src/formats/embedded/base64.ts';
import { MAX_PAYLOAD_BYTES } from '../../src/formats/embedded/payload.ts';
import { codes, decodeAll, eventIds, memoryUnit } from './helpers.ts';
import { CONTROL_MESSAGE, awslogsEvent, dataMessage, firehoseEvent, flowLine, gzipBase64, plainBase64, trailRecord, type Json } from './embedded-payloads.ts';

const A = trailRecord('StopLogging', 'a0000000-0000-4000-8000-000000000001');
const B = trailRecord('CreateAccessKey', 'b0000000-0000-4000-8000-000000000002');
const C = trailRecord('DeleteTrail', 'c0000000-0000-4000-8000-000000000003');
const D = trailRecord('AttachUserPolicy', 'd0000000-0000-4000-8000-000000000004');

const json = (value: unknown): string => JSON.stringify(value);
const ids = (...records: Json[]): unknown[] => records.map((record) => record.eventID);

interface Options {
  maxDecompressed?: number;
  flowFormat?: string;
  chunk?: number;
}

async function decode(uri: string, content: string | Buffer, options: Options = {}): Promise<{ envelopes: Envelope[]; errors: LocatedError[]; stats: DecodeStats }> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const decodeOptions: DecodeOptions = { onError: (error) => errors.push(error), stats };
  if (options.maxDecompressed !== undefined) decodeOptions.maxDecompressed = options.maxDecompressed;
  if (options.flowFormat !== undefined) decodeOptions.flowFormat = options.flowFormat;
  const envelopes: Envelope[] = [];
  for await (const batch of decodeUnit(memoryUnit(uri, content, options.chunk ?? 0), decodeOptions)) envelopes.push(...batch);
  return { envelopes, errors, stats };
}

/** The same unit through the scan's whole-unit path (read, gunzip in the pool, decode from memory). */
async function decodeWhole(uri: string, content: Buffer): Promise<{ envelopes: Envelope[]; errors: LocatedError[] }> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const unit: InputUnit = { ...memoryUnit(uri, content), size: content.length, readAll: () => Promise.resolve(content) };
  const envelopes: Envelope[] = [];
  for await (const batch of decodeUnitBytes(unit, await prepareUnit(unit), { onError: (error) => errors.push(error), stats })) envelopes.push(...batch);
  return { envelopes, errors };
}

describe('already read before: a DATA_MESSAGE decoded, gzip, or back to back as Firehose writes it to S3', () => {
  it('the DATA_MESSAGE JSON and its gzip bytes (a saved, decoded payload)', async () => {
    const message = json(dataMessage([A, B]));
    for (const content of [message, gzipSync(message)]) {
      const { envelopes, errors, stats } = await decode('payload.bin', content);
      assert.deepEqual(errors, []);
      assert.deepEqual(eventIds(envelopes), ids(A, B));
      assert.deepEqual(stats, { records: 2, skipped: 0, errors: 0 });
      assert.deepEqual(envelopes.map((e) => e.origin), [{ uri: 'payload.bin', index: 0 }, { uri: 'payload.bin', index: 1 }]);
    }
  });

  it('an S3 object of Firehose: gzip members of DATA_MESSAGEs (and a CONTROL_MESSAGE) back to back, `}{` once decompressed', async () => {
    const object = Buffer.concat([gzipSync(json(dataMessage([A]))), gzipSync(json(CONTROL_MESSAGE)), gzipSync(json(dataMessage([B, C])))]);
    for (const chunk of [0, 13]) {
      const { envelopes, errors, stats } = await decode('firehose-s3-object', object, { chunk });
      assert.deepEqual(errors, []);
      assert.deepEqual(eventIds(envelopes), ids(A, B, C));
      assert.deepEqual(stats, { records: 3, skipped: 1, errors: 0 });
    }
    const whole = await decodeWhole('firehose-s3-object', object);
    assert.deepEqual(eventIds(whole.envelopes), ids(A, B, C));
  });
});

describe('CloudWatch Logs subscription: the Lambda event {"awslogs":{"data":...}}', () => {
  it('decodes base64 and gzip; each logEvents[i].message is a record with the unit\'s origin', async () => {
    const { envelopes, errors, stats } = await decode('lambda-event.json', json(awslogsEvent(dataMessage([A, B]))));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventIds(envelopes), ids(A, B));
    assert.deepEqual(stats, { records: 2, skipped: 0, errors: 0 });
    assert.deepEqual(envelopes.map((e) => e.origin), [{ uri: 'lambda-event.json', index: 0 }, { uri: 'lambda-event.json', index: 1 }]);
    assert.equal(envelopes[0]?.source, 'cloudtrail');
    assert.equal(envelopes[0]?.time, Date.parse('2026-11-03T09:11:11Z'));
    assert.deepEqual(envelopes[0]?.record, A, 'the record as AWS wrote it');
  });

  it('pretty-printed, in small chunks, and base64 of plain JSON (not gzip) too', async () => {
    const pretty = JSON.stringify(awslogsEvent(dataMessage([A])), null, 2);
    assert.deepEqual(eventIds((await decode('pretty.json', pretty, { chunk: 7 })).envelopes), ids(A));
    const plain = await decode('plain.json', json(awslogsEvent(plainBase64(dataMessage([B])))));
    assert.deepEqual(plain.errors, []);
    assert.deepEqual(eventIds(plain.envelopes), ids(B));
  });

  it('a CONTROL_MESSAGE holds no record: skipped and counted, not an error', async () => {
    const { envelopes, errors, stats } = await decode('control.json', json(awslogsEvent(CONTROL_MESSAGE)));
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, 0);
    assert.deepEqual(stats, { records: 0, skipped: 1, errors: 0 });
  });

  it('one event per line: bad base64, bad gzip, a bad message are each located; every other record is read', async () => {
    const lines = [
      json(awslogsEvent(dataMessage([A]))),
      json(awslogsEvent('H4sI not base64!')),
      json(awslogsEvent(gzipBase64(dataMessage([B])).slice(0, 40))), // truncated: gzip cut short
      json(awslogsEvent(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]).toString('base64'))), // damaged deflate data
      json(awslogsEvent(dataMessage([C, '{"eventVersion": broken', D]))),
      json({ awslogs: {} }),
      json(awslogsEvent(CONTROL_MESSAGE)),
    ];
    const { envelopes, errors, stats } = await decode('events.jsonl', lines.join('\n') + '\n');
    assert.deepEqual(eventIds(envelopes), ids(A, C, D));
    assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1, 2]);
    assert.deepEqual(codes(errors), [
      'TH_INPUT_FORMAT events.jsonl#1.awslogs.data',
      'TH_INPUT_GZIP events.jsonl#2.awslogs.data',
      'TH_INPUT_GZIP events.jsonl#3.awslogs.data',
      'TH_INPUT_JSON events.jsonl#4.awslogs.data#0.logEvents[1]',
      'TH_INPUT_RECORD events.jsonl#5.awslogs.data',
    ]);
    assert.match(errors[0]?.message ?? '', /^awslogs\.data is not base64 \(character 4 \(code 32\) is not in the base64 alphabet\): skipped$/);
    assert.match(errors[1]?.message ?? '', /gzip but damaged or truncated \(unexpected end of file\)/);
    assert.deepEqual(stats, { records: 3, skipped: 1, errors: 5 });
    // The payload errors describe, never quote, the content.
    for (const error of errors.slice(0, 3)) assert.doesNotMatch(error.message, /H4sI|base64!/);
  });

  it('a DATA_MESSAGE of a flow-log group: each message is a header-less flow-log line', async () => {
    const payload = dataMessage([flowLine('198.51.100.7', 22), 'not a flow line', flowLine('198.51.100.8', 3389, 'REJECT')], '/vpc/flow-logs');
    const { envelopes, errors } = await decode('flow-event.json', json(awslogsEvent(payload)));
    assert.deepEqual(envelopes.map((e) => [e.source, e.record.srcaddr, e.record.dstport, e.record.action, e.origin.index]), [
      ['vpcflow', '198.51.100.7', 22, 'ACCEPT', 0],
      ['vpcflow', '198.51.100.8', 3389, 'REJECT', 1],
    ]);
    assert.equal(envelopes[0]?.time, 1793520671000);
    assert.deepEqual(codes(errors), ['TH_INPUT_RECORD flow-event.json#0.awslogs.data#0.logEvents[1]']);
    // The decoded payload saved as JSON reads the same.
    assert.equal((await decode('flow-payload.json', json(payload))).envelopes.length, 2);
  });

  it('flow-log messages in a custom format, with --flow-format', async () => {
    const payload = dataMessage(['5 vpc-0a1b2c3d 198.51.100.9 10.0.1.5 22 ACCEPT'], '/vpc/flow-logs');
    const { envelopes, errors } = await decode('custom.json', json(awslogsEvent(payload)), { flowFormat: '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${dstport} ${action}' });
    assert.deepEqual(errors, []);
    assert.deepEqual(envelopes[0]?.record, { version: 5, 'vpc-id': 'vpc-0a1b2c3d', srcaddr: '198.51.100.9', dstaddr: '10.0.1.5', dstport: 22, action: 'ACCEPT' });
  });
});

describe('CloudWatch Logs subscription: the payload saved alone as base64 text (event.awslogs.data)', () => {
  const text = gzipBase64(dataMessage([A, B]));

  it('sniffed from its content whatever its name; as written, with a newline, wrapped at 76 columns, in chunks', async () => {
    const wrapped = text.replace(/(.{76})/g, '$1\n');
    for (const [name, content] of [['data.txt', text], ['data.json', `${text}\n`], ['data.gz', wrapped], ['data.b64', `\n  ${wrapped}\r\n`]] as const) {
      for (const chunk of [0, 5]) {
        const { envelopes, errors, stats } = await decode(name, content, { chunk });
        assert.deepEqual(errors, [], name);
        assert.deepEqual(eventIds(envelopes), ids(A, B), name);
        assert.deepEqual(envelopes.map((e) => e.origin), [{ uri: name, index: 0 }, { uri: name, index: 1 }]);
        assert.deepEqual(stats, { records: 2, skipped: 0, errors: 0 });
      }
    }
  });

  it('several payloads, one per line, are read one after the other (CONTROL_MESSAGE skipped); the whole-unit path agrees', async () => {
    const content = [gzipBase64(dataMessage([A])), gzipBase64(CONTROL_MESSAGE), gzipBase64(dataMessage([B, C]))].join('\n') + '\n';
    const { envelopes, errors, stats } = await decode('payloads.txt', content);
    assert.deepEqual(errors, []);
    assert.deepEqual(eventIds(envelopes), ids(A, B, C));
    assert.deepEqual(stats, { records: 3, skipped: 1, errors: 0 });
    assert.deepEqual(eventIds((await decodeWhole('payloads.txt', Buffer.from(content))).envelopes), ids(A, B, C));
    // And gzip of that text (a .txt.gz of saved payloads).
    assert.deepEqual(eventIds((await decode('payloads.txt.gz', gzipSync(content))).envelopes), ids(A, B, C));
  });

  it('damaged base64 is one TH_INPUT_FORMAT naming the input; damaged gzip inside is TH_INPUT_GZIP with what was read', async () => {
    const bad = await decode('bad.txt', `${text.slice(0, 20)}*${text.slice(20)}`);
    assert.deepEqual(codes(bad.errors), ['TH_INPUT_FORMAT bad.txt']);
    assert.match(bad.errors[0]?.message ?? '', /not base64 \(character 20 \(code 42\)/);
    assert.equal(bad.envelopes.length, 0);
    // A second payload cut short: the first is read, the cut is located.
    const cut = gzipBase64(dataMessage([C]));
    const truncated = await decode('truncated.txt', `${text}\n${cut.slice(0, Math.floor(cut.length / 8) * 4)}`);
    assert.deepEqual(eventIds(truncated.envelopes), ids(A, B));
    assert.deepEqual(codes(truncated.errors), ['TH_INPUT_GZIP truncated.txt']);
    assert.match(truncated.errors[0]?.message ?? '', /1 complete gzip member/);
  });

  it('past --max-decompressed: TH_INPUT_LIMIT naming the input, the records before the limit read', async () => {
    const many = dataMessage(Array.from({ length: 2000 }, (_, i) => trailRecord('StopLogging', `e${String(i).padStart(7, '0')}`)));
    const { envelopes, errors } = await decode('bomb.txt', gzipBase64(many), { maxDecompressed: 64 * 1024 });
    assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT bomb.txt']);
    assert.match(errors[0]?.message ?? '', /--max-decompressed/);
    // The cut DATA_MESSAGE is recovered as any cut JSON value: its log events before the cut.
    assert.ok(envelopes.length > 0 && envelopes.length < 2000, String(envelopes.length));
    assert.deepEqual(eventIds(envelopes), Array.from({ length: envelopes.length }, (_, i) => `e${String(i).padStart(7, '0')}`));
  });
});

describe('Firehose: the data-transformation Lambda input {"records":[{"recordId","data"}]}', () => {
  it('every kind of data: a record, JSON lines, a Records body, a gzip DATA_MESSAGE, a CONTROL_MESSAGE, flow lines', async () => {
    const event = firehoseEvent([
      plainBase64(A),
      plainBase64(`${json(B)}\n${json(C)}\n`),
      plainBase64({ Records: [D] }),
      gzipBase64(dataMessage([A, B])),
      gzipBase64(CONTROL_MESSAGE),
      plainBase64(`${flowLine('198.51.100.7', 22)}\n${flowLine('198.51.100.8', 443)}\n`),
      gzipBase64(`${json(C)}${json(D)}`), // back to back, gzip
    ]);
    const { envelopes, errors, stats } = await decode('firehose-event.json', json(event));
    assert.deepEqual(errors, []);
    assert.deepEqual(envelopes.map((e) => e.record.eventID ?? e.record.srcaddr), [...ids(A, B, C, D, A, B), '198.51.100.7', '198.51.100.8', ...ids(C, D)]);
    assert.deepEqual(envelopes.map((e) => e.origin.index), Array.from({ length: 10 }, (_, i) => i));
    assert.ok(envelopes.every((e) => e.origin.uri === 'firehose-event.json'));
    assert.deepEqual(stats, { records: 10, skipped: 1, errors: 0 });
  });

  it('a damaged record is one located error (bad base64, bad gzip, no data, not a log), and the others are read', async () => {
    const event = firehoseEvent([
      plainBase64(A),
      'eyJldmVudFZlcnNpb24iOi%%%',
      gzipBase64(dataMessage([B])).slice(0, 30),
      plainBase64(C),
      plainBase64('hello, this is not a log'),
      plainBase64(`${json(D)}\n{"eventVersion":\n`),
    ]);
    (event.records as Json[]).push({ recordId: 'no-data' });
    const { envelopes, errors, stats } = await decode('firehose-event.json', json(event));
    assert.deepEqual(eventIds(envelopes), ids(A, C, D));
    assert.deepEqual(codes(errors), [
      'TH_INPUT_FORMAT firehose-event.json#0.records[1].data',
      'TH_INPUT_GZIP firehose-event.json#0.records[2].data',
      'TH_INPUT_FORMAT firehose-event.json#0.records[4].data',
      'TH_INPUT_JSON firehose-event.json#0.records[5].data:2',
      'TH_INPUT_RECORD firehose-event.json#0.records[6]',
    ]);
    assert.deepEqual(stats, { records: 3, skipped: 0, errors: 5 });
  });

  it('recognised by its records without invocationId (the function\'s response shape), not by its name', async () => {
    const response = { records: [{ recordId: '1', result: 'Ok', data: plainBase64(A) }] };
    const { envelopes, errors } = await decode('out.log', json(response));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventIds(envelopes), ids(A));
    // Something else with `records` is not Firehose.
    const other = await decode('other.json', json({ records: [{ name: 'x' }] }));
    assert.deepEqual(codes(other.errors), ['TH_INPUT_FORMAT other.json:1']);
  });

  it('a Firehose payload holding a Firehose event or awslogs event is not decoded again (one level)', async () => {
    const inner = firehoseEvent([plainBase64(A)]);
    const { envelopes, errors } = await decode('nested.json', json(firehoseEvent([plainBase64(inner), plainBase64(awslogsEvent(dataMessage([B])))])));
    assert.equal(envelopes.length, 0);
    assert.deepEqual(codes(errors), ['TH_INPUT_FORMAT nested.json#0.records[0].data:1', 'TH_INPUT_FORMAT nested.json#0.records[1].data:1']);
  });

  it('a gzip bomb in one record: TH_INPUT_LIMIT at that record, the records before and after it read', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_PAYLOAD_BYTES + 1024, 0x20)).toString('base64');
    const { envelopes, errors } = await decode('bomb.json', json(firehoseEvent([plainBase64(A), bomb, gzipBase64(dataMessage([B]))])));
    assert.deepEqual(eventIds(envelopes), ids(A, B));
    assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT bomb.json#0.records[1].data']);
    assert.match(errors[0]?.message ?? '', /more than 64 MiB, the most one embedded payload may hold/);
  });

  it('--max-decompressed bounds all the payloads of an input together', async () => {
    const big = dataMessage(Array.from({ length: 200 }, (_, i) => trailRecord('StopLogging', `big-${i}`)));
    const bigBytes = Buffer.byteLength(json(big));
    const small = gzipBase64(dataMessage([B]));
    const event = firehoseEvent([gzipBase64(dataMessage([A])), gzipBase64(big), small]);
    // Room for everything: all read.
    assert.equal((await decode('fits.json', json(event), { maxDecompressed: 4 * bigBytes })).envelopes.length, 202);
    // Room for the first only: the big one is TH_INPUT_LIMIT, and it spends what was left.
    const { envelopes, errors } = await decode('limit.json', json(event), { maxDecompressed: bigBytes / 2 });
    assert.deepEqual(eventIds(envelopes), ids(A));
    assert.deepEqual(codes(errors), ['TH_INPUT_LIMIT limit.json#0.records[1].data', 'TH_INPUT_LIMIT limit.json#0.records[2].data']);
    assert.match(errors[0]?.message ?? '', /--max-decompressed limit/);
  });

  it('reads the same through the whole-unit path, plain and gzip', async () => {
    const content = Buffer.from(json(firehoseEvent([plainBase64(A), 'bad!', gzipBase64(dataMessage([B]))])));
    for (const bytes of [content, gzipSync(content)]) {
      const { envelopes, errors } = await decodeWhole('whole.json', bytes);
      assert.deepEqual(eventIds(envelopes), ids(A, B));
      assert.deepEqual(codes(errors), ['TH_INPUT_FORMAT whole.json#0.records[1].data']);
    }
  });
});

describe('strict base64', () => {
  it('decodes what Buffer decodes, and blobs back to back', () => {
    for (const text of ['', 'YQ==', 'YWI=', 'YWJj', 'YWJjZA', gzipBase64('x')]) {
      assert.deepEqual(decodeBase64(text), Buffer.from(text, 'base64'), text);
    }
    assert.equal((decodeBase64('YQ==YWI=YWJj') as Buffer).toString(), 'aabab' + 'c');
    assert.equal((decodeBase64('YW\nJj\r\n', true) as Buffer).toString(), 'abc');
  });

  it('says why, never quoting: foreign characters, misplaced padding, a lone character, white space unless allowed', () => {
    assert.deepEqual(decodeBase64('YW*j'), { error: 'character 2 (code 42) is not in the base64 alphabet' });
    assert.deepEqual(decodeBase64('YW=j'), { error: 'the padding at character 2 is followed by more text' });
    assert.match((decodeBase64('Y=Jj') as { error: string }).error, /length/);
    assert.match((decodeBase64('YWJjZ') as { error: string }).error, /length \(5 characters\)/);
    assert.match((decodeBase64('YWJj\nZA==') as { error: string }).error, /code 10/);
    assert.match((decodeBase64('YQ==Y') as { error: string }).error, /from character 4/);
  });
});

describe('a real CloudTrail record from the shared corpus, in every envelope (skipped when absent)', () => {
  const path = fileURLToPath(new URL('../../../shared/corpus/cloudtrail/awsdocs/ct-log-file-examples.05.iam-log-examples.json', import.meta.url));
  it('decodes to the same record', { skip: existsSync(path) ? false : 'shared corpus absent (../shared/corpus)' }, async () => {
    const file = JSON.parse(readFileSync(path, 'utf8')) as { Records?: Json[] } & Json;
    const record = file.Records?.[0] ?? file;
    const shapes = [
      json(awslogsEvent(dataMessage([record]))),
      gzipBase64(dataMessage([record])),
      json(firehoseEvent([gzipBase64(dataMessage([record])), plainBase64(record)])),
    ];
    for (const content of shapes) {
      const { envelopes, errors } = await decodeAll(memoryUnit('corpus', content));
      assert.deepEqual(errors, []);
      assert.ok(envelopes.length >= 1);
      for (const envelope of envelopes) assert.deepEqual(envelope.record, record);
    }
  });
});
