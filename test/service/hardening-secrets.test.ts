/**
 * `watch` never logs or stores a sink URL's secrets: with a receiver that fails, the log lines
 * (TH_SINK_DEAD_LETTER, TH_SINK_DELIVERY) and the dead-letter file hold neither the URL's
 * password nor its `token=` value, for webhook and Slack sinks, whatever the sink's error quotes;
 * nor does a running `watch` whose configuration holds such URLs and a bearer header; and the
 * logger (pino) censors secret fields by path and URL credentials and bearer tokens in any text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureLogger, eventually, startReceiver } from './harness.ts';
import { stopLogging } from './cloudtrail-fixtures.ts';
import { validWatchConfig } from './config-fixtures.ts';
import { WatchService } from '../../src/service/watch.ts';
import type { WebhookReceiver } from './harness.ts';
import { removeDir, tempDir } from './files.ts';
import { StateStore } from '../../src/store/state-store.ts';
import { createTarget, DeliveryTarget } from '../../src/service/delivery-targets.ts';
import type { HttpSinkConfig } from '../../src/service/config.ts';
import { Outbox } from '../../src/service/outbox.ts';
import { serviceMetrics } from '../../src/service/service-metrics.ts';
import type { Alert } from '../../src/core/alert.ts';
import type { AlertSink } from '../../src/sinks/sink.ts';

const root = tempDir('hardening-secrets');
let receiver: WebhookReceiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.close();
  await removeDir(root);
});

const metrics = () => serviceMetrics({ newestEventTime: () => undefined, lastNotificationAge: () => undefined, outboxPending: () => [], correlationGroups: () => 0, inFlightMessages: () => 0 });

function alert(id: string): Alert {
  return { id, time: null, rule: { id: 'r', name: 'r', title: 'R', level: 'high' }, attack: { techniques: [], tactics: [] }, source: 'cloudtrail', account: null, region: null, actor: null, source_ip: null, event_ids: [id], count: 1 };
}

const SECRETS = [
  { password: 'Pa55-w0rd-0f-the-hook-owner', token: 'xoxb-1234567890-abcdefghij' },
  { password: 'p@ss:w/rd%!&=', token: 'tok/en+with=signs' },
];

function urlWith(secret: { password: string; token: string }): string {
  const url = new URL(receiver.url);
  url.username = 'alerts';
  url.password = encodeURIComponent(secret.password);
  url.search = `?token=${encodeURIComponent(secret.token)}`;
  return url.href;
}

function assertClean(text: string, secret: { password: string; token: string }, what: string): void {
  for (const value of [secret.password, encodeURIComponent(secret.password), secret.token, encodeURIComponent(secret.token)]) {
    assert.ok(!text.includes(value), `${what} holds ${JSON.stringify(value)}`);
  }
  assert.ok(!/token=(?!\*\*\*)/.test(text), `${what} holds a token= value`);
}

let n = 0;
function config(type: 'webhook' | 'slack', url: string): HttpSinkConfig {
  n += 1;
  return { type, name: `${type}-${n}`, url, headers: {}, maxAttempts: 2, timeoutMs: 2000, deadLetter: join(root, `dead-${n}.jsonl`), location: 'test' };
}

test('a failing receiver: the log lines and the dead-letter file never hold the password or the token', async () => {
  for (const secret of SECRETS) {
    for (const type of ['webhook', 'slack'] as const) {
      receiver.status = () => 503;
      const state = StateStore.open(join(root, `state-${++n}`));
      const sink = config(type, urlWith(secret));
      state.registerSink(sink.name);
      state.commitObject({ uri: 'u', version: '', object: 'u', records: 1, errors: 0, alerts: [alert(`a-${n}`), alert(`b-${n}`)], engineState: new Map() });
      const { logger, lines } = captureLogger();
      const target = createTarget(sink, { onDeadLetter: (error) => logger.located('error', error), httpBaseDelayMs: 2 });
      const outbox = new Outbox(state, [target], logger, metrics());
      await outbox.start();
      assert.equal(await outbox.flush(), true);
      await outbox.close();
      state.close();
      const dead = await readFile(sink.deadLetter, 'utf8');
      assert.equal(dead.trim().split('\n').length, 2, 'both alerts dead-lettered');
      assertClean(dead, secret, `${type} dead-letter file`);
      const log = lines.map((line) => JSON.stringify(line)).join('\n');
      assert.match(log, /TH_SINK_DEAD_LETTER/);
      assertClean(log, secret, `${type} log`);
    }
  }
  receiver.status = () => 200;
});

test('a sink error that quotes the URL is redacted before the outbox logs it (TH_SINK_DELIVERY)', async () => {
  for (const secret of SECRETS) {
    const sink = config('webhook', urlWith(secret));
    const failing: AlertSink = {
      batchSize: 10,
      start: async () => undefined,
      deliver: async () => {
        throw new Error(`cannot POST to ${sink.url} (and its password is ${secret.password})`);
      },
      close: async () => {
        throw new Error(`closing ${sink.url}`);
      },
    };
    const state = StateStore.open(join(root, `state-${++n}`));
    state.registerSink(sink.name);
    state.commitObject({ uri: 'u', version: '', object: 'u', records: 1, errors: 0, alerts: [alert(`c-${n}`)], engineState: new Map() });
    const { logger, lines } = captureLogger();
    const outbox = new Outbox(state, [new DeliveryTarget(sink, failing)], logger, metrics());
    await outbox.start();
    assert.equal(await outbox.flush(), false);
    await outbox.close();
    state.close();
    const log = lines.map((line) => JSON.stringify(line)).join('\n');
    assert.match(log, /TH_SINK_DELIVERY/);
    assert.match(log, /sink did not close cleanly/);
    assertClean(log, secret, 'outbox log');
  }
});

test('watch with a webhook and a Slack URL holding a token in the config (from the environment): no log line holds a secret', { timeout: 30_000 }, async () => {
  const secret = SECRETS[0] as { password: string; token: string };
  const bearer = 'sIeM-b34rer-t0ken-0123456789';
  const slack = new URL(receiver.url);
  slack.pathname = '/services/T0000AAAA/B0000BBBB/XoXoSlackSecretPath0123';
  process.env.TRAILHOUND_TEST_HOOK_URL = urlWith(secret);
  process.env.TRAILHOUND_TEST_SLACK_URL = slack.href;
  process.env.TRAILHOUND_TEST_BEARER = bearer;
  receiver.status = () => 503;
  const dir = join(root, `watch-${++n}`);
  const folder = join(dir, 'in');
  await mkdir(folder, { recursive: true });
  const yaml = [
    'state_dir: state',
    'rules:',
    '  default_rules: true',
    'sources:',
    '  - type: folder',
    `    path: ${folder}`,
    '    poll_interval: 100ms',
    'sinks:',
    '  - type: webhook',
    '    name: siem',
    '    url: ${TRAILHOUND_TEST_HOOK_URL}',
    '    headers:',
    '      Authorization: "Bearer ${TRAILHOUND_TEST_BEARER}"',
    '    max_attempts: 2',
    '  - type: slack',
    '    url: ${TRAILHOUND_TEST_SLACK_URL}',
    '    max_attempts: 2',
    'log_level: debug',
    '',
  ].join('\n');
  const config = validWatchConfig(yaml, join(dir, 'trailhound.yml'));
  const { logger, lines } = captureLogger();
  const service = await WatchService.start(config, { logger, httpBaseDelayMs: 2 });
  try {
    await writeFile(join(folder, 'trail.json'), JSON.stringify({ Records: [stopLogging('ev-secret-1', '2026-11-05T10:00:00Z')] }));
    await eventually('both sinks dead-letter the alert', () => lines.filter((line) => line.code === 'TH_SINK_DEAD_LETTER').length >= 2, 15_000);
  } finally {
    await service.stop();
    receiver.status = () => 200;
    delete process.env.TRAILHOUND_TEST_HOOK_URL;
    delete process.env.TRAILHOUND_TEST_SLACK_URL;
    delete process.env.TRAILHOUND_TEST_BEARER;
  }
  const log = lines.map((line) => JSON.stringify(line)).join('\n');
  assert.match(log, /"msg":"watching"/);
  assertClean(log, secret, 'watch log');
  for (const value of [bearer, 'XoXoSlackSecretPath0123', process.env.TRAILHOUND_TEST_HOOK_URL ?? urlWith(secret)]) assert.ok(!log.includes(value), `the watch log holds ${value}`);
});

test('the logger itself redacts: secret fields by path (pino redact), URL credentials and bearer tokens in any text', () => {
  const secret = SECRETS[1] as { password: string; token: string };
  const url = urlWith(secret);
  const { logger, lines } = captureLogger();
  logger.error(`cannot POST to ${url}`, { error: `fetch ${url} failed`, uri: url, list: [url] });
  logger.warn('header echoed', { error: 'got 401 for Authorization: Bearer abcDEF0123456789', detail: 'Basic YWxlcnRzOnBhc3N3b3Jk' });
  logger.pino.info({ url, webhook_url: url, token: secret.token, password: secret.password, headers: { authorization: 'Bearer x', 'x-api-key': 'k' }, sink: { name: 'siem', url, headers: { Authorization: 'Bearer y' } }, authorization: 'Bearer z' }, 'structured');
  const log = lines.map((line) => JSON.stringify(line)).join('\n');
  assertClean(log, secret, 'logger output');
  assert.ok(!log.includes('abcDEF0123456789') && !log.includes('YWxlcnRzOnBhc3N3b3Jk'), 'bearer and basic credentials are redacted');
  const structured = lines.find((line) => line.msg === 'structured') ?? {};
  assert.deepEqual(
    { url: structured.url, webhook_url: structured.webhook_url, token: structured.token, password: structured.password, headers: structured.headers, authorization: structured.authorization, sink: structured.sink },
    { url: '[redacted]', webhook_url: '[redacted]', token: '[redacted]', password: '[redacted]', headers: '[redacted]', authorization: '[redacted]', sink: { name: 'siem', url: '[redacted]', headers: '[redacted]' } },
  );
  assert.match(String(lines[0]?.msg), /^cannot POST to http:\/\/\*\*\*@127\.0\.0\.1:\d+\/hook\/secret-token\?token=\*\*\*$/, 'the URL stays readable, its secrets do not');
});
