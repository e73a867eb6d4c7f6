/**
 * `trailhound.yml`, the configuration of `trailhound watch` (docs/service.md is the reference).
 * Relative paths are relative to the file; `${NAME}` in a string is an environment variable
 * (secrets such as webhook URLs stay out of the file). Every problem is a located TH_CONFIG error.
 */
import { located } from '../core/errors.ts';
import { dirname, resolve } from 'node:path';
import type { Node as YamlNode } from 'yaml';
import type { LocatedError } from '../core/errors.ts';
import { SIGMA_LEVELS } from '../core/levels.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { FeedSource } from '../intel/load.ts';
import { parseNetworkLimits } from '../intel/network-limits.ts';
import { fileTooLarge, readTextFile } from '../sigma/parse.ts';
import { isPostgresSpec } from '../store/store-url.ts';
import { ConfigReader, MAX_CONFIG_FILE_BYTES } from './config-reader.ts';
import { LOG_LEVELS } from './logger.ts';
import type { LogLevel } from './logger.ts';

export interface AwsSettings {
  region?: string;
  profile?: string;
  /** For S3-compatible stores and tests: S3 requests go there (path-style). */
  s3EndpointUrl?: string;
  /** For SQS-compatible servers; by default the queue URL's host is the endpoint. */
  sqsEndpointUrl?: string;
}

export interface SqsSourceConfig {
  type: 'sqs';
  name: string;
  queueUrl: string;
  aws: AwsSettings;
  visibilityTimeoutS: number;
  waitTimeS: number;
  maxMessages: number;
  /** Failed reads of one object before it is set aside as poisoned. */
  poisonAfter: number;
  location: string;
}

export interface FolderSourceConfig {
  type: 'folder';
  name: string;
  path: string;
  pollIntervalMs: number;
  poisonAfter: number;
  location: string;
}

export type SourceConfig = SqsSourceConfig | FolderSourceConfig;

interface SinkBase {
  name: string;
  /** Only alerts at or above this level go to the sink. */
  minLevel?: SigmaLevel;
  location: string;
}

export interface StdoutSinkConfig extends SinkBase {
  type: 'stdout';
}

export interface FileSinkConfig extends SinkBase {
  type: 'file';
  path: string;
  /** `format:` what each line is: the alert JSON (`jsonl`, default) or its OCSF 1.7.0 Detection Finding (`ocsf`, docs/ocsf.md). Absent means jsonl. */
  format?: FileSinkFormat;
}

/** The line formats of a file sink (`format:`). */
export const FILE_SINK_FORMATS = ['jsonl', 'ocsf'] as const;
export type FileSinkFormat = (typeof FILE_SINK_FORMATS)[number];

export interface HttpSinkConfig extends SinkBase {
  type: 'webhook' | 'slack';
  url: string;
  headers: Record<string, string>;
  maxAttempts: number;
  timeoutMs: number;
  /** Alerts that failed every attempt are appended here. */
  deadLetter: string;
}

export type SinkConfig = StdoutSinkConfig | FileSinkConfig | HttpSinkConfig;

export interface WatchConfig {
  file: string;
  stateDir: string;
  retentionMs: number;
  /** `tuning` is the config's top-level `tuning:` file (src/pack/tuning.ts). */
  rules: { defaultRules: boolean; paths: string[]; vars?: string; filters: string[]; tuning?: string };
  /** `baseline:` a baseline file for breadth correlations (`trailhound scan --save-baseline`). */
  baseline?: string;
  /** With `limits` when `feed_max_prefix` is set (the broadest networks a feed may hold). */
  feeds: FeedSource[];
  includeEvents: boolean;
  correlation: { latenessMs: number; maxGroups?: number };
  aws: AwsSettings;
  sources: SourceConfig[];
  sinks: SinkConfig[];
  metrics?: { port: number; host: string };
  logLevel: LogLevel;
  /**
   * `store: postgres://...`: the state (processed objects, alerts, sinks' cursors, correlation)
   * in PostgreSQL, shared by every node started with it (docs/cluster.md). Without it, the
   * state is SQLite in state_dir.
   */
  store?: string;
}

/** `watch`'s correlation lateness: CloudTrail delivers most events within 5 to 15 minutes (a batch scan's is unbounded: engine/correlation/options.ts). */
export const DEFAULT_SERVICE_LATENESS_MS = 15 * 60_000;
const DAY = 86_400_000;
const TOP_KEYS = ['state_dir', 'retention', 'rules', 'tuning', 'baseline', 'feeds', 'feed_max_prefix', 'include_events', 'correlation', 'aws', 'sources', 'sinks', 'metrics', 'log_level', 'store'] as const;
const AWS_KEYS = ['region', 'profile', 's3_endpoint_url', 'sqs_endpoint_url'] as const;

type Entries = Map<string, YamlNode | null>;

function readAws(reader: ConfigReader, node: YamlNode | null, what: string, base: AwsSettings = {}): AwsSettings {
  const entries = reader.mapping(node, what, AWS_KEYS);
  const aws: AwsSettings = { ...base };
  if (entries === undefined) return aws;
  const text = (key: string): string | undefined => (entries.has(key) ? reader.string(entries.get(key), `${what}.${key}`) : undefined);
  const region = text('region');
  const profile = text('profile');
  const s3 = text('s3_endpoint_url');
  const sqs = text('sqs_endpoint_url');
  if (region !== undefined) aws.region = region;
  if (profile !== undefined) aws.profile = profile;
  if (s3 !== undefined) aws.s3EndpointUrl = s3;
  if (sqs !== undefined) aws.sqsEndpointUrl = sqs;
  return aws;
}

function level(reader: ConfigReader, node: YamlNode | null | undefined, what: string): SigmaLevel | undefined {
  const value = reader.string(node, what);
  if (value === undefined) return undefined;
  if (!(SIGMA_LEVELS as readonly string[]).includes(value)) {
    reader.error(node, `${what} must be one of ${SIGMA_LEVELS.join(', ')}`);
    return undefined;
  }
  return value as SigmaLevel;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

function readSources(reader: ConfigReader, node: YamlNode | null, base: string, aws: AwsSettings): SourceConfig[] {
  const items = reader.sequence(node, 'sources');
  const sources: SourceConfig[] = [];
  const names = new Set<string>();
  for (const item of items ?? []) {
    const entries = reader.mapping(item, 'a source', ['type', 'name', 'queue_url', 'aws', 'visibility_timeout', 'wait_time', 'max_messages', 'poison_after', 'path', 'poll_interval']);
    if (entries === undefined) continue;
    const location = reader.locate(item);
    const type = entries.has('type') ? reader.string(entries.get('type'), 'source type') : undefined;
    if (type === undefined) {
      if (!entries.has('type')) reader.error(item, "a source needs a type: 'sqs' or 'folder'");
      continue;
    }
    const given = entries.has('name') ? reader.string(entries.get('name'), 'source name') : undefined;
    const poisonAfter = entries.has('poison_after') ? reader.integer(entries.get('poison_after'), 'poison_after', 1, 100) : 5;
    const forbid = (keys: readonly string[]): void => {
      for (const key of keys) if (entries.has(key)) reader.error(entries.get(key), `'${key}' does not apply to a ${type} source`);
    };
    if (type === 'sqs') {
      forbid(['path', 'poll_interval']);
      const queueUrl = entries.has('queue_url') ? reader.string(entries.get('queue_url'), 'queue_url') : undefined;
      if (!entries.has('queue_url')) reader.error(item, 'an sqs source needs queue_url (https://sqs.<region>.amazonaws.com/<account>/<queue>)');
      if (queueUrl !== undefined && !/^https?:\/\/[^/]+\/[^/]+\/[^/]+\/?$/.test(queueUrl)) reader.error(entries.get('queue_url'), 'queue_url must look like https://sqs.<region>.amazonaws.com/<account>/<queue>');
      const visibility = entries.has('visibility_timeout') ? reader.duration(entries.get('visibility_timeout'), 'visibility_timeout', 1000, 12 * 3_600_000) : 300_000;
      const wait = entries.has('wait_time') ? reader.duration(entries.get('wait_time'), 'wait_time', 0, 20_000) : 20_000;
      const maxMessages = entries.has('max_messages') ? reader.integer(entries.get('max_messages'), 'max_messages', 1, 10) : 10;
      const sourceAws = entries.has('aws') ? readAws(reader, entries.get('aws') ?? null, 'source aws', aws) : { ...aws };
      if (queueUrl === undefined || visibility === undefined || wait === undefined || maxMessages === undefined || poisonAfter === undefined) continue;
      const queueName = queueUrl.replace(/\/$/, '').split('/').pop() ?? 'sqs';
      sources.push({
        type: 'sqs',
        name: uniqueName(given ?? `sqs:${queueName}`, names),
        queueUrl,
        aws: sourceAws,
        visibilityTimeoutS: Math.ceil(visibility / 1000),
        waitTimeS: Math.round(wait / 1000),
        maxMessages,
        poisonAfter,
        location,
      });
    } else if (type === 'folder') {
      forbid(['queue_url', 'aws', 'visibility_timeout', 'wait_time', 'max_messages']);
      const path = entries.has('path') ? reader.string(entries.get('path'), 'path') : undefined;
      if (!entries.has('path')) reader.error(item, 'a folder source needs path');
      const poll = entries.has('poll_interval') ? reader.duration(entries.get('poll_interval'), 'poll_interval', 100, DAY) : 10_000;
      if (path === undefined || poll === undefined || poisonAfter === undefined) continue;
      const full = resolve(base, path);
      sources.push({ type: 'folder', name: uniqueName(given ?? `folder:${full}`, names), path: full, pollIntervalMs: poll, poisonAfter, location });
    } else {
      reader.error(entries.get('type'), `unknown source type '${type}': use 'sqs' or 'folder'`);
    }
  }
  if (items !== undefined && items.length === 0) reader.error(node, 'sources is empty: name at least one sqs queue or folder');
  return sources;
}

function readSinks(reader: ConfigReader, node: YamlNode | null, base: string, stateDir: string): SinkConfig[] {
  const items = reader.sequence(node, 'sinks');
  const sinks: SinkConfig[] = [];
  const names = new Set<string>();
  for (const item of items ?? []) {
    const entries = reader.mapping(item, 'a sink', ['type', 'name', 'min_level', 'path', 'format', 'url', 'headers', 'max_attempts', 'timeout', 'dead_letter']);
    if (entries === undefined) continue;
    const location = reader.locate(item);
    const type = entries.has('type') ? reader.string(entries.get('type'), 'sink type') : undefined;
    if (type === undefined) {
      if (!entries.has('type')) reader.error(item, "a sink needs a type: 'stdout', 'file', 'webhook' or 'slack'");
      continue;
    }
    const given = entries.has('name') ? reader.string(entries.get('name'), 'sink name') : undefined;
    const minLevel = entries.has('min_level') ? level(reader, entries.get('min_level'), 'min_level') : undefined;
    const forbid = (keys: readonly string[]): void => {
      for (const key of keys) if (entries.has(key)) reader.error(entries.get(key), `'${key}' does not apply to a ${type} sink`);
    };
    const common = (name: string): { name: string; location: string; minLevel?: SigmaLevel } => ({ name: uniqueName(given ?? name, names), location, ...(minLevel === undefined ? {} : { minLevel }) });
    if (type === 'stdout') {
      forbid(['path', 'format', 'url', 'headers', 'max_attempts', 'timeout', 'dead_letter']);
      sinks.push({ type: 'stdout', ...common('stdout') });
    } else if (type === 'file') {
      forbid(['url', 'headers', 'max_attempts', 'timeout', 'dead_letter']);
      const path = entries.has('path') ? reader.string(entries.get('path'), 'path') : undefined;
      if (!entries.has('path')) reader.error(item, 'a file sink needs path');
      const format = entries.has('format') ? reader.string(entries.get('format'), 'format') : 'jsonl';
      if (format !== undefined && !(FILE_SINK_FORMATS as readonly string[]).includes(format)) reader.error(entries.get('format'), `format must be one of ${FILE_SINK_FORMATS.join(', ')}`);
      if (path === undefined || format === undefined) continue;
      const full = resolve(base, path);
      sinks.push({ type: 'file', ...common(`file:${full}`), path: full, format: format as FileSinkFormat });
    } else if (type === 'webhook' || type === 'slack') {
      forbid(['path', 'format']);
      if (type === 'slack') forbid(['headers']);
      const url = entries.has('url') ? reader.string(entries.get('url'), 'url') : undefined;
      if (!entries.has('url')) reader.error(item, `a ${type} sink needs url`);
      if (url !== undefined && !/^https?:\/\//.test(url)) reader.error(entries.get('url'), 'url must start with https:// (or http://)');
      const headers: Record<string, string> = {};
      if (entries.has('headers')) {
        for (const [key, value] of reader.mapping(entries.get('headers'), 'headers', 'any') ?? []) {
          const text = reader.string(value, `header ${key}`);
          if (text !== undefined) headers[key] = text;
        }
      }
      const maxAttempts = entries.has('max_attempts') ? reader.integer(entries.get('max_attempts'), 'max_attempts', 1, 100) : 5;
      const timeout = entries.has('timeout') ? reader.duration(entries.get('timeout'), 'timeout', 100, 300_000) : 10_000;
      const deadLetterPath = entries.has('dead_letter') ? reader.string(entries.get('dead_letter'), 'dead_letter') : undefined;
      if (url === undefined || maxAttempts === undefined || timeout === undefined) continue;
      const named = common(type);
      const deadLetter = deadLetterPath === undefined ? resolve(stateDir, `dead-letter-${named.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`) : resolve(base, deadLetterPath);
      sinks.push({ type, ...named, url, headers, maxAttempts, timeoutMs: timeout, deadLetter });
    } else {
      reader.error(entries.get('type'), `unknown sink type '${type}': use 'stdout', 'file', 'webhook' or 'slack'`);
    }
  }
  if (items !== undefined && items.length === 0) reader.error(node, 'sinks is empty: name at least one (stdout, file, webhook, slack)');
  return sinks;
}

/** Parses and validates the configuration text; `config` is undefined when there are errors. */
export function parseWatchConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): { config?: WatchConfig; errors: LocatedError[] } {
  const { reader, root } = ConfigReader.parse(text, file, env);
  if (root === null) {
    if (reader.errors.length === 0) reader.error(root, 'the configuration is empty: see docs/service.md for an example');
    return { errors: reader.errors };
  }
  const top: Entries | undefined = reader.mapping(root, 'the configuration', TOP_KEYS);
  if (top === undefined) return { errors: reader.errors };
  const base = dirname(resolve(file));
  const path = (key: string, what: string): string | undefined => {
    const value = top.has(key) ? reader.string(top.get(key), what) : undefined;
    return value === undefined ? undefined : resolve(base, value);
  };

  const stateDir = path('state_dir', 'state_dir');
  if (!top.has('state_dir')) reader.error(root, 'state_dir is required: the folder where trailhound keeps its SQLite state');
  const retentionMs = top.has('retention') ? reader.duration(top.get('retention'), 'retention', 15 * DAY, 3650 * DAY) : 30 * DAY;

  const rules = { defaultRules: true, paths: [] as string[], filters: [] as string[] } as WatchConfig['rules'];
  if (top.has('rules')) {
    const entries = reader.mapping(top.get('rules'), 'rules', ['default_rules', 'paths', 'vars', 'filters']);
    if (entries !== undefined) {
      if (entries.has('default_rules')) rules.defaultRules = reader.boolean(entries.get('default_rules'), 'rules.default_rules') ?? true;
      if (entries.has('paths')) rules.paths = (reader.strings(entries.get('paths'), 'rules.paths') ?? []).map((item) => resolve(base, item));
      if (entries.has('filters')) rules.filters = (reader.strings(entries.get('filters'), 'rules.filters') ?? []).map((item) => resolve(base, item));
      const vars = entries.has('vars') ? reader.string(entries.get('vars'), 'rules.vars') : undefined;
      if (vars !== undefined) rules.vars = resolve(base, vars);
    }
  }
  const tuning = top.has('tuning') ? reader.string(top.get('tuning'), 'tuning') : undefined;
  if (tuning !== undefined) rules.tuning = resolve(base, tuning);
  const feedLimitsText = top.has('feed_max_prefix') ? reader.string(top.get('feed_max_prefix'), 'feed_max_prefix') : undefined;
  const feedLimits = feedLimitsText === undefined ? undefined : parseNetworkLimits(feedLimitsText);
  if (typeof feedLimits === 'string') reader.error(top.get('feed_max_prefix'), `feed_max_prefix: ${feedLimits}`);
  const feeds: FeedSource[] = top.has('feeds')
    ? (reader.strings(top.get('feeds'), 'feeds') ?? []).map((item) => ({ path: resolve(base, item), ...(feedLimits === undefined || typeof feedLimits === 'string' ? {} : { limits: feedLimits }) }))
    : [];
  const includeEvents = top.has('include_events') ? (reader.boolean(top.get('include_events'), 'include_events') ?? true) : true;

  const correlation: WatchConfig['correlation'] = { latenessMs: DEFAULT_SERVICE_LATENESS_MS };
  if (top.has('correlation')) {
    const entries = reader.mapping(top.get('correlation'), 'correlation', ['lateness', 'max_groups']);
    if (entries?.has('lateness') === true) correlation.latenessMs = reader.duration(entries.get('lateness'), 'correlation.lateness', 0, 7 * DAY) ?? DEFAULT_SERVICE_LATENESS_MS;
    if (entries?.has('max_groups') === true) {
      const max = reader.integer(entries.get('max_groups'), 'correlation.max_groups', 1, 100_000_000);
      if (max !== undefined) correlation.maxGroups = max;
    }
  }
  const aws = top.has('aws') ? readAws(reader, top.get('aws') ?? null, 'aws') : {};
  const sources = top.has('sources') ? readSources(reader, top.get('sources') ?? null, base, aws) : [];
  if (!top.has('sources')) reader.error(root, 'sources is required: the SQS queues and folders to watch');
  const sinks = top.has('sinks') ? readSinks(reader, top.get('sinks') ?? null, base, stateDir ?? base) : [];
  if (!top.has('sinks')) reader.error(root, 'sinks is required: where alerts go (stdout, file, webhook, slack)');

  let metrics: WatchConfig['metrics'];
  if (top.has('metrics')) {
    const entries = reader.mapping(top.get('metrics'), 'metrics', ['port', 'host']);
    if (entries !== undefined) {
      const port = entries.has('port') ? reader.integer(entries.get('port'), 'metrics.port', 0, 65535) : undefined;
      if (!entries.has('port')) reader.error(top.get('metrics'), 'metrics needs port');
      const host = entries.has('host') ? reader.string(entries.get('host'), 'metrics.host') : '127.0.0.1';
      if (port !== undefined && host !== undefined) metrics = { port, host };
    }
  }
  let logLevel: LogLevel = 'info';
  if (top.has('log_level')) {
    const value = reader.string(top.get('log_level'), 'log_level');
    if (value !== undefined && (LOG_LEVELS as readonly string[]).includes(value)) logLevel = value as LogLevel;
    else if (value !== undefined) reader.error(top.get('log_level'), `log_level must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let store: string | undefined;
  if (top.has('store')) {
    store = reader.string(top.get('store'), 'store');
    if (store !== undefined && !isPostgresSpec(store)) {
      reader.error(top.get('store'), 'store must be a postgres:// URL (a cluster of nodes sharing one state); without it, watch keeps its state, alerts included, in state_dir/trailhound.sqlite, which trailhound serve --store reads');
      store = undefined;
    }
  }

  if (reader.errors.length > 0 || stateDir === undefined || retentionMs === undefined) return { errors: reader.errors };
  const config: WatchConfig = { file, stateDir, retentionMs, rules, feeds, includeEvents, correlation, aws, sources, sinks, logLevel };
  if (metrics !== undefined) config.metrics = metrics;
  if (store !== undefined) config.store = store;
  const baseline = top.has('baseline') ? reader.string(top.get('baseline'), 'baseline') : undefined;
  if (baseline !== undefined) config.baseline = resolve(base, baseline);
  return { config, errors: [] };
}

/** Reads and validates a configuration file. */
export async function loadWatchConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ config?: WatchConfig; errors: LocatedError[] }> {
  let text: string;
  try {
    // Bounded like every YAML file (src/service/config-reader.ts); a FIFO or device is not read.
    const read = await readTextFile(file, MAX_CONFIG_FILE_BYTES);
    if (!read.ok) {
      return { errors: [read.reason === 'too-large' ? fileTooLarge(file, read.size, MAX_CONFIG_FILE_BYTES, 'the configuration', 'TH_CONFIG') : located('TH_CONFIG', 'cannot read the configuration: not a regular file', file)] };
    }
    text = read.text;
  } catch (error) {
    return { errors: [located('TH_CONFIG', `cannot read the configuration: ${(error as Error).message}`, file)] };
  }
  return parseWatchConfig(text, file, env);
}
