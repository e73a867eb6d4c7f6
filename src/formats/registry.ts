/**
 * The formats, in the order the dispatcher tries them (registries are explicit: docs/architecture.md, Layout).
 * JSON formats are offered each top-level JSON value; text formats sniff the first line of
 * content that is not JSON.
 */
import { cloudTrailFormat } from './cloudtrail/format.ts';
import { cloudWatchFlowLogsFormat } from './cloudwatch/flow-logs.ts';
import { cloudWatchSubscriptionFormat } from './cloudwatch/subscription.ts';
import { firehoseRecordsFormat } from './firehose/records.ts';
import { guardDutyFormat } from './guardduty/format.ts';
import type { JsonFormat, TextFormat } from './types.ts';
import { vpcFlowFormat } from './vpcflow/format.ts';

/**
 * What a payload embedded in a log value (base64, maybe gzip) may hold: every JSON format but
 * the ones that embed payloads, so that nesting stops at one level.
 */
export const EMBEDDED_JSON_FORMATS: JsonFormat[] = [cloudTrailFormat, guardDutyFormat, cloudWatchFlowLogsFormat];

/** CloudTrail first (the hot path); the envelopes of embedded payloads last. */
export const JSON_FORMATS: JsonFormat[] = [
  ...EMBEDDED_JSON_FORMATS,
  cloudWatchSubscriptionFormat(EMBEDDED_JSON_FORMATS),
  firehoseRecordsFormat(EMBEDDED_JSON_FORMATS),
];

/** Parquet flow logs are not here: decodeUnit routes them on the magic number (isParquet). */
export const TEXT_FORMATS: TextFormat[] = [vpcFlowFormat];
