import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver } from '../service/harness.ts';
import type { WebhookReceiver } from '../service/harness.ts';
import { DeliveryError, postJson, redactUrl, WebhookSink } from '../../src/sinks/webhook.ts';

let receiver: WebhookReceiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.close();
});

test('an alert is POSTed as JSON with its id as idempotency key', async () => {
  receiver.status = () => 200;
  const before = receiver.bodies.length;
  await new WebhookSink({ url: receiver.url, timeoutMs: 2000, maxAttempts: 3, headers: { authorization: 'Bearer x' } }).send('{"id":"abc","count":1}', 'abc');
  assert.deepEqual(receiver.bodies.slice(before), [{ id: 'abc', count: 1 }]);
  const headers = receiver.headers[receiver.headers.length - 1];
  assert.equal(headers?.['idempotency-key'], 'abc');
  assert.equal(headers?.['x-trailhound-alert-id'], 'abc');
  assert.equal(headers?.['content-type'], 'application/json');
  assert.equal(headers?.authorization, 'Bearer x');
});

test('5xx and 429 are retried with backoff until the receiver accepts', async () => {
  let calls = 0;
  receiver.status = () => (++calls <= 2 ? (calls === 1 ? 503 : 429) : 200);
  const before = receiver.bodies.length;
  await postJson('{"id":"retry"}', { url: receiver.url, timeoutMs: 2000, maxAttempts: 4, baseDelayMs: 5 });
  assert.equal(calls, 3);
  assert.deepEqual(receiver.bodies.slice(before), [{ id: 'retry' }]);
});

test('a refusal (4xx) is not retried; an outage gives up after max attempts', async () => {
  let calls = 0;
  receiver.status = () => {
    calls += 1;
    return 400;
  };
  await assert.rejects(postJson('{}', { url: receiver.url, timeoutMs: 2000, maxAttempts: 4, baseDelayMs: 5 }), (error: unknown) => error instanceof DeliveryError && error.status === 400 && error.attempts === 1);
  assert.equal(calls, 1);
  calls = 0;
  receiver.status = () => {
    calls += 1;
    return 502;
  };
  await assert.rejects(postJson('{}', { url: receiver.url, timeoutMs: 2000, maxAttempts: 3, baseDelayMs: 5 }), (error: unknown) => error instanceof DeliveryError && error.attempts === 3 && /HTTP 502/.test(error.message) && !error.message.includes('secret-token'));
  assert.equal(calls, 3);
  await assert.rejects(postJson('{}', { url: 'http://127.0.0.1:1/hook', timeoutMs: 1000, maxAttempts: 2, baseDelayMs: 5 }), /ECONNREFUSED|fetch failed/);
  receiver.status = () => 200;
});

test('redactUrl keeps the host only (webhook URLs often hold a secret)', () => {
  assert.equal(redactUrl('https://hooks.slack.com/services/T0/B0/XXXX'), 'https://hooks.slack.com/…');
});
