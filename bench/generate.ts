/**
 * The benchmark corpus: deterministic (seeded) synthetic CloudTrail in the S3 layout, with
 * planted attacks, plus VPC Flow Logs and an indicator feed.
 *
 *   npm run generate -- [--records 1000000] [--seed 20261103] [--out data] [--flow-lines 2000000]
 *
 * Layout (as CloudTrail and Flow Logs deliver to S3):
 *   <out>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz
 *   <out>/flows/AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<fl id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
 *   <out>/indicators.txt, <out>/manifest.json (counts, sizes, expected alerts)
 *
 * CloudTrail files hold 1,000-5,000 records as one `{"Records":[...]}` line, in time order.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG, DISCOVERY_NAMES, isDiscoveryRead } from './catalog.ts';
import type { CatalogEntry, Caller } from './catalog.ts';
import { generateFlows } from './flows.ts';
import type { FlowManifest } from './flows.ts';
import { discoveryBurstEvents, expectedAlerts, plantedEvents } from './planted.ts';
import type { PlantedBurstRecord, PlantedEvent } from './planted.ts';
import { automationEvents } from './automation.ts';
import type { AutomationSummary } from './automation.ts';
import { HOUR, callRecord, makeAccount } from './records.ts';
import type { Account, JsonObject, Principal } from './records.ts';
import { Rng, WeightedPicker } from './rng.ts';
import { GzipFileWriter } from './gzip-files.ts';


/** Bump when the generator's output changes, so a stale corpus is regenerated. */
export const GENERATOR_VERSION = 8;
export const T0 = Date.parse('2026-11-03T00:00:00Z');
export const DURATION = 24 * HOUR;
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('./data/', import.meta.url));

export interface GenerateOptions {
  out: string;
  records: number;
  seed: number;
  flowLines: number;
  indicators: number;
  /** Records per CloudTrail file (AWS: a few thousand per 5 minutes on a busy account). */
  minPerFile?: number;
  maxPerFile?: number;
}

export interface CorpusManifest {
  version: number;
  seed: number;
  records: number;
  background: number;
  planted: number;
  files: number;
  compressedBytes: number;
  uncompressedBytes: number;
  eventNames: number;
  services: number;
  /** Records per userIdentity.type. */
  identityTypes: Record<string, number>;
  /** Records per eventName (what jq and DuckDB must count). */
  eventNameCounts: Record<string, number>;
  expected: { pack: Record<string, number>; full: Record<string, number> };
  /** The planted enumeration bursts (bench/precision.ts matches the discovery alerts to them). */
  plantedBursts: PlantedBurstRecord[];
  /** The scheduled automation in the background (terraform plans, inventory, monitoring, CI, console). */
  automation: AutomationSummary;
  flows?: FlowManifest;
  options: Omit<GenerateOptions, 'out'>;
}

interface Stream {
  account: Account;
  region: string;
  weight: number;
  files: number;
  entries: WeightedPicker<CatalogEntry>;
  /** The stream's catalog entries by `service:name`. */
  byKey: Map<string, CatalogEntry>;
  callers: Map<Caller, { picker: WeightedPicker<Principal>; constrained: boolean }>;
}

const ACCOUNT_LAYOUT: ReadonlyArray<readonly [id: string, name: string, regions: ReadonlyArray<readonly [string, number]>]> = [
  [
    '111122223333',
    'prod',
    [
      ['us-east-1', 40], ['us-west-2', 14], ['eu-west-1', 9], ['eu-central-1', 5], ['ap-southeast-1', 3], ['ap-northeast-1', 3],
      ['us-east-2', 2], ['us-west-1', 1], ['eu-west-2', 1], ['eu-north-1', 1], ['ap-south-1', 1], ['sa-east-1', 1],
      ['ca-central-1', 1], ['ap-southeast-2', 1], ['eu-west-3', 0.5], ['ap-northeast-2', 0.5],
    ],
  ],
  ['444455556666', 'dev', [['us-east-1', 10], ['us-west-2', 4], ['eu-west-1', 2], ['ap-northeast-1', 1]]],
  ['777788889999', 'security', [['us-east-1', 6], ['eu-west-1', 1], ['us-west-2', 1], ['ap-south-1', 1]]],
];

function callerPicker(account: Account, region: string, caller: Caller): { picker: WeightedPicker<Principal>; constrained: boolean } {
  const kinds: Record<Caller, readonly string[]> = {
    app: ['app'],
    human: ['human', 'cross-account'],
    any: ['app', 'human', 'cross-account'],
    service: ['service'],
    portal: ['portal'],
  };
  const wanted = kinds[caller];
  const ofKind = account.principals.filter((p) => wanted.includes(p.kind));
  const local = ofKind.filter((p) => p.homeRegions.includes(region));
  // No principal of that kind lives in the region: borrow one, but without discovery calls
  // there (a principal stays in at most 3 regions: no multi-region enumeration).
  const chosen = local.length > 0 ? local : ofKind;
  return { picker: new WeightedPicker(chosen.map((p) => [p, p.weight] as const)), constrained: local.length === 0 };
}

function makeStreams(accounts: Account[], totalFiles: number): Stream[] {
  const streams: Stream[] = [];
  for (const account of accounts) {
    for (const [region, weight] of account.regions) {
      const entries = CATALOG.filter((entry) => entry.global !== true || region === 'us-east-1');
      const callers = new Map<Caller, { picker: WeightedPicker<Principal>; constrained: boolean }>();
      for (const caller of ['app', 'human', 'any', 'service', 'portal'] as const) callers.set(caller, callerPicker(account, region, caller));
      const byKey = new Map(entries.map((e) => [`${e.service}:${e.name}`, e] as const));
      streams.push({ account, region, weight, files: 1, entries: new WeightedPicker(entries.map((e) => [e, e.weight] as const)), byKey, callers });
    }
  }
  // One file per stream at least; the rest by weight (largest remainder).
  const spare = Math.max(0, totalFiles - streams.length);
  const totalWeight = streams.reduce((sum, s) => sum + s.weight, 0);
  const shares = streams.map((s) => (spare * s.weight) / totalWeight);
  streams.forEach((s, i) => (s.files += Math.floor(shares[i] ?? 0)));
  let left = spare - streams.reduce((sum, s) => sum + s.files - 1, 0);
  const order = shares.map((share, i) => [share - Math.floor(share), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    const stream = streams[i];
    if (stream !== undefined) stream.files += 1;
    left -= 1;
  }
  return streams;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function fileName(rng: Rng, stream: Stream, end: number): string {
  const d = new Date(end);
  const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
  const id = stream.account.id;
  return `AWSLogs/${id}/CloudTrail/${stream.region}/${day}/${id}_CloudTrail_${stream.region}_${stamp}_${rng.chars(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}.json.gz`;
}

function backgroundRecord(rng: Rng, stream: Stream, time: number): JsonObject {
  const entry = stream.entries.pick(rng);
  let caller: Caller = entry.callers;
  if (entry.name === 'AssumeRole' && rng.chance(0.3)) caller = 'any';
  const { picker, constrained } = stream.callers.get(caller) ?? (stream.callers.get('any') as { picker: WeightedPicker<Principal>; constrained: boolean });
  const principal = picker.pick(rng);
  let name = entry.name;
  let chosen = entry;
  // A counted read outside the principal's own handful: one of its reads instead (no
  // background principal reaches the discovery burst's 10 distinct calls on its own).
  if (principal.reads !== undefined && isDiscoveryRead(entry.service, entry.name, entry.data === true) && !principal.reads.includes(`${entry.service}:${entry.name}`)) {
    const own = principal.reads.map((key) => stream.byKey.get(key)).filter((e): e is CatalogEntry => e !== undefined);
    chosen = own.length > 0 ? rng.pick(own) : (stream.byKey.get('ec2:DescribeNetworkInterfaces') as CatalogEntry);
    name = chosen.name;
  }
  if (chosen.service === 'ec2' && DISCOVERY_NAMES.includes(name)) {
    const repertoire = constrained ? [] : principal.repertoire;
    if (repertoire.length === 0) {
      name = 'DescribeNetworkInterfaces';
      chosen = CATALOG.find((e) => e.service === 'ec2' && e.name === name) ?? entry;
    } else {
      name = rng.pick(repertoire);
      if (name === 'DescribeInstances') chosen = CATALOG.find((e) => e.service === 'ec2' && e.name === name) ?? chosen;
      else if (chosen.shape !== 'describe') chosen = { ...chosen, shape: 'describe' };
    }
  }
  const identity = rng.pick(principal.identities);
  return callRecord({ rng, account: stream.account, region: stream.region, time, identity, principal, entry: chosen, name });
}

function parseArgs(argv: readonly string[]): Partial<GenerateOptions> {
  const out: Partial<GenerateOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) continue;
    if (flag === '--records') out.records = Number(value);
    else if (flag === '--seed') out.seed = Number(value);
    else if (flag === '--out') out.out = resolve(value);
    else if (flag === '--flow-lines') out.flowLines = Number(value);
    else if (flag === '--indicators') out.indicators = Number(value);
    else continue;
    i++;
  }
  return out;
}

export function defaultOptions(overrides: Partial<GenerateOptions> = {}): GenerateOptions {
  return { out: DEFAULT_DATA_DIR, records: 1_000_000, seed: 20261103, flowLines: 2_000_000, indicators: 100_000, ...overrides };
}

/** The manifest of an existing corpus generated with the same options, if any. */
export function existingCorpus(options: GenerateOptions): CorpusManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(options.out, 'manifest.json'), 'utf8')) as CorpusManifest;
    const { out: _out, ...wanted } = options;
    if (manifest.version === GENERATOR_VERSION && JSON.stringify(manifest.options) === JSON.stringify(wanted)) return manifest;
  } catch {
    // none, or unreadable: generate
  }
  return undefined;
}

/** Generates the corpus into options.out (its AWSLogs/ and flows/ are replaced). */
export async function generateCorpus(options: GenerateOptions, log: (line: string) => void = () => {}): Promise<CorpusManifest> {
  const rng = new Rng(options.seed);
  rmSync(join(options.out, 'AWSLogs'), { recursive: true, force: true });
  rmSync(join(options.out, 'flows'), { recursive: true, force: true });
  rmSync(join(options.out, 'manifest.json'), { force: true });
  mkdirSync(options.out, { recursive: true });

  const accounts = ACCOUNT_LAYOUT.map(([id, name, regions]) => makeAccount(rng, id, name, regions));
  const prod = accounts[0] as Account;
  const minPerFile = options.minPerFile ?? 1000;
  const maxPerFile = options.maxPerFile ?? 5000;
  const averagePerFile = (minPerFile + maxPerFile) / 2;
  const streams = makeStreams(accounts, Math.max(1, Math.round(options.records / averagePerFile)));
  const totalFiles = streams.reduce((sum, s) => sum + s.files, 0);

  // Background records per file: uniform in [min, max], scaled to the requested total.
  const sizes = Array.from({ length: totalFiles }, () => rng.between(minPerFile, maxPerFile));
  const drawn = sizes.reduce((a, b) => a + b, 0);
  let assigned = 0;
  for (let i = 0; i < sizes.length; i++) {
    const scaled = Math.max(1, Math.round(((sizes[i] ?? 0) * options.records) / drawn));
    sizes[i] = i === sizes.length - 1 ? Math.max(1, options.records - assigned) : scaled;
    assigned += sizes[i] ?? 0;
  }

  const bursts = discoveryBurstEvents(rng, prod, T0);
  const planted = [...plantedEvents(rng, prod, T0), ...bursts.events];
  const automation = automationEvents(rng, prod, T0, options.records);
  const plantedByStream = new Map<string, PlantedEvent[]>();
  for (const event of [...planted, ...automation.events]) {
    const key = `${prod.id}/${event.region}`;
    const list = plantedByStream.get(key) ?? [];
    list.push(event);
    plantedByStream.set(key, list);
  }

  const identityTypes: Record<string, number> = {};
  const names = new Map<string, number>();
  const services = new Set<string>();
  const files = new GzipFileWriter();
  let records = 0;
  let fileIndex = 0;
  const started = Date.now();

  for (const stream of streams) {
    const window = DURATION / stream.files;
    const mine = (plantedByStream.get(`${stream.account.id}/${stream.region}`) ?? []).sort((a, b) => a.time - b.time);
    for (let f = 0; f < stream.files; f++) {
      const start = T0 + f * window;
      const end = start + window;
      const count = sizes[fileIndex++] ?? minPerFile;
      const times = Array.from({ length: count }, () => start + Math.floor(rng.float() * window));
      times.sort((a, b) => a - b);
      const out: JsonObject[] = [];
      const inFile = mine.filter((event) => event.time >= start && event.time < end);
      let p = 0;
      for (const time of times) {
        while (p < inFile.length && (inFile[p] as PlantedEvent).time <= time) out.push((inFile[p++] as PlantedEvent).record);
        out.push(backgroundRecord(rng, stream, time));
      }
      while (p < inFile.length) out.push((inFile[p++] as PlantedEvent).record);
      for (const record of out) {
        const identity = record.userIdentity as JsonObject;
        const type = String(identity.type);
        identityTypes[type] = (identityTypes[type] ?? 0) + 1;
        const name = String(record.eventName);
        names.set(name, (names.get(name) ?? 0) + 1);
        services.add(String(record.eventSource));
      }
      records += out.length;
      const text = `{"Records":${JSON.stringify(out)}}`;
      const path = join(options.out, fileName(rng, stream, end));
      await files.write(path, text);
      if (fileIndex % 50 === 0) log(`  ${fileIndex}/${totalFiles} files, ${records.toLocaleString('en-US')} records, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  await files.close();

  const flows = options.flowLines > 0 ? await generateFlows(rng, accounts, join(options.out, 'flows'), join(options.out, 'indicators.txt'), options.flowLines, options.indicators, T0) : undefined;
  const { out: _out, ...rest } = options;
  const manifest: CorpusManifest = {
    version: GENERATOR_VERSION,
    seed: options.seed,
    records,
    background: records - planted.length,
    planted: planted.length,
    files: totalFiles,
    compressedBytes: files.compressedBytes,
    uncompressedBytes: files.uncompressedBytes,
    eventNames: names.size,
    services: services.size,
    identityTypes: Object.fromEntries(Object.entries(identityTypes).sort(([a], [b]) => a.localeCompare(b))),
    eventNameCounts: Object.fromEntries([...names].sort(([a], [b]) => a.localeCompare(b))),
    expected: { pack: expectedAlerts('pack'), full: expectedAlerts('full') },
    plantedBursts: bursts.bursts,
    automation: automation.summary,
    ...(flows === undefined ? {} : { flows }),
    options: rest,
  };
  writeFileSync(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function main(): Promise<void> {
  const options = defaultOptions(parseArgs(process.argv.slice(2)));
  const started = Date.now();
  console.error(`generating ${options.records.toLocaleString('en-US')} CloudTrail records (seed ${options.seed}) into ${options.out}`);
  const manifest = await generateCorpus(options, (line) => console.error(line));
  const mb = (n: number): string => `${(n / 1e6).toFixed(0)} MB`;
  console.error(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${manifest.records.toLocaleString('en-US')} records (${manifest.planted} planted) in ${manifest.files} files, ` +
      `${mb(manifest.compressedBytes)} gzip / ${mb(manifest.uncompressedBytes)} JSON (${(manifest.uncompressedBytes / manifest.records).toFixed(0)} B/record), ` +
      `${manifest.eventNames} event names over ${manifest.services} services` +
      (manifest.flows === undefined ? '' : `; ${manifest.flows.lines.toLocaleString('en-US')} flow lines in ${manifest.flows.files} files, ${manifest.flows.indicators.toLocaleString('en-US')} indicators`),
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
