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

/** Redacts the path and query of a URL for messages (webhook URLs often embed a secret). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return 'the URL';
  }
}

/** POSTs a JSON body, retrying what is worth retrying; resolves on a 2xx. */
export async function postJson(body: string, options: HttpPostOptions, extraHeaders: Record<string, string> = {}): Promise<void> {
  const base = options.baseDelayMs ?? 500;
  let lastError = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let wait: number | undefined;
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'trailhound', ...options.headers, ...extraHeaders },
        body,
        signal: options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      lastStatus = response.status;
      lastError = `HTTP ${response.status} from ${redactUrl(options.url)}`;
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      if (!retryable) throw new DeliveryError(`${lastError}: the receiver refused the alert`, attempt, response.status);
      wait = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      lastStatus = undefined;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      lastError = `${(error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : ((error as Error).message ?? String(error))}${cause === undefined ? '' : ` (${cause})`} from ${redactUrl(options.url)}`;
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
