/**
 * The key layouts AWS services write into log buckets, so that a scan lists only the prefixes
 * that can hold what the user asked for instead of the whole bucket:
 *
 *   [prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
 *   [prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<file>
 *   [prefix/]AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<file>
 *   [prefix/]AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]<file>
 *
 * The date folders are delivery dates (UTC): a folder holds events from before its end, and
 * from at most LATE_DELIVERY_MS before its start. Service folders other than the log services
 * trailhound reads (CloudTrail-Digest, Config, elasticloadbalancing...) are skipped, unless the
 * user's own prefix names them. Anything not recognised is walked, never skipped.
 */

/** How long after an event its log file may still be delivered; the `--until` side of date pruning. */
export const LATE_DELIVERY_MS = 24 * 3_600_000;
/** How far an event may lie after its file's name timestamp (clock skew, delivery rounding). */
const FILE_TIME_SKEW_MS = 3_600_000;

const LOG_SERVICES = new Set(['cloudtrail', 'cloudtrail-insight', 'vpcflowlogs', 'guardduty']);
const ACCOUNT = /^\d{12}$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const HIVE = /^(aws-account-id|aws-service|aws-region|year|month|day|hour)=(.*)$/;
/** `<account>_<service>_<region>_<YYYYMMDDTHHMM[SS]Z>_...`: CloudTrail, Flow Logs and digest file names. */
const LOG_FILE_NAME = /^(\d{12})_([A-Za-z-]+)_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z/;

export interface LayoutFilter {
  since?: number;
  until?: number;
  accounts?: ReadonlySet<string>;
  regions?: ReadonlySet<string>;
}

/** What a prefix (or key) says about the logs below it. */
export interface PrefixFacts {
  account?: string;
  region?: string;
  service?: string;
  /** year, month, day, hour: as many as the prefix names. */
  date: number[];
  /** Inside AWSLogs/<account>/<service>/: the layout is known. */
  known: boolean;
}

type Expect = 'free' | 'account' | 'service' | 'region' | 'year' | 'month' | 'day' | 'hour';

function segmentsOf(prefix: string): string[] {
  const parts = prefix.split('/');
  parts.pop(); // the part after the last '/' is not a complete folder name
  return parts;
}

/** Reads the layout facts from the folder names of a prefix ending with '/'. */
export function prefixFacts(prefix: string): PrefixFacts {
  const facts: PrefixFacts = { date: [], known: false };
  let expect: Expect = 'free';
  for (const segment of segmentsOf(prefix)) {
    const hive = HIVE.exec(segment);
    if (hive !== null) {
      const value = hive[2] ?? '';
      switch (hive[1]) {
        case 'aws-account-id':
          facts.account = value;
          break;
        case 'aws-service':
          facts.service = value;
          facts.known = true;
          break;
        case 'aws-region':
          facts.region = value;
          break;
        default:
          if (/^\d+$/.test(value)) facts.date.push(Number(value));
      }
      continue;
    }
    switch (expect) {
      case 'free':
        if (segment === 'AWSLogs') expect = 'account';
        break;
      case 'account':
        if (ORGANIZATION.test(segment)) break;
        if (ACCOUNT.test(segment)) {
          facts.account = segment;
          expect = 'service';
        } else {
          expect = 'free';
        }
        break;
      case 'service':
        facts.service = segment;
        facts.known = true;
        expect = 'region';
        break;
      case 'region':
        if (REGION.test(segment)) {
          facts.region = segment;
          expect = 'year';
        } else {
          expect = 'free';
        }
        break;
      case 'year':
      case 'month':
      case 'day':
      case 'hour': {
        const digits = expect === 'year' ? /^\d{4}$/ : /^\d{2}$/;
        if (digits.test(segment)) {
          facts.date.push(Number(segment));
          expect = expect === 'year' ? 'month' : expect === 'month' ? 'day' : expect === 'day' ? 'hour' : 'free';
        } else {
          expect = 'free';
        }
        break;
      }
    }
  }
  return facts;
}

/** The [start, end) epoch-ms range of a date folder (year, month, day, hour as far as named). */
export function dateFolderRange(date: readonly number[]): { start: number; end: number } | undefined {
  const [year, month, day, hour] = date;
  if (year === undefined) return undefined;
  if (month === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  if (day === undefined) return { start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
  if (hour === undefined) return { start: Date.UTC(year, month - 1, day), end: Date.UTC(year, month - 1, day + 1) };
  return { start: Date.UTC(year, month - 1, day, hour), end: Date.UTC(year, month - 1, day, hour + 1) };
}

/** True when logs delivered in [start, end) cannot hold an event in [since, until]. */
function deliveredOutside(start: number, end: number, filter: LayoutFilter): boolean {
  if (filter.since !== undefined && end <= filter.since) return true;
  if (filter.until !== undefined && start > filter.until + LATE_DELIVERY_MS) return true;
  return false;
}

export type PrefixDecision = 'skip' | 'walk' | 'flat';

/**
 * What to do with a folder the listing found below the user's prefix: skip it, walk it level by
 * level (more layout to prune on), or list everything below it at once (nothing left to prune).
 * `userSegments` folders at the start belong to the user's own prefix and are never skipped.
 */
export function decidePrefix(prefix: string, filter: LayoutFilter, userSegments = 0): PrefixDecision {
  const facts = prefixFacts(prefix);
  const segments = segmentsOf(prefix).length;
  const own = segments <= userSegments;
  if (!own) {
    if (facts.service !== undefined && !LOG_SERVICES.has(facts.service.toLowerCase()) && !serviceIsUsers(prefix, facts.service, userSegments)) return 'skip';
    if (facts.account !== undefined && filter.accounts !== undefined && filter.accounts.size > 0 && !filter.accounts.has(facts.account)) return 'skip';
    if (facts.region !== undefined && filter.regions !== undefined && filter.regions.size > 0 && !filter.regions.has(facts.region)) return 'skip';
    const range = dateFolderRange(facts.date);
    if (range !== undefined && deliveredOutside(range.start, range.end, filter)) return 'skip';
  }
  return facts.known && facts.date.length >= 3 ? 'flat' : 'walk';
}

/** True when the service folder is part of the user's own prefix (`s3://b/AWSLogs/1/Config/` scans Config). */
function serviceIsUsers(prefix: string, service: string, userSegments: number): boolean {
  const segments = segmentsOf(prefix).slice(0, userSegments);
  return segments.includes(service) || segments.includes(`aws-service=${service}`);
}

/** Keys no log service writes, or that hold no log trailhound reads. */
function isNotALogKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name === '' || name.endsWith('_$folder$') || name === 'aws-programmatic-access-test-object' || /_CloudTrail-Digest_/.test(name);
}

/**
 * Whether to read an object the listing found: false for folder markers, test objects and
 * digests, and for files whose name (account, region, delivery time) is outside the filter.
 */
export function keepObject(key: string, filter: LayoutFilter): boolean {
  if (isNotALogKey(key)) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  const match = LOG_FILE_NAME.exec(name);
  if (match === null) return true;
  const [, account, , region, year, month, day, hour, minute, second] = match;
  if (account !== undefined && filter.accounts !== undefined && filter.accounts.size > 0 && !filter.accounts.has(account)) return false;
  if (region !== undefined && filter.regions !== undefined && filter.regions.size > 0 && !filter.regions.has(region)) return false;
  const delivered = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0));
  if (Number.isNaN(delivered)) return true;
  return !deliveredOutside(delivered, delivered + FILE_TIME_SKEW_MS, filter);
}
