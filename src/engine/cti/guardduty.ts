/**
 * GuardDuty remote addresses against threat intelligence: the pseudo-rule
 * aws-gd-cti-remote-ip-match. GuardDuty already judged the activity; an indicator of our own
 * feeds on its remote address corroborates it, so the alert takes the finding's level (at
 * least medium) and ATT&CK mapping. One alert per finding and indicator; like the finding's
 * own alert it follows the finding's versions (guardduty-findings.ts).
 */
import type { Alert, AlertOptions } from '../../core/alert.ts';
import { alertContext, isoTime, stableAlertId } from '../alerts/build.ts';
import type { Envelope } from '../../core/envelope.ts';
import { GUARDDUTY_CTI_RULE } from '../alerts/builtin-rules.ts';
import { alertCtiOf } from './indicator-match.ts';
import { levelOfRank, levelRank } from '../../core/levels.ts';
import { alertGuardDutyOf, findingSeverity } from '../guardduty/alerts.ts';
import { attackForFindingType, levelForGuardDutySeverity } from '../../attack/guardduty-mapping.ts';
import { guardDutyRemoteIps } from '../../formats/guardduty/fields.ts';
import type { IntelIndex } from '../../intel/intel-index.ts';

/** Appends to `out` one alert per indicator matching a remote address of the finding. */
export function guardDutyCtiAlerts(envelope: Envelope, index: IntelIndex, options: AlertOptions, out: Alert[]): number {
  const finding = envelope.record;
  const seen = new Set<string>();
  let matches = 0;
  for (const remote of guardDutyRemoteIps(finding)) {
    const indicators = index.lookupIp(remote.ip);
    const first = indicators[0];
    if (first === undefined || seen.has(first.value)) continue;
    seen.add(first.value);
    matches++;
    const guardduty = alertGuardDutyOf(finding);
    const rule = GUARDDUTY_CTI_RULE;
    const level = levelOfRank(Math.max(levelRank('medium'), levelRank(levelForGuardDutySeverity(findingSeverity(finding)))));
    const alert: Alert = {
      id: stableAlertId(rule.id, [guardduty.id, first.value]),
      time: isoTime(envelope.time),
      rule: { id: rule.id, name: rule.name ?? null, title: rule.title, level },
      attack: attackForFindingType(guardduty.type, finding),
      source: 'guardduty',
      ...alertContext(envelope),
      source_ip: remote.ip,
      event_ids: [guardduty.id],
      count: 1,
      cti: alertCtiOf(indicators, remote.ip, remote.field, remote.direction),
      guardduty,
    };
    if (options.includeEvents) alert.events = [finding];
    out.push(alert);
  }
  return matches;
}
