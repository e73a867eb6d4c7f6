/**
 * An alert as an OCSF 1.7.0 Detection Finding (class_uid 2004, category Findings, 2): a pure
 * function of the alert and its triage state, for `--format ocsf`, the `ocsf` file sinks and
 * the API export. docs/ocsf.md has the mapping table and a real emitted object.
 *
 * What the class has no attribute for (correlation, threat-intel and GuardDuty details, the
 * flow summary, event ids) is kept in `unmapped.trailhound`, under the alert's own names.
 * Profiles used: `cloud` (always: `cloud` is required by it), `host` (for `actor`, when the
 * alert has a principal) and `osint` (threat-intel alerts: the indicator).
 *
 * Every value is attacker-controlled; JSON.stringify is the only escaping JSON needs.
 */
import { isIP } from 'node:net';
import type { Alert } from '../../core/alert.ts';
import type { LogRecord } from '../../core/envelope.ts';
import type { SigmaLevel } from '../../core/levels.ts';
import { ATTACK_V19_IDS, tacticInfo, techniqueInfo } from '../../attack/techniques.ts';

export const OCSF_VERSION = '1.7.0';
export const DETECTION_FINDING_CLASS_UID = 2004;
export const FINDINGS_CATEGORY_UID = 2;

/** Triage status of the alert store (issue 13): open -> acknowledged -> closed. */
export type TriageStatus = 'open' | 'acknowledged' | 'closed';

export interface DetectionFindingOptions {
  /** Default `open` (a freshly raised alert). */
  status?: TriageStatus;
  /** The close reason (`true_positive`, `false_positive`, ...), written to `status_detail`. */
  reason?: string;
  /** trailhound's version, for `metadata.product.version`. */
  productVersion?: string;
  /** The time, epoch ms, used only for an alert without any event time. */
  now?: number;
}

type Json = Record<string, unknown>;

/** Sigma level -> OCSF severity_id (caption in `severity`). */
const SEVERITY: Readonly<Record<SigmaLevel, { id: number; caption: string }>> = {
  informational: { id: 1, caption: 'Informational' },
  low: { id: 2, caption: 'Low' },
  medium: { id: 3, caption: 'Medium' },
  high: { id: 4, caption: 'High' },
  critical: { id: 5, caption: 'Critical' },
};

/**
 * Triage status -> the Finding class's status_id (1 New, 2 In Progress, 4 Resolved). Closing
 * does not suppress anything in trailhound (suppressions are filters), so a closed alert is
 * Resolved whatever its reason, never 3 Suppressed; the reason goes to `status_detail`.
 */
const STATUS: Readonly<Record<TriageStatus, { id: number; caption: string }>> = {
  open: { id: 1, caption: 'New' },
  acknowledged: { id: 2, caption: 'In Progress' },
  closed: { id: 4, caption: 'Resolved' },
};

const SOURCE_NAMES: Readonly<Record<Alert['source'], string>> = {
  cloudtrail: 'AWS CloudTrail',
  vpcflow: 'Amazon VPC Flow Logs',
  guardduty: 'Amazon GuardDuty',
};

/** ATT&CK v19 tactics (techniques.ts): an attack naming one of them is v19, the others v18. */
const V19_TACTICS = new Set(['defense-impairment', 'stealth']);
const V19_TECHNIQUES = new Set(Object.values(ATTACK_V19_IDS));

function timeOf(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) ? number : undefined;
}

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** Copies the entries whose value is neither undefined nor null. */
function compact(entries: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

function awsAccount(uid: string): Json {
  return { uid, type_id: 10, type: 'AWS Account' };
}

const ARN = /^arn:(aws[\w-]*):(iam|sts)::(\d{12}):(.+)$/;

/**
 * A principal as an OCSF user: an IAM/STS ARN gives uid, name (its last path segment), the
 * account and the kind (user 1 User, root 2 Admin, roles and sessions 99 Other with the AWS
 * kind in `type`); an AWS service principal is 4 Service; any other name is a user by name.
 */
export function principalUser(principal: string): Json {
  const arn = ARN.exec(principal);
  if (arn !== null) {
    const resource = arn[4] as string;
    const account = awsAccount(arn[3] as string);
    const name = resource === 'root' ? 'root' : (resource.split('/').pop() ?? resource);
    const kind: { type_id: number; type: string } = resource === 'root'
      ? { type_id: 2, type: 'Admin' }
      : resource.startsWith('user/') || resource.startsWith('federated-user/')
        ? { type_id: 1, type: 'User' }
        : resource.startsWith('assumed-role/')
          ? { type_id: 99, type: 'AssumedRole' }
          : resource.startsWith('role/')
            ? { type_id: 99, type: 'Role' }
            : { type_id: 0, type: 'Unknown' };
    return { uid: principal, name, ...kind, account };
  }
  if (principal === 'AWS Internal' || /\.amazonaws\.com$/.test(principal)) return { name: principal, type_id: 4, type: 'Service' };
  return { name: principal, type_id: 0, type: 'Unknown' };
}

/** The actor of the alert: a principal, not a network interface or an instance (those are endpoints). */
function actorOf(principal: string | null | undefined, source: Alert['source']): Json | undefined {
  if (principal === null || principal === undefined || principal === '') return undefined;
  if (source === 'vpcflow' || /^(?:eni|i|tgw-attach)-[0-9a-f]+$/.test(principal)) return undefined;
  return { user: principalUser(principal) };
}

/** A source address: an IP address as `ip`, anything else (`AWS Internal`, a service host) as `svc_name`. */
function endpoint(address: unknown, extra: Json = {}): Json | undefined {
  const value = text(address);
  const base = value === undefined ? {} : isIP(value) !== 0 ? { ip: value } : { svc_name: value };
  const out = compact({ ...base, ...extra });
  return Object.keys(out).length === 0 ? undefined : out;
}

const PROTOCOLS: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp' };

function cloudTrailEvidence(event: LogRecord, alert: Alert): Json {
  const identity = record(event.userIdentity);
  const principal = text(identity?.arn) ?? alert.actor;
  const operation = text(event.eventName);
  const service = text(event.eventSource);
  return compact({
    uid: text(event.eventID),
    name: operation,
    data: event,
    actor: actorOf(principal, 'cloudtrail'),
    api: operation === undefined ? undefined : compact({ operation, service: service === undefined ? undefined : { name: service } }),
    src_endpoint: endpoint(event.sourceIPAddress),
  });
}

function flowEvidence(event: LogRecord): Json {
  const direction = text(event['flow-direction']);
  const protocol = integer(event.protocol);
  return compact({
    data: event,
    src_endpoint: endpoint(event.srcaddr, {
      port: integer(event.srcport),
      interface_uid: text(event['interface-id']),
      instance_uid: text(event['instance-id']),
      vpc_uid: text(event['vpc-id']),
      subnet_uid: text(event['subnet-id']),
    }),
    dst_endpoint: endpoint(event.dstaddr, { port: integer(event.dstport) }),
    connection_info: compact({
      direction_id: direction === 'ingress' ? 1 : direction === 'egress' ? 2 : 0,
      direction: direction === 'ingress' ? 'Inbound' : direction === 'egress' ? 'Outbound' : 'Unknown',
      protocol_num: protocol,
      protocol_name: protocol === undefined ? undefined : PROTOCOLS[protocol],
    }),
  });
}

function guardDutyEvidence(event: LogRecord, alert: Alert): Json {
  return compact({
    uid: text(event.id),
    name: text(event.type),
    data: event,
    actor: actorOf(alert.actor, 'guardduty'),
    src_endpoint: endpoint(alert.source_ip),
  });
}

/** One evidence per embedded record (the raw record in `data`); without records, what the alert itself says. */
function evidencesOf(alert: Alert): Json[] | undefined {
  const events = alert.events ?? [];
  if (events.length > 0) {
    return events.map((event) =>
      alert.source === 'cloudtrail' ? cloudTrailEvidence(event, alert) : alert.source === 'vpcflow' ? flowEvidence(event) : guardDutyEvidence(event, alert),
    );
  }
  const evidence = compact({ actor: actorOf(alert.actor, alert.source), src_endpoint: endpoint(alert.source_ip) });
  return Object.keys(evidence).length === 0 ? undefined : [evidence];
}

function techniqueEntity(id: string): { technique: Json; sub_technique?: Json } {
  const info = techniqueInfo(id);
  const dot = id.indexOf('.');
  if (dot < 0) return { technique: compact({ uid: id, name: info?.name }) };
  const parentId = id.slice(0, dot);
  const parent = techniqueInfo(parentId);
  // Sub-technique names are written `Parent: Sub` in the table.
  const colon = info?.name.indexOf(': ') ?? -1;
  const parentName = parent?.name ?? (colon > 0 ? info?.name.slice(0, colon) : undefined);
  const subName = info === undefined ? undefined : colon > 0 ? info.name.slice(colon + 2) : info.name;
  return { technique: compact({ uid: parentId, name: parentName }), sub_technique: compact({ uid: id, name: subName }) };
}

function tacticEntity(slug: string): Json {
  const info = tacticInfo(slug);
  return compact({ uid: info?.id, name: info?.name ?? slug });
}

/**
 * ATT&CK as OCSF attack objects: one per technique and each of its tactics the alert names
 * (a technique outside the table is paired with the alert's tactic when it has only one), then
 * one per tactic no technique claimed. `version` is 19 for the v19 ids and tactics, else 18.
 */
export function attacksOf(attack: Alert['attack']): Json[] {
  const attacks: Json[] = [];
  const claimed = new Set<string>();
  for (const id of attack.techniques) {
    const info = techniqueInfo(id);
    const entity = techniqueEntity(id);
    const tactics = info === undefined ? (attack.tactics.length === 1 ? attack.tactics : []) : info.tactics.filter((slug) => attack.tactics.includes(slug));
    const version = (slug?: string): string => (V19_TECHNIQUES.has(id) || (slug !== undefined && V19_TACTICS.has(slug)) ? '19' : '18');
    if (tactics.length === 0) attacks.push({ ...entity, version: version() });
    for (const slug of tactics) {
      claimed.add(slug);
      attacks.push({ ...entity, tactic: tacticEntity(slug), version: version(slug) });
    }
  }
  for (const slug of attack.tactics) {
    if (!claimed.has(slug)) attacks.push({ tactic: tacticEntity(slug), version: V19_TACTICS.has(slug) ? '19' : '18' });
  }
  return attacks;
}

/** The kind of detection, for `finding_info.types` (GuardDuty findings add their finding type). */
function typesOf(alert: Alert): string[] {
  const types: string[] = [];
  if (alert.cti !== undefined) types.push('Threat Intelligence Match');
  else if (alert.correlation !== undefined) types.push(`Sigma Correlation (${alert.correlation.type})`);
  else if (alert.guardduty !== undefined) types.push('GuardDuty Finding');
  else types.push('Sigma Rule');
  if (alert.guardduty !== undefined) types.push(alert.guardduty.type);
  return types;
}

/** Event time of a record, epoch ms, by source. */
function eventTime(event: LogRecord, source: Alert['source']): number | undefined {
  if (source === 'cloudtrail') return timeOf(text(event.eventTime));
  if (source === 'vpcflow') {
    const start = integer(event.start);
    return start === undefined ? undefined : start * 1000;
  }
  const service = record(event.service);
  return timeOf(text(service?.eventFirstSeen)) ?? timeOf(text(event.createdAt));
}

function osintOf(cti: NonNullable<Alert['cti']>): Json {
  const indicator = cti.indicator;
  const kind = isIP(indicator) !== 0 ? { type_id: 1, type: 'IP Address' } : indicator.includes('/') ? { type_id: 99, type: 'CIDR' } : { type_id: 2, type: 'Domain' };
  const confidence = cti.confidence;
  return compact({
    value: indicator,
    ...kind,
    vendor_name: cti.feed,
    uid: cti.provenance,
    confidence_score: confidence === undefined ? undefined : Math.round(confidence),
    confidence_id: confidence === undefined ? undefined : confidence >= 67 ? 3 : confidence >= 34 ? 2 : 1,
    confidence: confidence === undefined ? undefined : confidence >= 67 ? 'High' : confidence >= 34 ? 'Medium' : 'Low',
  });
}

/** Affected resources: a GuardDuty finding's resource; the `resources` a CloudTrail record names (at most 20). */
function resourcesOf(alert: Alert): Json[] | undefined {
  const resources: Json[] = [];
  if (alert.guardduty?.resource_id !== undefined && alert.guardduty.resource_id !== null) {
    resources.push(compact({ uid: alert.guardduty.resource_id, type: alert.guardduty.resource_type ?? undefined, region: alert.region ?? undefined, role_id: 3, role: 'Affected' }));
  }
  if (alert.source === 'cloudtrail') {
    const seen = new Set<string>();
    for (const event of alert.events ?? []) {
      if (!Array.isArray(event.resources)) continue;
      for (const item of event.resources as unknown[]) {
        const uid = text(record(item)?.ARN);
        if (uid === undefined || seen.has(uid) || resources.length >= 20) continue;
        seen.add(uid);
        resources.push(compact({ uid, type: text(record(item)?.type), role_id: 1, role: 'Target' }));
      }
    }
  }
  return resources.length === 0 ? undefined : resources;
}

function observablesOf(alert: Alert, actor: Json | undefined, evidences: Json[] | undefined): Json[] | undefined {
  const observables: Json[] = [];
  if (alert.account !== null) observables.push({ name: 'cloud.account.uid', type_id: 35, value: alert.account });
  const user = record(actor?.user);
  if (typeof user?.uid === 'string') observables.push({ name: 'actor.user.uid', type_id: 31, value: user.uid });
  const ips = new Set<string>();
  for (const evidence of evidences ?? []) {
    const ip = record(evidence.src_endpoint)?.ip;
    if (typeof ip === 'string') ips.add(ip);
  }
  for (const ip of ips) observables.push({ name: 'evidences.src_endpoint.ip', type_id: 2, value: ip });
  if (alert.cti !== undefined) observables.push({ name: 'osint.value', type_id: isIP(alert.cti.indicator) !== 0 ? 2 : 99, value: alert.cti.indicator });
  return observables.length === 0 ? undefined : observables;
}

/** The trailhound-specific parts of the alert, under their alert names (`unmapped.trailhound`). */
function unmappedOf(alert: Alert, options: DetectionFindingOptions): Json {
  return compact({
    source: alert.source,
    rule: compact({ id: alert.rule.id, name: alert.rule.name, level: alert.rule.level, tuned: alert.rule.tuned, tuning: alert.rule.tuning }),
    event_ids: alert.event_ids,
    count: alert.count,
    correlation: alert.correlation,
    cti: alert.cti,
    guardduty: alert.guardduty,
    flow: alert.flow,
    update: alert.update,
    triage: options.status === undefined && options.reason === undefined ? undefined : compact({ status: options.status, reason: options.reason }),
  });
}

/** The alert as an OCSF 1.7.0 Detection Finding (docs/ocsf.md). */
export function toDetectionFinding(alert: Alert, options: DetectionFindingOptions = {}): Json {
  const severity = SEVERITY[alert.rule.level] ?? { id: 99, caption: String(alert.rule.level) };
  const status = STATUS[options.status ?? 'open'];
  const activity = alert.update === true ? { id: 2, caption: 'Update' } : { id: 1, caption: 'Create' };
  const eventTimes = (alert.events ?? []).map((event) => eventTime(event, alert.source)).filter((time): time is number => time !== undefined);
  const time = timeOf(alert.time) ?? timeOf(alert.correlation?.window.end) ?? timeOf(alert.guardduty?.updated_at) ?? options.now ?? Date.now();
  const firstSeen = Math.min(time, timeOf(alert.correlation?.window.start) ?? time, ...eventTimes);
  const actor = actorOf(alert.actor, alert.source);
  const evidences = evidencesOf(alert);
  const guardDutyRecord = alert.source === 'guardduty' ? alert.events?.[0] : undefined;
  const profiles = ['cloud', ...(actor === undefined ? [] : ['host']), ...(alert.cti === undefined ? [] : ['osint'])];
  const where = [alert.account, alert.region].filter((part) => part !== null).join('/');

  return compact({
    activity_id: activity.id,
    activity_name: activity.caption,
    category_uid: FINDINGS_CATEGORY_UID,
    category_name: 'Findings',
    class_uid: DETECTION_FINDING_CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: DETECTION_FINDING_CLASS_UID * 100 + activity.id,
    type_name: `Detection Finding: ${activity.caption}`,
    severity_id: severity.id,
    severity: severity.caption,
    status_id: status.id,
    status: status.caption,
    status_detail: options.reason === undefined ? undefined : `closed as ${options.reason}`,
    time,
    timezone_offset: 0,
    start_time: firstSeen,
    end_time: time,
    count: alert.count,
    is_alert: true,
    message: `${alert.rule.title}: ${alert.actor ?? 'unknown actor'}${where === '' ? '' : ` in ${where}`}${alert.source_ip === null ? '' : ` from ${alert.source_ip}`}`,
    finding_info: compact({
      uid: alert.id,
      uid_alt: alert.guardduty?.id,
      title: alert.rule.title,
      types: typesOf(alert),
      analytic: compact({ uid: alert.rule.id, name: alert.rule.name ?? alert.rule.title, type_id: 1, type: 'Rule', category: alert.source }),
      attacks: alert.attack.techniques.length + alert.attack.tactics.length === 0 ? undefined : attacksOf(alert.attack),
      first_seen_time: firstSeen,
      last_seen_time: time,
      created_time: guardDutyRecord === undefined ? undefined : timeOf(text(guardDutyRecord.createdAt)),
      modified_time: timeOf(alert.guardduty?.updated_at),
      product: alert.guardduty === undefined ? undefined : { name: 'Amazon GuardDuty', vendor_name: 'AWS' },
      data_sources: [SOURCE_NAMES[alert.source]],
      related_events_count: alert.event_ids.length,
    }),
    cloud: compact({ provider: 'AWS', region: alert.region ?? undefined, account: alert.account === null ? undefined : awsAccount(alert.account) }),
    actor,
    osint: alert.cti === undefined ? undefined : [osintOf(alert.cti)],
    evidences,
    resources: resourcesOf(alert),
    observables: observablesOf(alert, actor, evidences),
    metadata: compact({
      version: OCSF_VERSION,
      uid: alert.id,
      product: compact({ name: 'trailhound', vendor_name: 'trailhound', version: options.productVersion }),
      profiles,
      original_time: alert.time ?? undefined,
      log_name: SOURCE_NAMES[alert.source],
    }),
    unmapped: { trailhound: unmappedOf(alert, options) },
  });
}
