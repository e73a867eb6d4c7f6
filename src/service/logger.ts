/**
 * Structured logs for the service: one JSON object per line on stderr, `time`, `level` and
 * `msg` first, then the fields (a located error adds `code` and `location`). Log processors
 * (CloudWatch Logs, Loki, Elastic) read them as they are.
 *
 * Safe for a terminal and for secrets: JSON escapes the C0 controls; what JSON.stringify leaves
 * raw and a terminal may still act on (DEL, C1 controls such as U+009B, bidi overrides and
 * other format characters, U+2028/U+2029) is written as \u escapes too, so the parsed line is
 * the same. Credentials and secret query values of any URL in the message or a field are
 * redacted (sinks/webhook.ts, redactSecretsInText).
 */
import type { LocatedError } from '../core/errors.ts';
import { redactSecretsInText } from '../sinks/webhook.ts';

/** Characters JSON.stringify writes raw that a terminal may act on (it escapes C0 itself). */
const RAW_CONTROLS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const RAW_CONTROLS_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function jsonEscape(character: string): string {
  let out = '';
  for (let i = 0; i < character.length; i++) out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const RESERVED = new Set(['time', 'level', 'msg']);

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A located error: its message, code and location, plus extra fields. */
  located(level: LogLevel, error: LocatedError, fields?: LogFields): void;
}

export class JsonLogger implements Logger {
  private readonly stream: NodeJS.WritableStream;
  private readonly threshold: number;

  constructor(options: { level?: LogLevel; stream?: NodeJS.WritableStream } = {}) {
    this.stream = options.stream ?? process.stderr;
    this.threshold = RANK[options.level ?? 'info'];
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  located(level: LogLevel, error: LocatedError, fields?: LogFields): void {
    this.write(level, error.message, { code: error.code, location: error.location, ...fields });
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.threshold) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: redactSecretsInText(msg) };
    if (fields !== undefined) {
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined || RESERVED.has(key)) continue;
        line[key] = typeof value === 'string' ? redactSecretsInText(value) : Array.isArray(value) ? value.map((item: string) => redactSecretsInText(item)) : value;
      }
    }
    const text = JSON.stringify(line);
    this.stream.write(`${RAW_CONTROLS.test(text) ? text.replace(RAW_CONTROLS_ALL, jsonEscape) : text}\n`);
  }
}
