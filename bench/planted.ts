/**
 * The attacks hidden in the synthetic corpus, and the alerts they must raise: exactly these,
 * no more (the background raises none). Each scenario is planted `copies` times, hours apart,
 * so every alert count is a multiple of it.
 *
 * Expected alerts are keyed by rule name (built-in pack) or by SigmaHQ file stem (SigmaHQ rules
 * have no `name`), for two rule sets: `pack` (built-in pack, bench filters and vars) and `full`
 * (the same plus the timed SigmaHQ rules).
 */
import type { Account, JsonObject } from './records.ts';
import { HOUR, MINUTE, assumedRoleIdentity, iamUserIdentity, isoSeconds } from './records.ts';
import type { Rng } from './rng.ts';

export interface PlantedEvent {
  time: number;
  region: string;
  record: JsonObject;
}

export interface Scenario {
  name: string;
  /** Alerts per copy with the built-in pack. */
  pack: Record<string, number>;
  /** Extra alerts per copy from the timed SigmaHQ rules. */
  sigma: Record<string, number>;
  events(rng: Rng, account: Account, start: number): PlantedEvent[];
}

const ATTACKER_IPS = ['203.0.113.47', '203.0.113.52'];
const ATTACKER_AGENT = 'Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython Botocore/1.34.100';

/** The role the bench filter allowlists (bench/vars.yml). */
export const ALLOWLISTED_ROLE = 'InventoryScanner';

function attackerUser(account: Account, user = 'svc-reporting'): JsonObject {
  return iamUserIdentity(account.id, user, 'AIDA3Q7ZREPORTUSER01', 'AKIA3Q7ZREPORTKEY4VN');
}

/** One API call record as CloudTrail writes it (planted attacks and scheduled automation). */
export function call(
  rng: Rng,
  account: Account,
  time: number,
  region: string,
  identity: JsonObject,
  service: string,
  name: string,
  fields: { request?: JsonObject | null; response?: JsonObject | null; errorCode?: string; errorMessage?: string; ip?: string; agent?: string; extra?: JsonObject; readOnly?: boolean; eventType?: string; console?: boolean } = {},
): PlantedEvent {
  const record: JsonObject = {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: isoSeconds(time),
    eventSource: `${service}.amazonaws.com`,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: fields.ip ?? (ATTACKER_IPS[0] as string),
    userAgent: fields.agent ?? ATTACKER_AGENT,
  };
  if (fields.errorCode !== undefined) {
    record.errorCode = fields.errorCode;
    record.errorMessage = fields.errorMessage ?? `You are not authorized to perform this operation.`;
  }
  record.requestParameters = fields.request ?? null;
  record.responseElements = fields.response ?? null;
  Object.assign(record, fields.extra ?? {});
  record.requestID = rng.uuid();
  record.eventID = rng.uuid();
  record.readOnly = fields.readOnly ?? /^(Describe|List|Get)/.test(name);
  record.eventType = fields.eventType ?? 'AwsApiCall';
  record.managementEvent = true;
  record.recipientAccountId = account.id;
  record.eventCategory = 'Management';
  if (fields.console === true) record.sessionCredentialFromConsole = 'true';
  return { time, region, record };
}

const USER_DATA = 'IyEvYmluL2Jhc2gKY3VybCAtcyBodHRwOi8vMjAzLjAuMTEzLjQ3L3htcmlnIC1vIC90bXAveG1yaWcgJiYgY2htb2QgK3ggL3RtcC94bXJpZyAmJiAvdG1wL3htcmlnIC0tZG9uYXRlLWxldmVsIDE=';

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'leaked key quarantined by AWS, then the attacker tries to undo it',
    pack: { 'aws-ct-iam-compromised-key-quarantine': 1, 'aws-ct-iam-quarantine-policy-removed-failed': 1, 'aws-ct-ec2-launch-with-userdata-failed': 1 },
    sigma: {},
    events(rng, account, start) {
      const aws = assumedRoleIdentity(account.id, 'AWSServiceRoleForSupport', 'AWSCompromisedKeyQuarantine', 'AROA3Q7ZSUPPORTROLE1', 'ASIA3Q7ZSUPPORTKEY01');
      const policyArn = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3';
      return [
        call(rng, account, start, 'us-east-1', aws, 'iam', 'AttachUserPolicy', { request: { userName: 'svc-reporting', policyArn }, ip: 'AWS Internal', agent: 'AWS Internal' }),
        call(rng, account, start + 90_000, 'us-east-1', attackerUser(account), 'ec2', 'RunInstances', {
          request: { instancesSet: { items: [{ imageId: 'ami-0c7217cdde317cfec', minCount: 1, maxCount: 1 }] }, instanceType: 'c5.4xlarge', userData: '<sensitiveDataRemoved>' },
          errorCode: 'Client.UnauthorizedOperation',
          errorMessage: 'You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/svc-reporting is not authorized to perform: ec2:RunInstances with an explicit deny in an identity-based policy',
        }),
        call(rng, account, start + 130_000, 'us-east-1', attackerUser(account), 'iam', 'DetachUserPolicy', {
          request: { userName: 'svc-reporting', policyArn },
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/svc-reporting is not authorized to perform: iam:DetachUserPolicy with an explicit deny',
        }),
      ];
    },
  },
  {
    name: 'second key: key pair, trail stopped, flow logs deleted, GuardDuty deleted, instance exported',
    pack: {
      'aws-ct-ec2-keypair-known-attacker-name': 1,
      'aws-ct-cloudtrail-stopped-or-deleted': 1,
      'aws-ct-vpc-flow-logs-deleted': 1,
      'aws-ct-guardduty-detector-disabled': 1,
      'aws-ct-ec2-export-task': 1,
    },
    sigma: {
      aws_cloudtrail_disable_logging: 1,
      aws_cloudtrail_vpc_flow_logs_deleted: 1,
      aws_cloudtrail_guardduty_detector_deleted_or_updated: 1,
      aws_ec2_vm_export_failure: 1,
    },
    events(rng, account, start) {
      const legacy = iamUserIdentity(account.id, 'legacy-backup', 'AIDA3Q7ZLEGACYBACKUP', 'AKIA3Q7ZLEGACYKEY7QX');
      const opts = { ip: ATTACKER_IPS[1] as string, agent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.8.0 exe/x86_64.ubuntu.24 prompt/off command/ec2.create-key-pair' };
      return [
        call(rng, account, start, 'us-east-1', legacy, 'ec2', 'CreateKeyPair', { ...opts, request: { keyName: 'temp_key_pair', keyType: 'rsa', keyFormat: 'pem' }, response: { requestId: rng.uuid(), keyName: 'temp_key_pair', keyFingerprint: 'a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90:a1:b2:c3:d4', keyPairId: 'key-0f1e2d3c4b5a69788', keyMaterial: '<sensitiveDataRemoved>' } }),
        call(rng, account, start + 60_000, 'us-east-1', legacy, 'cloudtrail', 'StopLogging', { ...opts, request: { name: `arn:aws:cloudtrail:us-east-1:${account.id}:trail/acct-audit-trail` } }),
        call(rng, account, start + 180_000, 'us-east-1', legacy, 'ec2', 'DeleteFlowLogs', { ...opts, request: { DeleteFlowLogsRequest: { FlowLogId: { tag: 1, content: 'fl-0a7e3c91d2b4f5e60' } } }, response: { DeleteFlowLogsResponse: { xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/', requestId: rng.uuid(), unsuccessful: '' } } }),
        call(rng, account, start + 240_000, 'us-east-1', legacy, 'guardduty', 'DeleteDetector', { ...opts, request: { detectorId: '12abc34d567e8fa901bc2d34e56789f0' } }),
        call(rng, account, start + 300_000, 'us-east-1', legacy, 'ec2', 'CreateInstanceExportTask', {
          ...opts,
          request: { instanceId: 'i-0d1e2f3a4b5c6d7e8', targetEnvironment: 'vmware', exportToS3: { diskImageFormat: 'VMDK', containerFormat: 'ova', s3Bucket: 'vm-drop-203', s3Prefix: 'exports/' } },
          response: { requestId: rng.uuid(), exportTask: { exportTaskId: 'export-i-0a1b2c3d4e5f60718', state: 'active', instanceExport: { instanceId: 'i-0d1e2f3a4b5c6d7e8', targetEnvironment: 'vmware' } } },
        }),
      ];
    },
  },
  {
    name: 'GPU miners launched with user data and the attacker key pair',
    pack: { 'aws-ct-ec2-launch-with-userdata-gpu-or-large': 1, 'aws-ct-ec2-keypair-known-attacker-name': 1 },
    sigma: {},
    events(rng, account, start) {
      const legacy = iamUserIdentity(account.id, 'legacy-backup', 'AIDA3Q7ZLEGACYBACKUP', 'AKIA3Q7ZLEGACYKEY7QX');
      return [
        call(rng, account, start, 'us-west-2', legacy, 'ec2', 'RunInstances', {
          ip: ATTACKER_IPS[1] as string,
          request: { instancesSet: { items: [{ imageId: 'ami-0a9b8c7d6e5f40312', minCount: 2, maxCount: 2, keyName: 'temp_key_pair' }] }, instanceType: 'p3.8xlarge', userData: USER_DATA, blockDeviceMapping: {}, monitoring: { enabled: false } },
          response: { requestId: rng.uuid(), reservationId: 'r-0f0e0d0c0b0a09080', ownerId: account.id, instancesSet: { items: [{ instanceId: 'i-0aa11bb22cc33dd44', instanceType: 'p3.8xlarge', keyName: 'temp_key_pair' }, { instanceId: 'i-0aa11bb22cc33dd45', instanceType: 'p3.8xlarge', keyName: 'temp_key_pair' }] } },
        }),
      ];
    },
  },
  {
    name: 'the allowlisted inventory role makes a broader burst than the attacker (no alert)',
    pack: {},
    sigma: {},
    events(rng, account, start) {
      const identity = assumedRoleIdentity(account.id, ALLOWLISTED_ROLE, 'inventory-run', 'AROA3Q7ZINVENTORY001', `ASIA${rng.chars(16)}`);
      const ec2 = ['DescribeRegions', 'DescribeInstances', 'DescribeSecurityGroups', 'DescribeKeyPairs', 'DescribeVpcs', 'DescribeImages', 'DescribeSnapshots', 'DescribeVolumes'];
      const global: ReadonlyArray<readonly [string, string]> = [['sts', 'GetCallerIdentity'], ['iam', 'ListUsers'], ['iam', 'ListRoles'], ['iam', 'ListPolicies'], ['s3', 'GetBucketLocation'], ['organizations', 'DescribeOrganization']];
      const regional: ReadonlyArray<readonly [string, string]> = [['rds', 'DescribeDBInstances'], ['lambda', 'ListFunctions20150331'], ['kms', 'ListKeys'], ['dynamodb', 'ListTables'], ['ecs', 'ListClusters'], ['eks', 'ListClusters'], ['cloudtrail', 'DescribeTrails']];
      const out: PlantedEvent[] = [];
      const fields = { ip: '10.0.12.34', agent: 'inventory-scanner/4.2 aws-sdk-go-v2/1.30.3' };
      // Every 90 minutes, in three regions: 21 distinct calls per region, 27 in all.
      for (let run = 0; run < 3; run++) {
        for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
          const at = start + run * 90 * MINUTE;
          ec2.forEach((name, i) => out.push(call(rng, account, at + i * 5_000, region, identity, 'ec2', name, fields)));
          regional.forEach(([service, name], i) => out.push(call(rng, account, at + 45_000 + i * 5_000, region, identity, service, name, fields)));
          if (region === 'us-east-1') global.forEach(([service, name], i) => out.push(call(rng, account, at + 90_000 + i * 5_000, region, identity, service, name, fields)));
        }
      }
      return out;
    },
  },
  {
    name: 'one assumed role enumerates 12 regions in 3 minutes',
    pack: { 'aws-ct-ec2-multi-region-enumeration': 1 },
    sigma: {},
    events(rng, account, start) {
      const identity = assumedRoleIdentity(account.id, 'ci-runner', 'gh-run-8812', 'AROA3Q7ZCIRUNNER0001', 'ASIA3Q7ZCIRUNNERKEY1');
      const regions = account.regions.map(([region]) => region).slice(0, 12);
      const out = [call(rng, account, start, 'us-east-1', identity, 'ec2', 'DescribeRegions', { ip: ATTACKER_IPS[0] as string })];
      regions.forEach((region, i) => out.push(call(rng, account, start + 10_000 + i * 14_000, region, identity, 'ec2', 'DescribeInstances', { request: { maxResults: 1000 } })));
      return out;
    },
  },
  {
    name: 'repeated permission denials while probing EC2',
    pack: { 'aws-ct-ec2-discovery-denied-probing': 1 },
    sigma: {},
    events(rng, account, start) {
      const identity = assumedRoleIdentity(account.id, 'partner-sftp', 'stolen-session', 'AROA3Q7ZPARTNERSFTP1', 'ASIA3Q7ZPARTNERKEY01');
      return Array.from({ length: 6 }, (_, i) => call(rng, account, start + i * 20_000, 'us-east-1', identity, 'ec2', 'DescribeSecurityGroups', { errorCode: 'Client.UnauthorizedOperation' }));
    },
  },
  {
    name: 'stop, change user data, start (persistence through user data)',
    pack: { 'aws-ct-ec2-stop-modify-userdata-start': 1, 'aws-ct-ec2-userdata-modified': 1 },
    sigma: {},
    events(rng, account, start) {
      const identity = attackerUser(account, 'legacy-backup');
      const instance = `i-0${rng.hex(16)}`;
      const items = { instancesSet: { items: [{ instanceId: instance }] } };
      return [
        call(rng, account, start, 'us-east-1', identity, 'ec2', 'StopInstances', { request: { ...items, force: false } }),
        call(rng, account, start + 5 * MINUTE, 'us-east-1', identity, 'ec2', 'ModifyInstanceAttribute', { request: { instanceId: instance, userData: '<sensitiveDataRemoved>' }, response: { requestId: rng.uuid(), _return: true } }),
        call(rng, account, start + 7 * MINUTE, 'us-east-1', identity, 'ec2', 'StartInstances', { request: items }),
      ];
    },
  },
  {
    name: 'root signs in to the console and reads the account summary',
    pack: {},
    sigma: { aws_root_account_usage: 2 },
    events(rng, account, start) {
      const root = { type: 'Root', principalId: account.id, arn: `arn:aws:iam::${account.id}:root`, accountId: account.id };
      return [
        call(rng, account, start, 'us-east-1', root, 'signin', 'ConsoleLogin', { ip: '198.51.100.77', agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', response: { ConsoleLogin: 'Success' }, extra: { additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'Yes' } }, eventType: 'AwsConsoleSignIn', readOnly: false }),
        call(rng, account, start + 40_000, 'us-east-1', { ...root, accessKeyId: 'ASIA3Q7ZROOTCONSOLE1' }, 'iam', 'GetAccountSummary', { ip: '198.51.100.77', agent: 'AWS Internal' }),
      ];
    },
  },
  {
    name: 'TruffleHog verifies a leaked key, and instance credentials used from outside',
    pack: {},
    sigma: { aws_cloudtrail_pua_trufflehog: 1, aws_sts_getcalleridentity_trufflehog: 1, aws_cloudtrail_imds_malicious_usage: 1 },
    events(rng, account, start) {
      const imds = assumedRoleIdentity(account.id, 'aws:ec2-instance', 'i-0b1c2d3e4f5061728', 'AROA3Q7ZEC2INSTANCE1', 'ASIA3Q7ZEC2INSTKEY01');
      return [
        call(rng, account, start, 'us-east-1', attackerUser(account, 'ci-deploy'), 'sts', 'GetCallerIdentity', { agent: 'TruffleHog' }),
        call(rng, account, start + 60_000, 'us-east-1', imds, 'sts', 'GetCallerIdentity', { ip: ATTACKER_IPS[0] as string }),
      ];
    },
  },
  {
    name: 'SSM command, session token for an IAM user, SSH opened to the world',
    pack: { 'aws-ct-ssm-send-command': 1, 'aws-ct-ec2-security-group-admin-port-open-to-internet': 1 },
    sigma: { aws_cloudtrail_ssm_malicious_usage: 1, aws_sts_getsessiontoken_misuse: 1, aws_cloudtrail_security_group_change_ingress_egress: 1 },
    events(rng, account, start) {
      const user = attackerUser(account, 'legacy-backup');
      return [
        call(rng, account, start, 'us-east-1', user, 'ssm', 'SendCommand', { request: { documentName: 'AWS-RunShellScript', instanceIds: ['i-0d1e2f3a4b5c6d7e8'], parameters: 'HIDDEN_DUE_TO_SECURITY_REASONS' }, response: { command: { commandId: rng.uuid(), documentName: 'AWS-RunShellScript', status: 'Pending' } } }),
        call(rng, account, start + 30_000, 'us-east-1', user, 'sts', 'GetSessionToken', { request: { durationSeconds: 129600 }, response: { credentials: { accessKeyId: 'ASIA3Q7ZSESSIONKEY01', sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', expiration: 'Nov 4, 2026, 12:00:00 PM' } } }),
        call(rng, account, start + 60_000, 'us-east-1', user, 'ec2', 'AuthorizeSecurityGroupIngress', { request: { groupId: 'sg-0a1b2c3d4e5f60718', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } }, response: { requestId: rng.uuid(), _return: true } }),
      ];
    },
  },
];

/** One planted enumeration burst of the attacker kind: a principal that never enumerated suddenly makes 10+ distinct read calls across services. */
export interface DiscoveryBurst {
  name: string;
  /** Hours after the day's start. */
  at: number;
  region: string;
  identity(account: Account): JsonObject;
  /** The calls in order: service, eventName, request parameters. */
  calls: ReadonlyArray<readonly [service: string, name: string, request?: JsonObject]>;
  /** Alerts this burst raises with the built-in pack (the discovery bursts included). */
  pack: Record<string, number>;
  sigma: Record<string, number>;
}

const STOLEN_INSTANCE = 'i-0f3e2d1c0b9a87654';
const USERDATA_TARGETS = ['i-0a1b2c3d4e5f60718', 'i-0b2c3d4e5f6071829', 'i-0c3d4e5f607182930', 'i-0d4e5f60718293a41'];

export const DISCOVERY_BURSTS: readonly DiscoveryBurst[] = [
  {
    name: 'leaked long-term key of svc-reporting: whoami, then EC2, IAM, S3 and RDS',
    at: 3.25,
    region: 'us-east-1',
    identity: (account) => attackerUser(account),
    calls: [
      ['sts', 'GetCallerIdentity'], ['iam', 'ListAttachedUserPolicies', { userName: 'svc-reporting' }], ['ec2', 'DescribeRegions'], ['ec2', 'DescribeInstances', { maxResults: 1000 }],
      ['ec2', 'DescribeSecurityGroups'], ['ec2', 'DescribeKeyPairs'], ['ec2', 'DescribeVpcs'], ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }], ['iam', 'ListUsers'], ['rds', 'DescribeDBInstances'],
      ['lambda', 'ListFunctions20150331'],
    ],
    pack: { 'aws-ct-discovery-burst': 1, 'aws-ct-discovery-burst-by-access-key': 1 },
    sigma: { aws_enum_buckets: 1 },
  },
  {
    name: 'stolen instance credentials used from outside: identity, IAM, then user data of four instances',
    at: 7.6,
    region: 'us-east-1',
    identity: (account) => assumedRoleIdentity(account.id, 'image-resizer', STOLEN_INSTANCE, 'AROA3Q7ZIMAGERESIZE1', 'ASIA3Q7ZIMAGERESKEY1'),
    calls: [
      ['sts', 'GetCallerIdentity'], ['iam', 'GetRole', { roleName: 'image-resizer' }], ['iam', 'ListAttachedRolePolicies', { roleName: 'image-resizer' }], ['iam', 'ListRolePolicies', { roleName: 'image-resizer' }],
      ['ec2', 'DescribeInstances', { maxResults: 1000 }],
      ...USERDATA_TARGETS.map((instanceId) => ['ec2', 'DescribeInstanceAttribute', { instanceId, attribute: 'userData' }] as const),
      ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }], ['ssm', 'DescribeParameters'], ['secretsmanager', 'ListSecrets'], ['lambda', 'ListFunctions20150331'],
    ],
    pack: { 'aws-ct-discovery-burst': 1, 'aws-ct-ec2-userdata-read-burst': 1 },
    sigma: {},
  },
  {
    name: 'hijacked CI session maps IAM, Organizations, S3 and looks for public RDS snapshots',
    at: 12.4,
    region: 'us-east-1',
    identity: (account) => assumedRoleIdentity(account.id, 'github-actions-deploy', 'GitHubActions-recon', 'AROA3Q7ZGHDEPLOY0001', 'ASIA3Q7ZGHDEPLOYKEY1'),
    calls: [
      ['sts', 'GetCallerIdentity'], ['iam', 'ListUsers'], ['iam', 'ListRoles'], ['iam', 'ListPolicies'], ['organizations', 'DescribeOrganization'], ['organizations', 'ListAccounts'],
      ['s3', 'GetBucketPolicy', { bucketName: 'acme-prod-backups-111122223333', policy: '' }], ['s3', 'GetBucketAcl', { bucketName: 'acme-prod-backups-111122223333', acl: '' }], ['rds', 'DescribeDBInstances'],
      ['rds', 'DescribeDBSnapshots', { includePublic: true, maxRecords: 100 }], ['kms', 'ListKeys'], ['secretsmanager', 'ListSecrets'],
    ],
    pack: { 'aws-ct-discovery-burst': 1, 'aws-ct-snapshot-public-enumeration': 1 },
    sigma: {},
  },
  {
    name: 'a federated contractor session checks the defences and the clusters (us-west-2)',
    at: 15.8,
    region: 'us-west-2',
    identity: (account) => ({
      type: 'FederatedUser',
      principalId: `${account.id}:contractor-b`,
      arn: `arn:aws:sts::${account.id}:federated-user/contractor-b`,
      accountId: account.id,
      accessKeyId: 'ASIA3Q7ZCONTRACTORB1',
      sessionContext: { sessionIssuer: { type: 'IAMUser', principalId: 'AIDA3Q7ZFEDBROKER001', arn: `arn:aws:iam::${account.id}:user/federation-broker`, accountId: account.id, userName: 'federation-broker' }, attributes: { creationDate: '2026-11-03T15:30:00Z', mfaAuthenticated: 'false' } },
    }),
    calls: [
      ['cloudtrail', 'DescribeTrails'], ['cloudtrail', 'GetTrailStatus', { name: 'acct-audit-trail' }], ['cloudtrail', 'GetEventSelectors', { trailName: 'acct-audit-trail' }], ['guardduty', 'ListDetectors'],
      ['securityhub', 'DescribeHub'], ['config', 'DescribeConfigurationRecorders'], ['eks', 'ListClusters'], ['eks', 'DescribeCluster', { name: 'prod-main' }], ['ecr', 'DescribeRepositories'],
      ['ecs', 'ListClusters'], ['logs', 'DescribeLogGroups'], ['ec2', 'DescribeSubnets'],
    ],
    pack: { 'aws-ct-discovery-burst': 1 },
    sigma: {},
  },
  {
    name: 'stolen SSO token used from the CLI: quotas, Bedrock models, SES and Lambda (LLM and spam abuse scouting)',
    at: 21.1,
    region: 'us-east-1',
    identity: (account) => assumedRoleIdentity(account.id, 'AWSReservedSSO_PowerUserAccess_7e2a4c9b6d1f8a03', 'omar.f@example.com', 'AROA3Q7ZSSOPOWER0001', 'ASIA3Q7ZSSOOMARKEY01'),
    calls: [
      ['sts', 'GetCallerIdentity'], ['ec2', 'DescribeRegions'], ['servicequotas', 'GetServiceQuota', { serviceCode: 'ec2', quotaCode: 'L-1216C47A' }], ['bedrock', 'ListFoundationModels'],
      ['bedrock', 'GetModelInvocationLoggingConfiguration'], ['ses', 'GetSendQuota'], ['ses', 'ListIdentities'], ['sns', 'GetSMSAttributes'], ['lambda', 'ListFunctions20150331'], ['iam', 'ListUsers'],
      ['ec2', 'DescribeInstanceTypeOfferings'],
    ],
    pack: { 'aws-ct-discovery-burst': 1 },
    sigma: {},
  },
];

/** The planted discovery bursts' records: one copy each, one call every 9-20 seconds. */
export function discoveryBurstEvents(rng: Rng, account: Account, t0: number): { events: PlantedEvent[]; bursts: PlantedBurstRecord[] } {
  const events: PlantedEvent[] = [];
  const bursts: PlantedBurstRecord[] = [];
  for (const burst of DISCOVERY_BURSTS) {
    const identity = burst.identity(account);
    let time = t0 + Math.round(burst.at * HOUR);
    const start = time;
    for (const [service, name, request] of burst.calls) {
      events.push(call(rng, account, time, burst.region, identity, service, name, { request: request ?? null, ip: ATTACKER_IPS[bursts.length % 2] as string }));
      time += 9_000 + rng.int(11_000);
    }
    const accessKeyId = String(identity.accessKeyId ?? '');
    bursts.push({
      name: burst.name,
      account: account.id,
      arn: String(identity.arn),
      ...(accessKeyId.startsWith('AKIA') ? { accessKeyId } : {}),
      start: new Date(start).toISOString(),
      end: new Date(time).toISOString(),
      distinct: new Set(burst.calls.map(([, name]) => name)).size,
    });
  }
  return { events, bursts };
}

/** What the manifest records of each planted burst (bench/precision.ts matches alerts to it). */
export interface PlantedBurstRecord {
  name: string;
  account: string;
  arn: string;
  /** Set when the burst is signed with a long-term key: aws-ct-discovery-burst-by-access-key must find it too. */
  accessKeyId?: string;
  start: string;
  end: string;
  distinct: number;
}

/** The discovery correlations whose background alerts bench/precision.ts measures: the scan must find at least the planted ones. */
export const PRECISION_RULES: readonly string[] = ['aws-ct-discovery-burst', 'aws-ct-discovery-burst-by-access-key'];

/** Differences between expected and scanned alert counts: exact, except PRECISION_RULES (at least the planted). */
export function diffAlertCounts(expected: Record<string, number>, actual: Record<string, number>): string[] {
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  const out: string[] = [];
  for (const key of [...keys].sort()) {
    const e = expected[key] ?? 0;
    const a = actual[key] ?? 0;
    if (PRECISION_RULES.includes(key) ? a < e : a !== e) out.push(`${key}: expected ${PRECISION_RULES.includes(key) ? 'at least ' : ''}${e}, got ${a}`);
  }
  return out;
}

/** Three copies, eight hours apart, each scenario at its own minute. */
export const PLANT_TIMES_HOURS: readonly number[] = [2, 10, 18];

/** Every planted event of the day starting at t0 (all of them inside that day). */
export function plantedEvents(rng: Rng, account: Account, t0: number): PlantedEvent[] {
  const out: PlantedEvent[] = [];
  for (const hour of PLANT_TIMES_HOURS) {
    SCENARIOS.forEach((scenario, i) => {
      out.push(...scenario.events(rng, account, t0 + hour * HOUR + i * 20 * MINUTE + 11_000));
    });
  }
  const outside = out.find((event) => event.time < t0 || event.time >= t0 + 24 * HOUR);
  if (outside !== undefined) throw new Error(`planted event outside the generated day: ${JSON.stringify(outside.record.eventName)} at ${isoSeconds(outside.time)}`);
  return out;
}

/** rule key -> alert count, for the `pack` or `full` rule set (discovery bursts: the planted ones; the background adds some, see PRECISION_RULES). */
export function expectedAlerts(set: 'pack' | 'full'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const scenario of SCENARIOS) {
    const rows = set === 'pack' ? [scenario.pack] : [scenario.pack, scenario.sigma];
    for (const row of rows) {
      for (const [rule, count] of Object.entries(row)) out[rule] = (out[rule] ?? 0) + count * PLANT_TIMES_HOURS.length;
    }
  }
  for (const burst of DISCOVERY_BURSTS) {
    for (const row of set === 'pack' ? [burst.pack] : [burst.pack, burst.sigma]) {
      for (const [rule, count] of Object.entries(row)) out[rule] = (out[rule] ?? 0) + count;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
