import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { decodeUnit } from '../../src/formats/index.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';

const TOTAL = 200_000;
const PER_CHUNK = 500;

interface Progress {
  produced: number;
}

/** JSON lines of small CloudTrail-like records, generated as the decoder pulls them. */
function generated(progress: Progress, total: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < total; i += PER_CHUNK) {
        let text = '';
        for (let j = i; j < i + PER_CHUNK; j++) {
          text +=
            `{"eventVersion":"1.09","eventTime":"2024-05-01T10:${String(Math.floor(j / 60) % 60).padStart(2, '0')}:${String(j % 60).padStart(2, '0')}Z",` +
            `"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.${j % 250}",` +
            `"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Reader/s${j}"},` +
            `"requestParameters":{"bucketName":"example-data","key":"reports/2024/05/${j}.csv"},"eventID":"e-${j}"}\n`;
        }
        progress.produced += PER_CHUNK;
        yield Buffer.from(text);
      }
    })(),
  );
}

async function run(unit: InputUnit, progress: Progress): Promise<{ count: number; firstBatchAt: number; heapGrowth: number; batches: number }> {
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let maxHeap = heapBefore;
  let firstBatchAt = -1;
  let count = 0;
  let batches = 0;
  for await (const batch of decodeUnit(unit, { onError: (e) => assert.fail(`${e.location} ${e.message}`), stats })) {
    if (firstBatchAt === -1) firstBatchAt = progress.produced;
    count += batch.length;
    if (++batches % 50 === 0) maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  }
  assert.equal(stats.records, count);
  return { count, firstBatchAt, heapGrowth: maxHeap - heapBefore, batches };
}

describe('streaming', () => {
  it(`decodes ${TOTAL} generated JSON lines in batches as they arrive, in bounded memory`, async () => {
    const progress: Progress = { produced: 0 };
    const result = await run({ uri: 'generated.jsonl', open: () => generated(progress, TOTAL) }, progress);
    assert.equal(result.count, TOTAL);
    assert.equal(result.batches, Math.ceil(TOTAL / 512));
    // The first batch came out long before the stream ended: nothing buffers the whole input.
    assert.ok(result.firstBatchAt <= 10 * PER_CHUNK, `first batch after ${result.firstBatchAt} records produced`);
    // ~75 MB of JSON went through; the heap did not grow with it.
    assert.ok(result.heapGrowth < 48 * 1024 * 1024, `heap grew by ${Math.round(result.heapGrowth / 1024 / 1024)} MB`);
  });

  it('the same through gzip', async () => {
    const progress: Progress = { produced: 0 };
    const total = TOTAL / 4;
    const result = await run({ uri: 'generated.jsonl.gz', open: () => generated(progress, total).pipe(createGzip()) }, progress);
    assert.equal(result.count, total);
    assert.ok(result.firstBatchAt < total / 2, `first batch after ${result.firstBatchAt} records produced`);
  });
});

describe('stopping early', () => {
  for (const gzip of [false, true]) {
    it(`closes the input and reports nothing when the consumer breaks off (${gzip ? 'gzip' : 'plain'}, a stream that never ends)`, async () => {
      const { PassThrough } = await import('node:stream');
      const { gzipSync } = await import('node:zlib');
      const source = new PassThrough();
      const line = '{"eventVersion":"1.09","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers"}\n';
      const text = line.repeat(2000);
      // A gzip member that is never finished, then silence: like stdin from a slow producer.
      source.write(gzip ? gzipSync(text).subarray(0, 2000) : Buffer.from(text));
      const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
      const errors: string[] = [];
      let batches = 0;
      for await (const batch of decodeUnit({ uri: '-', open: () => source }, { stats, onError: (e) => errors.push(e.code), batchSize: 8 })) {
        assert.ok(batch.length > 0);
        if (++batches === 2) break;
      }
      assert.equal(batches, 2);
      assert.deepEqual(errors, []);
      assert.equal(source.destroyed, true);
    });
  }
});
