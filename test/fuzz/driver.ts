/**
 * The fuzz driver: mutates real inputs (the samples, the built-in pack, a feed, a watch config)
 * and runs each mutant through the public entry points: decode + detect + every output format
 * for records, load + compile + match for rules, parse for feeds and configs. Any exception is a
 * crash: bad input must come back as located TH_* errors, never as a throw.
 *
 *   node --import tsx test/fuzz/driver.ts fuzz   TARGET SEED MS WORKDIR
 *   node --import tsx test/fuzz/driver.ts replay TARGET FILE
 *
 * Before each mutant runs, it is written to WORKDIR/current.<target>: a mutant that hangs the
 * process is then still on disk when the caller kills it (fuzz.test.ts keeps it). A crash is
 * written to WORKDIR/crash.<target> and the driver exits 1.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LocatedError } from '../../src/core/errors.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import type { Alert } from '../../src/core/alert.ts';
import { Detector } from '../../src/engine/detector.ts';
import { feedUnit } from '../../src/engine/feed-unit.ts';
import { loadRuleSet, DEFAULT_RULES_DIR } from '../../src/pack/rule-set.ts';
import { parseFeed } from '../../src/intel/load.ts';
import type { FeedContext } from '../../src/intel/feed-context.ts';
import { parseWatchConfig } from '../../src/service/config.ts';
import { createSink } from '../../src/sinks/index.ts';
import { sinkAlert } from '../../src/sinks/sink.ts';
import { slackMessage } from '../../src/sinks/slack.ts';
import { random } from '../random.ts';
import { awslogsEvent, dataMessage, firehoseEvent, flowLine, gzipBase64, plainBase64 } from '../formats/embedded-payloads.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TARGETS = ['records', 'rules', 'feeds', 'configs'] as const;
export type Target = (typeof TARGETS)[number];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

function plain(path: string): Buffer {
  const bytes = readFileSync(path);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** Pieces of hostile input the mutators splice in: deep nesting, escapes, YAML tricks, huge values, networks. */
const TOKENS: readonly string[] = [
  '['.repeat(3000),
  '{"a":'.repeat(3000),
  ']'.repeat(50),
  '\u001b]0;pwned\u0007\u001b[2J',
  '\u202e',
  '\\u0000',
  '"__proto__":{"polluted":1},',
  '"constructor":{"prototype":{"x":1}},',
  '}{',
  '{}',
  'null,',
  '1e999999',
  '"' + 'A'.repeat(70_000) + '"',
  '\ud800',
  '*a',
  '&a [*a, *a, *a, *a]',
  '(a+)+$',
  '|re: "(x+x+)+y"',
  '|contains|all: [' + Array.from({ length: 200 }, (_, i) => `"v${i}"`).join(',') + ']',
  '0.0.0.0/0',
  '::/0',
  '::ffff:0:0/96',
  '${ENV_THAT_IS_NOT_SET}',
  '\r\n',
  '\t- ',
  ': : :',
];

interface Seed {
  name: string;
  text: string;
  gzip?: boolean;
  /** Builds the input from the mutated text: mutants of a payload embedded (base64, gzip) in its envelope. */
  wrap?: (text: string) => string;
}

/**
 * CloudWatch Logs subscription payloads and Firehose records around sample CloudTrail records:
 * their envelopes mutated as they are, and their payloads mutated before being encoded.
 */
function embeddedSeeds(samples: readonly Seed[]): Seed[] {
  const file = samples.find((seed) => seed.text.startsWith('{"Records"'));
  const records = file === undefined ? [] : ((JSON.parse(file.text) as { Records: Record<string, unknown>[] }).Records ?? []).slice(0, 6);
  const payload = JSON.stringify(dataMessage(records));
  const flows = JSON.stringify(dataMessage([flowLine('198.51.100.7', 22), flowLine('203.0.113.9', 3389, 'REJECT')], '/vpc/flow-logs'));
  const firehose = (text: string): string => JSON.stringify(firehoseEvent([gzipBase64(text), plainBase64(text), plainBase64(JSON.stringify(records[0] ?? {}))]));
  return [
    { name: 'awslogs', text: JSON.stringify(awslogsEvent(dataMessage(records))) },
    { name: 'awslogs-payload', text: payload, wrap: (text) => JSON.stringify(awslogsEvent(gzipBase64(text))) },
    { name: 'awslogs-flow-payload', text: flows, wrap: (text) => JSON.stringify(awslogsEvent(gzipBase64(text))) },
    { name: 'awslogs-base64-file', text: `${gzipBase64(payload)}\n${gzipBase64(flows)}\n` },
    { name: 'firehose', text: firehose(payload) },
    { name: 'firehose-payload', text: payload, wrap: firehose },
  ];
}

function seedsOf(target: Target): Seed[] {
  switch (target) {
    case 'records': {
      const samples = filesUnder(join(ROOT, 'samples')).filter((path) => !path.endsWith('.md') && !path.endsWith('.txt')).map((path) => ({ name: path, text: plain(path).toString('utf8'), gzip: path.endsWith('.gz') }));
      return [...samples, ...embeddedSeeds(samples)];
    }
    case 'rules':
      return filesUnder(DEFAULT_RULES_DIR).filter((path) => path.endsWith('.yml') && !path.endsWith('.tests.yml')).slice(0, 40).map((path) => ({ name: path, text: readFileSync(path, 'utf8') }));
    case 'feeds':
      return [
        { name: 'list', text: readFileSync(join(ROOT, 'samples/intel/feed.txt'), 'utf8') },
        { name: 'csv', text: 'indicator,type,confidence\n203.0.113.7,ipv4,80\n198.51.100.0/24,cidr,60\nevil.example,domain,50\n' },
        { name: 'stix', text: JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [{ type: 'indicator', id: 'indicator--11111111-1111-4111-8111-111111111111', spec_version: '2.1', pattern_type: 'stix', pattern: "[ipv4-addr:value = '203.0.113.9'] OR [ipv4-addr:value ISSUBSET '198.51.100.0/24']", valid_from: '2026-01-01T00:00:00Z' }] }) },
        { name: 'misp', text: JSON.stringify({ Event: { id: '1', Attribute: [{ type: 'ip-dst', value: '203.0.113.10', to_ids: true, uuid: 'a' }, { type: 'url', value: 'http://x', to_ids: true, uuid: 'b' }] } }) },
      ];
    case 'configs':
      return [
        {
          name: 'watch.yml',
          text: 'state_dir: /tmp/th-fuzz-state\nrules:\n  default_rules: true\ncorrelation:\n  lateness: 15m\nsources:\n  - type: sqs\n    queue_url: https://sqs.us-east-1.amazonaws.com/111122223333/q\n    wait: 1s\n  - type: folder\n    path: /tmp/in\nsinks:\n  - type: file\n    path: /tmp/alerts.jsonl\n  - type: webhook\n    url: https://user:secret@hooks.example/x\n    min_level: high\n',
        },
      ];
  }
}

/** One mutant of `text`: a few edits of random kinds. */
function mutate(text: string, next: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(next() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const span = Math.floor(next() * 64);
    switch (Math.floor(next() * 7)) {
      case 0: // flip a character
        out = out.slice(0, at) + String.fromCharCode(Math.floor(next() * 128)) + out.slice(at + 1);
        break;
      case 1: // delete a span
        out = out.slice(0, at) + out.slice(at + span);
        break;
      case 2: // duplicate a span
        out = out.slice(0, at) + out.slice(at, at + span) + out.slice(at);
        break;
      case 3: // splice a hostile token
        out = out.slice(0, at) + (TOKENS[Math.floor(next() * TOKENS.length)] as string) + out.slice(at);
        break;
      case 4: // truncate
        out = out.slice(0, at);
        break;
      case 5: // replace a value after a colon with a token
        out = out.replace(/: ?("[^"]*"|[^,\n}]*)/, (match) => (next() < 0.5 ? `: ${TOKENS[Math.floor(next() * TOKENS.length)] as string}` : match));
        break;
      default: // swap two halves
        out = out.slice(at) + out.slice(0, at);
    }
  }
  return out;
}

function checkLocated(error: LocatedError): void {
  if (!(error.code in ERROR_CODES)) throw new Error(`an error without a known code: ${JSON.stringify(error).slice(0, 300)}`);
  if (typeof error.location !== 'string' || error.location === '') throw new Error(`an error without a location: ${error.code} ${error.message.slice(0, 200)}`);
}

const nullStream = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

let detector: Detector | undefined;

async function runRecords(input: Buffer): Promise<void> {
  if (detector === undefined) {
    const set = await loadRuleSet({ paths: [DEFAULT_RULES_DIR] });
    detector = new Detector({ rules: set.rules, correlations: set.correlations, filters: set.filters, includeEvents: true, guardDuty: { maxPending: 0 } });
  }
  const alerts: Alert[] = [];
  const errors: LocatedError[] = [];
  const stats = { records: 0, skipped: 0, errors: 0 };
  const unit: InputUnit = { uri: 'fuzz://input', size: input.length, open: () => Readable.from([input]) };
  const d = detector;
  const prefilter = d.matcher.rawPrefilter().prefilter;
  // Both paths: the whole-unit fast path (with the raw pre-filter) and the stream.
  const passes = input[0] === 0x1f ? [{}] : [{ plain: input }, {}];
  for (const bytes of passes) {
    await feedUnit(unit, { decode: { onError: (error) => errors.push(error), stats }, bytes, prefilter }, (envelope) => d.process(envelope, alerts));
  }
  d.flush(alerts);
  for (const error of errors) checkLocated(error);
  for (const format of ['jsonl', 'table'] as const) {
    const sink = createSink(format, nullStream(), { colour: true });
    await sink.deliver(alerts.map(sinkAlert));
    await sink.close();
  }
  for (const alert of alerts) JSON.stringify(slackMessage(alert));
}

let ruleDir: string | undefined;

async function runRules(input: Buffer): Promise<void> {
  // Through the rule-set loader, as `scan --rules` reads it: detection, correlation and filter documents.
  ruleDir ??= mkdtempSync(join(tmpdir(), 'trailhound-fuzz-rules-'));
  const file = join(ruleDir, 'fuzz.yml');
  writeFileSync(file, input);
  const result = await loadRuleSet({ paths: [file] });
  for (const error of [...result.errors, ...result.warnings]) checkLocated(error);
  if (result.rules.length === 0) return;
  const d = new Detector({ rules: result.rules, correlations: result.correlations, filters: result.filters, includeEvents: true });
  const alerts: Alert[] = [];
  const record = { eventVersion: '1.08', eventTime: '2026-11-02T09:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', awsRegion: 'us-east-1', sourceIPAddress: '203.0.113.7', userAgent: 'a'.repeat(30) + '!', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/x' }, requestParameters: { userName: 'x' } };
  d.process({ source: 'cloudtrail', time: Date.parse(record.eventTime), record, origin: { uri: 'fuzz', index: 0 } }, alerts);
  d.flush(alerts);
}

async function runFeeds(input: Buffer): Promise<void> {
  const problems: Array<{ location: string; message: string }> = [];
  const ctx: FeedContext = {
    feed: 'fuzz',
    file: 'fuzz-feed',
    invalid: (location, message) => problems.push({ location, message }),
    unsupported: (location, message) => problems.push({ location, message }),
    skip: () => {},
    fail: (location, message) => problems.push({ location, message }),
  } as FeedContext;
  parseFeed(input.toString('utf8'), ctx);
  for (const problem of problems) if (typeof problem.location !== 'string' || problem.location === '') throw new Error(`a feed problem without a location: ${problem.message.slice(0, 200)}`);
}

async function runConfigs(input: Buffer): Promise<void> {
  const { errors } = parseWatchConfig(input.toString('utf8'), 'fuzz.yml', {});
  for (const error of errors) checkLocated(error);
}

export const RUNNERS: Record<Target, (input: Buffer) => Promise<void>> = { records: runRecords, rules: runRules, feeds: runFeeds, configs: runConfigs };

async function fuzz(target: Target, seed: number, ms: number, workdir: string): Promise<void> {
  const next = random(seed);
  const seeds = seedsOf(target);
  const current = join(workdir, `current.${target}`);
  const deadline = Date.now() + ms;
  let iterations = 0;
  while (Date.now() < deadline) {
    const base = seeds[Math.floor(next() * seeds.length)] as Seed;
    const mutated = mutate(base.text, next);
    const text = base.wrap === undefined ? mutated : base.wrap(mutated);
    const input = base.gzip === true && next() < 0.5 ? gzipSync(text) : Buffer.from(text, 'utf8');
    writeFileSync(current, input);
    try {
      await RUNNERS[target](input);
    } catch (error) {
      const crash = join(workdir, `crash.${target}`);
      writeFileSync(crash, input);
      process.stdout.write(`${JSON.stringify({ target, iterations, crash, error: error instanceof Error ? (error.stack ?? error.message) : String(error) })}\n`);
      process.exit(1);
    }
    iterations++;
  }
  process.stdout.write(`${JSON.stringify({ target, seed, iterations })}\n`);
}

const [mode, target, a, b, c] = process.argv.slice(2);
if (mode === 'fuzz' && (TARGETS as readonly string[]).includes(target ?? '')) {
  await fuzz(target as Target, Number(a), Number(b), c as string);
} else if (mode === 'replay' && (TARGETS as readonly string[]).includes(target ?? '') && a !== undefined && statSync(a).isFile()) {
  await RUNNERS[target as Target](readFileSync(a));
  process.stdout.write(`${JSON.stringify({ target, replayed: a })}\n`);
} else if (mode !== undefined) {
  process.stderr.write('usage: driver.ts fuzz TARGET SEED MS WORKDIR | replay TARGET FILE\n');
  process.exit(2);
}
