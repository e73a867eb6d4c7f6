/**
 * A CloudWatch Logs subscription payload (`messageType: DATA_MESSAGE`) from a log group that
 * holds VPC Flow Logs: each `logEvents[i].message` is one header-less flow-log line (the
 * flow log's format: --flow-format, else the default version-2 layout). The CloudTrail format
 * (cloudtrail/format.ts) reads the payloads of CloudTrail log groups, and CONTROL_MESSAGE
 * payloads; this one is offered the DATA_MESSAGE payloads it did not recognise. Event time:
 * `start`, else the log event's `timestamp`. A message that is not a flow-log line is a
 * TH_INPUT_RECORD at `uri#<value>.logEvents[i]`; the other messages are read.
 */
import { located } from '../../core/errors.ts';
import type { Envelope } from '../../core/envelope.ts';
import { isJsonObject } from '../../core/json-object.ts';
import { firstElements } from '../record-list.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';
import { sniffFlowLine } from '../vpcflow/format.ts';
import { EmbeddedFlowLines } from '../vpcflow/embedded-lines.ts';

function isFlowLogEvent(event: Record<string, unknown>): boolean {
  const message = event.message;
  return typeof message === 'string' && message.length < 4096 && sniffFlowLine(message);
}

function locate(ctx: UnwrapContext, member: string): string {
  return ctx.locate !== undefined ? ctx.locate(member) : `${ctx.uri}#${ctx.valueIndex ?? 0}${member}`;
}

export const cloudWatchFlowLogsFormat: JsonFormat = {
  source: 'vpcflow',
  recordArrays: ['logEvents'],

  recognise(value: unknown): boolean {
    if (!isJsonObject(value) || value.messageType !== 'DATA_MESSAGE' || !Array.isArray(value.logEvents)) return false;
    return firstElements(value.logEvents, isFlowLogEvent) === 'record';
  },

  unwrap(value: unknown, ctx: UnwrapContext): Envelope[] {
    const out: Envelope[] = [];
    if (!isJsonObject(value) || !Array.isArray(value.logEvents)) return out;
    const events: unknown[] = value.logEvents;
    const lines = new EmbeddedFlowLines(ctx.flowFormat, (error) => ctx.reportError(error));
    const nextOrigin = () => ctx.nextOrigin();
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (event === undefined) continue; // a damaged element, already reported by recovery
      const member = `.logEvents[${i}]`;
      if (!isJsonObject(event) || typeof event.message !== 'string') {
        ctx.reportError(located('TH_INPUT_RECORD', `logEvents[${i}] has no string message: skipped`, locate(ctx, member)));
        continue;
      }
      lines.push(event.message, locate(ctx, member), out, nextOrigin, typeof event.timestamp === 'number' ? event.timestamp : undefined);
    }
    return out;
  },
};
