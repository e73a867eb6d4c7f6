/**
 * The routine API calls of the synthetic corpus: about 150 event names over about 30
 * services, weighted the way CloudTrail volume looks in practice (Describe/List/Get, STS
 * AssumeRole, KMS Decrypt and S3 data events dominate). Every name here is benign for the
 * built-in pack and the timed SigmaHQ set: the planted attacks (planted.ts) are the only
 * records that may raise an alert. Names a rule targets (StopLogging, CreateKeyPair,
 * AuthorizeSecurityGroupIngress, SendCommand, ...) are deliberately absent.
 */

/** How the request and response of a call are built (generate.ts). */
export type Shape =
  | 'list'
  | 'get'
  | 'describe'
  | 'describe-instances'
  | 'assume-role'
  | 'assume-role-web'
  | 'kms'
  | 's3-data'
  | 'write'
  | 'tags'
  | 'ssm-agent'
  | 'console-login'
  | 'caller-identity'
  | 'token'
  | 'secret'
  | 'run-instances';

/** Who makes the call: application roles, people, or AWS services themselves. */
export type Caller = 'app' | 'human' | 'service' | 'any' | 'portal';

export interface CatalogEntry {
  service: string;
  name: string;
  weight: number;
  shape: Shape;
  callers: Caller;
  /** The parameter a `get` names (`roleName`, `bucketName`...). */
  param?: string;
  /** IAM, STS (global endpoint), Organizations, Route 53: logged in us-east-1 only. */
  global?: boolean;
  readOnly: boolean;
  /** S3 data events (eventCategory Data). */
  data?: boolean;
}

/** The EC2 calls the discovery rules count: each background principal uses at most 4 of them. */
export const DISCOVERY_NAMES: readonly string[] = [
  'DescribeInstances',
  'DescribeSecurityGroups',
  'DescribeKeyPairs',
  'DescribeRegions',
  'DescribeImages',
  'DescribeSnapshots',
  'DescribeVolumes',
  'DescribeVpcs',
  'DescribeSubnets',
  'DescribeInstanceAttribute',
  'DescribeLaunchTemplates',
  'DescribeAccountAttributes',
];

/**
 * What aws-ct-discovery-call counts (rules/aws/cloudtrail/aws-ct-discovery-call.yml), for the
 * services of this catalog: a Describe/List/Get/Generate management call on a listed service,
 * minus content and credential reads. The generator keeps every background principal under the
 * burst threshold with it; the automation of automation.ts is what crosses it.
 */
export const DISCOVERY_SERVICES: ReadonlySet<string> = new Set([
  'ec2', 'iam', 'sts', 's3', 'rds', 'lambda', 'kms', 'secretsmanager', 'ssm', 'cloudtrail', 'organizations', 'dynamodb', 'elasticloadbalancing',
  'cloudfront', 'ses', 'sns', 'sqs', 'ecs', 'eks', 'ecr', 'cloudformation', 'route53', 'guardduty', 'securityhub', 'config', 'monitoring', 'logs',
  'autoscaling', 'elasticache', 'apigateway', 'acm', 'backup', 'redshift', 'bedrock', 'identitystore', 'account', 'servicequotas', 'tagging',
]);
const NOT_DISCOVERY = new Set([
  'GetSecretValue', 'GetSessionToken', 'GetFederationToken', 'GetServiceBearerToken', 'GetAuthorizationToken', 'GetDownloadUrlForLayer',
  'GetMetricData', 'GetMetricStatistics', 'GetMetricWidgetImage', 'GetLogEvents', 'GetLogRecord', 'GetQueryResults',
]);

/** Whether aws-ct-discovery-call counts this call (parameter decryption aside: see records.ts). */
export function isDiscoveryRead(service: string, name: string, data = false): boolean {
  if (data || !DISCOVERY_SERVICES.has(service) || !/^(Describe|List|Get|Generate)/i.test(name) || NOT_DISCOVERY.has(name)) return false;
  if (service === 'kms' && (/^Generate/i.test(name) || name === 'GetPublicKey')) return false;
  // records.ts sends these two with withDecryption true (credential access, left out).
  if (service === 'ssm' && (name === 'GetParameters' || name === 'GetParametersByPath')) return false;
  return true;
}

type Row = [name: string, weight: number, shape: Shape, callers?: Caller, param?: string];

function service(name: string, rows: Row[], extra: Partial<CatalogEntry> = {}): CatalogEntry[] {
  return rows.map(([eventName, weight, shape, callers, param]) => ({
    service: name,
    name: eventName,
    weight,
    shape,
    callers: callers ?? 'any',
    ...(param === undefined ? {} : { param }),
    readOnly: /^(Describe|List|Get|Head|Lookup|Batch(Get|Check)|Filter|Search|Decrypt|Query|Scan)/.test(eventName),
    ...extra,
  }));
}

export const CATALOG: readonly CatalogEntry[] = [
  ...service('ec2', [
    ['DescribeInstances', 30, 'describe-instances'],
    ['DescribeSecurityGroups', 9, 'describe'],
    ['DescribeVolumes', 7, 'describe'],
    ['DescribeSubnets', 6, 'describe'],
    ['DescribeVpcs', 5, 'describe'],
    ['DescribeImages', 5, 'describe'],
    ['DescribeSnapshots', 4, 'describe'],
    ['DescribeKeyPairs', 1, 'describe'],
    ['DescribeRegions', 3, 'describe'],
    ['DescribeInstanceAttribute', 1, 'describe'],
    ['DescribeLaunchTemplates', 2, 'describe'],
    ['DescribeAccountAttributes', 2, 'describe'],
    ['DescribeNetworkInterfaces', 12, 'describe'],
    ['DescribeInstanceStatus', 10, 'describe'],
    ['DescribeTags', 8, 'describe'],
    ['DescribeAddresses', 3, 'describe'],
    ['DescribeRouteTables', 3, 'describe'],
    ['DescribeLaunchTemplateVersions', 4, 'describe'],
    ['DescribeAvailabilityZones', 4, 'describe'],
    ['DescribeInstanceTypes', 3, 'describe'],
    ['DescribeNatGateways', 1, 'describe'],
    ['DescribeVpcEndpoints', 1, 'describe'],
    ['DescribeFlowLogs', 1, 'describe'],
    ['DescribeInstanceCreditSpecifications', 1, 'describe'],
    ['DescribeNetworkAcls', 1, 'describe'],
    ['CreateTags', 3, 'tags'],
    ['DeleteTags', 0.5, 'tags'],
    ['RunInstances', 0.6, 'run-instances', 'app'],
    ['TerminateInstances', 0.5, 'write', 'app'],
    ['StartInstances', 0.3, 'write', 'app'],
    ['StopInstances', 0.3, 'write', 'app'],
    ['CreateSnapshot', 0.8, 'write', 'app'],
    ['DeleteSnapshot', 0.5, 'write', 'app'],
    ['CreateVolume', 0.4, 'write', 'app'],
    ['AttachVolume', 0.4, 'write', 'app'],
    ['CreateNetworkInterface', 1, 'write', 'app'],
    ['DeleteNetworkInterface', 1, 'write', 'app'],
    ['AssignPrivateIpAddresses', 0.3, 'write', 'app'],
  ]),
  ...service('sts', [
    ['AssumeRole', 55, 'assume-role', 'service'],
    ['GetCallerIdentity', 8, 'caller-identity'],
    ['AssumeRoleWithWebIdentity', 4, 'assume-role-web', 'service'],
    ['DecodeAuthorizationMessage', 0.1, 'get', 'human', 'encodedMessage'],
  ]),
  ...service('kms', [
    ['Decrypt', 60, 'kms', 'app'],
    ['GenerateDataKey', 22, 'kms', 'app'],
    ['Encrypt', 4, 'kms', 'app'],
    ['DescribeKey', 5, 'get', 'any', 'keyId'],
    ['ListAliases', 2, 'list'],
    ['GetKeyPolicy', 1, 'get', 'any', 'keyId'],
    ['ListKeys', 1, 'list'],
    ['GetKeyRotationStatus', 0.5, 'get', 'any', 'keyId'],
  ]),
  ...service(
    's3',
    [
      ['GetObject', 35, 's3-data', 'app'],
      ['PutObject', 12, 's3-data', 'app'],
      ['HeadObject', 6, 's3-data', 'app'],
      ['ListObjects', 4, 's3-data', 'app'],
      ['DeleteObject', 1, 's3-data', 'app'],
    ],
    { data: true },
  ),
  ...service('s3', [
    ['ListBuckets', 1, 'list', 'app'],
    ['GetBucketLocation', 4, 'get', 'any', 'bucketName'],
    ['GetBucketAcl', 3, 'get', 'any', 'bucketName'],
    ['GetBucketPolicy', 2, 'get', 'any', 'bucketName'],
    ['GetBucketVersioning', 1.5, 'get', 'any', 'bucketName'],
    ['GetBucketEncryption', 1.5, 'get', 'any', 'bucketName'],
    ['GetBucketTagging', 1.5, 'get', 'any', 'bucketName'],
    ['GetBucketPublicAccessBlock', 1.5, 'get', 'any', 'bucketName'],
    ['GetBucketLogging', 1, 'get', 'any', 'bucketName'],
    ['GetBucketOwnershipControls', 0.8, 'get', 'any', 'bucketName'],
    ['PutBucketTagging', 0.2, 'write', 'app'],
  ]),
  ...service(
    'iam',
    [
      ['GetRole', 4, 'get', 'any', 'roleName'],
      ['GetUser', 1, 'get', 'any', 'userName'],
      ['ListRoles', 1.5, 'list'],
      ['ListUsers', 0.6, 'list'],
      ['ListPolicies', 0.8, 'list'],
      ['GetPolicy', 1.2, 'get', 'any', 'policyArn'],
      ['GetPolicyVersion', 1.2, 'get', 'any', 'policyArn'],
      ['ListAttachedRolePolicies', 2, 'get', 'any', 'roleName'],
      ['ListRolePolicies', 1.5, 'get', 'any', 'roleName'],
      ['GetRolePolicy', 1, 'get', 'any', 'roleName'],
      ['ListAccessKeys', 0.5, 'get', 'any', 'userName'],
      ['GetAccountSummary', 0.3, 'list'],
      ['ListGroupsForUser', 0.3, 'get', 'any', 'userName'],
      ['ListMFADevices', 0.3, 'get', 'any', 'userName'],
      ['GenerateCredentialReport', 0.1, 'list'],
      ['GetCredentialReport', 0.1, 'list'],
      ['ListInstanceProfilesForRole', 0.8, 'get', 'any', 'roleName'],
      ['CreateRole', 0.05, 'write', 'app'],
      ['AttachRolePolicy', 0.05, 'write', 'app'],
      ['PutRolePolicy', 0.05, 'write', 'app'],
      ['TagRole', 0.05, 'tags', 'app'],
      ['UpdateAssumeRolePolicy', 0.02, 'write', 'app'],
      ['CreatePolicyVersion', 0.02, 'write', 'app'],
    ],
    { global: true },
  ),
  ...service('lambda', [
    ['GetFunction', 2, 'get', 'any', 'functionName'],
    ['ListFunctions20150331', 1.5, 'list'],
    ['GetFunctionConfiguration', 1, 'get', 'any', 'functionName'],
    ['UpdateFunctionCode20150331v2', 0.3, 'write', 'app'],
    ['ListTags', 0.8, 'get', 'any', 'resource'],
    ['GetPolicy20150331v2', 0.5, 'get', 'any', 'functionName'],
    ['ListEventSourceMappings20150331', 0.5, 'list'],
  ]),
  ...service('logs', [
    ['CreateLogStream', 9, 'write', 'app'],
    ['DescribeLogGroups', 3, 'list'],
    ['DescribeLogStreams', 3, 'get', 'any', 'logGroupName'],
    ['FilterLogEvents', 1, 'get', 'human', 'logGroupName'],
    ['GetLogEvents', 1, 'get', 'human', 'logGroupName'],
    ['PutRetentionPolicy', 0.2, 'write', 'app'],
    ['CreateLogGroup', 0.2, 'write', 'app'],
  ]),
  ...service('monitoring', [
    ['GetMetricData', 6, 'list'],
    ['DescribeAlarms', 4, 'list'],
    ['ListMetrics', 2, 'list'],
    ['GetMetricStatistics', 2, 'list'],
    ['PutMetricAlarm', 0.3, 'write', 'app'],
  ]),
  ...service('dynamodb', [
    ['DescribeTable', 4, 'get', 'any', 'tableName'],
    ['ListTables', 1.5, 'list'],
    ['DescribeContinuousBackups', 0.8, 'get', 'any', 'tableName'],
    ['DescribeTimeToLive', 0.8, 'get', 'any', 'tableName'],
    ['UpdateTable', 0.1, 'write', 'app'],
  ]),
  ...service('rds', [
    ['DescribeDBInstances', 3, 'list'],
    ['DescribeDBClusters', 1.5, 'list'],
    ['DescribeDBSnapshots', 1, 'list'],
    ['ListTagsForResource', 1, 'get', 'any', 'resourceName'],
    ['DescribeDBParameterGroups', 0.5, 'list'],
    ['DescribeDBEngineVersions', 0.5, 'list'],
    ['CreateDBSnapshot', 0.1, 'write', 'app'],
  ]),
  ...service('ecs', [
    ['DescribeClusters', 2, 'list'],
    ['ListClusters', 1, 'list'],
    ['DescribeServices', 2.5, 'get', 'any', 'cluster'],
    ['ListTasks', 2, 'get', 'any', 'cluster'],
    ['DescribeTasks', 2, 'get', 'any', 'cluster'],
    ['ListContainerInstances', 0.8, 'get', 'any', 'cluster'],
    ['DescribeContainerInstances', 0.8, 'get', 'any', 'cluster'],
    ['UpdateService', 0.2, 'write', 'app'],
  ]),
  ...service('ecr', [
    ['GetAuthorizationToken', 7, 'token', 'app'],
    ['BatchGetImage', 5, 'get', 'app', 'repositoryName'],
    ['GetDownloadUrlForLayer', 4, 'get', 'app', 'repositoryName'],
    ['BatchCheckLayerAvailability', 1, 'get', 'app', 'repositoryName'],
    ['DescribeRepositories', 1, 'list'],
    ['DescribeImages', 1, 'get', 'any', 'repositoryName'],
  ]),
  ...service('eks', [
    ['DescribeCluster', 3, 'get', 'any', 'name'],
    ['ListClusters', 0.8, 'list'],
    ['ListNodegroups', 0.5, 'get', 'any', 'clusterName'],
    ['DescribeNodegroup', 0.5, 'get', 'any', 'clusterName'],
    ['ListAddons', 0.3, 'get', 'any', 'clusterName'],
  ]),
  ...service('cloudformation', [
    ['DescribeStacks', 3, 'list'],
    ['ListStacks', 1, 'list'],
    ['DescribeStackEvents', 1.5, 'get', 'any', 'stackName'],
    ['GetTemplate', 0.5, 'get', 'any', 'stackName'],
    ['DescribeStackResources', 0.8, 'get', 'any', 'stackName'],
    ['CreateChangeSet', 0.1, 'write', 'app'],
    ['ExecuteChangeSet', 0.05, 'write', 'app'],
  ]),
  ...service('ssm', [
    ['UpdateInstanceInformation', 12, 'ssm-agent', 'app'],
    ['ListInstanceAssociations', 10, 'ssm-agent', 'app'],
    ['GetParameter', 8, 'get', 'app', 'name'],
    ['GetParameters', 4, 'get', 'app', 'names'],
    ['GetParametersByPath', 3, 'get', 'app', 'path'],
    ['DescribeInstanceInformation', 2, 'list'],
    ['DescribeParameters', 1, 'list'],
    ['ListAssociations', 0.8, 'list'],
    ['GetDocument', 0.5, 'get', 'app', 'name'],
    ['PutParameter', 0.1, 'write', 'app'],
  ]),
  ...service('secretsmanager', [
    ['GetSecretValue', 5, 'secret', 'app'],
    ['DescribeSecret', 1.5, 'get', 'any', 'secretId'],
    ['ListSecrets', 0.8, 'list'],
  ]),
  ...service('sns', [
    ['ListTopics', 0.8, 'list'],
    ['GetTopicAttributes', 1, 'get', 'any', 'topicArn'],
    ['ListSubscriptions', 0.4, 'list'],
  ]),
  ...service('sqs', [
    ['ListQueues', 0.8, 'list'],
    ['GetQueueAttributes', 2, 'get', 'any', 'queueUrl'],
  ]),
  ...service('elasticloadbalancing', [
    ['DescribeLoadBalancers', 2, 'list'],
    ['DescribeTargetGroups', 1.5, 'list'],
    ['DescribeTargetHealth', 3, 'get', 'any', 'targetGroupArn'],
    ['DescribeListeners', 1, 'get', 'any', 'loadBalancerArn'],
    ['RegisterTargets', 0.3, 'write', 'app'],
    ['DeregisterTargets', 0.3, 'write', 'app'],
  ]),
  ...service('autoscaling', [
    ['DescribeAutoScalingGroups', 3, 'list'],
    ['DescribeScalingActivities', 1, 'list'],
    ['DescribeLaunchConfigurations', 0.3, 'list'],
    ['UpdateAutoScalingGroup', 0.2, 'write', 'app'],
  ]),
  ...service(
    'route53',
    [
      ['ListHostedZones', 1, 'list'],
      ['GetHostedZone', 0.8, 'get', 'any', 'id'],
      ['ListResourceRecordSets', 1.5, 'get', 'any', 'hostedZoneId'],
      ['ChangeResourceRecordSets', 0.3, 'write', 'app'],
      ['GetChange', 0.3, 'get', 'app', 'id'],
    ],
    { global: true },
  ),
  ...service('config', [
    ['DescribeConfigRules', 0.8, 'list'],
    ['DescribeConfigurationRecorders', 0.5, 'list'],
    ['PutEvaluations', 2, 'write', 'service'],
    ['DescribeComplianceByConfigRule', 0.5, 'list'],
  ]),
  ...service('cloudtrail', [
    ['DescribeTrails', 0.8, 'list'],
    ['GetTrailStatus', 0.6, 'get', 'any', 'name'],
    ['LookupEvents', 0.5, 'list', 'human'],
    ['ListTrails', 0.3, 'list'],
    ['GetEventSelectors', 0.3, 'get', 'any', 'trailName'],
  ]),
  ...service('guardduty', [
    ['ListDetectors', 1, 'list'],
    ['GetDetector', 0.5, 'get', 'any', 'detectorId'],
    ['ListFindings', 1, 'get', 'any', 'detectorId'],
    ['GetFindings', 0.8, 'get', 'any', 'detectorId'],
  ]),
  ...service('securityhub', [
    ['GetFindings', 1, 'list'],
    ['DescribeHub', 0.3, 'list'],
    ['BatchImportFindings', 1, 'write', 'service'],
  ]),
  ...service(
    'organizations',
    [
      ['DescribeOrganization', 0.8, 'list'],
      ['ListAccounts', 0.5, 'list'],
      ['DescribeAccount', 0.3, 'get', 'any', 'accountId'],
      ['ListRoots', 0.2, 'list'],
    ],
    { global: true },
  ),
  ...service('signin', [['ConsoleLogin', 0.4, 'console-login', 'human']], { global: true }),
  ...service('sso', [
    ['ListAccounts', 0.3, 'list', 'portal'],
    ['ListAccountRoles', 0.3, 'list', 'portal'],
    ['GetRoleCredentials', 0.3, 'list', 'portal'],
  ]),
  ...service('apigateway', [
    ['GetRestApis', 0.5, 'list'],
    ['GetStages', 0.3, 'get', 'any', 'restApiId'],
  ]),
  ...service('elasticache', [
    ['DescribeCacheClusters', 0.8, 'list'],
    ['DescribeReplicationGroups', 0.5, 'list'],
  ]),
  ...service('athena', [
    ['StartQueryExecution', 0.5, 'write', 'human'],
    ['GetQueryExecution', 1.5, 'get', 'human', 'queryExecutionId'],
    ['GetQueryResults', 0.5, 'get', 'human', 'queryExecutionId'],
  ]),
  ...service('glue', [
    ['GetTable', 1, 'get', 'any', 'name'],
    ['GetDatabases', 0.5, 'list'],
    ['GetPartitions', 1, 'get', 'any', 'tableName'],
    ['BatchCreatePartition', 0.3, 'write', 'app'],
  ]),
  ...service('health', [
    ['DescribeEvents', 0.5, 'list'],
    ['DescribeEventAggregates', 0.3, 'list'],
  ]),
  ...service('tagging', [['GetResources', 1, 'list']]),
  ...service('acm', [
    ['ListCertificates', 0.4, 'list'],
    ['DescribeCertificate', 0.4, 'get', 'any', 'certificateArn'],
  ]),
  ...service('firehose', [['DescribeDeliveryStream', 0.4, 'get', 'any', 'deliveryStreamName']]),
];
