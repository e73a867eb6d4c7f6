/**
 * A webhook URL's secrets (`http://user:password@host/`, `?token=`) never reach an error
 * message or the dead-letter file, whatever fails (a refusal, an outage, a connection refused,
 * a timeout); credentials in the URL are sent as Basic authorization, since fetch refuses a
 * URL holding them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startReceiver } from '../service/harness.ts';
import type { WebhookReceiver } from '../service/harness.ts';
import { removeDir, tempDir } from '../service/files.ts';
import { postJson, redactSecrets, redactSecretsInText, WebhookSink } from '../../src/sinks/webhook.ts';
import { SlackSink } from '../../src/sinks/slack.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { random } from '../random.ts';

let receiver: WebhookReceiver;
/** A server that accepts connections and never answers (timeouts). */
let silent: Server;
const root = tempDir('webhook-secrets');
before(async () => {
  receiver = await startReceiver();
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
});
after(async () => {
  await receiver?.close();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await removeDir(root);
});

/** Secrets as users write them: letters, digits, and characters that need percent-encoding. */
function secrets(seed: number): { password: string; token: string; user: string }[] {
  const rng = random(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const word = (n: number, extra = ''): string => {
    const chars = alphabet + extra;
    let out = '';
    for (let i = 0; i < n; i++) out += chars[Math.floor(rng() * chars.length)];
    return out;
  };
  return [
    { user: 'svc', password: `S3CRET-${word(20)}`, token: `tok${word(24)}` },
    { user: `deploy-${word(6)}`, password: `p@ss:w/rd%${word(12, '!$&()*+,;=')}`, token: `${word(30)}==` },
    { user: word(10), password: word(40), token: word(8) },
  ];
}

function hostileUrl(base: string, secret: { password: string; token: string; user: string }): string {
  const url = new URL(base);
  url.username = encodeURIComponent(secret.user);
  url.password = encodeURIComponent(secret.password);
  url.search = `?token=${encodeURIComponent(secret.token)}&channel=alerts`;
  return url.href;
}

function assertNoSecret(text: string, secret: { password: string; token: string }, label: string): void {
  for (const value of [secret.password, encodeURIComponent(secret.password), secret.token, encodeURIComponent(secret.token)]) {
    assert.ok(!text.includes(value), `${label}: the secret ${JSON.stringify(value)} leaked in ${JSON.stringify(text)}`);
  }
  assert.ok(!/token=(?!\*\*\*)/.test(text), `${label}: a token= value in ${JSON.stringify(text)}`);
}

test('every failed delivery redacts the URL secrets: refusal, outage, connection refused, timeout', async () => {
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
  for (const secret of secrets(11)) {
    const targets: [string, string, (n: number) => number][] = [
      ['refused (400)', receiver.url, () => 400],
      ['outage (503)', receiver.url, () => 503],
      ['connection refused', 'http://127.0.0.1:1/hook', () => 200],
      ['timeout', silentUrl, () => 200],
    ];
    for (const [label, base, status] of targets) {
      receiver.status = status;
      const url = hostileUrl(base, secret);
      const error = await postJson('{}', { url, timeoutMs: 300, maxAttempts: 2, baseDelayMs: 2 }).then(
        () => assert.fail(`${label}: delivered`),
        (failure: unknown) => failure as Error,
      );
      assertNoSecret(error.message, secret, label);
      assert.ok(!error.message.includes(secret.user) || secret.user.length < 4, `${label}: user name in the message`);
    }
  }
  receiver.status = () => 200;
});

test('credentials in the URL are sent as Basic authorization, and the request reaches the receiver', async () => {
  const [secret] = secrets(12);
  if (secret === undefined) throw new Error('no secret');
  receiver.status = () => 200;
  const before = receiver.bodies.length;
  await postJson('{"id":"auth"}', { url: hostileUrl(receiver.url, secret), timeoutMs: 2000, maxAttempts: 1 });
  assert.deepEqual(receiver.bodies.slice(before), [{ id: 'auth' }]);
  const headers = receiver.headers[receiver.headers.length - 1];
  assert.equal(headers?.authorization, `Basic ${Buffer.from(`${secret.user}:${secret.password}`).toString('base64')}`);
});

test('the dead-letter file and the dead-letter notice hold no secret (webhook and Slack)', async () => {
  for (const [i, secret] of secrets(13).entries()) {
    for (const kind of ['webhook', 'slack'] as const) {
      receiver.status = () => 503;
      const path = join(root, `dead-${kind}-${i}.jsonl`);
      const notices: LocatedError[] = [];
      const url = hostileUrl(receiver.url, secret);
      const options = { url, timeoutMs: 500, maxAttempts: 2, baseDelayMs: 2, deadLetter: { sink: kind, path, onDeadLetter: (error: LocatedError) => notices.push(error), redact: (text: string) => redactSecrets(text, url) } };
      const sink = kind === 'webhook' ? new WebhookSink(options) : new SlackSink(options);
      const alert = { id: `a-${i}`, time: null, rule: { id: 'r', name: 'r', title: 'R', level: 'high' as const }, attack: { techniques: [], tactics: [] }, source: 'cloudtrail' as const, account: null, region: null, actor: null, source_ip: null, event_ids: [], count: 1 };
      const report = await sink.deliver([{ id: alert.id, body: JSON.stringify(alert), alert }]);
      assert.equal(report.deadLettered, 1);
      const file = await readFile(path, 'utf8');
      assert.match(file, /"error":"HTTP 503/);
      assertNoSecret(file, secret, `${kind} dead-letter file`);
      assert.equal(notices.length, 1);
      assertNoSecret(notices[0]?.message ?? '', secret, `${kind} notice`);
    }
  }
  receiver.status = () => 200;
});

test('redactSecretsInText: userinfo and secret-named query values of any URL in a text', () => {
  assert.equal(redactSecretsInText('POST http://u:pw@h.example/x?token=abc&a=1 failed'), 'POST http://***@h.example/x?token=***&a=1 failed');
  assert.equal(redactSecretsInText('see https://h.example/p?X-Amz-Signature=f00&X-Amz-Credential=AKIA/x&v=2'), 'see https://h.example/p?X-Amz-Signature=***&X-Amz-Credential=***&v=2');
  assert.equal(redactSecretsInText('https://ghp_abcdef@github.example/'), 'https://***@github.example/');
  assert.equal(redactSecretsInText('nothing to see (user@example.com)'), 'nothing to see (user@example.com)');
  assert.equal(redactSecrets('fetch https://hooks.slack.example/services/T000/B000/abcdefghijklmnopqrstuvwx failed', 'https://hooks.slack.example/services/T000/B000/abcdefghijklmnopqrstuvwx'), 'fetch https://hooks.slack.example/… failed');
});
