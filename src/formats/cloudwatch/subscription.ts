/**
 * A CloudWatch Logs subscription payload as a Lambda function receives it:
 * `{"awslogs": {"data": "<base64 of the gzip of a DATA_MESSAGE or CONTROL_MESSAGE>"}}`. The
 * data is decoded strictly and gunzipped within the unit's limits (embedded/payload.ts), then
 * read as the payload it holds (embedded/decode.ts): a DATA_MESSAGE of CloudTrail records or
 * of flow-log lines, a CONTROL_MESSAGE (skipped and counted). Damage is located at
 * `uri#<value>.awslogs.data` (bad base64: TH_INPUT_FORMAT; bad gzip: TH_INPUT_GZIP; past a
 * limit: TH_INPUT_LIMIT), and inside the payload at `uri#<value>.awslogs.data#0.logEvents[i]`.
 *
 * The same payload saved alone (the base64 text of `event.awslogs.data`, or its gzip bytes) is
 * read as a unit: embedded/base64-unit.ts, and the ordinary gunzip.
 */
import { located } from '../../core/errors.ts';
import type { Envelope } from '../../core/envelope.ts';
import { isJsonObject } from '../../core/json-object.ts';
import { decodeEmbedded } from '../embedded/decode.ts';
import { openPayload } from '../embedded/payload.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';

function locate(ctx: UnwrapContext, member: string): string {
  return ctx.locate !== undefined ? ctx.locate(member) : `${ctx.uri}#${ctx.valueIndex ?? 0}${member}`;
}

/** The subscription format; `inner`: the JSON formats its payload may hold. */
export function cloudWatchSubscriptionFormat(inner: readonly JsonFormat[]): JsonFormat {
  return {
    source: 'cloudtrail',

    recognise(value: unknown): boolean {
      return isJsonObject(value) && isJsonObject(value.awslogs);
    },

    unwrap(value: unknown, ctx: UnwrapContext): Envelope[] {
      if (!isJsonObject(value) || !isJsonObject(value.awslogs)) return [];
      const data = value.awslogs.data;
      const where = locate(ctx, '.awslogs.data');
      if (typeof data !== 'string') {
        ctx.reportError(located('TH_INPUT_RECORD', 'awslogs has no data string (the base64 CloudWatch Logs payload): skipped', where));
        return [];
      }
      const bytes = openPayload(data, 'awslogs.data', where, ctx);
      return bytes === undefined ? [] : decodeEmbedded(bytes, where, ctx, inner);
    },
  };
}
