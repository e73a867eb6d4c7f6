/**
 * Amazon Data Firehose records, as a data-transformation Lambda function receives them:
 * `{"invocationId", "deliveryStreamArn", "region", "records": [{"recordId",
 * "approximateArrivalTimestamp", "data": "<base64>"}]}` (the function's response, with
 * `result` beside each `data`, reads the same). Each `data` is decoded strictly and gunzipped
 * when it is gzip, within the unit's limits (embedded/payload.ts), then read as what it holds
 * (embedded/decode.ts): one CloudTrail record, several (JSON lines or back to back), a
 * `{"Records":[...]}` body, a CloudWatch Logs DATA_MESSAGE (what a subscription to Firehose
 * delivers, gzip), a CONTROL_MESSAGE (skipped), VPC flow-log lines, GuardDuty findings.
 *
 * A record that cannot be read is one located error, `uri#<value>.records[i].data` (bad
 * base64: TH_INPUT_FORMAT; bad gzip: TH_INPUT_GZIP; past a limit: TH_INPUT_LIMIT), or inside
 * it (`uri#<value>.records[i].data:<line>`); every other record is read. What Firehose
 * delivers to S3 is no envelope: the records' bytes back to back, read as any unit.
 */
import { located } from '../../core/errors.ts';
import type { Envelope } from '../../core/envelope.ts';
import { isJsonObject } from '../../core/json-object.ts';
import { decodeEmbedded } from '../embedded/decode.ts';
import { openPayload } from '../embedded/payload.ts';
import { firstElements } from '../record-list.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';

function isFirehoseRecord(record: Record<string, unknown>): boolean {
  return typeof record.data === 'string' && typeof record.recordId === 'string';
}

function locate(ctx: UnwrapContext, member: string): string {
  return ctx.locate !== undefined ? ctx.locate(member) : `${ctx.uri}#${ctx.valueIndex ?? 0}${member}`;
}

/** The Firehose records format; `inner`: the JSON formats a record's data may hold. */
export function firehoseRecordsFormat(inner: readonly JsonFormat[]): JsonFormat {
  return {
    source: 'cloudtrail',
    recordArrays: ['records'],

    recognise(value: unknown): boolean {
      if (!isJsonObject(value) || !Array.isArray(value.records)) return false;
      if (typeof value.invocationId === 'string' || typeof value.deliveryStreamArn === 'string') return true;
      return firstElements(value.records, isFirehoseRecord) === 'record';
    },

    unwrap(value: unknown, ctx: UnwrapContext): Envelope[] {
      if (!isJsonObject(value) || !Array.isArray(value.records)) return [];
      const records: unknown[] = value.records;
      let out: Envelope[] = [];
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        if (record === undefined) continue; // a damaged element, already reported by recovery
        const member = `.records[${i}]`;
        if (!isJsonObject(record) || typeof record.data !== 'string') {
          ctx.reportError(located('TH_INPUT_RECORD', `records[${i}] has no data string (a Firehose record's base64 payload): skipped`, locate(ctx, member)));
          continue;
        }
        const where = locate(ctx, `${member}.data`);
        const bytes = openPayload(record.data, `records[${i}].data`, where, ctx);
        if (bytes === undefined) continue;
        const envelopes = decodeEmbedded(bytes, where, ctx, inner);
        if (out.length === 0) out = envelopes;
        else for (const envelope of envelopes) out.push(envelope);
      }
      return out;
    },
  };
}
