/**
 * Builds, in the tests themselves, the envelopes AWS delivers CloudTrail (and flow-log) records
 * in through CloudWatch Logs and Firehose: a subscription's DATA_MESSAGE / CONTROL_MESSAGE,
 * the Lambda event `{"awslogs":{"data":base64(gzip(...))}}`, a Firehose transformation input
 * `{"invocationId",...,"records":[{"recordId","data"}]}`. Shapes from the AWS documentation
 * (CloudWatch Logs "Subscription filters", Firehose "Data transformation"); values written for
 * the tests (example account 111122223333, documentation address ranges).
 */
import { gzipSync } from 'node:zlib';

export type Json = Record<string, unknown>;

/** A CloudTrail record as AWS writes it (StopLogging: aws-ct-cloudtrail-stopped-or-deleted fires on it). */
export function trailRecord(eventName: string, eventID: string, extra: Json = {}): Json {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDA3Q7ZBACKUPUSR8QM',
      arn: 'arn:aws:iam::111122223333:user/legacy-backup',
      accountId: '111122223333',
      accessKeyId: 'AKIA3Q7ZBACKUPKEY2HT',
      userName: 'legacy-backup',
    },
    eventTime: '2026-11-03T09:11:11Z',
    eventSource: eventName === 'StopLogging' || eventName === 'DeleteTrail' ? 'cloudtrail.amazonaws.com' : 'iam.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.47',
    userAgent: 'aws-cli/2.15.30 md/command#cloudtrail.stop-logging',
    requestParameters: { name: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/acct-audit-trail' },
    responseElements: null,
    requestID: '28dfc380-9b76-47ea-9edf-a884956b4730',
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    ...extra,
  };
}

/** A DATA_MESSAGE whose log events carry `messages` (records as JSON strings, or text lines). */
export function dataMessage(messages: ReadonlyArray<Json | string>, logGroup = 'aws-cloudtrail-logs-111122223333-0a1b2c3d'): Json {
  return {
    messageType: 'DATA_MESSAGE',
    owner: '111122223333',
    logGroup,
    logStream: '111122223333_CloudTrail_us-east-1',
    subscriptionFilters: ['cloudtrail-to-lambda'],
    logEvents: messages.map((message, i) => ({
      id: `3800000000000000000000000000000000000000000000000000000${i}`,
      timestamp: Date.parse('2026-11-03T09:11:20Z') + i,
      message: typeof message === 'string' ? message : JSON.stringify(message),
    })),
  };
}

/** What CloudWatch Logs sends when a subscription is created: no records. */
export const CONTROL_MESSAGE: Json = {
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [{ id: '', timestamp: Date.parse('2026-11-03T09:00:00Z'), message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }],
};

export function gzipBase64(value: Json | string | Buffer): string {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  return gzipSync(bytes).toString('base64');
}

export function plainBase64(value: Json | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64');
}

/** The Lambda event of a CloudWatch Logs subscription. */
export function awslogsEvent(payload: Json | string): Json {
  return { awslogs: { data: typeof payload === 'string' ? payload : gzipBase64(payload) } };
}

/** A Firehose data-transformation Lambda input; each `data` is given already encoded. */
export function firehoseEvent(datas: readonly string[]): Json {
  return {
    invocationId: 'invocationIdExample',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-stream',
    region: 'us-east-1',
    records: datas.map((data, i) => ({
      recordId: `49546986683135544286507457936321625675700192471156785154${i}`,
      approximateArrivalTimestamp: Date.parse('2026-11-03T09:11:30Z') + i,
      data,
    })),
  };
}

/** A default-format (version 2) VPC flow-log line. */
export function flowLine(srcaddr: string, dstport: number, action = 'ACCEPT'): string {
  return `2 111122223333 eni-0a1b2c3d4e5f60789 ${srcaddr} 10.0.1.5 49152 ${dstport} 6 10 840 1793520671 1793520731 ${action} OK`;
}
