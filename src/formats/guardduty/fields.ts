/**
 * Where a GuardDuty finding says what it is about and who was on the other end: the affected
 * resource (`resource.resourceType` and the id of its details block) and the remote addresses
 * of `service.action` (API calls, network connections, port probes, Kubernetes API calls, RDS
 * logins). Read from the finding as GuardDuty writes it (camelCase), never copied.
 */
import type { LogRecord } from '../../core/envelope.ts';

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A remote address of a finding, with the path it was read from. */
export interface GuardDutyRemoteIp {
  ip: string;
  /** Dotted path in the finding, e.g. `service.action.networkConnectionAction.remoteIpDetails.ipAddressV4`. */
  field: string;
  /** Who opened the connection, when the finding says: ingress (the remote side) or egress (our resource). */
  direction?: 'ingress' | 'egress';
}

/** Remote addresses kept per finding: port probes can list many sources. */
const MAX_REMOTE_IPS = 20;

function directionOf(actionKey: string, action: Record<string, unknown>): GuardDutyRemoteIp['direction'] {
  if (actionKey === 'networkConnectionAction') {
    const direction = action.connectionDirection;
    return direction === 'INBOUND' ? 'ingress' : direction === 'OUTBOUND' ? 'egress' : undefined;
  }
  if (actionKey === 'portProbeAction' || actionKey === 'rdsLoginAttemptAction' || actionKey === 'kubernetesApiCallAction') return 'ingress';
  return undefined;
}

function addDetails(out: GuardDutyRemoteIp[], details: unknown, path: string, direction: GuardDutyRemoteIp['direction']): void {
  const remote = asObject(details);
  if (remote === undefined) return;
  for (const key of ['ipAddressV4', 'ipAddressV6']) {
    const ip = text(remote[key]);
    if (ip === undefined || out.length >= MAX_REMOTE_IPS || out.some((seen) => seen.ip === ip)) continue;
    out.push({ ip, field: `${path}.${key}`, ...(direction === undefined ? {} : { direction }) });
  }
}

/**
 * The remote IP addresses of a finding's `service.action`, in the order GuardDuty lists them
 * (at most 20, each once). Every `*Action` block is read: its `remoteIpDetails`, and the
 * `remoteIpDetails` of each member of its arrays (portProbeDetails, loginAttributes...).
 */
export function guardDutyRemoteIps(finding: LogRecord): GuardDutyRemoteIp[] {
  const out: GuardDutyRemoteIp[] = [];
  const action = asObject(asObject(finding.service)?.action);
  if (action === undefined) return out;
  for (const [actionKey, value] of Object.entries(action)) {
    const block = asObject(value);
    if (block === undefined) continue;
    const direction = directionOf(actionKey, block);
    const base = `service.action.${actionKey}`;
    addDetails(out, block.remoteIpDetails, `${base}.remoteIpDetails`, direction);
    for (const [member, list] of Object.entries(block)) {
      if (!Array.isArray(list)) continue;
      list.forEach((item, i) => addDetails(out, asObject(item)?.remoteIpDetails, `${base}.${member}[${i}].remoteIpDetails`, direction));
    }
  }
  return out;
}

/** The affected resource: its GuardDuty type and the most telling id its details give. */
export interface GuardDutyResource {
  type: string | null;
  id: string | null;
}

/** `resource.<detailsKey>.<idKey>`, first present wins; arrays (s3BucketDetails) use their first member. */
const RESOURCE_IDS: readonly (readonly [string, string])[] = [
  ['instanceDetails', 'instanceId'],
  ['accessKeyDetails', 'accessKeyId'],
  ['s3BucketDetails', 'name'],
  ['eksClusterDetails', 'name'],
  ['ecsClusterDetails', 'name'],
  ['containerDetails', 'id'],
  ['rdsDbInstanceDetails', 'dbInstanceIdentifier'],
  ['rdsLimitlessDbDetails', 'dbShardGroupIdentifier'],
  ['lambdaDetails', 'functionName'],
];

export function guardDutyResource(finding: LogRecord): GuardDutyResource {
  const resource = asObject(finding.resource);
  if (resource === undefined) return { type: null, id: null };
  let id: string | undefined;
  for (const [detailsKey, idKey] of RESOURCE_IDS) {
    const raw = resource[detailsKey];
    const details = asObject(Array.isArray(raw) ? raw[0] : raw);
    id = text(details?.[idKey]) ?? (detailsKey === 's3BucketDetails' ? text(details?.arn) : undefined);
    if (id !== undefined) break;
  }
  return { type: text(resource.resourceType) ?? null, id: id ?? null };
}
