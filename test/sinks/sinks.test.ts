import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createSink } from '../../src/sinks/index.ts';
import { sinkAlert } from '../../src/sinks/sink.ts';
import type { Alert } from '../../src/core/alert.ts';

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: '0123456789abcdef0123456789abcdef',
    time: '2026-11-02T09:14:05.000Z',
    rule: { id: 'r-1', name: 'aws-ct-cloudtrail-stopped-or-deleted', title: 'CloudTrail stopped', level: 'high' },
    attack: { techniques: ['T1562.008', 'T1685.002'], tactics: ['defense-evasion'] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: 'arn:aws:sts::111122223333:assumed-role/Admin/attacker',
    source_ip: '203.0.113.7',
    event_ids: ['e-1'],
    count: 1,
    ...overrides,
  };
}

async function render(format: 'jsonl' | 'table', alerts: Alert[]): Promise<string> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const sink = createSink(format, stream, { colour: false });
  for (const item of alerts) await sink.deliver([sinkAlert(item)]);
  await sink.close();
  return Buffer.concat(chunks).toString('utf8');
}

test('jsonl writes one parseable alert per line, unchanged', async () => {
  const alerts = [alert(), alert({ id: 'ffffffffffffffffffffffffffffffff', count: 3 })];
  const lines = (await render('jsonl', alerts)).trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((line) => JSON.parse(line) as unknown), alerts);
});

test('the table has a header and one readable row per alert', async () => {
  const text = await render('table', [alert()]);
  const [header, row, extra] = text.split('\n');
  assert.match(header ?? '', /^TIME\s+LEVEL\s+RULE\s+ATT&CK\s+ACCOUNT\s+ACTOR\s+SOURCE IP\s+N$/);
  assert.match(row ?? '', /^2026-11-02T09:14:05Z\s+HIGH\s+aws-ct-cloudtrail-stopped-or-deleted\s+T1562\.008\s+111122223333\s+assumed-role\/Admin\/attacker\s+203\.0\.113\.7\s+1$/);
  assert.equal(extra, '');
});

test('an empty table says so instead of printing nothing', async () => {
  assert.equal(await render('table', []), 'No alerts.\n');
  assert.equal(await render('jsonl', []), '');
});

test('large outputs are written completely through backpressure', async () => {
  const many = Array.from({ length: 3000 }, (_, index) => alert({ id: String(index).padStart(32, '0') }));
  const lines = (await render('jsonl', many)).trimEnd().split('\n');
  assert.equal(lines.length, 3000);
  assert.equal((JSON.parse(lines[2999] ?? '{}') as Alert).id, String(2999).padStart(32, '0'));
});
