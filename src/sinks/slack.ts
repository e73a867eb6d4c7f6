/**
 * A Slack incoming webhook: one readable message per alert (level, rule, actor, account and
 * region, source IP, event time, ATT&CK, and the alert id for de-duplication and lookup),
 * with a plain-text fallback for notifications. Retries as the generic webhook does.
 *
 * Every value is attacker-controlled (a log's actor, a rule's title): &, < and > are written as
 * entities (no links, no `<!channel>`), `@channel`/`@here`/`@everyone` are broken by a word
 * joiner, values sit in inline code spans (no mrkdwn formatting; backticks replaced) of text
 * objects marked `verbatim` (no automatic links or mentions), control characters are shown
 * escaped, and each value is cut at SLACK_VALUE_MAX characters.
 */
import type { Alert } from '../core/alert.ts';
import { postJson } from './webhook.ts';
import type { HttpSinkOptions } from './webhook.ts';
import { sendEach } from './dead-letter.ts';
import { alertOf, type AlertSink, type SinkAlert, type SinkReport } from './sink.ts';
import { terminalText } from '../core/terminal-text.ts';

const LEVEL_EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  informational: ':white_circle:',
};

/** Characters of one value shown at most (Slack refuses section fields over 2,000 characters). */
export const SLACK_VALUE_MAX = 300;

/**
 * Slack's control characters, as Slack documents them: &, < and > start entities, links
 * (`<http://...|text>`), mentions (`<!channel>`, `<@U123>`) and dates; written as entities,
 * they are shown, never parsed.
 */
function escapeControl(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `@channel`, `@here` and `@everyone` written out in data never notify: a word joiner after the @. */
function neutraliseMentions(text: string): string {
  return text.replace(/@(?=(?:channel|here|everyone)\b)/gi, '@\u2060');
}

/** A value as data: visible escapes for control and format characters (no new lines), cut at SLACK_VALUE_MAX. */
function dataText(value: string): string {
  const text = terminalText(value);
  return text.length > SLACK_VALUE_MAX ? `${text.slice(0, SLACK_VALUE_MAX - 1)}…` : text;
}

/**
 * A value from a log or a rule inside mrkdwn: in an inline code span (no bold, italics, strike,
 * quotes, emoji), its backticks replaced so that it cannot close the span, its control
 * characters escaped; '-' when missing.
 */
function code(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return `\`${escapeControl(neutraliseMentions(dataText(value).replace(/`/g, '\u02cb')))}\``;
}

/** A value in the plain-text fallback (`text`, sent with `mrkdwn: false`): escaped, mentions neutralised. */
function plain(value: string): string {
  return escapeControl(neutraliseMentions(dataText(value)));
}

/** A mrkdwn text object that Slack shows as written: no automatic links, channel names or mentions. */
function mrkdwn(text: string): { type: 'mrkdwn'; text: string; verbatim: true } {
  return { type: 'mrkdwn', text, verbatim: true };
}

function field(label: string, value: string | null | undefined): { type: 'mrkdwn'; text: string; verbatim: true } {
  return mrkdwn(`*${escapeControl(label)}*\n${code(value)}`);
}

export interface SlackMessage {
  /** The notification and fallback text: plain (mrkdwn off), every value escaped. */
  text: string;
  mrkdwn: false;
  blocks: unknown[];
}

/**
 * The message for one alert. Every value comes from a log, a rule file or a feed, so none of it
 * may format the message, link elsewhere or notify anyone: see code() and plain().
 */
export function slackMessage(alert: Alert): SlackMessage {
  // A Sigma level (validated when the rule loads); letters only all the same, it is written as mrkdwn.
  const level = alert.rule.level.toUpperCase().replace(/[^A-Z]/g, '');
  const title = alert.rule.title;
  const attack = alert.attack.techniques.length === 0 ? '-' : `${alert.attack.techniques.join(', ')}${alert.attack.tactics.length === 0 ? '' : ` (${alert.attack.tactics.join(', ')})`}`;
  const where = [alert.account, alert.region].filter((part) => part !== null).join(' / ');
  const correlation = alert.correlation === undefined ? undefined : `${alert.count} events from ${alert.correlation.window.start} to ${alert.correlation.window.end}`;
  const fields = [
    field('Rule', alert.rule.name ?? alert.rule.id),
    field('Actor', alert.actor),
    field('Account / region', where),
    field('Source IP', alert.source_ip),
    field('Time', alert.time),
    field('ATT&CK', attack),
  ];
  if (correlation !== undefined) fields.push(field('Correlation', correlation));
  return {
    text: `[${plain(level)}] ${plain(title)}: ${plain(alert.actor ?? 'unknown actor')} in ${plain(where === '' ? 'unknown account' : where)}`,
    mrkdwn: false,
    blocks: [
      { type: 'section', text: mrkdwn(`${Object.hasOwn(LEVEL_EMOJI, alert.rule.level) ? LEVEL_EMOJI[alert.rule.level] : ''} *${escapeControl(level)}* ${code(title)}`) },
      { type: 'section', fields },
      { type: 'context', elements: [mrkdwn(`trailhound alert ${code(alert.id)} · source ${code(alert.source)}`)] },
    ],
  };
}

export class SlackSink implements AlertSink {
  readonly batchSize = 1;
  private readonly options: HttpSinkOptions;

  constructor(options: HttpSinkOptions) {
    this.options = options;
  }

  async start(): Promise<void> {}

  deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    return sendEach(batch, (alert) => this.send(alertOf(alert)), this.options.deadLetter);
  }

  async close(): Promise<void> {}

  send(alert: Alert): Promise<void> {
    return postJson(JSON.stringify(slackMessage(alert)), this.options);
  }
}
