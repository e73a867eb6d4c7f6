import type { Writable } from 'node:stream';
import type { Alert } from '../core/alert.ts';
import { alertOf, type AlertSink, type SinkAlert, type SinkReport } from './sink.ts';
import { BufferedTextWriter } from './output-stream.ts';
import { terminalText } from '../core/terminal-text.ts';

interface Column {
  header: string;
  width: number;
  value: (alert: Alert) => string;
}

const LEVEL_COLOURS: Record<string, string> = {
  critical: '\u001b[1;31m',
  high: '\u001b[31m',
  medium: '\u001b[33m',
  low: '\u001b[36m',
  informational: '\u001b[2m',
};
const RESET = '\u001b[0m';

const COLUMNS: Column[] = [
  { header: 'TIME', width: 20, value: (alert) => (alert.time ?? '-').replace(/\.\d{3}Z$/, 'Z') },
  { header: 'LEVEL', width: 8, value: (alert) => (alert.rule.level === 'informational' ? 'INFO' : alert.rule.level.toUpperCase()) },
  { header: 'RULE', width: 44, value: (alert) => alert.rule.name ?? alert.rule.title },
  { header: 'ATT&CK', width: 12, value: (alert) => alert.attack.techniques[0] ?? '-' },
  { header: 'ACCOUNT', width: 12, value: (alert) => alert.account ?? '-' },
  { header: 'ACTOR', width: 42, value: (alert) => shortenArn(alert.actor) },
  { header: 'SOURCE IP', width: 15, value: (alert) => alert.source_ip ?? '-' },
  { header: 'N', width: 4, value: (alert) => String(alert.count) },
];

/** An ARN's resource part is what an analyst reads; the prefix is always the same. */
function shortenArn(arn: string | null): string {
  if (arn === null) return '-';
  const match = /^arn:aws[\w-]*:(?:iam|sts)::\d+:(.*)$/.exec(arn);
  return match?.[1] ?? arn;
}

function fit(text: string, width: number): string {
  if (text.length > width) return text.slice(0, width - 1) + '…';
  return text.padEnd(width);
}

/**
 * A readable table for a terminal: one line per alert, sorted as they come. Attacker-controlled
 * text (actor, source IP, rule name, account...) is shown as data: control, format and
 * line-separator characters are written as visible escapes (`\x1b`, `\n`, `\u202e`).
 */
export class TableSink implements AlertSink {
  private readonly writer: BufferedTextWriter;
  private readonly colour: boolean;
  private wroteHeader = false;

  constructor(stream: Writable, options: { colour: boolean }) {
    this.writer = new BufferedTextWriter(stream);
    this.colour = options.colour;
  }

  readonly batchSize = 500;

  async start(): Promise<void> {}

  async deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    for (const item of batch) await this.row(alertOf(item));
    return { delivered: batch.length, deadLettered: 0 };
  }

  private async row(alert: Alert): Promise<void> {
    if (!this.wroteHeader) {
      this.wroteHeader = true;
      await this.writer.write(COLUMNS.map((column) => fit(column.header, column.width)).join(' ').trimEnd() + '\n');
    }
    const cells = COLUMNS.map((column) => {
      // Every cell is data from a log or a rule: escaped before it is measured and cut, so that
      // it can neither act on the terminal nor forge a row (terminal-text.ts).
      const cell = fit(terminalText(column.value(alert)), column.width);
      if (this.colour && column.header === 'LEVEL') return `${LEVEL_COLOURS[alert.rule.level] ?? ''}${cell}${RESET}`;
      return cell;
    });
    await this.writer.write(cells.join(' ').trimEnd() + '\n');
  }

  async close(): Promise<void> {
    if (!this.wroteHeader) await this.writer.write('No alerts.\n');
    await this.writer.close();
  }
}
