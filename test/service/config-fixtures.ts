/**
 * Watch configurations for the service tests, written as YAML the way a user writes them: an SQS
 * source against the test servers and a file sink, plus whatever sources and sinks a test adds.
 */
import assert from 'node:assert/strict';
import { parseWatchConfig } from '../../src/service/config.ts';
import type { WatchConfig } from '../../src/service/config.ts';

/** One block-style list item: `  - type: <type>` and its fields, values written as YAML. */
export function listItem(type: string, fields: Record<string, string | number> = {}): string {
  return [`  - type: ${type}`, ...Object.entries(fields).map(([key, value]) => `    ${key}: ${value}`)].join('\n');
}

export interface WatchYamlOptions {
  /** `state_dir`, as written: absolute, or relative to the config file. */
  stateDir: string;
  s3Endpoint: string;
  queueUrl: string;
  /** The file sink's path, as written. */
  alertsPath: string;
  /** The SQS source's `visibility_timeout` (default 2s). */
  visibility?: string;
  /** The SQS source's `poison_after` (left out by default). */
  poisonAfter?: number;
  /** `rules: {default_rules: true}` (left out by default). */
  defaultRules?: boolean;
  /** More sources, after the SQS one (see listItem). */
  sources?: readonly string[];
  /** More sinks, after the file one (see listItem). */
  sinks?: readonly string[];
}

/** A watch configuration: lateness 15m, region us-east-1, one SQS source (wait 1s), one file sink. */
export function watchYaml(options: WatchYamlOptions): string {
  const sqs: Record<string, string | number> = { queue_url: options.queueUrl, wait_time: '1s', visibility_timeout: options.visibility ?? '2s' };
  if (options.poisonAfter !== undefined) sqs.poison_after = options.poisonAfter;
  const lines = [
    `state_dir: ${options.stateDir}`,
    ...(options.defaultRules === true ? ['rules:', '  default_rules: true'] : []),
    'correlation:',
    '  lateness: 15m',
    'aws:',
    '  region: us-east-1',
    `  s3_endpoint_url: ${options.s3Endpoint}`,
    'sources:',
    listItem('sqs', sqs),
    ...(options.sources ?? []),
    'sinks:',
    listItem('file', { path: options.alertsPath }),
    ...(options.sinks ?? []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Parses a watch configuration that must be valid (no errors), with the process environment. */
export function validWatchConfig(text: string, path: string): WatchConfig {
  const parsed = parseWatchConfig(text, path);
  assert.deepEqual(parsed.errors, []);
  return parsed.config as WatchConfig;
}
