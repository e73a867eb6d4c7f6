/**
 * `scan --sink KIND=TARGET[,option=value...]` (repeatable): the sinks of `watch` from a one-off
 * scan, beside stdout (docs/ocsf.md, README). Kinds:
 *
 *   webhook=URL   each alert POSTed as its JSON (retries, Idempotency-Key, dead-letter file)
 *   slack=URL     a Slack incoming webhook: one readable message per alert
 *   file=PATH     alerts appended to a JSONL file (an alert already in the file is not repeated)
 *   ocsf=PATH     the same, one OCSF 1.7.0 Detection Finding per line
 *
 * Options: `min-level=LEVEL`; for webhook and Slack `max-attempts=N` (default 5), `timeout=10s`,
 * `dead-letter=FILE|none` (default trailhound-dead-letter.jsonl in the working directory),
 * `header=Name: value` (webhook, repeatable). `${NAME}` in a spec is the environment variable,
 * so that a secret URL stays out of the command line (`--sink 'slack=${SLACK_URL}'`).
 *
 * Webhook and Slack URLs are secrets: no message shows more than their scheme and host.
 * Failures are located TH_SINK_DELIVERY / TH_SINK_DEAD_LETTER errors, counted in the summary,
 * and make the scan exit 3 (as input errors do): a scan whose notifications failed never
 * exits 0 silently.
 */
import { resolve } from 'node:path';
import { located, type LocatedError } from '../core/errors.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../core/levels.ts';
import { SinkFanout, type FanoutTarget, type FanoutTargetReport } from '../sinks/fanout.ts';
import { FileSink } from '../sinks/file.ts';
import { OcsfSink } from '../sinks/ocsf/ocsf-sink.ts';
import type { AlertSink, SinkAlert } from '../sinks/sink.ts';
import { SlackSink } from '../sinks/slack.ts';
import { redactSecrets, redactSecretsInText, redactUrl, WebhookSink } from '../sinks/webhook.ts';
import type { Diagnostics } from './diagnostics.ts';
import { parseDuration } from './intel-feeds.ts';

export interface SinkFlags {
  sink: string[];
}

export const SINK_KINDS = ['webhook', 'slack', 'file', 'ocsf'] as const;
export type ScanSinkKind = (typeof SINK_KINDS)[number];

export const SINK_OPTION_HELP =
  "also deliver every alert to a sink (repeatable): webhook=URL, slack=URL, file=PATH, ocsf=PATH (OCSF 1.7.0 Detection Findings), with ,min-level=LEVEL; webhook/slack also ,max-attempts=N ,timeout=10s ,dead-letter=FILE|none ,header='Name: value'. ${NAME} reads an environment variable (keep secret URLs off the command line)";

export const DEFAULT_DEAD_LETTER = 'trailhound-dead-letter.jsonl';

export interface ScanSinkSpec {
  kind: ScanSinkKind;
  /** Safe to show: the kind and the path, or the URL's scheme and host. */
  name: string;
  /** The URL or the absolute path. */
  target: string;
  minLevel?: SigmaLevel;
  maxAttempts: number;
  timeoutMs: number;
  /** Absolute path; undefined with `dead-letter=none` and for file sinks. */
  deadLetter?: string;
  headers: Record<string, string>;
}

const OPTION_KEYS = ['min-level', 'max-attempts', 'timeout', 'dead-letter', 'header'] as const;
type OptionKey = (typeof OPTION_KEYS)[number];
const HTTP_ONLY: readonly OptionKey[] = ['max-attempts', 'timeout', 'dead-letter', 'header'];
/** `,key=value` at the end of a spec: options are read from the end, so a URL may hold commas. */
const TRAILING_OPTION = new RegExp(`,(${OPTION_KEYS.join('|')})=([^,]*)$`);

/** `${NAME}` -> the environment variable; a missing one is an error (an empty URL would be a silent no-op). */
function expandEnv(text: string, env: NodeJS.ProcessEnv): { text: string; missing?: string } {
  let missing: string | undefined;
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') missing ??= name;
    return value ?? '';
  });
  return missing === undefined ? { text: out } : { text: out, missing };
}

/** The spec as it may be shown: with its URL (before or after ${} expansion) cut to scheme and host. */
function showSpec(raw: string): string {
  const equals = raw.indexOf('=');
  if (equals < 0) return redactSecretsInText(raw);
  const kind = raw.slice(0, equals);
  if (kind !== 'webhook' && kind !== 'slack') return redactSecretsInText(raw);
  const target = raw.slice(equals + 1).split(',')[0] ?? '';
  return `${kind}=${target.startsWith('${') ? target : redactUrl(target)}${raw.includes(',') ? ',…' : ''}`;
}

/** Parses one `--sink` value; `index` (1-based) locates its errors. */
export function parseSinkSpec(raw: string, index: number, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { spec?: ScanSinkSpec; errors: LocatedError[] } {
  const where = `--sink #${index} (${showSpec(raw)})`;
  const errors: LocatedError[] = [];
  const fail = (message: string): { errors: LocatedError[] } => {
    errors.push(located('TH_CONFIG', message, where));
    return { errors };
  };
  const cwd = options.cwd ?? process.cwd();
  const equals = raw.indexOf('=');
  const kind = equals < 0 ? raw : raw.slice(0, equals);
  if (!(SINK_KINDS as readonly string[]).includes(kind)) return fail(`unknown sink kind '${kind}': use ${SINK_KINDS.map((item) => `${item}=...`).join(', ')}`);
  if (equals < 0 || equals === raw.length - 1) return fail(`a ${kind} sink needs its ${kind === 'webhook' || kind === 'slack' ? 'URL' : 'file path'}: ${kind}=...`);
  let rest = raw.slice(equals + 1);
  const given: Array<[OptionKey, string]> = [];
  for (let match = TRAILING_OPTION.exec(rest); match !== null; match = TRAILING_OPTION.exec(rest)) {
    given.unshift([match[1] as OptionKey, match[2] as string]);
    rest = rest.slice(0, match.index);
  }
  const expanded = expandEnv(rest, options.env ?? process.env);
  if (expanded.missing !== undefined) return fail(`the environment variable ${expanded.missing} is not set (or empty)`);
  const target = expanded.text;
  const http = kind === 'webhook' || kind === 'slack';
  if (http && !/^https?:\/\/[^/\s]+/i.test(target)) return fail(`the ${kind} URL must start with https:// (or http://)`);
  if (target === '') return fail(`a ${kind} sink needs a file path`);
  const spec: ScanSinkSpec = {
    kind: kind as ScanSinkKind,
    name: http ? `${kind} ${redactUrl(target)}` : `${kind} ${target}`,
    target: http ? target : resolve(cwd, target),
    maxAttempts: 5,
    timeoutMs: 10_000,
    headers: {},
    ...(http ? { deadLetter: resolve(cwd, DEFAULT_DEAD_LETTER) } : {}),
  };
  for (const [key, text] of given) {
    if (!http && HTTP_ONLY.includes(key)) {
      errors.push(located('TH_CONFIG', `'${key}' does not apply to a ${kind} sink`, where));
      continue;
    }
    const value = expandEnv(text, options.env ?? process.env);
    if (value.missing !== undefined) {
      errors.push(located('TH_CONFIG', `${key}: the environment variable ${value.missing} is not set (or empty)`, where));
      continue;
    }
    if (key === 'min-level') {
      if ((SIGMA_LEVELS as readonly string[]).includes(value.text)) spec.minLevel = value.text as SigmaLevel;
      else errors.push(located('TH_CONFIG', `min-level must be one of ${SIGMA_LEVELS.join(', ')}`, where));
    } else if (key === 'max-attempts') {
      const attempts = /^\d{1,3}$/.test(value.text) ? Number(value.text) : 0;
      if (attempts >= 1 && attempts <= 100) spec.maxAttempts = attempts;
      else errors.push(located('TH_CONFIG', 'max-attempts must be a number from 1 to 100', where));
    } else if (key === 'timeout') {
      const ms = /^\d+$/.test(value.text) ? Number(value.text) : parseDuration(value.text);
      if (ms !== undefined && Number.isFinite(ms) && ms >= 100 && ms <= 300_000) spec.timeoutMs = ms;
      else errors.push(located('TH_CONFIG', 'timeout must be a duration from 100 ms to 5m: 10s, 30s, 2m (or milliseconds)', where));
    } else if (key === 'dead-letter') {
      if (value.text === 'none') delete spec.deadLetter;
      else if (value.text !== '') spec.deadLetter = resolve(cwd, value.text);
      else errors.push(located('TH_CONFIG', 'dead-letter needs a file path, or none', where));
    } else {
      const colon = value.text.indexOf(':');
      if (kind === 'slack') errors.push(located('TH_CONFIG', "'header' does not apply to a slack sink", where));
      else if (colon <= 0 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value.text.slice(0, colon).trim())) errors.push(located('TH_CONFIG', "header must be 'Name: value'", where));
      else spec.headers[value.text.slice(0, colon).trim().toLowerCase()] = value.text.slice(colon + 1).trim();
    }
  }
  return errors.length > 0 ? { errors } : { spec, errors };
}

export interface ScanSinkHooks {
  onError: (error: LocatedError) => void;
  /** First backoff delay of HTTP retries, ms (tests). */
  httpBaseDelayMs?: number;
}

function sinkOf(spec: ScanSinkSpec, hooks: ScanSinkHooks): AlertSink {
  switch (spec.kind) {
    case 'file':
      return new FileSink(spec.target);
    case 'ocsf':
      return new OcsfSink(new FileSink(spec.target));
    case 'webhook':
    case 'slack': {
      const options = {
        url: spec.target,
        headers: spec.headers,
        timeoutMs: spec.timeoutMs,
        maxAttempts: spec.maxAttempts,
        ...(hooks.httpBaseDelayMs === undefined ? {} : { baseDelayMs: hooks.httpBaseDelayMs }),
        ...(spec.deadLetter === undefined ? {} : { deadLetter: { sink: spec.name, path: spec.deadLetter, onDeadLetter: hooks.onError, redact: (text: string) => redactSecrets(text, spec.target) } }),
      };
      return spec.kind === 'webhook' ? new WebhookSink(options) : new SlackSink(options);
    }
  }
}

/** What scan.ts holds: offer each alert, close at the end (the count of alerts that did not get through decides the exit code). */
export interface ScanSinks {
  offer(item: SinkAlert): Promise<void>;
  close(): Promise<{ failed: number; reports: FanoutTargetReport[] }>;
}

const NO_SINKS: ScanSinks = {
  offer: () => Promise.resolve(),
  close: () => Promise.resolve({ failed: 0, reports: [] }),
};

function describe(report: FanoutTargetReport, spec: ScanSinkSpec): string {
  const parts = [`${report.delivered} delivered`];
  if (report.present > 0) parts.push(`${report.present} already in the file`);
  if (report.deadLettered > 0) parts.push(`${report.deadLettered} dead-lettered to ${spec.deadLetter ?? '?'}`);
  if (report.failed > 0) parts.push(`${report.failed} failed`);
  if (report.gaveUp) parts.push('given up');
  return `${report.name}: ${parts.join(', ')}${spec.minLevel === undefined ? '' : ` (min-level ${spec.minLevel})`}`;
}

/** Parses and opens the `--sink` sinks before anything is scanned; undefined after a TH_CONFIG error (exit 2). */
export async function prepareScanSinks(flags: SinkFlags, diagnostics: Diagnostics, hooks: Partial<ScanSinkHooks> & { env?: NodeJS.ProcessEnv } = {}): Promise<ScanSinks | undefined> {
  const raws = flags.sink ?? [];
  if (raws.length === 0) return NO_SINKS;
  const specs: ScanSinkSpec[] = [];
  let failed = false;
  raws.forEach((raw, index) => {
    const parsed = parseSinkSpec(raw, index + 1, hooks.env === undefined ? {} : { env: hooks.env });
    for (const error of parsed.errors) diagnostics.error(error);
    if (parsed.spec === undefined) failed = true;
    else specs.push(parsed.spec);
  });
  const names = new Set<string>();
  for (const spec of specs) {
    if ((spec.kind === 'file' || spec.kind === 'ocsf') && names.has(spec.target)) {
      diagnostics.error(located('TH_CONFIG', `two --sink options write to ${spec.target}`, `--sink ${spec.kind}=${spec.target}`));
      failed = true;
    }
    names.add(spec.target);
  }
  if (failed) return undefined;
  const onError = hooks.onError ?? ((error: LocatedError) => diagnostics.error(error));
  const sinkHooks: ScanSinkHooks = { onError, ...(hooks.httpBaseDelayMs === undefined ? {} : { httpBaseDelayMs: hooks.httpBaseDelayMs }) };
  const targets: FanoutTarget[] = specs.map((spec) => ({
    name: spec.name,
    sink: sinkOf(spec, sinkHooks),
    ...(spec.minLevel === undefined ? {} : { minLevel: spec.minLevel }),
    ...(spec.deadLetter === undefined ? {} : { deadLetter: spec.deadLetter }),
    redact: (text: string) => (spec.kind === 'webhook' || spec.kind === 'slack' ? redactSecrets(text, spec.target) : redactSecretsInText(text)),
  }));
  const fanout = new SinkFanout(targets, { onError });
  await fanout.start();
  return {
    offer: (item) => fanout.offer(item),
    async close() {
      const reports = await fanout.close(onError);
      reports.forEach((report, index) => {
        const spec = specs[index];
        if (spec !== undefined) diagnostics.info(`sink ${describe(report, spec)}`);
      });
      const failed = reports.reduce((sum, report) => sum + report.failed + report.deadLettered, 0);
      if (failed > 0) diagnostics.error(located('TH_SINK_DELIVERY', `${failed} alert(s) did not reach their sink (see above); the scan exits 3`, '--sink'));
      return { failed, reports };
    },
  };
}
