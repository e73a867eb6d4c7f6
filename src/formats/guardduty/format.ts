/**
 * GuardDuty findings, in every shape they reach us:
 * - a raw finding object (`schemaVersion`, `id`, `type`, `severity`, `service`/`resource`):
 *   the S3 export writes one per line (JSON lines; the dispatcher hands us each line);
 * - an EventBridge event (`detail-type: "GuardDuty Finding"`, `source: "aws.guardduty"`):
 *   the record is `detail`;
 * - GetFindings output `{"Findings": [...]}` (also `{"findings": [...]}`), or a bare array
 *   of findings (`aws guardduty get-findings --query Findings`).
 *
 * Sample findings (`service.additionalInfo.sample` true or "true", or a `value` JSON string
 * saying so, as the console's "generate sample findings" writes) are dropped and counted as
 * skipped. Envelope time: `updatedAt`, else `createdAt` (else the EventBridge `time`), NaN
 * when none parses. Deduplication is the engine's: guardDutyFindingVersion() gives it the
 * finding id, `service.count` and `updatedAt` to compare.
 */
import { located } from '../../core/errors.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import type { JsonFormat, UnwrapContext } from '../types.ts';
import { isJsonObject } from '../../core/json-object.ts';
import { firstElements } from '../record-list.ts';

/** Structural test for one raw finding. */
export function isGuardDutyFinding(value: unknown): value is LogRecord {
  if (!isJsonObject(value)) return false;
  return (
    typeof value.schemaVersion === 'string' &&
    typeof value.id === 'string' &&
    typeof value.type === 'string' &&
    (typeof value.severity === 'number' || typeof value.severity === 'string') &&
    (isJsonObject(value.service) || isJsonObject(value.resource))
  );
}

function isEventBridgeFinding(value: Record<string, unknown>): boolean {
  return value['detail-type'] === 'GuardDuty Finding' && (value.source === undefined || value.source === 'aws.guardduty') && 'detail' in value;
}

function findingsList(value: Record<string, unknown>): unknown[] | undefined {
  const list = Array.isArray(value.Findings) ? value.Findings : Array.isArray(value.findings) ? value.findings : undefined;
  if (!list) return undefined;
  // Only when the list is empty (or holes left by recovery) or holds a finding among its first
  // elements (record-list.ts): `findings` is a common word, and junk at its top must not hide it.
  if (firstElements(list, isGuardDutyFinding) === 'record') return list;
  return list.every((item) => item === undefined) ? list : undefined;
}

/** True for a finding GuardDuty generated as a sample (console or CreateSampleFindings). */
export function isSampleFinding(finding: LogRecord): boolean {
  const service = finding.service;
  if (!isJsonObject(service)) return false;
  const info = service.additionalInfo;
  if (!isJsonObject(info)) return false;
  const sample = info.sample;
  if (sample === true || (typeof sample === 'string' && sample.toLowerCase() === 'true')) return true;
  return typeof info.value === 'string' && /"sample"\s*:\s*(true|"true")/i.test(info.value);
}

function parseTime(value: unknown): number {
  if (typeof value === 'string') return Date.parse(value);
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  return NaN;
}

/** Event time of a finding: updatedAt, else createdAt, else `fallback`. */
export function guardDutyFindingTime(finding: LogRecord, fallback?: unknown): number {
  const updated = parseTime(finding.updatedAt);
  if (!Number.isNaN(updated)) return updated;
  const created = parseTime(finding.createdAt);
  if (!Number.isNaN(created)) return created;
  return parseTime(fallback);
}

export interface GuardDutyFindingVersion {
  id: string;
  /** `service.count`: GuardDuty raises it each time it sees the activity again (1 when absent). */
  count: number;
  /** `updatedAt` in epoch ms, NaN when absent. */
  updatedAt: number;
}

/** What tells two publications of the same finding apart; undefined when the record has no id. */
export function guardDutyFindingVersion(record: LogRecord): GuardDutyFindingVersion | undefined {
  if (typeof record.id !== 'string' || record.id === '') return undefined;
  const service = record.service;
  const rawCount = isJsonObject(service) ? service.count : undefined;
  const count = typeof rawCount === 'number' ? rawCount : typeof rawCount === 'string' && rawCount !== '' ? Number(rawCount) : 1;
  return { id: record.id, count: Number.isFinite(count) ? count : 1, updatedAt: parseTime(record.updatedAt) };
}

/**
 * Orders two versions of one finding: positive when `a` is newer (higher count, then later
 * updatedAt), negative when older, 0 when the same.
 */
export function compareFindingVersions(a: GuardDutyFindingVersion, b: GuardDutyFindingVersion): number {
  if (a.count !== b.count) return a.count - b.count;
  const au = Number.isNaN(a.updatedAt) ? -Infinity : a.updatedAt;
  const bu = Number.isNaN(b.updatedAt) ? -Infinity : b.updatedAt;
  return au === bu ? 0 : au > bu ? 1 : -1;
}

/** `uri#<valueIndex><member>` (member such as `.Findings[2]`), as the dispatcher locates values. */
function locate(ctx: UnwrapContext, member: string): string {
  return ctx.locate !== undefined ? ctx.locate(member) : `${ctx.uri}#${ctx.valueIndex ?? 0}${member}`;
}

function addFinding(out: Envelope[], ctx: UnwrapContext, value: unknown, member: string, fallbackTime?: unknown): void {
  // A hole left by the dispatcher's recovery of a damaged array: already reported.
  if (value === undefined && member !== '' && member !== '.detail') return;
  if (!isJsonObject(value) || typeof value.type !== 'string' || typeof value.id !== 'string') {
    ctx.reportError(located('TH_INPUT_RECORD', 'not a GuardDuty finding: an object with string `id` and `type` is required', locate(ctx, member)));
    return;
  }
  if (isSampleFinding(value)) {
    ctx.countSkipped();
    return;
  }
  out.push({ source: 'guardduty', time: guardDutyFindingTime(value, fallbackTime), record: value, origin: ctx.nextOrigin(ctx.line) });
}

/** GuardDuty findings: registered in the formats registry as a JsonFormat. */
export const guardDutyFormat: JsonFormat = {
  source: 'guardduty',

  recordArrays: ['Findings', 'findings'],

  recognise(value: unknown): boolean {
    if (Array.isArray(value)) return firstElements(value, isGuardDutyFinding) === 'record';
    if (!isJsonObject(value)) return false;
    return isEventBridgeFinding(value) || findingsList(value) !== undefined || isGuardDutyFinding(value);
  },

  unwrap(value: unknown, ctx: UnwrapContext): Envelope[] {
    const out: Envelope[] = [];
    if (Array.isArray(value)) {
      value.forEach((item, i) => addFinding(out, ctx, item, `[${i}]`));
      return out;
    }
    if (!isJsonObject(value)) {
      ctx.reportError(located('TH_INPUT_RECORD', 'not a GuardDuty finding', locate(ctx, '')));
      return out;
    }
    if (isEventBridgeFinding(value)) {
      addFinding(out, ctx, value.detail, '.detail', value.time);
      return out;
    }
    const list = findingsList(value);
    if (list !== undefined) {
      const key = Array.isArray(value.Findings) ? 'Findings' : 'findings';
      list.forEach((item, i) => addFinding(out, ctx, item, `.${key}[${i}]`));
      return out;
    }
    addFinding(out, ctx, value, '');
    return out;
  },
};
