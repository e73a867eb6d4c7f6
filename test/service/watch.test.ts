/**
 * `watch` in process, with the real SDK clients against the S3 server and the fake SQS server:
 * every notification shape, test events, URL-encoded keys, redelivery, poison objects and
 * messages, visibility extension, graceful shutdown, folders, metrics and the webhook sink.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUCKET, captureLogger, cloudTrailNotification, eventually, idsInFile, isLogLine, putLogFile, s3Event, send, snsWrapped, startServiceHarness, waitForAlerts } from './harness.ts';
import type { ServiceHarness } from './harness.ts';
import { stopLogging, trailKey } from './cloudtrail-fixtures.ts';
import { listItem, validWatchConfig, watchYaml } from './config-fixtures.ts';
import { readJsonl } from './files.ts';
import type { WatchConfig } from '../../src/service/config.ts';
import { WatchService } from '../../src/service/watch.ts';
import type { WatchOptions } from '../../src/service/watch.ts';
import { stableAlertId } from '../../src/engine/alerts/build.ts';

const STOPPED_RULE = '2bc4a4b9-4ae9-4a0e-a7d7-1f7c1e3bd2b3';
let h: ServiceHarness;
let stoppedRuleId = STOPPED_RULE;
let counter = 0;
/** Every test ends, passing or failing, within this. */
const BOUNDED = { timeout: 30_000 };

before(async () => {
  h = await startServiceHarness();
  const rule = await readFile(new URL('../../rules/aws/cloudtrail/aws-ct-cloudtrail-stopped-or-deleted.yml', import.meta.url), 'utf8');
  stoppedRuleId = /^id: (\S+)/m.exec(rule)?.[1] ?? STOPPED_RULE;
});

after(async () => {
  await h?.close();
});

interface Setup {
  queueUrl: string;
  queue: string;
  /** The queue's source name in the metrics labels. */
  source: string;
  stateDir: string;
  alerts: string;
  config: WatchConfig;
}

interface SetupOptions {
  sources?: string[];
  sinks?: string[];
  visibility?: string;
}

/** A new queue and run directory, and a config: default rules, that queue (poison after 2), a file sink. */
function setup(options: SetupOptions = {}): Setup {
  counter += 1;
  const queue = `queue-${counter}`;
  const queueUrl = h.sqs.createQueue(queue, 30);
  const base = join(h.dir, `run-${counter}`);
  const stateDir = `${base}/state`;
  const alerts = `${base}/alerts.jsonl`;
  const yaml = watchYaml({ stateDir, defaultRules: true, s3Endpoint: h.s3.endpoint, queueUrl, visibility: options.visibility ?? '2s', poisonAfter: 2, sources: options.sources, alertsPath: alerts, sinks: options.sinks });
  return { queue, queueUrl, source: `sqs:${queue}`, stateDir, alerts, config: validWatchConfig(yaml, join(h.dir, `config-${counter}.yml`)) };
}

/** A log file with one StopLogging call; returns the id of the alert it raises. */
async function put(key: string, id: string, time = '2026-11-05T10:00:00Z'): Promise<string> {
  await putLogFile(h, key, [stopLogging(id, time)]);
  return stableAlertId(stoppedRuleId, [id]);
}

/** Starts the service on the setup's config, logging to a captured logger unless told otherwise. */
function start(s: Setup, options: WatchOptions = {}): Promise<WatchService> {
  return WatchService.start(s.config, { logger: captureLogger().logger, ...options });
}

/** Runs `body` with the service started on the setup's config, and stops it whatever happens. */
async function withService(s: Setup, options: WatchOptions, body: (service: WatchService) => Promise<void>): Promise<void> {
  const service = await start(s, options);
  try {
    await body(service);
  } finally {
    await service.stop();
  }
}

test('every notification shape leads to the object: direct, SNS-wrapped, CloudTrail SNS; test events are deleted; encoded keys are decoded', BOUNDED, async () => {
  const { receiver } = h;
  const s = setup({ sinks: [listItem('webhook', { url: receiver.url, headers: '{Authorization: "Bearer t0k3n"}' })] });
  const { logger, lines } = captureLogger();
  const keyDirect = trailKey('direct');
  const keySpaces = 'exports/manual upload/a+b (1).json.gz';
  const keySns = trailKey('sns');
  const keyTrail = trailKey('trail');
  const expected = [await put(keyDirect, `ev-${counter}-direct`), await put(keySpaces, `ev-${counter}-spaces`), await put(keySns, `ev-${counter}-sns`), await put(keyTrail, `ev-${counter}-trail`)];
  await send(h, s.queueUrl, JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-05T10:00:00Z', Bucket: BUCKET }));
  await send(h, s.queueUrl, s3Event([keyDirect, keySpaces]));
  await send(h, s.queueUrl, snsWrapped(s3Event([keySns])));
  await send(h, s.queueUrl, snsWrapped(cloudTrailNotification([keyTrail])));
  const bodiesBefore = receiver.bodies.length;
  await withService(s, { logger, httpBaseDelayMs: 5 }, async (service) => {
    await h.sqs.waitUntilEmpty(s.queue, 15_000);
    assert.deepEqual((await idsInFile(s.alerts)).sort(), [...expected].sort());
    const received = receiver.bodies.slice(bodiesBefore);
    assert.deepEqual(received.map((body) => body.id).sort(), [...expected].sort());
    const headers = receiver.headers.slice(bodiesBefore);
    assert.equal(headers[0]?.authorization, 'Bearer t0k3n');
    assert.equal(headers[0]?.['idempotency-key'], received[0]?.id);
    assert.equal(service.metrics.value('trailhound_messages_total', { source: s.source, outcome: 'test_event' }), 1);
    assert.equal(service.metrics.value('trailhound_messages_total', { source: s.source, outcome: 'deleted' }), 4);
    assert.equal(service.metrics.value('trailhound_alerts_total', { rule: 'aws-ct-cloudtrail-stopped-or-deleted', level: 'high' }), 4);
  });
  assert.ok(lines.every(isLogLine), 'every log line is a JSON object with time, level and msg');
  assert.ok(lines.some((line) => line.msg === 'stopped'));
});

test('a redelivered notification or a restart never scans an object twice', BOUNDED, async () => {
  const s = setup();
  const key = trailKey('twice');
  const id = await put(key, `ev-${counter}-twice`);
  await send(h, s.queueUrl, s3Event([key]));
  await send(h, s.queueUrl, s3Event([key]));
  let service = await start(s);
  await h.sqs.waitUntilEmpty(s.queue, 10_000);
  assert.equal(service.metrics.value('trailhound_objects_total', { source: s.source, outcome: 'processed' }), 1);
  assert.equal(service.metrics.value('trailhound_objects_total', { source: s.source, outcome: 'skipped' }), 1);
  await service.stop();
  await send(h, s.queueUrl, s3Event([key]));
  service = await start(s);
  await h.sqs.waitUntilEmpty(s.queue, 10_000);
  assert.equal(service.metrics.value('trailhound_objects_total', { source: s.source, outcome: 'skipped' }), 1);
  await service.stop();
  assert.deepEqual(await idsInFile(s.alerts), [id]);
});

test('an object that cannot be read is retried, then poisoned: recorded, reported, its message deleted', BOUNDED, async () => {
  const s = setup({ visibility: '1s' });
  const { logger, lines } = captureLogger();
  const missing = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/05/missing.json.gz';
  await send(h, s.queueUrl, s3Event([missing]));
  await send(h, s.queueUrl, 'this is not json');
  await withService(s, { logger }, () => h.sqs.waitUntilEmpty(s.queue, 15_000));
  const poisoned = await readJsonl<{ uri: string; error: string }>(join(s.stateDir, 'poisoned.jsonl'));
  assert.deepEqual(poisoned.map((item) => item.uri).sort(), [`s3://${BUCKET}/${missing}`, ...poisoned.filter((item) => item.uri.startsWith('sqs-message:')).map((item) => item.uri)].sort());
  assert.equal(poisoned.length, 2);
  assert.match(poisoned.find((item) => item.uri.startsWith('s3://'))?.error ?? '', /NoSuchKey/);
  const codes = lines.map((line) => line.code);
  assert.ok(codes.includes('TH_INPUT_POISONED'));
  assert.ok(codes.includes('TH_SQS_MESSAGE'));
  assert.equal(lines.filter((line) => line.code === 'TH_INPUT_READ').length, 1, 'one failed attempt before the second poisons it');
});

test('visibility is extended while an object is read; a slow object is not handed to anyone else', BOUNDED, async () => {
  const s = setup({ visibility: '1s' });
  const key = trailKey('slow');
  await put(key, `ev-${counter}-slow`);
  h.s3.delay = (request) => (request.key === key ? 2200 : 0);
  await send(h, s.queueUrl, s3Event([key]));
  await withService(s, {}, async () => {
    try {
      await h.sqs.waitUntilEmpty(s.queue, 15_000);
    } finally {
      h.s3.delay = () => 0;
    }
  });
  assert.equal(h.sqs.stats(s.queue).received, 1, 'received once: the 1 s visibility was extended during the 2.2 s read');
  assert.ok(h.sqs.operations.includes('ChangeMessageVisibility'));
});

test('graceful stop hands back the messages not started (visibility 0) and exits cleanly', BOUNDED, async () => {
  const s = setup();
  const keys: string[] = [];
  for (let i = 0; i < 4; i++) {
    const key = trailKey(`stop${i}`);
    keys.push(key);
    await put(key, `ev-${counter}-stop${i}`);
  }
  h.s3.delay = (request) => (keys.includes(request.key) ? 600 : 0);
  for (const key of keys) await send(h, s.queueUrl, s3Event([key]));
  const service = await start(s);
  await eventually('the first object is being read', () => h.s3.fetchedKeys().some((key) => keys.includes(key)));
  await service.stop();
  h.s3.delay = () => 0;
  const stats = h.sqs.stats(s.queue);
  assert.equal(stats.inFlight, 0, 'nothing left invisible');
  assert.ok(stats.deleted >= 1, 'the object in progress finished and its message was deleted');
  assert.equal(stats.deleted + stats.visible, 4);
});

test('a folder source picks up new files; metrics are served in the Prometheus format', BOUNDED, async () => {
  const folder = join(h.dir, `folder-${counter + 1}`);
  await mkdir(folder, { recursive: true });
  const s = setup({ sources: [listItem('folder', { path: folder, poll_interval: '200ms' })] });
  await withService(s, { metrics: { host: '127.0.0.1', port: 0 } }, async (service) => {
    await writeFile(join(folder, 'trail.json'), JSON.stringify({ Records: [stopLogging(`ev-${counter}-folder`, '2026-11-05T10:00:00Z')] }));
    const id = stableAlertId(stoppedRuleId, [`ev-${counter}-folder`]);
    await waitForAlerts('the folder file is scanned', s.alerts, (ids) => ids.includes(id), 10_000);
    let text = '';
    await eventually('the alert is delivered (outbox empty)', async () => {
      const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
      text = await response.text();
      return /trailhound_outbox_pending\{sink="file:[^"]+"\} 0/.test(text);
    });
    assert.match(text, /# TYPE trailhound_objects_total counter/);
    assert.match(text, new RegExp(`trailhound_objects_total\\{outcome="processed",source="folder:${folder.replace(/[/\\.]/g, '\\$&')}"\\} 1`));
    assert.match(text, /trailhound_alerts_total\{level="high",rule="aws-ct-cloudtrail-stopped-or-deleted"\} 1/);
    assert.match(text, /trailhound_lag_seconds \d+/);
  });
});

test('a second watch on the same state directory is refused (TH_STATE_OPEN)', BOUNDED, async () => {
  const s = setup();
  await withService(s, {}, async () => {
    await assert.rejects(start(s), (error: Error & { code?: string }) => error.code === 'TH_STATE_OPEN');
  });
});
