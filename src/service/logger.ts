/**
 * Structured logs for the service, through pino (the logger fastify, and so `trailhound serve`,
 * uses): one JSON object per line on stderr, `level` (a label: debug, info, warn, error) and
 * `time` (ISO 8601) first, then the fields (a located error adds `code` and `location`), `msg`
 * last. Log processors (CloudWatch Logs, Loki, Elastic) read them as they are.
 *
 * Safe for secrets, in three layers:
 * - pino's `redact` paths censor fields that hold a secret whole (REDACT_PATHS: a sink URL, an
 *   authorization or cookie header, a token, a password...), at any of the first two levels;
 * - credentials and secret query values of any URL in the message or in a string field
 *   (sinks/webhook.ts, redactSecretsInText) and `Bearer`/`Basic` credentials quoted in a text
 *   are replaced (the pino `logMethod` hook and `log` formatter, so the pino instance itself is
 *   safe too);
 * - sink errors are redacted against their own URL before they reach a logger (DeliveryTarget).
 *
 * Safe for a terminal: JSON escapes the C0 controls; what it leaves raw and a terminal may still
 * act on (DEL, C1 controls such as U+009B, bidi overrides and other format characters,
 * U+2028/U+2029) is written as \u escapes too, so the parsed line is the same.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import type { LocatedError } from '../core/errors.ts';
import { redactSecretsInText } from '../sinks/webhook.ts';

/**
 * Characters JSON.stringify writes raw that a terminal may act on (it escapes C0 itself); the
 * newline that ends each line is left alone.
 */
const RAW_CONTROLS = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const RAW_CONTROLS_ALL = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function jsonEscape(character: string): string {
  let out = '';
  for (let i = 0; i < character.length; i++) out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

/** Keys the logger writes itself; a field of that name is dropped. */
const RESERVED = new Set(['time', 'level', 'msg']);

/** The censor of a redacted path. */
export const REDACTED_FIELD = '[redacted]';

/**
 * Fields that are secrets whole, at the top level and one level down (`sink.url`,
 * `headers.authorization`...). `headers` is censored whole: a sink's headers carry its
 * credentials. A URL that is not a secret has its own name (`queue_url`, `uri`) and gets the text
 * redaction only.
 */
export const REDACT_PATHS: readonly string[] = [
  'url',
  'webhook_url',
  'slack_url',
  'sink_url',
  'headers',
  'authorization',
  'cookie',
  '["set-cookie"]',
  'token',
  'access_token',
  'session_token',
  'password',
  'secret',
  'api_key',
  '["x-api-key"]',
  '*.url',
  '*.webhook_url',
  '*.slack_url',
  '*.headers',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.api_key',
];

/** `Bearer <token>`, `Basic <credentials>` quoted in a text (an error that echoes a header). */
const AUTH_SCHEME = /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{6,}/g;

/** A text with its URL credentials, secret query values and authorization credentials replaced. */
export function redactLogText(text: string): string {
  const out = redactSecretsInText(text);
  return out.includes('Bearer') || out.includes('Basic') || out.includes('Token') ? out.replace(AUTH_SCHEME, `$1$2${REDACTED_FIELD}`) : out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactLogText(value);
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactValue(item, depth + 1);
  return out;
}

/** Writes pino's lines to a stream with the raw controls escaped. */
function terminalSafe(stream: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string): void {
      stream.write(RAW_CONTROLS.test(line) ? line.replace(RAW_CONTROLS_ALL, jsonEscape) : line);
    },
  };
}

/** The pino options of the service's logs. */
export function pinoOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    base: null,
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactValue(object, 0) as Record<string, unknown>,
    },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED_FIELD },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((arg: unknown) => (typeof arg === 'string' ? redactLogText(arg) : arg));
        method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A located error: its message, code and location, plus extra fields. */
  located(level: LogLevel, error: LocatedError, fields?: LogFields): void;
}

/** The service's logger: the Logger interface over a pino instance. */
export class JsonLogger implements Logger {
  /** The pino instance (for a child logger or a library that takes one). */
  readonly pino: PinoLogger;

  constructor(options: { level?: LogLevel; stream?: NodeJS.WritableStream } = {}) {
    this.pino = pino(pinoOptions(options.level ?? 'info'), terminalSafe(options.stream ?? process.stderr));
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.pino.isLevelEnabled('debug')) this.pino.debug(clean(fields), msg);
  }

  info(msg: string, fields?: LogFields): void {
    this.pino.info(clean(fields), msg);
  }

  warn(msg: string, fields?: LogFields): void {
    this.pino.warn(clean(fields), msg);
  }

  error(msg: string, fields?: LogFields): void {
    this.pino.error(clean(fields), msg);
  }

  located(level: LogLevel, error: LocatedError, fields?: LogFields): void {
    this[level](error.message, { code: error.code, location: error.location, ...fields });
  }
}

function clean(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields === undefined) return out;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && !RESERVED.has(key)) out[key] = value;
  }
  return out;
}
