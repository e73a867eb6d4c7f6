/**
 * The routine automation of the synthetic corpus: principals whose daily work is broad
 * read-only enumeration, on a schedule, as in a real account (issue 12, section 2b):
 *
 * - `ci-deploy`: infrastructure-as-code plans (terraform plan refreshing its state: 20-40
 *   distinct Describe/List/Get calls across services per run, one role session per pipeline
 *   run), many times a day;
 * - `cspm-inventory`: an inventory / CSPM role sweeping 25-32 distinct read calls, hourly;
 * - `svc-grafana`: a monitoring role polling CloudWatch and resource lists every 5 minutes;
 * - `svc-jenkins`: a CI IAM user (long-term AKIA key) whose deploy jobs read stacks, ECS, ECR
 *   and load balancers;
 * - SSO administrators browsing console pages (sessionCredentialFromConsole "true").
 *
 * All of it is background: benign, in us-east-1 of the prod account, no call any rule targets
 * other than the discovery bursts (no errors, no user data or public-snapshot parameters, no
 * ListBuckets by an IAM user). The discovery bursts fire on it today by design; bench/precision.ts
 * measures how often. The schedule scales with the corpus size (1,000,000 records: the numbers
 * above), so a small test corpus keeps one run of each.
 */
import type { Account, JsonObject } from './records.ts';
import { HOUR, MINUTE, assumedRoleIdentity, iamUserIdentity } from './records.ts';
import { call } from './planted.ts';
import type { PlantedEvent } from './planted.ts';
import type { Rng } from './rng.ts';

type Read = readonly [service: string, name: string, request?: JsonObject];

/** What terraform's AWS provider reads when it refreshes a typical stack's state. */
const TERRAFORM_READS: readonly Read[] = [
  ['sts', 'GetCallerIdentity'], ['ec2', 'DescribeVpcs'], ['ec2', 'DescribeSubnets'], ['ec2', 'DescribeSecurityGroups'], ['ec2', 'DescribeRouteTables'],
  ['ec2', 'DescribeInternetGateways'], ['ec2', 'DescribeNatGateways'], ['ec2', 'DescribeAddresses'], ['ec2', 'DescribeVpcAttribute'], ['ec2', 'DescribeNetworkAcls'],
  ['ec2', 'DescribeLaunchTemplates'], ['ec2', 'DescribeLaunchTemplateVersions'], ['ec2', 'DescribeInstances'], ['ec2', 'DescribeVpcEndpoints'], ['ec2', 'DescribeFlowLogs'],
  ['iam', 'GetRole'], ['iam', 'ListRolePolicies'], ['iam', 'ListAttachedRolePolicies'], ['iam', 'GetRolePolicy'], ['iam', 'GetPolicy'],
  ['iam', 'GetPolicyVersion'], ['iam', 'GetInstanceProfile'], ['iam', 'GetOpenIDConnectProvider'], ['s3', 'GetBucketPolicy'], ['s3', 'GetBucketAcl'],
  ['s3', 'GetBucketVersioning'], ['s3', 'GetBucketEncryption'], ['s3', 'GetBucketTagging'], ['s3', 'GetBucketPublicAccessBlock'], ['s3', 'GetBucketLogging'],
  ['s3', 'GetBucketLifecycle'], ['rds', 'DescribeDBInstances'], ['rds', 'DescribeDBSubnetGroups'], ['rds', 'DescribeDBParameterGroups'], ['rds', 'ListTagsForResource'],
  ['lambda', 'GetFunction20150331v2'], ['lambda', 'GetPolicy20150331v2'], ['lambda', 'ListVersionsByFunction20150331'], ['kms', 'DescribeKey'], ['kms', 'GetKeyPolicy'],
  ['kms', 'GetKeyRotationStatus'], ['kms', 'ListResourceTags'], ['logs', 'DescribeLogGroups'], ['logs', 'ListTagsLogGroup'], ['route53', 'GetHostedZone'],
  ['route53', 'ListResourceRecordSets'], ['elasticloadbalancing', 'DescribeLoadBalancers'], ['elasticloadbalancing', 'DescribeTargetGroups'], ['elasticloadbalancing', 'DescribeListeners'],
  ['dynamodb', 'DescribeTable'], ['dynamodb', 'DescribeContinuousBackups'], ['dynamodb', 'DescribeTimeToLive'], ['sqs', 'GetQueueAttributes'], ['sns', 'GetTopicAttributes'],
  ['ecs', 'DescribeClusters'], ['ecs', 'DescribeServices'], ['ecr', 'DescribeRepositories'], ['ecr', 'GetLifecyclePolicy'], ['autoscaling', 'DescribeAutoScalingGroups'],
];

/** An inventory / CSPM sweep: lists across the account's services. */
const INVENTORY_READS: readonly Read[] = [
  ['sts', 'GetCallerIdentity'], ['ec2', 'DescribeInstances'], ['ec2', 'DescribeVolumes'], ['ec2', 'DescribeSnapshots', { ownersSet: { items: [{ owner: 'self' }] } }], ['ec2', 'DescribeImages', { ownersSet: { items: [{ owner: 'self' }] } }],
  ['ec2', 'DescribeSecurityGroups'], ['ec2', 'DescribeVpcs'], ['ec2', 'DescribeSubnets'], ['ec2', 'DescribeNetworkInterfaces'], ['ec2', 'DescribeAddresses'],
  ['iam', 'ListUsers'], ['iam', 'ListRoles'], ['iam', 'ListPolicies'], ['iam', 'ListGroups'], ['iam', 'GetAccountPasswordPolicy'],
  ['s3', 'GetBucketLocation'], ['s3', 'GetBucketEncryption'], ['s3', 'GetBucketPublicAccessBlock'], ['rds', 'DescribeDBInstances'], ['rds', 'DescribeDBClusters'],
  ['lambda', 'ListFunctions20150331'], ['kms', 'ListKeys'], ['kms', 'ListAliases'], ['cloudtrail', 'DescribeTrails'], ['cloudtrail', 'GetTrailStatus'],
  ['guardduty', 'ListDetectors'], ['config', 'DescribeConfigurationRecorders'], ['elasticloadbalancing', 'DescribeLoadBalancers'], ['dynamodb', 'ListTables'], ['ecs', 'ListClusters'],
  ['eks', 'ListClusters'], ['sns', 'ListTopics'], ['sqs', 'ListQueues'], ['secretsmanager', 'ListSecrets'], ['acm', 'ListCertificates'],
];

/** Grafana's CloudWatch data source: metric queries (not counted) and the template variables' lists. */
const GRAFANA_READS: readonly Read[] = [
  ['monitoring', 'GetMetricData'], ['monitoring', 'GetMetricData'], ['monitoring', 'GetMetricData'], ['monitoring', 'ListMetrics'], ['monitoring', 'DescribeAlarms'],
  ['monitoring', 'DescribeAlarmHistory'], ['ec2', 'DescribeRegions'], ['ec2', 'DescribeInstances'], ['tagging', 'GetResources'], ['logs', 'DescribeLogGroups'],
  ['rds', 'DescribeDBInstances'], ['elasticloadbalancing', 'DescribeLoadBalancers'], ['elasticloadbalancing', 'DescribeTargetGroups'], ['sqs', 'ListQueues'], ['dynamodb', 'ListTables'],
];

/** A Jenkins deploy job: CloudFormation, ECS, ECR and ELB reads around the deploy. */
const JENKINS_READS: readonly Read[] = [
  ['sts', 'GetCallerIdentity'], ['cloudformation', 'DescribeStacks'], ['cloudformation', 'ListStacks'], ['cloudformation', 'DescribeStackEvents'], ['cloudformation', 'GetTemplate'],
  ['cloudformation', 'DescribeStackResources'], ['ecr', 'DescribeRepositories'], ['ecr', 'DescribeImages'], ['ecs', 'DescribeServices'], ['ecs', 'DescribeTaskDefinition', { taskDefinition: 'orders-api:412' }],
  ['ecs', 'ListTasks'], ['ecs', 'DescribeTasks'], ['elasticloadbalancing', 'DescribeTargetHealth'], ['elasticloadbalancing', 'DescribeTargetGroups'], ['s3', 'GetBucketLocation'],
  ['ssm', 'DescribeParameters'],
];

/** What console pages load (the EC2 dashboard, IAM, S3, RDS, CloudWatch...). */
const CONSOLE_PAGES: ReadonlyArray<readonly Read[]> = [
  [['ec2', 'DescribeInstances'], ['ec2', 'DescribeVolumes'], ['ec2', 'DescribeAddresses'], ['ec2', 'DescribeKeyPairs'], ['ec2', 'DescribeSecurityGroups'], ['ec2', 'DescribeSnapshots', { ownersSet: { items: [{ owner: 'self' }] } }], ['ec2', 'DescribePlacementGroups'], ['ec2', 'DescribeHosts'], ['ec2', 'DescribeInstanceStatus'], ['ec2', 'DescribeAvailabilityZones'], ['ec2', 'DescribeAccountAttributes']],
  [['iam', 'GetAccountSummary'], ['iam', 'ListUsers'], ['iam', 'ListRoles'], ['iam', 'ListPolicies'], ['iam', 'GetAccountPasswordPolicy'], ['iam', 'ListAccountAliases'], ['iam', 'ListMFADevices']],
  [['s3', 'ListBuckets'], ['s3', 'GetBucketLocation'], ['s3', 'GetBucketPolicyStatus'], ['s3', 'GetBucketPublicAccessBlock'], ['s3', 'GetAccountPublicAccessBlock'], ['s3', 'GetBucketAcl']],
  [['rds', 'DescribeDBInstances'], ['rds', 'DescribeDBClusters'], ['rds', 'DescribeEvents'], ['rds', 'DescribeAccountAttributes'], ['rds', 'DescribeDBEngineVersions'], ['rds', 'DescribePendingMaintenanceActions']],
  [['monitoring', 'DescribeAlarms'], ['monitoring', 'ListDashboards'], ['monitoring', 'GetMetricData'], ['monitoring', 'ListMetrics'], ['logs', 'DescribeLogGroups'], ['logs', 'DescribeQueryDefinitions']],
  [['lambda', 'ListFunctions20150331'], ['lambda', 'GetAccountSettings20160819'], ['lambda', 'ListEventSourceMappings20150331'], ['lambda', 'GetFunction20150331v2'], ['lambda', 'ListTags20170331']],
];

const OFFICE_IP = '198.51.100.61';
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** How many runs a schedule of `perDay` (at 1,000,000 records) makes in a corpus of `records`. */
function runs(perDay: number, records: number): number {
  return Math.max(1, Math.round((perDay * records) / 1_000_000));
}

function pickDistinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0] as T);
  return out;
}

export interface AutomationSummary {
  /** Scheduled runs per automation. */
  runs: Record<string, number>;
  records: number;
}

/** The automation records of the day starting at t0, in the prod account. */
export function automationEvents(rng: Rng, account: Account, t0: number, records: number): { events: PlantedEvent[]; summary: AutomationSummary } {
  const out: PlantedEvent[] = [];
  const region = 'us-east-1';
  const counts: Record<string, number> = {};
  const push = (time: number, identity: JsonObject, [service, name, request]: Read, agent: string, ip: string, console = false): void => {
    out.push(call(rng, account, time, region, identity, service, name, { request: request ?? null, agent, ip, console }));
  };

  // Terraform plans in the deploy pipeline: 07:00-22:00, one role session per pipeline run.
  const plans = runs(40, records);
  counts['ci-deploy (terraform plan)'] = plans;
  for (let run = 0; run < plans; run++) {
    const start = t0 + 7 * HOUR + Math.floor(((run + rng.float()) * 15 * HOUR) / plans);
    const identity = assumedRoleIdentity(account.id, 'ci-deploy', `gitlab-runner-${880_000 + run * 17}`, 'AROA3Q7ZCIDEPLOYROLE', `ASIA${rng.chars(16)}`);
    const agent = 'APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.57.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 ua/2.0 os/linux lang/go#1.22.4';
    let time = start;
    for (const read of pickDistinct(rng, TERRAFORM_READS, rng.between(20, 40))) {
      for (let k = rng.between(1, 3); k > 0; k--) push((time += rng.between(200, 4000)), identity, read, agent, '3.91.22.140');
    }
  }

  // The inventory / CSPM sweep, hourly at about :05, one long-lived session.
  const sweeps = runs(24, records);
  counts['cspm-inventory (hourly sweep)'] = sweeps;
  const inventory = assumedRoleIdentity(account.id, 'cspm-inventory', 'inventory-sweep', 'AROA3Q7ZCSPMINVENTRY', 'ASIA3Q7ZCSPMINVKEY01');
  for (let run = 0; run < sweeps; run++) {
    let time = t0 + Math.floor((run * 24 * HOUR) / sweeps) + 5 * MINUTE;
    for (const read of pickDistinct(rng, INVENTORY_READS, rng.between(25, 32))) push((time += rng.between(500, 6000)), inventory, read, 'cloud-inventory/3.1 aws-sdk-go-v2/1.30.3', '10.0.40.17');
  }

  // Grafana's CloudWatch data source, every 5 minutes around the clock.
  const polls = runs(288, records);
  counts['svc-grafana (5-minute polls)'] = polls;
  const grafana = assumedRoleIdentity(account.id, 'svc-grafana', 'grafana-cloudwatch', 'AROA3Q7ZSVCGRAFANA01', 'ASIA3Q7ZSVCGRAFANA01');
  for (let run = 0; run < polls; run++) {
    let time = t0 + Math.floor((run * 24 * HOUR) / polls) + rng.between(0, 20_000);
    for (const read of GRAFANA_READS) if (rng.chance(0.85)) push((time += rng.between(50, 900)), grafana, read, 'Grafana/11.1.0 aws-sdk-go/1.54.19 (go1.22.5; linux; amd64)', '10.0.41.9');
  }

  // Jenkins deploy jobs with the svc-jenkins IAM user's long-term key, 08:00-20:00.
  const jobs = runs(16, records);
  counts['svc-jenkins (deploy jobs)'] = jobs;
  const jenkins = iamUserIdentity(account.id, 'svc-jenkins', 'AIDA3Q7ZSVCJENKINS01', 'AKIA3Q7ZSVCJENKINS01');
  for (let run = 0; run < jobs; run++) {
    let time = t0 + 8 * HOUR + Math.floor(((run + rng.float() * 0.5) * 12 * HOUR) / jobs);
    for (const read of pickDistinct(rng, JENKINS_READS, rng.between(12, 16))) push((time += rng.between(1000, 15_000)), jenkins, read, 'aws-cli/2.17.9 md/awscrt#0.20.11 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.9 md/command#cloudformation.describe-stacks', '10.0.50.23');
  }

  // SSO administrators in the console: each session browses a few pages.
  const sessions = runs(12, records);
  counts['SSO administrators (console sessions)'] = sessions;
  const people = ['sam.lee@example.com', 'dana.kim@example.com', 'priya.n@example.com'];
  for (let run = 0; run < sessions; run++) {
    const person = people[run % people.length] as string;
    const identity = assumedRoleIdentity(account.id, 'AWSReservedSSO_AdministratorAccess_0c4d2b8a1f6e3d95', person, 'AROA3Q7ZSSOADMIN0001', `ASIA${rng.chars(16)}`, {
      sessionContext: { attributes: { creationDate: '2026-11-03T07:58:12Z', mfaAuthenticated: 'true' } },
    });
    let time = t0 + 8 * HOUR + Math.floor(((run + rng.float() * 0.5) * 10 * HOUR) / sessions);
    for (const page of pickDistinct(rng, CONSOLE_PAGES, rng.between(3, 6))) {
      time += rng.between(20_000, 120_000);
      for (const read of page) push((time += rng.between(30, 400)), identity, read, BROWSER, OFFICE_IP, true);
    }
  }
  return { events: out, summary: { runs: counts, records: out.length } };
}
