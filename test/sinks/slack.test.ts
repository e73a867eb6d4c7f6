import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver } from '../service/harness.ts';
import type { WebhookReceiver } from '../service/harness.ts';
import { slackMessage, SlackSink } from '../../src/sinks/slack.ts';
import type { Alert } from '../../src/core/alert.ts';

const alert: Alert = {
  id: '0123456789abcdef0123456789abcdef',
  time: '2026-11-05T10:00:00.000Z',
  rule: { id: 'r-1', name: 'aws-ct-cloudtrail-stopped-or-deleted', title: 'CloudTrail <Logging> Stopped & Deleted', level: 'high' },
  attack: { techniques: ['T1562.008'], tactics: ['defense-evasion'] },
  source: 'cloudtrail',
  account: '111122223333',
  region: 'us-east-1',
  actor: 'arn:aws:iam::111122223333:user/alice',
  source_ip: '203.0.113.7',
  event_ids: ['e-1'],
  count: 1,
};

let receiver: WebhookReceiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.close();
});

test('the Slack message reads: level, rule, actor, account/region, source IP, time, ATT&CK, alert id', () => {
  const message = slackMessage(alert);
  // The top-level text is escaped too (Slack parses &, < and > there as well): slack-escaping.test.ts.
  assert.equal(message.text, '[HIGH] CloudTrail &lt;Logging&gt; Stopped &amp; Deleted: arn:aws:iam::111122223333:user/alice in 111122223333 / us-east-1');
  const text = JSON.stringify(message.blocks);
  assert.match(text, /\*HIGH\* `CloudTrail &lt;Logging&gt; Stopped &amp; Deleted`/);
  for (const part of ['aws-ct-cloudtrail-stopped-or-deleted', 'arn:aws:iam::111122223333:user/alice', '111122223333 / us-east-1', '203.0.113.7', '2026-11-05T10:00:00.000Z', 'T1562.008 (defense-evasion)', alert.id]) {
    assert.ok(text.includes(part), `missing ${part}`);
  }
});

test('a correlation alert says how many events in which window; missing values read "-"', () => {
  const message = slackMessage({ ...alert, actor: null, source_ip: null, count: 6, correlation: { type: 'value_count', group: {}, window: { start: '2026-11-05T10:00:00.000Z', end: '2026-11-05T10:30:00.000Z' } } });
  const text = JSON.stringify(message.blocks);
  assert.match(text, /6 events from 2026-11-05T10:00:00.000Z to 2026-11-05T10:30:00.000Z/);
  assert.match(text, /\*Actor\*\\n-/);
});

test('the Slack sink POSTs the message to the incoming webhook', async () => {
  const before = receiver.bodies.length;
  await new SlackSink({ url: receiver.url, timeoutMs: 2000, maxAttempts: 2 }).send(alert);
  const body = receiver.bodies[before] as { text?: string; blocks?: unknown[] };
  assert.equal(body.text, slackMessage(alert).text);
  assert.equal(body.blocks?.length, 3);
});
