/**
 * A GuardDuty finding as an alert, without any rule (seed-detections.md §3): the pseudo-rule
 * aws-gd-finding-passthrough, titled with the finding's title, its level from the severity
 * bands, its ATT&CK mapping from the finding type. The alert id depends on the finding id only,
 * so every version of a finding carries the same id (see guardduty-findings.ts).
 */
import type { Alert, AlertGuardDuty, AlertOptions } from '../../core/alert.ts';
import { alertContext, isoTime, stableAlertId } from '../alerts/build.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import { GUARDDUTY_PASSTHROUGH_RULE } from '../alerts/builtin-rules.ts';
import { attackForFindingType, levelForGuardDutySeverity } from '../../attack/guardduty-mapping.ts';
import { guardDutyFindingVersion } from '../../formats/guardduty/format.ts';
import { guardDutyResource } from '../../formats/guardduty/fields.ts';

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `severity` as GuardDuty writes it: a number, or a numeric string in some exports. NaN otherwise. */
export function findingSeverity(finding: LogRecord): number {
  const raw = finding.severity;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return Number.NaN;
}

/** What the alert's `guardduty` member says about the finding. */
export function alertGuardDutyOf(finding: LogRecord): AlertGuardDuty {
  const version = guardDutyFindingVersion(finding);
  const severity = findingSeverity(finding);
  const resource = guardDutyResource(finding);
  const archived = asObject(finding.service)?.archived;
  return {
    id: typeof finding.id === 'string' ? finding.id : '',
    type: typeof finding.type === 'string' ? finding.type : '',
    severity: Number.isFinite(severity) ? severity : 0,
    count: version?.count ?? 1,
    updated_at: version === undefined ? null : isoTime(version.updatedAt),
    resource_type: resource.type,
    resource_id: resource.id,
    archived: archived === true || archived === 'true',
  };
}

/** The passthrough alert of one finding (the decoder already dropped sample findings). */
export function guardDutyFindingAlert(envelope: Envelope, options: AlertOptions): Alert {
  const finding = envelope.record;
  const guardduty = alertGuardDutyOf(finding);
  const title = typeof finding.title === 'string' && finding.title !== '' ? finding.title : guardduty.type || GUARDDUTY_PASSTHROUGH_RULE.title;
  const rule = GUARDDUTY_PASSTHROUGH_RULE;
  const alert: Alert = {
    id: stableAlertId(rule.id, [guardduty.id]),
    time: isoTime(envelope.time),
    rule: { id: rule.id, name: rule.name ?? null, title, level: levelForGuardDutySeverity(findingSeverity(finding)) },
    attack: attackForFindingType(guardduty.type, finding),
    source: 'guardduty',
    ...alertContext(envelope),
    event_ids: [guardduty.id],
    count: guardduty.count,
    guardduty,
  };
  if (options.includeEvents) alert.events = [finding];
  return alert;
}
