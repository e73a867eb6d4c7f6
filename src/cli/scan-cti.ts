/**
 * The threat-intel and flow-log options of `scan`, parsed and checked before anything is read:
 * `--cti FILE` (repeatable), `--cti-max-age`, `--cti-max-prefix`, `--cti-bucket`, `--cti-egress-bytes`,
 * `--flow-format`. Kept apart from scan.ts so the command itself stays argument wiring.
 */
import { located } from '../core/errors.ts';
import type { Command } from 'commander';
import type { DetectorOptions } from '../engine/detector.ts';
import { DEFAULT_BUCKET_MS } from '../engine/cti/buckets.ts';
import { DEFAULT_EGRESS_BYTES_THRESHOLD } from '../engine/cti/flow-direction.ts';
import { parseFlowFormat } from '../formats/vpcflow/fields.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { NetworkLimits } from '../intel/network-limits.ts';
import { DEFAULT_MAX_AGE, DEFAULT_MAX_PREFIX, describeLoadedFeeds, loadCtiFeeds, MAX_PREFIX_HELP, parseDuration, parseMaxAge, parseMaxPrefix } from './intel-feeds.ts';

export interface CtiFlags {
  cti: string[];
  ctiMaxAge: string;
  /** Absent when the caller does not offer the option: the default limits. */
  ctiMaxPrefix?: string;
  ctiBucket: string;
  ctiEgressBytes: string;
  flowFormat?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the options to a command. */
export function addCtiOptions(command: Command): Command {
  return command
    .option('--cti <file>', 'threat-intel feed: IP/CIDR/domain list, CSV, STIX 2.1 or MISP JSON (repeatable)', collect, [])
    .option('--cti-max-age <duration>', 'lifetime of indicators without an expiry date: 30d, 12h, ... or unbounded', DEFAULT_MAX_AGE)
    .option('--cti-max-prefix <limits>', MAX_PREFIX_HELP, DEFAULT_MAX_PREFIX)
    .option('--cti-bucket <duration>', 'repeated matches of an indicator (per interface and direction, or per principal) within this time make one alert', `${DEFAULT_BUCKET_MS / 3_600_000}h`)
    .option('--cti-egress-bytes <bytes>', 'bytes sent back to an indicator that connected in, per bucket, that make the alert high', String(DEFAULT_EGRESS_BYTES_THRESHOLD));
}

export interface PreparedCti {
  /** Feed errors (exit code 2; the scan still runs with what loaded). */
  errors: number;
  /** --cti-max-prefix as parsed, for the scan workers to load the feeds alike (absent without feeds). */
  limits?: NetworkLimits;
  detectorOptions: Pick<DetectorOptions, 'intel' | 'cti'>;
}

/** Validates the options and loads the feeds. Undefined when an option is invalid (TH_CONFIG reported). */
export async function prepareCti(flags: CtiFlags, diagnostics: Diagnostics): Promise<PreparedCti | undefined> {
  const invalid = (flag: string, message: string): undefined => {
    diagnostics.error(located('TH_CONFIG', message, flag));
    return undefined;
  };
  if (flags.flowFormat !== undefined) {
    const header = parseFlowFormat(flags.flowFormat);
    if (typeof header === 'string') return invalid('--flow-format', `${header}; give the flow log's format as AWS shows it: '\${version} \${account-id} \${interface-id} ...'`);
  }
  const maxAgeMs = parseMaxAge(flags.ctiMaxAge);
  if (maxAgeMs === undefined) return invalid('--cti-max-age', `--cti-max-age ${JSON.stringify(flags.ctiMaxAge)} is not a duration like 30d, or unbounded`);
  const limits = parseMaxPrefix(flags.ctiMaxPrefix ?? DEFAULT_MAX_PREFIX);
  if (typeof limits === 'string') return invalid('--cti-max-prefix', `--cti-max-prefix: ${limits}`);
  const bucketMs = parseDuration(flags.ctiBucket);
  if (bucketMs === undefined) return invalid('--cti-bucket', `--cti-bucket ${JSON.stringify(flags.ctiBucket)} is not a duration like 1h or 15m`);
  const egressBytesThreshold = /^[0-9]{1,15}$/.test(flags.ctiEgressBytes.trim()) ? Number(flags.ctiEgressBytes.trim()) : undefined;
  if (egressBytesThreshold === undefined) return invalid('--cti-egress-bytes', `--cti-egress-bytes ${JSON.stringify(flags.ctiEgressBytes)} is not a number of bytes`);
  if (flags.cti.length === 0) return { errors: 0, detectorOptions: {} };

  let errors = 0;
  const loaded = await loadCtiFeeds(flags.cti, { maxAgeMs, limits }, (error) => {
    errors++;
    diagnostics.error(error);
  });
  diagnostics.info(describeLoadedFeeds(loaded.reports));
  return { errors, limits, detectorOptions: { intel: loaded.index, cti: { bucketMs, egressBytesThreshold } } };
}
