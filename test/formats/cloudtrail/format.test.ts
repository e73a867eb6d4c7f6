import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cloudTrailEventTime, cloudTrailFormat, isCloudTrailRecord } from '../../../src/formats/cloudtrail/format.ts';
import { JSON_FORMATS } from '../../../src/formats/registry.ts';
import { codes, decodeAll, eventIds, eventNames, fixture, fixturePath, fixtureUnit, memoryUnit } from '../helpers.ts';

const RECORDS = ['ConsoleLogin', 'AssumeRole', 'CreateAccessKey', 'PutBucketPolicy', 'StopLogging'];
const LINES = [...RECORDS, 'RunInstances', 'RotateKey'];

describe('CloudTrail: S3 delivery file {"Records":[...]}', () => {
  for (const name of ['records.json', 'records-pretty.json', 'records.json.gz']) {
    it(name, async () => {
      const { envelopes, errors, stats } = await decodeAll(fixtureUnit(name));
      assert.deepEqual(errors, []);
      assert.deepEqual(eventNames(envelopes), RECORDS);
      assert.deepEqual(stats, { records: 5, skipped: 0, errors: 0 });
      const first = envelopes[0];
      assert.ok(first);
      assert.equal(first.source, 'cloudtrail');
      assert.equal(first.time, Date.parse('2024-05-01T09:57:03Z'));
      assert.deepEqual(first.origin, { uri: fixturePath(name), index: 0 });
      assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1, 2, 3, 4]);
      // The record is AWS's object, not a copy with other names.
      assert.equal((first.record.userIdentity as { userName: string }).userName, 'alice');
    });
  }

  it('a gzip file named .json and a plain file named .gz are read by content', async () => {
    for (const name of ['gzipped-named.json', 'plain-named.json.gz']) {
      const { envelopes, errors } = await decodeAll(fixtureUnit(name));
      assert.deepEqual(errors, [], name);
      assert.deepEqual(eventNames(envelopes), RECORDS, name);
    }
  });

  it('an empty Records array is no records and no error', async () => {
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('empty-records.json', '{"Records":[]}'));
    assert.equal(envelopes.length, 0);
    assert.deepEqual(errors, []);
    assert.equal(stats.records, 0);
  });

  it('a Records wrapper written with one record per line', async () => {
    const records = (JSON.parse(fixture('records.json').toString()) as { Records: unknown[] }).Records;
    const text = '{"Records": [\n' + records.map((r) => JSON.stringify(r)).join(',\n') + '\n]}\n';
    const { envelopes, errors } = await decodeAll(memoryUnit('wrapped.json', text, 512));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), RECORDS);
  });

  it('concatenated S3 files (zcat *.json.gz) are read one after the other', async () => {
    const one = fixture('records.json').toString();
    const { envelopes, errors } = await decodeAll(memoryUnit('cat.json', one + one + '\n' + one, 1000));
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, 15);
    assert.deepEqual(envelopes.map((e) => e.origin.index), Array.from({ length: 15 }, (_, i) => i));
  });
});

describe('CloudTrail: bare JSON array of records', () => {
  it('array.json (pretty) and its gzip', async () => {
    for (const unit of [fixtureUnit('array.json'), memoryUnit('array.json.gz', gzipSync(fixture('array.json')))]) {
      const { envelopes, errors } = await decodeAll(unit);
      assert.deepEqual(errors, []);
      assert.deepEqual(eventNames(envelopes), ['AssumeRole', 'CreateAccessKey', 'RunInstances']);
    }
  });
});

describe('CloudTrail: JSON lines', () => {
  for (const name of ['records.jsonl', 'records.jsonl.gz']) {
    it(name, async () => {
      const { envelopes, errors, stats } = await decodeAll(fixtureUnit(name));
      assert.deepEqual(errors, []);
      assert.deepEqual(eventNames(envelopes), LINES);
      assert.deepEqual(envelopes.map((e) => e.origin.line), [1, 2, 3, 4, 5, 6, 7]);
      assert.equal(stats.records, 7);
    });
  }

  it('reads CRLF line ends, blank lines and a last line without newline', async () => {
    const lines = fixture('records.jsonl').toString().trim().split('\n');
    const text = lines.slice(0, 3).join('\r\n') + '\r\n\r\n   \n' + lines.slice(3).join('\n');
    const { envelopes, errors } = await decodeAll(memoryUnit('crlf.jsonl', text, 777));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), LINES);
    assert.deepEqual(envelopes.map((e) => e.origin.line), [1, 2, 3, 6, 7, 8, 9]);
  });

  it('reads a UTF-8 byte order mark at the start', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture('records.jsonl')]);
    const { envelopes, errors } = await decodeAll(memoryUnit('bom.jsonl', bytes));
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, 7);
  });

  it('a single pretty-printed record (as the AWS docs show one)', async () => {
    const { envelopes, errors } = await decodeAll(fixtureUnit('record-pretty.json'));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), ['StopLogging']);
    assert.equal(envelopes[0]?.origin.line, 1);
  });

  it('pretty-printed records one after the other, then JSON lines again', async () => {
    const pretty = fixture('record-pretty.json').toString();
    const compact = fixture('records.jsonl').toString();
    const { envelopes, errors } = await decodeAll(memoryUnit('mixed.json', pretty + pretty + compact, 333));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), ['StopLogging', 'StopLogging', ...LINES]);
    const prettyLines = pretty.split('\n').length - 1;
    assert.deepEqual(envelopes.slice(0, 3).map((e) => e.origin.line), [1, prettyLines + 1, 2 * prettyLines + 1]);
  });
});

describe('CloudTrail: EventBridge events', () => {
  it('reads every "... via CloudTrail" detail-type, the record being detail unchanged', async () => {
    const { envelopes, errors } = await decodeAll(fixtureUnit('eventbridge.jsonl'));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), ['CreateAccessKey', 'ConsoleLogin', 'ConsoleLogin', 'RotateKey', undefined]);
    const lines = fixture('eventbridge.jsonl').toString().trim().split('\n');
    envelopes.forEach((envelope, i) => {
      const event = JSON.parse(lines[i] ?? '') as { detail: unknown };
      assert.deepEqual(envelope.record, event.detail);
      assert.equal(envelope.origin.line, i + 1);
    });
    assert.equal(envelopes[2]?.time, Date.parse('2024-05-01T12:00:00Z'));
    assert.equal(envelopes[4]?.record.eventType, 'AwsCloudTrailInsight');
  });

  it('does not take an EventBridge GuardDuty Finding for CloudTrail', async () => {
    const event: unknown = JSON.parse(fixture('eventbridge-guardduty.json').toString());
    assert.equal(cloudTrailFormat.recognise(event), false);
    assert.equal(isCloudTrailRecord((event as { detail: unknown }).detail), false);
  });
});

describe('CloudTrail: CloudWatch Logs payloads written by Firehose', () => {
  for (const name of ['cloudwatch-firehose.json', 'cloudwatch-firehose.gz']) {
    it(`${name}: concatenated without separators, CONTROL_MESSAGE skipped`, async () => {
      const { envelopes, errors, stats } = await decodeAll(fixtureUnit(name));
      assert.deepEqual(errors, []);
      assert.deepEqual(eventNames(envelopes), RECORDS);
      assert.deepEqual(stats, { records: 5, skipped: 1, errors: 0 });
      assert.equal(envelopes[0]?.time, Date.parse('2024-05-01T09:57:03Z'));
    });
  }

  it('small chunks split the payloads anywhere', async () => {
    const { envelopes, errors } = await decodeAll(memoryUnit('cwl.json', fixture('cloudwatch-firehose.json'), 7));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), RECORDS);
  });
});

describe('CloudTrail: aws cloudtrail lookup-events output', () => {
  it('parses each CloudTrailEvent string (NextToken present)', async () => {
    const { envelopes, errors } = await decodeAll(fixtureUnit('lookup-events.json'));
    assert.deepEqual(errors, []);
    assert.deepEqual(eventNames(envelopes), ['CreateAccessKey', 'AssumeRole', 'ConsoleLogin']);
    assert.equal(envelopes[0]?.record.eventSource, 'iam.amazonaws.com');
    assert.equal(envelopes[0]?.time, Date.parse('2024-05-01T10:02:45Z'));
  });

  it('gzip too', async () => {
    const { envelopes, errors } = await decodeAll(memoryUnit('lookup.json.gz', gzipSync(fixture('lookup-events.json'))));
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, 3);
  });
});

describe('CloudTrail: digest and Insights files', () => {
  it('a digest file is skipped silently and counted', async () => {
    const { envelopes, errors, stats } = await decodeAll(fixtureUnit('digest.json'));
    assert.equal(envelopes.length, 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(stats, { records: 0, skipped: 1, errors: 0 });
  });

  it('Insights records are ordinary envelopes with no top-level eventName', async () => {
    const { envelopes, errors } = await decodeAll(fixtureUnit('insights.json'));
    assert.deepEqual(errors, []);
    assert.equal(envelopes.length, 2);
    for (const envelope of envelopes) {
      assert.equal(envelope.record.eventType, 'AwsCloudTrailInsight');
      assert.equal(envelope.record.eventName, undefined);
      assert.equal((envelope.record.insightDetails as { eventName: string }).eventName, 'CreateAccessKey');
    }
    assert.deepEqual(envelopes.map((e) => e.time), [Date.parse('2024-05-01T10:03:00Z'), Date.parse('2024-05-01T10:06:00Z')]);
  });
});

describe('cloudTrailEventTime', () => {
  it('reads eventTime as epoch ms, NaN when absent or invalid', () => {
    assert.equal(cloudTrailEventTime({ eventTime: '2024-05-01T10:00:00Z' }), Date.UTC(2024, 4, 1, 10));
    assert.equal(cloudTrailEventTime({ eventTime: '2024-05-01T10:00:00.250Z' }), Date.UTC(2024, 4, 1, 10, 0, 0, 250));
    assert.equal(cloudTrailEventTime({ eventTime: '2024-05-01T12:00:00+02:00' }), Date.UTC(2024, 4, 1, 10));
    // Panther-style, no zone: UTC, as in AWS logs.
    assert.equal(cloudTrailEventTime({ eventTime: '2025-02-19 20:13:49.123456789' }), Date.UTC(2025, 1, 19, 20, 13, 49, 123));
    assert.ok(Number.isNaN(cloudTrailEventTime({})));
    assert.ok(Number.isNaN(cloudTrailEventTime({ eventTime: 'yesterday' })));
    assert.ok(Number.isNaN(cloudTrailEventTime({ eventTime: 1714557600 })));
  });
});

describe('recognise', () => {
  it('does not take S3 event notifications or arbitrary JSON for CloudTrail', () => {
    const s3Notification = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: '2024-05-01T10:00:00.000Z', eventName: 'ObjectCreated:Put', s3: {} }] };
    assert.equal(cloudTrailFormat.recognise(s3Notification), false);
    assert.equal(cloudTrailFormat.recognise({ source: {}, rule: 'x', event: {} }), false);
    assert.equal(cloudTrailFormat.recognise([1, 2, 3]), false);
    assert.equal(cloudTrailFormat.recognise('text'), false);
    assert.equal(cloudTrailFormat.recognise(null), false);
  });

  it('is the first JSON format in the registry', () => {
    assert.equal(JSON_FORMATS[0], cloudTrailFormat);
  });

  it('an unrecognised JSON value is one located TH_INPUT_FORMAT, the next lines go on', async () => {
    const lines = fixture('records.jsonl').toString().trim().split('\n');
    const text = [lines[0], '{"hello":"world"}', lines[1]].join('\n');
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('mixed.jsonl', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_FORMAT mixed.jsonl:2']);
    assert.match(errors[0]?.message ?? '', /keys hello/);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole']);
    assert.equal(stats.errors, 1);
  });
});

describe('batches', () => {
  it('yields arrays of batchSize envelopes', async () => {
    const lines = fixture('records.jsonl').toString();
    const { envelopes, batches } = await decodeAll(memoryUnit('many.jsonl', lines.repeat(10)), 4);
    assert.equal(envelopes.length, 70);
    assert.equal(batches, 18);
    assert.deepEqual(eventIds(envelopes).slice(0, 7), eventIds(envelopes).slice(7, 14));
  });
});
