/**
 * Slack injection: every value of a Slack message comes from a log, a rule or a feed. Generated
 * hostile values in every field (actor, rule title and name, account, region, source IP, event
 * time, ATT&CK tags, alert id) never make a link, a mention or mrkdwn formatting: &, < and >
 * are entities everywhere (the top-level text too), mentions are broken, values sit in code
 * spans they cannot close, text objects are verbatim, and long values are cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/core/alert.ts';
import { testAlert } from './alert-fixture.ts';
import { SLACK_VALUE_MAX, slackMessage } from '../../src/sinks/slack.ts';
import { random } from '../random.ts';

const base: Alert = testAlert();

const ATTACKS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!subteam^S123|@admins>',
  '<@U024BE7LH>',
  '<#C024BE7LR>',
  '<http://evil.example/|click here>',
  '<https://evil.example>',
  '<!date^1392734382^{date}|x>',
  '@channel',
  '@here look',
  'hi @everyone',
  '*bold* _italic_ ~strike~',
  '`code` ```block```',
  '> quoted',
  'line\n> quote on a new line\n*bold*',
  ':rotating_light: :joy:',
  '&amp; &lt; &gt; raw & < >',
  'http://evil.example/login',
  '\u001b]0;title\u0007',
];

/** Every mrkdwn text of the message, and the top-level text. */
function texts(message: ReturnType<typeof slackMessage>): string[] {
  const out = [message.text];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const object = value as Record<string, unknown>;
      if (object.type === 'mrkdwn') {
        assert.equal(object.verbatim, true, 'mrkdwn text objects are verbatim');
        out.push(object.text as string);
      }
      Object.values(object).forEach(visit);
    }
  };
  visit(message.blocks);
  return out;
}

/** The hostile alert: the attack in every field a log or a rule controls. */
function hostile(attack: string): Alert {
  return {
    ...base,
    id: attack,
    time: attack,
    rule: { id: attack, name: attack, title: attack, level: 'high' },
    attack: { techniques: [attack], tactics: [attack] },
    account: attack,
    region: attack,
    actor: attack,
    source_ip: attack,
  };
}

function assertInert(text: string, label: string): void {
  assert.ok(!/[<>]/.test(text), `${label}: raw < or > in ${JSON.stringify(text)}`);
  // Every & starts one of the three entities Slack documents.
  assert.ok(!/&(?!amp;|lt;|gt;)/.test(text), `${label}: raw & in ${JSON.stringify(text)}`);
  assert.ok(!/@(channel|here|everyone)\b/i.test(text), `${label}: live mention in ${JSON.stringify(text)}`);
  assert.ok(!text.includes('\u001b'), `${label}: raw escape`);
}

test('hostile values in every field: no link, mention, entity or control reaches Slack', () => {
  for (const attack of ATTACKS) {
    const message = slackMessage(hostile(attack));
    assert.equal(message.mrkdwn, false, 'the top-level text is not mrkdwn');
    const all = texts(message);
    for (const text of all) assertInert(text, attack);
    // In the blocks, each value is one code span: its backticks replaced, no new line inside.
    for (const text of all.slice(1)) {
      for (const span of text.match(/`[^`]*`/g) ?? []) assert.ok(!span.includes('\n'), `${attack}: a new line inside a code span`);
      assert.equal((text.match(/`/g) ?? []).length % 2, 0, `${attack}: unbalanced code spans in ${JSON.stringify(text)}`);
    }
  }
});

test('generated values (random mixes of markup, mentions and controls) stay inert, and are cut at the limit', () => {
  const rng = random(4);
  const pieces = ['<', '>', '&', '!', '@', 'channel', 'here', 'everyone', '|', '*', '_', '~', '`', '\n', '\r', ':', 'http://x.example/', '#', '^', 'a', ' ', '\u202e', '\u009b', '\u0000'];
  for (let round = 0; round < 300; round++) {
    let value = '';
    const length = 1 + Math.floor(rng() * 60);
    for (let i = 0; i < length; i++) value += pieces[Math.floor(rng() * pieces.length)] as string;
    const message = slackMessage(hostile(value));
    for (const text of texts(message)) {
      assertInert(text, `round ${round}`);
      for (const char of text) {
        const code = char.codePointAt(0) as number;
        assert.ok(code !== 0x202e && code !== 0x9b && code !== 0, `round ${round}: control U+${code.toString(16)}`);
      }
    }
  }
  const long = slackMessage({ ...base, actor: 'x'.repeat(10_000) });
  for (const text of texts(long)) assert.ok(text.length < SLACK_VALUE_MAX * 6, 'a long value is cut');
});

test('a normal alert still reads well', () => {
  const message = slackMessage(base);
  assert.equal(message.text, '[HIGH] Test rule: arn:aws:iam::111122223333:user/alice in 111122223333 / us-east-1');
  const text = JSON.stringify(message.blocks);
  for (const part of ['*HIGH* `Test rule`', '*ATT&amp;CK*', '`aws-ct-test`', '`arn:aws:iam::111122223333:user/alice`', '`111122223333 / us-east-1`', '`203.0.113.7`', '`2026-11-05T10:00:00.000Z`', '`T1562.008 (defense-evasion)`', base.id]) {
    assert.ok(text.includes(part), `missing ${part} in ${text}`);
  }
});
