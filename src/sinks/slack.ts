/**
 * A Slack incoming webhook: one readable message per alert (level, rule, actor, account and
 * region, source IP, event time, ATT&CK, and the alert id for de-duplication and lookup),
 * with a plain-text fallback for notifications. Retries as the generic webhook does.
 */
import type { Alert } from '../core/alert.ts';
import { postJson } from './webhook.ts';
import type { HttpSinkOptions } from './webhook.ts';
import { sendEach } from './dead-letter.ts';
import { alertOf, type AlertSink, type SinkAlert, type SinkReport } from './sink.ts';

const LEVEL_EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  informational: ':white_circle:',
};

/** Slack mrkdwn treats &, < and > as markup. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function field(label: string, value: string | null | undefined): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: `*${label}*\n${value === null || value === undefined || value === '' ? '-' : escape(value)}` };
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

export function slackMessage(alert: Alert): SlackMessage {
  const level = alert.rule.level.toUpperCase();
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
    text: `[${level}] ${title}: ${alert.actor ?? 'unknown actor'} in ${where === '' ? 'unknown account' : where}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${LEVEL_EMOJI[alert.rule.level] ?? ''} *${level}* ${escape(title)}` } },
      { type: 'section', fields },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `trailhound alert \`${alert.id}\` · source ${alert.source}` }] },
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
