/**
 * CloudTrail records as AWS writes them: principals of every userIdentity type, the
 * account's resources, and the request/response bodies of each call shape. Used by the
 * background generator (generate.ts) and the planted attacks (planted.ts).
 */
import { CATALOG, DISCOVERY_NAMES, isDiscoveryRead } from './catalog.ts';
import type { CatalogEntry } from './catalog.ts';
import { Rng, WeightedPicker } from './rng.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type PrincipalKind = 'app' | 'human' | 'service' | 'portal' | 'cross-account';

export interface Principal {
  kind: PrincipalKind;
  label: string;
  /** userIdentity variants (sessions of one role); one is picked per call. */
  identities: JsonObject[];
  weight: number;
  homeRegions: readonly string[];
  /** The EC2 discovery calls this principal makes: at most 4 (no multi-region or EC2 probing pattern). */
  repertoire: readonly string[];
  /**
   * The read-only calls aws-ct-discovery-call counts that this principal makes (`service:name`),
   * at most 8: its EC2 repertoire, DescribeNetworkInterfaces and 1-3 others. Absent for AWS
   * services and AWS-invoked roles (the rule leaves them out, so they may call anything).
   */
  reads?: readonly string[];
  userAgents: readonly string[];
  sourceIps: readonly string[];
}

export interface Account {
  id: string;
  name: string;
  regions: ReadonlyArray<readonly [region: string, weight: number]>;
  principals: Principal[];
  buckets: string[];
  roles: string[];
  keys: string[];
  functions: string[];
  tables: string[];
  clusters: string[];
  repos: string[];
  logGroups: string[];
  secrets: string[];
  instances: string[];
}

const SDK_AGENTS = [
  'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0',
  'aws-sdk-java/2.25.60 Linux/5.10.220-209.869.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
  'Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.131',
  'aws-sdk-nodejs/3.600.0 linux/v20.15.0 exec-env/AWS_ECS_FARGATE',
  'aws-sdk-js/3.609.0 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 lang/js md/nodejs#20.15.0 api/kms#3.609.0',
  'amazon-ssm-agent/3.3.484.0',
  'Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.57.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64',
];
const HUMAN_AGENTS = [
  'aws-cli/2.17.9 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#ec2.describe-instances',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'AWS Internal',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'console.amazonaws.com',
];
const APP_ROLES = [
  'orders-api-task', 'reporting-app-ec2', 'invoice-export-role', 'slack-notifier-role', 'payments-worker', 'search-indexer',
  'etl-glue-job', 'billing-batch', 'k8s-node-group', 'k8s-cluster-autoscaler', 'external-dns', 'aws-load-balancer-controller',
  'datadog-integration', 'backup-runner', 'image-resizer', 'fraud-scoring', 'cart-service', 'notification-service', 'ledger-writer',
  'session-cache', 'audit-exporter', 'ml-feature-store', 'email-sender', 'partner-sftp', 'catalog-sync', 'github-actions-terraform',
  'github-actions-deploy', 'grafana-cloudwatch', 'vpc-flow-processor', 'security-automation',
];
const SERVICE_ROLES: ReadonlyArray<readonly [role: string, service: string]> = [
  ['AWSServiceRoleForAutoScaling', 'autoscaling.amazonaws.com'],
  ['AWSServiceRoleForConfig', 'config.amazonaws.com'],
  ['cfn-exec-role', 'cloudformation.amazonaws.com'],
  ['AWSServiceRoleForECS', 'ecs.amazonaws.com'],
  ['AWSServiceRoleForAmazonEKSNodegroup', 'eks-nodegroup.amazonaws.com'],
];
const AWS_SERVICES = ['lambda.amazonaws.com', 'ec2.amazonaws.com', 'ecs-tasks.amazonaws.com', 'config.amazonaws.com', 'cloudformation.amazonaws.com', 'eks.amazonaws.com', 'glue.amazonaws.com', 'securityhub.amazonaws.com'];
const IAM_USERS = ['svc-backup', 'ci-deploy', 'legacy-etl', 'alice.admin', 'bob.dev', 'monitoring-exporter', 'partner-upload', 'carol.sre'];
const SSO_PEOPLE = ['sam.lee@example.com', 'dana.kim@example.com', 'lee.chen@example.com', 'priya.n@example.com', 'omar.f@example.com', 'julia.r@example.com'];
const SSO_SETS = ['AWSReservedSSO_ReadOnlyAccess_5f1a9c6d2e3b4a70', 'AWSReservedSSO_AdministratorAccess_0c4d2b8a1f6e3d95', 'AWSReservedSSO_PowerUserAccess_7e2a4c9b6d1f8a03'];

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The home regions of a principal: 1-3 of its account's regions, by weight. */
function homeRegions(rng: Rng, regions: Account['regions']): string[] {
  const picker = new WeightedPicker(regions.map(([region, weight]) => [region, weight] as const));
  const count = rng.between(1, 3);
  const out = new Set<string>();
  for (let i = 0; i < count * 3 && out.size < count; i++) out.add(picker.pick(rng));
  return [...out];
}

function repertoire(rng: Rng): string[] {
  const size = rng.between(0, 4);
  const out = new Set<string>();
  // Weighted toward the common ones, like real tools.
  const common = ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeVolumes', 'DescribeSubnets', 'DescribeVpcs', 'DescribeImages'];
  while (out.size < size) out.add(rng.chance(0.7) ? rng.pick(common) : rng.pick(DISCOVERY_NAMES));
  return [...out];
}

const COUNTED = CATALOG.filter((entry) => entry.data !== true && isDiscoveryRead(entry.service, entry.name) && !(entry.service === 'ec2' && DISCOVERY_NAMES.includes(entry.name)) && entry.name !== 'DescribeNetworkInterfaces');

/** A principal's counted reads: its EC2 repertoire, DescribeNetworkInterfaces and 1-3 other reads (at most 8 distinct). */
function readsOf(rng: Rng, ec2: readonly string[]): string[] {
  const picker = new WeightedPicker(COUNTED.map((entry) => [`${entry.service}:${entry.name}`, entry.weight] as const));
  const out = new Set([...ec2.map((name) => `ec2:${name}`), 'ec2:DescribeNetworkInterfaces']);
  const extra = rng.between(1, 3);
  for (let i = 0; i < 20 && out.size < ec2.length + 1 + extra; i++) out.add(picker.pick(rng));
  return [...out];
}

function withReads(rng: Rng, principal: Omit<Principal, 'reads'>): Principal {
  return { ...principal, reads: readsOf(rng, principal.repertoire) };
}

function ipFrom(rng: Rng, prefix: string): string {
  return `${prefix}.${rng.between(1, 254)}`;
}

export function assumedRoleIdentity(account: string, role: string, session: string, roleId: string, accessKeyId: string, extra: JsonObject = {}): JsonObject {
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
      attributes: { creationDate: '2026-11-03T00:00:00Z', mfaAuthenticated: 'false' },
      ...(extra.sessionContext as JsonObject | undefined),
    },
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'sessionContext')),
  };
}

export function iamUserIdentity(account: string, user: string, userId: string, accessKeyId: string): JsonObject {
  return { type: 'IAMUser', principalId: userId, arn: `arn:aws:iam::${account}:user/${user}`, accountId: account, accessKeyId, userName: user };
}

/** The principals of one account, each with its habits. */
export function makeAccount(rng: Rng, id: string, name: string, regions: Account['regions']): Account {
  const principals: Principal[] = [];
  const natIps = Array.from({ length: 6 }, () => ipFrom(rng, `3.${rng.between(80, 240)}.${rng.between(0, 255)}`));
  const vpcIps = Array.from({ length: 12 }, () => ipFrom(rng, `10.${rng.between(0, 40)}.${rng.between(0, 255)}`));
  const officeIps = Array.from({ length: 4 }, () => ipFrom(rng, '198.51.100'));

  APP_ROLES.forEach((role, i) => {
    const roleId = `AROA${rng.chars(17)}`;
    const sessions = rng.between(1, 6);
    const identities: JsonObject[] = [];
    for (let s = 0; s < sessions; s++) {
      const session = rng.chance(0.5) ? `i-0${rng.hex(16)}` : rng.chance(0.5) ? `botocore-session-${rng.between(1700000000, 1799999999)}` : rng.hex(32);
      identities.push(assumedRoleIdentity(id, role, session, roleId, `ASIA${rng.chars(16)}`));
    }
    principals.push(withReads(rng, {
      kind: 'app',
      label: role,
      identities,
      weight: 30 / (i + 1) + 1,
      homeRegions: homeRegions(rng, regions),
      repertoire: repertoire(rng),
      userAgents: [rng.pick(SDK_AGENTS), rng.pick(SDK_AGENTS)],
      sourceIps: rng.chance(0.5) ? vpcIps : natIps,
    }));
  });
  for (const [role, service] of SERVICE_ROLES) {
    const roleId = `AROA${rng.chars(17)}`;
    principals.push({
      kind: 'app',
      label: role,
      identities: [assumedRoleIdentity(id, role, service.split('.')[0] ?? 'session', roleId, `ASIA${rng.chars(16)}`, { invokedBy: service })],
      weight: 3,
      homeRegions: regions.map(([region]) => region),
      repertoire: DISCOVERY_NAMES,
      userAgents: [service],
      sourceIps: [service],
    });
  }
  IAM_USERS.forEach((user, i) => {
    principals.push(withReads(rng, {
      kind: 'human',
      label: user,
      identities: [iamUserIdentity(id, user, `AIDA${rng.chars(17)}`, `AKIA${rng.chars(16)}`)],
      weight: 4 / (i + 1),
      homeRegions: homeRegions(rng, regions),
      repertoire: repertoire(rng),
      userAgents: [rng.pick(HUMAN_AGENTS), rng.pick(SDK_AGENTS)],
      sourceIps: i < 4 ? officeIps : natIps,
    }));
  });
  for (const set of SSO_SETS) {
    const roleId = `AROA${rng.chars(17)}`;
    for (const person of SSO_PEOPLE) {
      if (!rng.chance(0.5)) continue;
      principals.push(withReads(rng, {
        kind: 'human',
        label: `${set}/${person}`,
        identities: [assumedRoleIdentity(id, set, person, roleId, `ASIA${rng.chars(16)}`, { sessionContext: { attributes: { creationDate: '2026-11-03T07:58:12Z', mfaAuthenticated: 'true' } } })],
        weight: 1.5,
        homeRegions: homeRegions(rng, regions),
        repertoire: repertoire(rng),
        userAgents: HUMAN_AGENTS,
        sourceIps: officeIps,
      }));
    }
  }
  for (const user of ['contractor-a', 'support-portal']) {
    principals.push(withReads(rng, {
      kind: 'human',
      label: `federated/${user}`,
      identities: [
        {
          type: 'FederatedUser',
          principalId: `${id}:${user}`,
          arn: `arn:aws:sts::${id}:federated-user/${user}`,
          accountId: id,
          accessKeyId: `ASIA${rng.chars(16)}`,
          sessionContext: {
            sessionIssuer: { type: 'IAMUser', principalId: `AIDA${rng.chars(17)}`, arn: `arn:aws:iam::${id}:user/federation-broker`, accountId: id, userName: 'federation-broker' },
            attributes: { creationDate: '2026-11-03T06:00:00Z', mfaAuthenticated: 'false' },
          },
        },
      ],
      weight: 0.5,
      homeRegions: homeRegions(rng, regions),
      repertoire: repertoire(rng),
      userAgents: [rng.pick(SDK_AGENTS)],
      sourceIps: natIps,
    }));
  }
  principals.push(withReads(rng, {
    kind: 'cross-account',
    label: 'partner account',
    identities: [{ type: 'AWSAccount', principalId: `AIDA${rng.chars(17)}`, accountId: '999988887777' }],
    weight: 0.6,
    homeRegions: homeRegions(rng, regions),
    repertoire: [],
    userAgents: [rng.pick(SDK_AGENTS)],
    sourceIps: [ipFrom(rng, '192.0.2')],
  }));
  principals.push({
    kind: 'portal',
    label: 'identity center user',
    identities: SSO_PEOPLE.map((person) => ({
      type: 'IdentityCenterUser',
      accountId: id,
      onBehalfOf: { userId: rng.uuid(), identityStoreArn: `arn:aws:identitystore::${id}:identitystore/d-9067${rng.hex(6)}` },
      credentialId: rng.chars(40, 'abcdefghijklmnopqrstuvwxyz0123456789'),
      userName: person,
    })),
    weight: 0.3,
    homeRegions: ['us-east-1'],
    repertoire: [],
    userAgents: [HUMAN_AGENTS[1] as string],
    sourceIps: officeIps,
  });
  for (const service of AWS_SERVICES) {
    principals.push({
      kind: 'service',
      label: service,
      identities: [{ type: 'AWSService', invokedBy: service }],
      weight: 1,
      homeRegions: regions.map(([region]) => region),
      repertoire: DISCOVERY_NAMES,
      userAgents: [service],
      sourceIps: [service],
    });
  }

  const words = ['orders', 'reports', 'invoices', 'media', 'logs', 'backups', 'ml-data', 'static', 'exports', 'audit'];
  return {
    id,
    name,
    regions,
    principals,
    buckets: words.map((word) => `acme-${name}-${word}-${id}`),
    roles: APP_ROLES,
    keys: Array.from({ length: 8 }, () => rng.uuid()),
    functions: ['invoice-export', 'image-resizer', 'slack-notifier', 'thumbnailer', 'order-events', 'nightly-report'],
    tables: ['orders', 'carts', 'sessions', 'ledger', 'feature-flags', 'idempotency-keys'],
    clusters: [`${name}-main`, `${name}-batch`],
    repos: ['orders-api', 'cart-service', 'search-indexer', 'base-images/python', 'base-images/node'],
    logGroups: ['/aws/lambda/invoice-export', '/ecs/orders-api', '/aws/eks/main/cluster', '/var/log/messages', '/aws/rds/cluster/ledger/postgresql'],
    secrets: ['prod/orders/db', 'prod/payments/stripe', 'shared/datadog-api-key', 'prod/ledger/db'],
    instances: Array.from({ length: 40 }, () => `i-0${rng.hex(16)}`),
  };
}

export interface CallContext {
  rng: Rng;
  account: Account;
  region: string;
  time: number;
  identity: JsonObject;
  principal: Principal;
  entry: CatalogEntry;
  /** The EC2 discovery name actually called (after the principal's repertoire). */
  name: string;
}

function tags(rng: Rng): JsonObject {
  return {
    tagSet: {
      items: [
        { key: 'app', value: rng.pick(['orders', 'payments', 'search', 'reporting']) },
        { key: 'env', value: 'prod' },
        { key: 'owner', value: rng.pick(['team-core', 'team-data', 'team-platform']) },
        { key: 'cost-center', value: `cc-${rng.between(1000, 9999)}` },
      ],
    },
  };
}

function describeRequest(ctx: CallContext): JsonObject | null {
  const { rng } = ctx;
  const r = rng.int(4);
  if (r === 0) return null;
  if (r === 1) return { maxResults: rng.pick([100, 500, 1000]) };
  return {
    filterSet: {
      items: [
        { name: rng.pick(['vpc-id', 'tag:app', 'instance-state-name', 'group-name', 'owner-id']), valueSet: { items: [{ value: rng.pick(['vpc-0a1b2c3d4e5f60718', 'orders', 'running', 'default', ctx.account.id]) }] } },
        ...(rng.chance(0.5) ? [{ name: 'tag:env', valueSet: { items: [{ value: 'prod' }, { value: 'staging' }] } }] : []),
      ],
    },
    ...(rng.chance(0.5) ? { maxResults: 1000 } : {}),
  };
}

function describeInstancesRequest(ctx: CallContext): JsonObject {
  const { rng, account } = ctx;
  if (rng.chance(0.5)) {
    const n = rng.between(1, 6);
    return { instancesSet: { items: Array.from({ length: n }, () => ({ instanceId: rng.pick(account.instances) })) }, filterSet: {} };
  }
  return { instancesSet: {}, filterSet: { items: [{ name: 'instance-state-name', valueSet: { items: [{ value: 'running' }, { value: 'pending' }] } }] }, maxResults: 1000 };
}

function getRequest(ctx: CallContext): JsonObject {
  const { rng, account, entry } = ctx;
  const param = entry.param ?? 'name';
  let value: Json;
  switch (param) {
    case 'bucketName':
      return { bucketName: rng.pick(account.buckets), Host: `${rng.pick(account.buckets)}.s3.${ctx.region}.amazonaws.com`, [rng.pick(['acl', 'policy', 'versioning', 'encryption', 'tagging', 'location'])]: '' };
    case 'roleName':
      value = rng.pick(account.roles);
      break;
    case 'userName':
      value = rng.pick(IAM_USERS);
      break;
    case 'policyArn':
      return { policyArn: `arn:aws:iam::${account.id}:policy/${rng.pick(account.roles)}-policy`, ...(entry.name === 'GetPolicyVersion' ? { versionId: `v${rng.between(1, 9)}` } : {}) };
    case 'keyId':
      value = `arn:aws:kms:${ctx.region}:${account.id}:key/${rng.pick(account.keys)}`;
      break;
    case 'functionName':
      value = rng.pick(account.functions);
      break;
    case 'tableName':
      value = rng.pick(account.tables);
      break;
    case 'cluster':
    case 'clusterName':
    case 'name':
      value = entry.service === 'ssm' ? `/${account.name}/${rng.pick(['orders', 'payments'])}/${rng.pick(['db_host', 'feature_flags', 'api_url'])}` : rng.pick(account.clusters);
      break;
    case 'names':
      return { names: Array.from({ length: rng.between(2, 6) }, () => `/${account.name}/${rng.pick(['orders', 'payments', 'search'])}/${rng.pick(['db_host', 'db_port', 'api_url', 'queue_url', 'log_level'])}`), withDecryption: true };
    case 'path':
      return { path: `/${account.name}/${rng.pick(['orders', 'payments'])}/`, recursive: true, withDecryption: true, maxResults: 10 };
    case 'repositoryName':
      return { repositoryName: rng.pick(account.repos), registryId: account.id, imageIds: [{ imageDigest: `sha256:${rng.hex(64)}` }], acceptedMediaTypes: ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'] };
    case 'logGroupName':
      return { logGroupName: rng.pick(account.logGroups), ...(rng.chance(0.5) ? { startTime: ctx.time - HOUR, endTime: ctx.time, limit: 10000 } : { descending: true, orderBy: 'LastEventTime' }) };
    case 'secretId':
      value = `arn:aws:secretsmanager:${ctx.region}:${account.id}:secret:${rng.pick(account.secrets)}-${rng.chars(6, 'abcdefghijklmnopqrstuvwxyzABCDEF')}`;
      break;
    case 'stackName':
      value = `arn:aws:cloudformation:${ctx.region}:${account.id}:stack/${rng.pick(['network', 'orders', 'data', 'observability'])}/${rng.uuid()}`;
      break;
    case 'targetGroupArn':
      value = `arn:aws:elasticloadbalancing:${ctx.region}:${account.id}:targetgroup/${rng.pick(['orders-tg', 'cart-tg', 'search-tg'])}/${rng.hex(16)}`;
      break;
    case 'loadBalancerArn':
      value = `arn:aws:elasticloadbalancing:${ctx.region}:${account.id}:loadbalancer/app/${rng.pick(['public-alb', 'internal-alb'])}/${rng.hex(16)}`;
      break;
    default:
      value = `${param}-${rng.hex(12)}`;
  }
  return { [param]: value };
}

function writeBodies(ctx: CallContext): { request: JsonObject; response: JsonObject | null } {
  const { rng, account, region } = ctx;
  const id = `${ctx.entry.name.replace(/[a-z]/g, '').toLowerCase()}-0${rng.hex(17)}`;
  const request: JsonObject = {
    clientToken: rng.uuid(),
    [rng.pick(['description', 'comment', 'reason'])]: `managed by ${rng.pick(['terraform', 'cdk', 'the orders pipeline', 'ops runbook 42'])}`,
    resourceArn: `arn:aws:${ctx.entry.service}:${region}:${account.id}:${rng.pick(['resource', 'instance', 'volume', 'stack'])}/${rng.hex(16)}`,
    ...(rng.chance(0.5) ? tags(rng) : {}),
  };
  const response: JsonObject | null = rng.chance(0.8)
    ? { requestId: rng.uuid(), [`${ctx.entry.name.replace(/^[A-Z][a-z]+/, '').replace(/^./, (c) => c.toLowerCase()) || 'resource'}Id`]: id, state: rng.pick(['pending', 'available', 'in-progress', 'completed']), createTime: isoSeconds(ctx.time) }
    : null;
  return { request, response };
}

function runInstancesBodies(ctx: CallContext): { request: JsonObject; response: JsonObject } {
  const { rng, account } = ctx;
  const type = rng.pick(['t3.medium', 'm6i.large', 'c6i.xlarge', 'r6i.large', 'm7g.large']);
  const instanceId = rng.pick(account.instances);
  return {
    request: {
      instancesSet: { items: [{ imageId: `ami-0${rng.hex(16)}`, minCount: 1, maxCount: 1 }] },
      instanceType: type,
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
      disableApiStop: false,
      clientToken: rng.uuid(),
      launchTemplate: { launchTemplateId: `lt-0${rng.hex(16)}`, version: String(rng.between(1, 30)) },
      tagSpecificationSet: { items: [{ resourceType: 'instance', tags: [{ key: 'aws:autoscaling:groupName', value: 'orders-api-asg' }] }] },
    },
    response: {
      requestId: rng.uuid(),
      reservationId: `r-0${rng.hex(16)}`,
      ownerId: account.id,
      groupSet: {},
      instancesSet: {
        items: [
          {
            instanceId,
            imageId: `ami-0${rng.hex(16)}`,
            currentInstanceBootMode: 'legacy-bios',
            instanceState: { code: 0, name: 'pending' },
            privateDnsName: `ip-10-0-${rng.between(0, 255)}-${rng.between(0, 255)}.ec2.internal`,
            amiLaunchIndex: 0,
            productCodes: {},
            instanceType: type,
            launchTime: ctx.time,
            placement: { availabilityZone: `${ctx.region}a`, tenancy: 'default' },
            monitoring: { state: 'disabled' },
            subnetId: `subnet-0${rng.hex(16)}`,
            vpcId: `vpc-0${rng.hex(16)}`,
            privateIpAddress: `10.0.${rng.between(0, 255)}.${rng.between(0, 255)}`,
            stateReason: { code: 'pending', message: 'pending' },
            architecture: 'x86_64',
            rootDeviceType: 'ebs',
            rootDeviceName: '/dev/xvda',
            blockDeviceMapping: {},
            virtualizationType: 'hvm',
            hypervisor: 'xen',
            groupSet: { items: [{ groupId: `sg-0${rng.hex(16)}`, groupName: 'orders-api' }] },
            sourceDestCheck: true,
            networkInterfaceSet: { items: [{ networkInterfaceId: `eni-0${rng.hex(16)}`, subnetId: `subnet-0${rng.hex(16)}`, status: 'in-use', privateIpAddress: '10.0.1.10' }] },
            ebsOptimized: false,
            enaSupport: true,
            cpuOptions: { coreCount: 1, threadsPerCore: 2 },
            capacityReservationSpecification: { capacityReservationPreference: 'open' },
            enclaveOptions: { enabled: false },
            metadataOptions: { state: 'pending', httpTokens: 'required', httpPutResponseHopLimit: 2, httpEndpoint: 'enabled', httpProtocolIpv4: 'ipv4', httpProtocolIpv6: 'disabled', instanceMetadataTags: 'disabled' },
            maintenanceOptions: { autoRecovery: 'default' },
          },
        ],
      },
    },
  };
}

const SERVICE_HOST: Record<string, string> = { monitoring: 'monitoring', signin: 'signin', tagging: 'tagging' };

function stableIndex(text: string, size: number): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash % size;
}

/** The record for one call, in CloudTrail's field order. */
export function callRecord(ctx: CallContext): JsonObject {
  const { rng, account, region, entry, principal, identity, time } = ctx;
  let request: Json = null;
  let response: Json = null;
  let additional: JsonObject | undefined;
  let resources: Json[] | undefined;
  let eventType = 'AwsApiCall';
  let category = 'Management';
  let userAgent = rng.pick(principal.userAgents);
  // An instance's credentials leave through one address (its NAT gateway or VPC endpoint):
  // a session named after an instance keeps one source IP all day.
  const session = String(identity.arn ?? '');
  let sourceIp = /\/i-0[0-9a-f]+$/.test(session) ? (principal.sourceIps[stableIndex(session, principal.sourceIps.length)] as string) : rng.pick(principal.sourceIps);
  let shared = false;
  let identityOut: JsonObject = identity;
  switch (entry.shape) {
    case 'list':
      request = rng.chance(0.5) ? null : { maxResults: rng.pick([20, 50, 100, 1000]), ...(rng.chance(0.3) ? { nextToken: rng.chars(64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') } : {}) };
      break;
    case 'get':
      request = getRequest(ctx);
      break;
    case 'describe':
      request = describeRequest(ctx);
      break;
    case 'describe-instances':
      request = describeInstancesRequest(ctx);
      break;
    case 'assume-role':
    case 'assume-role-web': {
      const role = rng.pick(account.roles);
      const session = rng.chance(0.5) ? rng.hex(32) : `${role}-${rng.between(1000, 9999)}`;
      const roleId = `AROA${rng.chars(17)}`;
      if (entry.shape === 'assume-role-web') {
        const repo = rng.pick(['acme/infra', 'acme/orders-api', 'acme/web']);
        identityOut = {
          type: 'WebIdentityUser',
          principalId: `arn:aws:iam::${account.id}:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:${repo}:ref:refs/heads/main`,
          userName: `repo:${repo}:ref:refs/heads/main`,
          identityProvider: `arn:aws:iam::${account.id}:oidc-provider/token.actions.githubusercontent.com`,
        };
        userAgent = 'aws-sdk-js/3.609.0 ua/2.0 os/linux#6.5.0-1022-azure lang/js md/nodejs#20.15.0 api/sts#3.609.0 configure-aws-credentials-for-github-actions';
        sourceIp = `${rng.between(20, 52)}.${rng.between(0, 255)}.${rng.between(0, 255)}.${rng.between(1, 254)}`;
      }
      request = { roleArn: `arn:aws:iam::${account.id}:role/${role}`, roleSessionName: session, durationSeconds: 3600, ...(entry.shape === 'assume-role-web' ? { audience: 'sts.amazonaws.com' } : {}) };
      response = {
        credentials: { accessKeyId: `ASIA${rng.chars(16)}`, sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', expiration: new Date(time + HOUR).toUTCString() },
        assumedRoleUser: { assumedRoleId: `${roleId}:${session}`, arn: `arn:aws:sts::${account.id}:assumed-role/${role}/${session}` },
        ...(entry.shape === 'assume-role-web' ? { subjectFromWebIdentityToken: identityOut.userName as string, audience: 'sts.amazonaws.com', provider: identityOut.identityProvider as string } : {}),
      };
      resources = [{ accountId: account.id, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${account.id}:role/${role}` }];
      shared = true;
      break;
    }
    case 'kms': {
      const key = rng.pick(account.keys);
      const bucket = rng.pick(account.buckets);
      request = {
        encryptionContext: rng.chance(0.6) ? { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${rng.pick(['2026/11/03', 'reports', 'exports'])}/${rng.hex(24)}.parquet` } : { 'aws:lambda:FunctionArn': `arn:aws:lambda:${region}:${account.id}:function:${rng.pick(account.functions)}` },
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        ...(entry.name === 'GenerateDataKey' ? { keyId: `arn:aws:kms:${region}:${account.id}:key/${key}`, keySpec: 'AES_256' } : {}),
      };
      resources = [{ accountId: account.id, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account.id}:key/${key}` }];
      shared = rng.chance(0.5);
      break;
    }
    case 's3-data': {
      const bucket = rng.pick(account.buckets);
      const key = `${rng.pick(['2026/11/03', 'reports/daily', 'exports', 'uploads'])}/${rng.hex(24)}.${rng.pick(['parquet', 'json.gz', 'csv', 'pdf'])}`;
      request = { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key, ...(entry.name === 'ListObjects' ? { prefix: 'reports/', 'list-type': '2' } : {}) };
      additional = {
        SignatureVersion: 'SigV4',
        CipherSuite: 'TLS_AES_128_GCM_SHA256',
        bytesTransferredIn: entry.name === 'PutObject' ? rng.between(1000, 5_000_000) : 0,
        SSEApplied: 'SSE_KMS',
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': rng.chars(76, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
        bytesTransferredOut: entry.name === 'GetObject' ? rng.between(1000, 5_000_000) : 0,
      };
      resources = [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
        { accountId: account.id, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ];
      category = 'Data';
      break;
    }
    case 'write': {
      const bodies = writeBodies(ctx);
      request = bodies.request;
      response = bodies.response;
      break;
    }
    case 'run-instances': {
      const bodies = runInstancesBodies(ctx);
      request = bodies.request;
      response = bodies.response;
      break;
    }
    case 'tags':
      request = { resourcesSet: { items: [{ resourceId: rng.pick(account.instances) }] }, ...tags(rng) };
      response = { requestId: rng.uuid(), _return: true };
      break;
    case 'ssm-agent':
      request = entry.name === 'UpdateInstanceInformation'
        ? { instanceId: rng.pick(account.instances), agentVersion: '3.3.484.0', agentStatus: 'Active', platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2023', iPAddress: `10.0.${rng.between(0, 255)}.${rng.between(0, 255)}`, computerName: `ip-10-0-${rng.between(0, 255)}-${rng.between(0, 255)}.ec2.internal`, agentName: 'amazon-ssm-agent', availabilityZone: `${region}a`, availabilityZoneId: 'use1-az2' }
        : { instanceId: rng.pick(account.instances) };
      userAgent = 'amazon-ssm-agent/3.3.484.0';
      break;
    case 'console-login':
      request = null;
      response = { ConsoleLogin: 'Success' };
      additional = { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAIdentifier: `arn:aws:iam::${account.id}:mfa/${rng.pick(IAM_USERS)}`, MFAUsed: 'Yes' };
      eventType = 'AwsConsoleSignIn';
      userAgent = HUMAN_AGENTS[1] as string;
      break;
    case 'caller-identity':
      request = null;
      response = null;
      break;
    case 'token':
      request = { registryIds: [account.id] };
      response = null;
      break;
    case 'secret':
      request = { secretId: `arn:aws:secretsmanager:${region}:${account.id}:secret:${rng.pick(account.secrets)}-${rng.chars(6, 'abcdefghijklmnopqrstuvwxyz')}`, versionStage: 'AWSCURRENT' };
      response = null;
      break;
  }
  let errorCode: string | undefined;
  let errorMessage: string | undefined;
  if (entry.service !== 'ec2' || !DISCOVERY_NAMES.includes(ctx.name)) {
    if (rng.chance(0.015)) {
      errorCode = rng.pick(['ThrottlingException', 'ResourceNotFoundException', 'NoSuchKey', 'ValidationException', 'AccessDenied']);
      if (errorCode === 'AccessDenied' && entry.shape !== 'get' && entry.shape !== 'list') errorCode = 'ThrottlingException';
      errorMessage = errorCode === 'AccessDenied' ? `User: ${(identityOut.arn as string | undefined) ?? 'unknown'} is not authorized to perform: ${entry.service}:${ctx.name} because no identity-based policy allows the action` : 'Rate exceeded';
      response = null;
    }
  } else if (rng.chance(0.005)) {
    errorCode = 'Client.RequestLimitExceeded';
    errorMessage = 'Request limit exceeded.';
  }
  const host = `${SERVICE_HOST[entry.service] ?? entry.service}.${entry.global === true ? 'amazonaws.com' : `${region}.amazonaws.com`}`;
  const record: JsonObject = {
    eventVersion: category === 'Data' ? '1.10' : '1.09',
    userIdentity: identityOut,
    eventTime: isoSeconds(time),
    eventSource: `${entry.service}.amazonaws.com`,
    eventName: ctx.name,
    awsRegion: region,
    sourceIPAddress: sourceIp,
    userAgent,
  };
  if (errorCode !== undefined) {
    record.errorCode = errorCode;
    record.errorMessage = errorMessage ?? '';
  }
  record.requestParameters = request;
  record.responseElements = response;
  if (additional !== undefined) record.additionalEventData = additional;
  record.requestID = rng.uuid();
  record.eventID = rng.uuid();
  record.readOnly = entry.readOnly;
  if (resources !== undefined) record.resources = resources;
  record.eventType = eventType;
  record.managementEvent = category === 'Management';
  record.recipientAccountId = account.id;
  if (shared) record.sharedEventID = rng.uuid();
  if (sourceIp.startsWith('10.')) record.vpcEndpointId = `vpce-0${rng.hex(16)}`;
  record.eventCategory = category;
  if (!sourceIp.endsWith('.amazonaws.com') && sourceIp !== 'AWS Internal') {
    record.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: host };
  }
  if (principal.kind === 'human' && userAgent.startsWith('Mozilla')) record.sessionCredentialFromConsole = 'true';
  return record;
}

export { CATALOG, DISCOVERY_NAMES };
