/** CloudTrail records and log files for the S3 and service tests, written the way AWS writes them. */
import { gzipSync } from 'node:zlib';

/** The account, region and day of the records unless a test says otherwise. */
export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const DAY = '2026-11-05';

export interface CloudTrailFields {
  id: string;
  time: string;
  eventName: string;
  eventSource?: string;
  account?: string;
  region?: string;
  user?: string;
  sourceIp?: string;
}

export function cloudTrailRecord(fields: CloudTrailFields): Record<string, unknown> {
  const account = fields.account ?? ACCOUNT;
  const user = fields.user ?? 'alice';
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${account}:user/${user}`, accountId: account, accessKeyId: 'AKIAEXAMPLE', userName: user },
    eventTime: fields.time,
    eventSource: fields.eventSource ?? 'ec2.amazonaws.com',
    eventName: fields.eventName,
    awsRegion: fields.region ?? REGION,
    sourceIPAddress: fields.sourceIp ?? '198.51.100.23',
    userAgent: 'aws-cli/2.15.30',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${fields.id}`,
    eventID: fields.id,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  };
}

/** A StopLogging call: the built-in pack raises one high alert for it. */
export function stopLogging(id: string, time: string, account = ACCOUNT, region = REGION): Record<string, unknown> {
  return cloudTrailRecord({ id, time, eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', account, region });
}

/** A CloudTrail log file: `{"Records": [...]}`, gzipped. */
export function cloudTrailFile(records: readonly Record<string, unknown>[]): Buffer {
  return gzipSync(JSON.stringify({ Records: records }));
}

/** The key CloudTrail gives a log file. */
export function cloudTrailKey(account: string, region: string, date: string, suffix: string, org?: string): string {
  const [year, month, day] = date.split('-');
  const stamp = `${year}${month}${day}T1000Z`;
  return `AWSLogs/${org === undefined ? '' : `${org}/`}${account}/CloudTrail/${region}/${year}/${month}/${day}/${account}_CloudTrail_${region}_${stamp}_${suffix}.json.gz`;
}

/** The key of a log file of ACCOUNT in REGION on DAY. */
export function trailKey(suffix: string): string {
  return cloudTrailKey(ACCOUNT, REGION, DAY, suffix);
}
