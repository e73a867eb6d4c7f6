/**
 * End to end through `trailhound scan`: CloudWatch Logs subscription payloads and Firehose
 * records reach the same detection path as every CloudTrail envelope (the built-in
 * aws-ct-cloudtrail-stopped-or-deleted fires on the records inside them), a damaged record is
 * a located input error on stderr (exit code 3) and the other records still raise their alerts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { alertLines, ruleCounts, runCli } from '../cli/run-cli.ts';
import { CONTROL_MESSAGE, awslogsEvent, dataMessage, firehoseEvent, gzipBase64, plainBase64, trailRecord } from './embedded-payloads.ts';

const RULE = 'aws-ct-cloudtrail-stopped-or-deleted';

test('scan: rules fire on records inside awslogs events, saved base64 payloads and Firehose records; bad records are located', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cwl-'));
  const stop = (id: string) => trailRecord('StopLogging', id);
  writeFileSync(join(dir, 'lambda-event.json'), JSON.stringify(awslogsEvent(dataMessage([stop('11111111-0000-4000-8000-000000000001')]))));
  // A saved event.awslogs.data under a misleading name: sniffed from its content.
  writeFileSync(join(dir, 'payload.log.gz'), `${gzipBase64(dataMessage([stop('22222222-0000-4000-8000-000000000002')]))}\n`);
  writeFileSync(join(dir, 'control.json'), JSON.stringify(awslogsEvent(CONTROL_MESSAGE)));
  writeFileSync(
    join(dir, 'firehose.json'),
    JSON.stringify(firehoseEvent([
      gzipBase64(dataMessage([stop('33333333-0000-4000-8000-000000000003')])),
      'this is not base64',
      plainBase64(trailRecord('DeleteTrail', '44444444-0000-4000-8000-000000000004')),
    ])),
  );
  const result = await runCli(['scan', dir, '--no-events']);
  assert.equal(result.code, 3, result.stderr);
  const alerts = alertLines(result.stdout);
  assert.equal(ruleCounts(alerts)[RULE], 4, JSON.stringify(ruleCounts(alerts)));
  const events = alerts.filter((alert) => alert.rule.name === RULE).flatMap((alert) => alert.event_ids).sort();
  assert.deepEqual(events, ['11111111-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002', '33333333-0000-4000-8000-000000000003', '44444444-0000-4000-8000-000000000004']);
  assert.match(result.stderr, /firehose\.json#0\.records\[1\]\.data: TH_INPUT_FORMAT records\[1\]\.data is not base64/);
  assert.match(result.stderr, /4 records from 4 inputs/);
  assert.match(result.stderr, /1 input error/);
});

test('scan --max-decompressed bounds the payloads inside an input: TH_INPUT_LIMIT at the record, the record before it alerts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cwl-limit-'));
  const big = dataMessage(Array.from({ length: 400 }, (_, i) => trailRecord('CreateAccessKey', `big-${i}`)));
  const file = join(dir, 'firehose.json');
  writeFileSync(file, JSON.stringify(firehoseEvent([gzipBase64(dataMessage([trailRecord('StopLogging', '55555555-0000-4000-8000-000000000005')])), gzipBase64(big)])));
  const result = await runCli(['scan', file, '--max-decompressed', '64KiB', '--no-events']);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(ruleCounts(alertLines(result.stdout))[RULE], 1);
  assert.match(result.stderr, /firehose\.json#0\.records\[1\]\.data: TH_INPUT_LIMIT/);
});

test('scan --max-decompressed bounds embedded payloads in worker threads too (--workers 2)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-cwl-workers-'));
  const big = dataMessage(Array.from({ length: 400 }, (_, i) => trailRecord('CreateAccessKey', `big-${i}`)));
  // Enough inputs that the workers take most of them.
  for (let n = 0; n < 200; n++) {
    writeFileSync(join(dir, `firehose-${n}.json`), JSON.stringify(firehoseEvent([gzipBase64(dataMessage([trailRecord('StopLogging', `66666666-0000-4000-8000-${String(n).padStart(12, "0")}`)])), gzipBase64(big)])));
  }
  const result = await runCli(['scan', dir, '--max-decompressed', '64KiB', '--no-events', '--workers', '2']);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(ruleCounts(alertLines(result.stdout))[RULE], 200);
  assert.equal(result.stderr.match(/records\[1\]\.data: TH_INPUT_LIMIT/g)?.length, 200);
});
