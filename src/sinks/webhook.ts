/**
 * A generic webhook: each alert is POSTed as its JSON, with `Idempotency-Key` and
 * `X-Trailhound-Alert-Id` set to the alert's stable id so that a receiver can drop the
 * duplicates at-least-once delivery may send. 5xx, 429, 408 and network errors are retried with
 * exponential backoff and jitter (honouring Retry-After); other statuses are not (the receiver
 * refused the alert). What still fails goes to the dead-letter file (dead-letter.ts).
 */
import { backoffDelay, sleep } from '../core/backoff.ts';
import { sendEach, type DeadLetterOptions } from './dead-letter.ts';
import type { AlertSink, SinkAlert, SinkReport } from './sink.ts';

export interface HttpPostOptions {
  url: string;
  headers?: Record<string, string>;
  /** Per attempt, ms. */
  timeoutMs: number;
  maxAttempts: number;
  /** First backoff delay, ms (default 500). */
  baseDelayMs?: number;
  signal?: AbortSignal;
}

/** Thrown when a POST failed every attempt, or got a status not worth retrying. */
export class DeliveryError extends Error {
  readonly attempts: number;
  readonly status: number | undefined;

  constructor(message: string, attempts: number, status?: number) {
    super(message);
    this.name = 'DeliveryError';
    this.attempts = attempts;
    this.status = status;
  }
}

const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS);
}

/** Redacts the path and query of a URL for messages (webhook URLs often embed a secret); credentials are never part of the host. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return 'the URL';
  }
}

const REDACTED = '***';
/** Query parameters whose values are secrets wherever a URL shows up in a message. */
const SECRET_QUERY = /([?&;](?:[a-z0-9_.-]*(?:token|secret|passw(?:or)?d|pass|pwd|key|signature|sig|auth|credential|code|session)[a-z0-9_.-]*)=)[^&#\s"'<>]*/gi;
/** `scheme://user:password@` and `scheme://token@`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*@/gi;

/**
 * Any text that may quote a URL (an error message, a log field), with the secrets a URL may
 * carry redacted: the userinfo of every `scheme://user:password@host`, and the values of query
 * parameters named like secrets (`token`, `key`, `sig`, `X-Amz-Signature`, ...).
 */
export function redactSecretsInText(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text.replace(URL_USERINFO, `$1${REDACTED}@`).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** The parts of a URL that may be secrets, as text could quote them (raw and decoded). */
function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const secrets = new Set<string>([url, parsed.href]);
  const add = (value: string, min: number): void => {
    if (value.length < min) return;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // Not percent-encoded as it should be: the raw form is enough.
    }
  };
  add(parsed.password, 3);
  add(parsed.username, 4);
  for (const [, value] of parsed.searchParams) add(value, 4);
  for (const part of parsed.search.slice(1).split('&')) add(part.slice(part.indexOf('=') + 1), 4);
  // A path segment long enough to be a token (Slack: /services/T…/B…/<secret>).
  for (const segment of parsed.pathname.split('/')) add(segment, 16);
  secrets.delete('');
  // Longest first: a secret that contains another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * A message about a delivery to `url`, safe to log or store: the URL itself, its password,
 * user name, query values and token-like path segments replaced, then redactSecretsInText.
 */
export function redactSecrets(text: string, url: string): string {
  let out = text;
  for (const secret of urlSecrets(url)) {
    if (out.includes(secret)) out = out.split(secret).join(secret === url || secret.includes('://') ? redactUrl(url) : REDACTED);
  }
  return redactSecretsInText(out);
}

/**
 * Where a POST goes: the URL without its credentials, and those credentials as an
 * `authorization: Basic` header (fetch refuses a URL that holds credentials, and quotes the
 * whole URL, password included, in its error).
 */
function requestTarget(url: string): { url: string; headers: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, headers: {} };
  }
  if (parsed.username === '' && parsed.password === '') return { url, headers: {} };
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const credentials = `${decode(parsed.username)}:${decode(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, headers: { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` } };
}

/**
 * POSTs a JSON body, retrying what is worth retrying; resolves on a 2xx. Every error message
 * is redacted (redactSecrets): it is logged and written to the dead-letter file.
 */
export async function postJson(body: string, options: HttpPostOptions, extraHeaders: Record<string, string> = {}): Promise<void> {
  try {
    await post(body, options, extraHeaders);
  } catch (error) {
    if (error instanceof DeliveryError) throw error;
    throw new DeliveryError(redactSecrets(error instanceof Error ? error.message : String(error), options.url), 0);
  }
}

async function post(body: string, options: HttpPostOptions, extraHeaders: Record<string, string>): Promise<void> {
  const base = options.baseDelayMs ?? 500;
  const target = requestTarget(options.url);
  const where = redactUrl(options.url);
  const redact = (text: string): string => redactSecrets(text, options.url);
  let lastError = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let wait: number | undefined;
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const response = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'trailhound', ...target.headers, ...options.headers, ...extraHeaders },
        body,
        signal: options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      lastStatus = response.status;
      lastError = `HTTP ${response.status} from ${where}`;
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      if (!retryable) throw new DeliveryError(`${lastError}: the receiver refused the alert`, attempt, response.status);
      wait = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      lastStatus = undefined;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      lastError = redact(`${(error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : ((error as Error).message ?? String(error))}${cause === undefined ? '' : ` (${cause})`} from ${where}`);
    }
    if (options.signal?.aborted === true) break;
    if (attempt < options.maxAttempts) await sleep(wait ?? backoffDelay(attempt, base), options.signal);
  }
  throw new DeliveryError(`${lastError} after ${options.maxAttempts} attempts`, options.maxAttempts, lastStatus);
}

/** An HTTP sink's settings: the POST's, and where alerts go that fail every attempt. */
export interface HttpSinkOptions extends HttpPostOptions {
  deadLetter?: DeadLetterOptions;
}

export class WebhookSink implements AlertSink {
  readonly batchSize = 1;
  private readonly options: HttpSinkOptions;

  constructor(options: HttpSinkOptions) {
    this.options = options;
  }

  async start(): Promise<void> {}

  deliver(batch: readonly SinkAlert[]): Promise<SinkReport> {
    return sendEach(batch, (alert) => this.send(alert.body, alert.id), this.options.deadLetter);
  }

  async close(): Promise<void> {}

  /** POSTs the alert as it was committed (its JSON text). */
  send(alertJson: string, alertId: string): Promise<void> {
    return postJson(alertJson, this.options, { 'idempotency-key': alertId, 'x-trailhound-alert-id': alertId });
  }
}
