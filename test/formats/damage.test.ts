import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { codes, decodeAll, eventNames, fixture, memoryUnit } from './helpers.ts';

const RECORDS = ['ConsoleLogin', 'AssumeRole', 'CreateAccessKey', 'PutBucketPolicy', 'StopLogging'];

function jsonLines(): string[] {
  return fixture('records.jsonl').toString().trim().split('\n');
}

/** Replaces the first occurrence of `from` after `after` in text; fails the test if absent. */
function damage(text: string, after: string, from: string, to: string): string {
  const start = text.indexOf(after);
  assert.ok(start >= 0, `fixture lacks ${after}`);
  const at = text.indexOf(from, start);
  assert.ok(at >= 0, `fixture lacks ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** Many JSON lines, for truncation tests. */
function manyLines(n: number): string {
  const lines = jsonLines();
  return Array.from({ length: n }, (_, i) => lines[i % lines.length]).join('\n') + '\n';
}

describe('truncated and damaged gzip', () => {
  it('truncated gzip (JSON lines): TH_INPUT_GZIP with how far it got; every record before the cut comes out', async () => {
    const plain = manyLines(700);
    const gz = gzipSync(plain);
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('cut.jsonl.gz', cut, 1024));
    assert.deepEqual(codes(errors), ['TH_INPUT_GZIP cut.jsonl.gz']);
    assert.match(errors[0]?.message ?? '', new RegExp(`after \\d+ of ${cut.length} compressed bytes \\(\\d+ bytes decompressed\\)`));
    const decompressed = Number(/\((\d+) bytes decompressed\)/.exec(errors[0]?.message ?? '')?.[1]);
    // Every complete line in the decompressed part came out.
    const complete = plain.slice(0, decompressed).split('\n').length - 1;
    assert.ok(envelopes.length >= complete && envelopes.length > 100, `${envelopes.length} records, ${complete} complete lines`);
    assert.equal(stats.errors, 1);
  });

  it('truncated gzip (Records file): the records before the cut come out, one error', async () => {
    const records = JSON.parse(fixture('records.json').toString()) as { Records: unknown[] };
    const many = JSON.stringify({ Records: Array.from({ length: 400 }, (_, i) => records.Records[i % 5]) });
    const gz = gzipSync(many);
    const { envelopes, errors } = await decodeAll(memoryUnit('cut.json.gz', gz.subarray(0, Math.floor(gz.length * 0.7))));
    assert.deepEqual(codes(errors), ['TH_INPUT_GZIP cut.json.gz']);
    assert.ok(envelopes.length > 100 && envelopes.length < 400, `${envelopes.length} records`);
    assert.deepEqual(eventNames(envelopes.slice(0, 5)), RECORDS);
  });

  it('corrupt gzip data: TH_INPUT_GZIP, no crash', async () => {
    const gz = Buffer.from(gzipSync(manyLines(200)));
    for (let i = 200; i < 260; i++) gz[i] = 0x55;
    const { errors } = await decodeAll(memoryUnit('corrupt.gz', gz));
    assert.deepEqual(codes(errors), ['TH_INPUT_GZIP corrupt.gz']);
  });

  it('a gzip header alone', async () => {
    const { envelopes, errors } = await decodeAll(memoryUnit('header.gz', gzipSync('{}').subarray(0, 10)));
    assert.equal(envelopes.length, 0);
    assert.deepEqual(codes(errors), ['TH_INPUT_GZIP header.gz']);
  });
});

describe('invalid JSON mid-file, in each shape', () => {
  it('JSON lines: the damaged line is located uri:line, the next lines go on', async () => {
    const lines = jsonLines();
    lines[2] = damage(lines[2] ?? '', '"eventName"', '"CreateAccessKey"', 'CreateAccessKey'); // a bare word
    lines[4] = (lines[4] ?? '').slice(0, 300); // a line cut inside a string
    lines[5] = (lines[5] ?? '').slice(0, (lines[5] ?? '').indexOf(',"responseElements"')); // cut between members
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('bad.jsonl', lines.join('\n') + '\n', 500));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON bad.jsonl:3', 'TH_INPUT_JSON bad.jsonl:5', 'TH_INPUT_JSON bad.jsonl:6']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'PutBucketPolicy', 'RotateKey']);
    assert.deepEqual(envelopes.map((e) => e.origin.line), [1, 2, 4, 7]);
    assert.equal(stats.errors, 3);
  });

  it('JSON lines: a line cut after its first member does not swallow the next lines', async () => {
    const lines = jsonLines();
    lines[1] = '{"eventVersion":"1.08",';
    lines[3] = '{"eventVersion":"1.08","userIdentity":{';
    const { envelopes, errors } = await decodeAll(memoryUnit('cut.jsonl', lines.join('\n')));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON cut.jsonl:2', 'TH_INPUT_JSON cut.jsonl:4']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'CreateAccessKey', 'StopLogging', 'RunInstances', 'RotateKey']);
  });

  it('JSON lines: a run of lines that are not JSON is one error', async () => {
    const lines = jsonLines();
    const text = [lines[0], 'garbage', 'more garbage', '', 'and more', lines[1], 'x'].join('\n');
    const { envelopes, errors } = await decodeAll(memoryUnit('junk.jsonl', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON junk.jsonl:2', 'TH_INPUT_JSON junk.jsonl:7']);
    assert.match(errors[0]?.message ?? '', /lines 2-5 are not a JSON object or array/);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole']);
  });

  it('Records file: a damaged record is located uri#0.Records[i]; the records before and after are read', async () => {
    const text = damage(fixture('records.json').toString(), '"CreateAccessKey"', '"userName":"bob"', '"userName":bob');
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('bad.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON bad.json#0.Records[2]']);
    assert.match(errors[0]?.message ?? '', /line 1, byte \d+/);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'PutBucketPolicy', 'StopLogging']);
    assert.deepEqual(stats, { records: 4, skipped: 0, errors: 1 });
  });

  it('Records file: a lost quote (strings flip) still resumes at the next record', async () => {
    const text = damage(fixture('records.json').toString(), '"CreateAccessKey"', '"userName":"bob"', '"userName":"bob');
    const { envelopes, errors } = await decodeAll(memoryUnit('quote.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON quote.json#0.Records[2]']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'PutBucketPolicy', 'StopLogging']);
  });

  it('Records file: resuming after a damaged record does not take its nested objects for records', async () => {
    const text = damage(fixture('records-runinstances.json').toString(), '"RunInstances"', '"instanceType":"p3.16xlarge"', '"instanceType:"p3.16xlarge"');
    const { envelopes, errors } = await decodeAll(memoryUnit('nested.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON nested.json#0.Records[1]']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'StopLogging']);
  });

  it('Records file, pretty-printed: the damaged record is located, the line is in the message', async () => {
    const text = damage(fixture('records-pretty.json').toString(), '"PutBucketPolicy"', '"readOnly": false', '"readOnly": nope');
    const { envelopes, errors } = await decodeAll(memoryUnit('pretty.json', text, 256));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON pretty.json#0.Records[3]']);
    const line = text.slice(0, text.indexOf('"eventName": "PutBucketPolicy"')).split('\n').length;
    const recordLine = text.slice(0, text.lastIndexOf('{', text.indexOf('"eventName": "PutBucketPolicy"') - 1)).split('\n').length;
    assert.ok(line > recordLine);
    assert.match(errors[0]?.message ?? '', /\(line \d+, byte \d+\)/);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'CreateAccessKey', 'StopLogging']);
  });

  it('Records file, pretty-printed, with a lost quote: the newline ends the damage', async () => {
    const text = damage(fixture('records-pretty.json').toString(), '"CreateAccessKey"', '"userName": "bob"', '"userName": "bob');
    const { envelopes, errors } = await decodeAll(memoryUnit('pretty-quote.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON pretty-quote.json#0.Records[2]']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'PutBucketPolicy', 'StopLogging']);
  });

  it('Records file cut short (not gzip): the records before the cut, one TH_INPUT_JSON', async () => {
    const text = fixture('records.json').toString();
    const cut = text.slice(0, text.indexOf('"PutBucketPolicy"') + 40);
    const { envelopes, errors } = await decodeAll(memoryUnit('cut.json', cut));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON cut.json:1']);
    assert.match(errors[0]?.message ?? '', /ends before it is complete/);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'CreateAccessKey']);
  });

  it('bare array: a damaged element is located uri#0[i]', async () => {
    const text = damage(fixture('array.json').toString(), '"CreateAccessKey"', '"readOnly": false', '"readOnly": false,,');
    const { envelopes, errors } = await decodeAll(memoryUnit('array.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON array.json#0[1]']);
    assert.deepEqual(eventNames(envelopes), ['AssumeRole', 'RunInstances']);
  });

  it('EventBridge lines: a damaged event is its line', async () => {
    const lines = fixture('eventbridge.jsonl').toString().trim().split('\n');
    lines[1] = (lines[1] ?? '').replace('"detail-type"', 'detail-type');
    const { envelopes, errors } = await decodeAll(memoryUnit('eb.jsonl', lines.join('\n')));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON eb.jsonl:2']);
    assert.equal(envelopes.length, 4);
  });

  it('CloudWatch Logs: a message that is not JSON is located uri#value.logEvents[i]; the others go on', async () => {
    const payloads = fixture('cloudwatch-firehose.json').toString();
    // Third payload (value 2), second log event: cut its message.
    const at = payloads.indexOf('"messageType":"DATA_MESSAGE"', payloads.indexOf('CONTROL_MESSAGE'));
    const message = payloads.indexOf('"message":"', payloads.indexOf('"message":"', at) + 1);
    const text = payloads.slice(0, message) + '"message":"{\\"eventVersion\\":\\"1.09\\",' + payloads.slice(payloads.indexOf('"}', message + 11) + 1);
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('cwl.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON cwl.json#2.logEvents[1]']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole', 'CreateAccessKey', 'StopLogging']);
    assert.deepEqual(stats, { records: 4, skipped: 1, errors: 1 });
  });

  it('CloudWatch Logs: damage in the payload JSON itself loses only that log event', async () => {
    const payloads = fixture('cloudwatch-firehose.json').toString();
    const text = damage(payloads, '"logEvents"', '"timestamp":', '"timestamp"');
    const { envelopes, errors } = await decodeAll(memoryUnit('cwl2.json', gzipSync(text)));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON cwl2.json#0.logEvents[0]']);
    assert.deepEqual(eventNames(envelopes), ['AssumeRole', 'CreateAccessKey', 'PutBucketPolicy', 'StopLogging']);
  });

  it('lookup-events: a CloudTrailEvent that is not JSON', async () => {
    const text = damage(fixture('lookup-events.json').toString(), '"EventName": "AssumeRole"', '"CloudTrailEvent": "{', '"CloudTrailEvent": "{{');
    const { envelopes, errors } = await decodeAll(memoryUnit('lookup.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON lookup.json#0.Events[1].CloudTrailEvent']);
    assert.deepEqual(eventNames(envelopes), ['CreateAccessKey', 'ConsoleLogin']);
  });

  it('lookup-events: a damaged event in the Events array', async () => {
    const text = damage(fixture('lookup-events.json').toString(), '"EventName": "AssumeRole"', '"ReadOnly": "true"', '"ReadOnly": true"');
    const { envelopes, errors } = await decodeAll(memoryUnit('lookup2.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_JSON lookup2.json#0.Events[1]']);
    assert.deepEqual(eventNames(envelopes), ['CreateAccessKey', 'ConsoleLogin']);
  });
});

describe('records that are not objects', () => {
  it('Records members: TH_INPUT_RECORD uri#0.Records[i]', async () => {
    const records = (JSON.parse(fixture('records.json').toString()) as { Records: unknown[] }).Records;
    const text = JSON.stringify({ Records: [records[0], 42, 'text', null, records[1]] });
    const { envelopes, errors, stats } = await decodeAll(memoryUnit('mixed.json', text));
    assert.deepEqual(codes(errors), ['TH_INPUT_RECORD mixed.json#0.Records[1]', 'TH_INPUT_RECORD mixed.json#0.Records[2]', 'TH_INPUT_RECORD mixed.json#0.Records[3]']);
    assert.deepEqual(eventNames(envelopes), ['ConsoleLogin', 'AssumeRole']);
    assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1]);
    assert.deepEqual(stats, { records: 2, skipped: 0, errors: 3 });
  });

  it('array elements: TH_INPUT_RECORD uri#0[i]', async () => {
    const records = JSON.parse(fixture('array.json').toString()) as unknown[];
    const { envelopes, errors } = await decodeAll(memoryUnit('arr.json', JSON.stringify([records[0], [1], { not: 'cloudtrail' }])));
    assert.deepEqual(codes(errors), ['TH_INPUT_RECORD arr.json#0[1]', 'TH_INPUT_RECORD arr.json#0[2]']);
    assert.equal(envelopes.length, 1);
  });

  it('a JSON line that is an array of scalars or a scalar', async () => {
    const lines = jsonLines();
    const { envelopes, errors } = await decodeAll(memoryUnit('s.jsonl', [lines[0], '[1,2]', '42', lines[1]].join('\n')));
    assert.deepEqual(codes(errors), ['TH_INPUT_FORMAT s.jsonl:2', 'TH_INPUT_RECORD s.jsonl:3']);
    assert.equal(envelopes.length, 2);
  });
});

describe('empty, binary and unreadable inputs', () => {
  for (const [name, bytes] of [
    ['empty.json', Buffer.alloc(0)],
    ['blank.json', Buffer.from('  \n\n \r\n')],
    ['empty.json.gz', gzipSync(Buffer.alloc(0))],
  ] as const) {
    it(`${name}: no records, no error`, async () => {
      const { envelopes, errors, stats } = await decodeAll(memoryUnit(name, bytes));
      assert.equal(envelopes.length, 0);
      assert.deepEqual(errors, []);
      assert.deepEqual(stats, { records: 0, skipped: 0, errors: 0 });
    });
  }

  it('a binary file: one TH_INPUT_FORMAT for the unit', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(5000, 0xa7)]);
    for (const unit of [memoryUnit('image.png', png), memoryUnit('image.json.gz', gzipSync(png))]) {
      const { envelopes, errors } = await decodeAll(unit);
      assert.equal(envelopes.length, 0);
      assert.deepEqual(codes(errors), [`TH_INPUT_FORMAT ${unit.uri}`]);
      assert.match(errors[0]?.message ?? '', /binary content/);
    }
  });

  it('binary bytes after a JSON start: one error for the run, no crash', async () => {
    const random = Buffer.alloc(20000);
    let seed = 7;
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      random[i] = seed >> 16;
    }
    const bytes = Buffer.concat([Buffer.from(jsonLines()[0] + '\n'), random]);
    const { envelopes, errors } = await decodeAll(memoryUnit('mixed.bin', bytes, 999));
    assert.equal(envelopes.length, 1);
    assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'TH_INPUT_JSON' || e.code === 'TH_INPUT_FORMAT'), codes(errors).join(', '));
  });

  it('a unit that cannot be opened: TH_INPUT_READ', async () => {
    const unit: InputUnit = {
      uri: 'gone.json',
      open: () => {
        throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      },
    };
    const { errors } = await decodeAll(unit);
    assert.deepEqual(codes(errors), ['TH_INPUT_READ gone.json']);
  });

  it('a stream that fails mid-way: TH_INPUT_READ after the records read before', async () => {
    const lines = jsonLines();
    const unit: InputUnit = {
      uri: 'flaky.jsonl',
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from(lines.slice(0, 3).join('\n') + '\n' + (lines[3] ?? '').slice(0, 100));
            throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
          })(),
        ),
    };
    const { envelopes, errors } = await decodeAll(unit);
    assert.deepEqual(codes(errors), ['TH_INPUT_READ flaky.jsonl']);
    assert.equal(envelopes.length, 3);
  });
});

describe('random damage', () => {
  it('never throws, and the counters agree with what came out', async () => {
    let seed = 20240501;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const names = ['records.json', 'records-pretty.json', 'records.jsonl', 'array.json', 'cloudwatch-firehose.json', 'lookup-events.json', 'eventbridge.jsonl', 'records.json.gz'];
    for (let round = 0; round < 300; round++) {
      const name = names[Math.floor(random() * names.length)] ?? 'records.json';
      let buf = Buffer.from(fixture(name));
      for (let k = 0, ops = 1 + Math.floor(random() * 3); k < ops; k++) {
        const at = Math.floor(random() * buf.length);
        const op = Math.floor(random() * 4);
        if (op === 0) buf[at] = Math.floor(random() * 256);
        else if (op === 1) buf = buf.subarray(0, at);
        else if (op === 2) buf = Buffer.concat([buf.subarray(0, at), Buffer.from('{}[]",:\\\n'.charAt(Math.floor(random() * 9))), buf.subarray(at)]);
        else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + Math.floor(random() * 20))]);
      }
      if (random() < 0.3) buf = gzipSync(buf);
      const { envelopes, errors, stats } = await decodeAll(memoryUnit(name, buf, random() < 0.5 ? 0 : 1 + Math.floor(random() * 300)));
      assert.equal(stats.errors, errors.length);
      assert.equal(stats.records, envelopes.length);
      for (const envelope of envelopes) assert.ok(typeof envelope.record === 'object' && envelope.record !== null && !Array.isArray(envelope.record));
    }
  });
});
