/**
 * Offers each parsed top-level JSON value to the JSON formats in registry order; the first
 * that recognises it unwraps it. A value none recognises is one TH_INPUT_FORMAT error.
 */
import { located } from '../../core/errors.ts';
import type { Batcher } from '../batcher.ts';
import type { JsonFormat } from '../types.ts';
import type { UnitContext } from '../unit-context.ts';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} elements`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    // Key names only (never a value), with control characters (terminal escapes) and length defused.
    // eslint-disable-next-line no-control-regex
    const shown = keys.slice(0, 8).map((key) => (key.length > 40 ? `${key.slice(0, 40)}...` : key).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')).join(', ');
    return keys.length === 0 ? 'an empty object' : `an object with keys ${shown}${keys.length > 8 ? ', ...' : ''}`;
  }
  return `a ${typeof value}`;
}

export class JsonDispatcher {
  /** Keys whose arrays hold records, from every format: what recovery may rebuild. */
  readonly recordArrays: ReadonlySet<string>;
  private readonly formats: readonly JsonFormat[];
  private readonly ctx: UnitContext;
  private readonly batcher: Batcher;

  constructor(formats: readonly JsonFormat[], ctx: UnitContext, batcher: Batcher) {
    this.formats = formats;
    this.ctx = ctx;
    this.batcher = batcher;
    this.recordArrays = new Set(formats.flatMap((format) => format.recordArrays ?? []));
  }

  /** Dispatches one top-level value; `location` names it in a TH_INPUT_FORMAT error. */
  dispatch(value: unknown, line: number | undefined, location: string): void {
    const ctx = this.ctx;
    ctx.line = line;
    for (const format of this.formats) {
      if (format.recognise(value)) {
        const envelopes = format.unwrap(value, ctx);
        ctx.countRecords(envelopes.length);
        this.batcher.push(envelopes);
        return;
      }
    }
    ctx.reportError(located('TH_INPUT_FORMAT', `this JSON value (${describeValue(value)}) is not a log format trailhound reads: CloudTrail records ` +
        '(S3 files, JSON lines, EventBridge, CloudWatch Logs payloads and subscriptions, Firehose records, lookup-events), GuardDuty findings, VPC Flow Logs.', location));
  }
}
