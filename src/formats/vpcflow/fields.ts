/**
 * The VPC Flow Logs and Transit Gateway Flow Logs field catalogue, and the header that tells
 * the scanner which field each space-separated column holds.
 *
 * Sources: AWS VPC user guide "Flow log records" (versions 2 to 8) and Transit Gateway guide
 * "Transit Gateway Flow Logs records". Integer fields decode to numbers; every other field
 * stays a string, account ids included (they keep their leading zeros). A field AWS writes
 * as `-` (not applicable / not computed) is left out of the record: Sigma `field: null`
 * matches it, as it matches any absent field.
 */

/** Fields whose values are integers (Parquet INT_32 / INT_64). */
export const FLOW_INTEGER_FIELDS: ReadonlySet<string> = new Set([
  'version',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'tcp-flags',
  'traffic-path',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
]);

/** VPC Flow Logs fields, with the version that introduced each, in AWS documentation order. */
export const VPC_FLOW_FIELDS: Readonly<Record<string, number>> = {
  version: 2,
  'account-id': 2,
  'interface-id': 2,
  srcaddr: 2,
  dstaddr: 2,
  srcport: 2,
  dstport: 2,
  protocol: 2,
  packets: 2,
  bytes: 2,
  start: 2,
  end: 2,
  action: 2,
  'log-status': 2,
  'vpc-id': 3,
  'subnet-id': 3,
  'instance-id': 3,
  'tcp-flags': 3,
  type: 3,
  'pkt-srcaddr': 3,
  'pkt-dstaddr': 3,
  region: 4,
  'az-id': 4,
  'sublocation-type': 4,
  'sublocation-id': 4,
  'pkt-src-aws-service': 5,
  'pkt-dst-aws-service': 5,
  'flow-direction': 5,
  'traffic-path': 5,
  'ecs-cluster-arn': 7,
  'ecs-cluster-name': 7,
  'ecs-container-instance-arn': 7,
  'ecs-container-instance-id': 7,
  'ecs-container-id': 7,
  'ecs-second-container-id': 7,
  'ecs-service-name': 7,
  'ecs-task-definition-arn': 7,
  'ecs-task-arn': 7,
  'ecs-task-id': 7,
  'reject-reason': 8,
};

/** Transit Gateway Flow Logs fields, in the default TGW format order. */
export const TGW_FLOW_FIELDS: readonly string[] = [
  'version',
  'resource-type',
  'account-id',
  'tgw-id',
  'tgw-attachment-id',
  'tgw-src-vpc-account-id',
  'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id',
  'tgw-dst-vpc-id',
  'tgw-src-subnet-id',
  'tgw-dst-subnet-id',
  'tgw-src-eni',
  'tgw-dst-eni',
  'tgw-src-az-id',
  'tgw-dst-az-id',
  'tgw-pair-attachment-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'log-status',
  'type',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
  'tcp-flags',
  'region',
  'flow-direction',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
];

/** The default (version 2) format: what AWS writes when no custom format was chosen. */
export const DEFAULT_FLOW_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

const KNOWN_FIELDS: ReadonlySet<string> = new Set([...Object.keys(VPC_FLOW_FIELDS), ...TGW_FLOW_FIELDS]);

/** True for a field name of the VPC or Transit Gateway catalogue. */
export function isKnownFlowField(name: string): boolean {
  return KNOWN_FIELDS.has(name);
}

/** Which column holds what: built once per header, read per line by the scanner. */
export interface FlowHeader {
  /** AWS field names in column order. */
  readonly fields: readonly string[];
  /** Per column: 1 when the field is an integer, 0 for a string. */
  readonly integer: Uint8Array;
  /** Column of a field by AWS name; -1 when the header lacks it. */
  column(name: string): number;
  /** Columns of the fields the scanner and CTI matching read on every line (-1 when absent). */
  readonly srcaddr: number;
  readonly dstaddr: number;
  readonly pktSrcaddr: number;
  readonly pktDstaddr: number;
  readonly start: number;
  readonly logStatus: number;
  /** Where the header came from: a header line of the input, a format string, or the v2 default. */
  readonly origin: 'header' | 'format' | 'default';
}

/** A header for the given field names (unknown names are kept as string fields). */
export function makeFlowHeader(fields: readonly string[], origin: FlowHeader['origin']): FlowHeader {
  const index = new Map<string, number>();
  fields.forEach((f, i) => {
    if (!index.has(f)) index.set(f, i);
  });
  const integer = new Uint8Array(fields.length);
  fields.forEach((f, i) => {
    integer[i] = FLOW_INTEGER_FIELDS.has(f) ? 1 : 0;
  });
  const column = (name: string): number => index.get(name) ?? -1;
  return {
    fields: [...fields],
    integer,
    column,
    srcaddr: column('srcaddr'),
    dstaddr: column('dstaddr'),
    pktSrcaddr: column('pkt-srcaddr'),
    pktDstaddr: column('pkt-dstaddr'),
    start: column('start'),
    logStatus: column('log-status'),
    origin,
  };
}

/** The version-2 default header, shared. */
export const DEFAULT_FLOW_HEADER: FlowHeader = makeFlowHeader(DEFAULT_FLOW_FIELDS, 'default');

/**
 * A header from an AWS format string (`${version} ${account-id} ...`, as given to
 * CreateFlowLogs `LogFormat`) or a plain space-separated field list. Returns an error
 * message instead when the string names no field or holds something else than fields.
 */
export function parseFlowFormat(format: string): FlowHeader | string {
  const tokens = format.trim().split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) return 'the flow log format is empty';
  const fields: string[] = [];
  for (const token of tokens) {
    const m = /^\$\{([a-z0-9-]+)\}$/.exec(token) ?? /^([a-z][a-z0-9-]*)$/.exec(token);
    if (!m || m[1] === undefined) return `"${token}" is not a flow log field (expected \${field-name})`;
    fields.push(m[1]);
  }
  return makeFlowHeader(fields, 'format');
}

const IDENT = /^[a-z][a-z-]*$/;

/**
 * True when the space-separated tokens are a header line: every token is shaped like a
 * field name (lowercase letters and hyphens, as every AWS field name is), and the line
 * starts with `version`, or holds both `srcaddr` and `dstaddr`, or at least two known field
 * names (so a record such as `ingress egress` is not one).
 */
export function isFlowHeaderTokens(tokens: readonly string[]): boolean {
  if (tokens.length === 0) return false;
  let known = 0;
  let src = false;
  let dst = false;
  for (const t of tokens) {
    if (!IDENT.test(t)) return false;
    if (KNOWN_FIELDS.has(t)) known++;
    if (t === 'srcaddr') src = true;
    else if (t === 'dstaddr') dst = true;
  }
  return tokens[0] === 'version' || (src && dst) || known >= 2 || (known === tokens.length && known > 0);
}

/** Parquet column names use underscores (`account_id`, `log_status`); AWS text names use hyphens. */
export function flowFieldFromParquetColumn(column: string): string {
  return column.replace(/_/g, '-');
}

/** The AWS format string (`${f1} ${f2} ...`) of the given fields. */
export function flowFormatString(fields: readonly string[]): string {
  return fields.map((f) => `\${${f}}`).join(' ');
}

/** The format string of every VPC field introduced up to `version`, in documentation order. */
export function allVpcFieldsFormat(version: number): string {
  return flowFormatString(Object.keys(VPC_FLOW_FIELDS).filter((f) => (VPC_FLOW_FIELDS[f] ?? 99) <= version));
}

/** The format string of the default Transit Gateway flow log format. */
export const TGW_DEFAULT_FORMAT: string = flowFormatString(TGW_FLOW_FIELDS);
