import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlFile } from '../../src/sinks/jsonl-file.ts';
import { DeadLetterFile } from '../../src/sinks/dead-letter.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-file-sink-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('append writes one line per alert and reports where the file ends', async () => {
  const sink = new JsonlFile(join(root, 'a.jsonl'));
  const position = await sink.append(['{"id":"a1"}', '{"id":"a2"}']);
  assert.equal(position.offset, 24);
  assert.match(position.id, /^\d+:\d+$/);
  await sink.close();
  assert.equal(readFileSync(join(root, 'a.jsonl'), 'utf8'), '{"id":"a1"}\n{"id":"a2"}\n');
});

test('after a crash, the lines past the recorded end are recognised and a torn last line is cut off', async () => {
  const path = join(root, 'b.jsonl');
  const sink = new JsonlFile(path);
  const recorded = await sink.append(['{"id":"a1"}']);
  await sink.close();
  appendFileSync(path, '{"id":"a2"}\n{"id":"a3"}\n{"id":"a4","ti');
  const reopened = new JsonlFile(path);
  const { ids, position } = await reopened.linesAfter(recorded);
  assert.deepEqual([...ids], ['a2', 'a3']);
  assert.equal(readFileSync(path, 'utf8'), '{"id":"a1"}\n{"id":"a2"}\n{"id":"a3"}\n');
  assert.equal(position.offset, 36);
  await reopened.append(['{"id":"a4"}']);
  await reopened.close();
  assert.equal(readFileSync(path, 'utf8').split('\n').filter(Boolean).length, 4);
});

test('a file rotated since the recorded end is read from its start', async () => {
  const path = join(root, 'c.jsonl');
  const sink = new JsonlFile(path);
  const recorded = await sink.append(['{"id":"old"}']);
  await sink.close();
  renameSync(path, `${path}.1`);
  appendFileSync(path, '{"id":"new"}\n');
  const reopened = new JsonlFile(path);
  assert.deepEqual([...(await reopened.linesAfter(recorded)).ids], ['new']);
  await reopened.close();
});

test('the dead-letter file keeps the alert with the sink and the error', async () => {
  const file = new DeadLetterFile(join(root, 'dl', 'dead.jsonl'));
  await file.append('hook', '{"id":"a1","count":1}', 'HTTP 503 after 3 attempts');
  const line = JSON.parse(readFileSync(file.path, 'utf8')) as { sink: string; error: string; alert: { id: string }; failed_at: string };
  assert.equal(line.sink, 'hook');
  assert.equal(line.error, 'HTTP 503 after 3 attempts');
  assert.deepEqual(line.alert, { id: 'a1', count: 1 });
  assert.ok(!Number.isNaN(Date.parse(line.failed_at)));
});
