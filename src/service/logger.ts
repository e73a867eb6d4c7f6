/**
 * Structured logs for the service: one JSON object per line on stderr, `time`, `level` and
 * `msg` first, then the fields (a located error adds `code` and `location`). Log processors
 * (CloudWatch Logs, Loki, Elastic) read them as they are.
 */
import type { LocatedError } from '../core/errors.ts';

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
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    if (fields !== undefined) {
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined && !RESERVED.has(key)) line[key] = value;
      }
    }
    this.stream.write(`${JSON.stringify(line)}\n`);
  }
}
