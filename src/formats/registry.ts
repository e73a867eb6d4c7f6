/**
 * The formats, in the order the dispatcher tries them (registries are explicit: docs/architecture.md, Layout).
 * JSON formats are offered each top-level JSON value; text formats sniff the first line of
 * content that is not JSON.
 */
import { cloudTrailFormat } from './cloudtrail/format.ts';
import { guardDutyFormat } from './guardduty/format.ts';
import type { JsonFormat, TextFormat } from './types.ts';
import { vpcFlowFormat } from './vpcflow/format.ts';

export const JSON_FORMATS: JsonFormat[] = [cloudTrailFormat, guardDutyFormat];

/** Parquet flow logs are not here: decodeUnit routes them on the magic number (isParquet). */
export const TEXT_FORMATS: TextFormat[] = [vpcFlowFormat];
