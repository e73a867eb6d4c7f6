/**
 * VPC Flow Logs x threat intelligence: flow lines per second on one core (the main thread;
 * zlib's gunzip runs on libuv's pool as in any scan).
 *
 *   node --import tsx bench/flow-cti.ts [--lines 1000000] [--indicators 100000] [--rounds 3]
 *
 * Generates, deterministically, gzipped flow logs as AWS writes them to S3 (default format,
 * header line, 50,000 lines per object) and a plain-list feed of 100,000 indicators (95% single
 * addresses, 5% /24 to /28 blocks) that 0.2% of the lines hit (half as the destination of
 * accepted egress, half as the source of rejected ingress). Then measures, best of N rounds:
 *
 * - scan: the real path, scan() -> decodeUnit (gunzip, sniff, scanner) -> Detector: without
 *   intel or rules (the floor: nothing reads the lines), then with the intel and (a) no Sigma
 *   rule, (b) the built-in pack (its flow rule prefilters lines), (c) a flow rule that pins no
 *   value, which makes every line a record (the path without the tap);
 * - the fast path alone: gunzip + FlowLineScanner + FlowCtiMatcher.line, and without gunzip.
 *
 * "lines per CPU-second" divides by the process's CPU time (main thread and zlib's pool):
 * steadier than wall time on a shared machine, and the per-core figure when gunzip shares the core.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { Detector } from '../src/engine/detector.ts';
import type { Alert } from '../src/core/alert.ts';
import { FlowCtiMatcher } from '../src/engine/cti/flow.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../src/pack/rule-set.ts';
import { scan } from '../src/scan/scan.ts';
import { DEFAULT_FLOW_HEADER, scanFlowLines } from '../src/formats/vpcflow/format.ts';
import { loadFeeds } from '../src/intel/load.ts';
import type { IntelIndex } from '../src/intel/intel-index.ts';
import type { CompiledDetectionRule } from '../src/sigma/types.ts';

const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const LINES_PER_FILE = 50_000;
const T0 = Date.parse('2026-11-04T00:00:00Z') / 1000;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function lcg(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

interface Corpus {
  dir: string;
  files: string[];
  feed: string;
  lines: number;
  rawBytes: number;
  gzipBytes: number;
  plannedHits: number;
}

/** Background public addresses and indicators come from disjoint first octets: the only hits are planted. */
const BACKGROUND_OCTETS = [3, 13, 18, 34, 35, 44, 52, 54, 99, 104, 142, 151, 157, 162];
const INDICATOR_OCTETS = [45, 77, 91, 103, 176, 185, 193, 194, 195, 212];

function generate(lines: number, indicatorCount: number): Corpus {
  const rnd = lcg(42);
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-flow-cti-'));
  const indicators: string[] = [];
  const feed: string[] = ['# bench feed'];
  for (let i = 0; i < indicatorCount; i++) {
    const octet = INDICATOR_OCTETS[rnd(INDICATOR_OCTETS.length)] as number;
    if (i % 20 === 19) {
      const prefix = 24 + rnd(5);
      feed.push(`${octet}.${rnd(256)}.${rnd(256)}.0/${prefix}`);
    } else {
      const address = `${octet}.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
      indicators.push(address);
      feed.push(address);
    }
  }
  const feedPath = join(dir, 'feed.txt');
  writeFileSync(feedPath, feed.join('\n') + '\n');

  const files: string[] = [];
  let rawBytes = 0;
  let gzipBytes = 0;
  let plannedHits = 0;
  const enis = Array.from({ length: 500 }, (_, i) => `eni-0${(0x1000000 + i * 7919).toString(16)}abc${i % 10}`);
  for (let first = 0; first < lines; first += LINES_PER_FILE) {
    const parts: string[] = [HEADER];
    const count = Math.min(LINES_PER_FILE, lines - first);
    for (let i = 0; i < count; i++) {
      const n = first + i;
      const eni = enis[rnd(enis.length)] as string;
      const local = `10.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
      let remote = `${BACKGROUND_OCTETS[rnd(BACKGROUND_OCTETS.length)]}.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
      const start = T0 + Math.floor(n / 20);
      const roll = rnd(1000);
      if (roll < 2) {
        remote = indicators[rnd(indicators.length)] as string;
        plannedHits++;
      }
      const inbound = roll === 1 || (roll >= 2 && rnd(4) === 0);
      const action = inbound && rnd(2) === 0 ? 'REJECT' : 'ACCEPT';
      const eph = 32768 + rnd(28000);
      // Remote administration ports only in rejected traffic, as behind sane security groups.
      const port = (action === 'REJECT' ? [22, 23, 445, 3389, 6379] : [443, 80, 8080, 53])[rnd(action === 'REJECT' ? 5 : 4)] as number;
      parts.push(
        inbound
          ? `2 123456789012 ${eni} ${remote} ${local} ${eph} ${port} 6 ${1 + rnd(40)} ${40 + rnd(60000)} ${start} ${start + 60} ${action} OK`
          : `2 123456789012 ${eni} ${local} ${remote} ${eph} ${port} 6 ${1 + rnd(40)} ${40 + rnd(60000)} ${start} ${start + 60} ${action} OK`,
      );
    }
    const raw = Buffer.from(parts.join('\n') + '\n');
    const gz = gzipSync(raw);
    rawBytes += raw.length;
    gzipBytes += gz.length;
    const path = join(dir, 'AWSLogs', `flows-${String(files.length).padStart(4, '0')}.log.gz`);
    mkdirSync(join(dir, 'AWSLogs'), { recursive: true });
    writeFileSync(path, gz);
    files.push(path);
  }
  return { dir, files, feed: feedPath, lines, rawBytes, gzipBytes, plannedHits };
}

interface Measured {
  ms: number;
  /** CPU time of the process, every thread (main and zlib's), in ms. */
  cpuMs: number;
  alerts: number;
  matches: number;
}

async function scanOnce(corpus: Corpus, intel: IntelIndex | undefined, rules: readonly CompiledDetectionRule[]): Promise<Measured> {
  const detector = new Detector({ rules, ...(intel === undefined ? {} : { intel }), includeEvents: true });
  let alerts = 0;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const summary = await scan({
    inputs: [join(corpus.dir, 'AWSLogs')],
    detector,
    onAlert: (_alert: Alert) => {
      alerts++;
    },
    onError: (error) => {
      throw new Error(`${error.location}: ${error.message}`);
    },
  });
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (summary.records !== corpus.lines) throw new Error(`scanned ${summary.records} records, expected ${corpus.lines}`);
  return { ms, cpuMs: (used.user + used.system) / 1000, alerts, matches: detector.builtinStats().flowMatches };
}

function chunks(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

async function fastPathOnce(corpus: Corpus, intel: IntelIndex, gunzip: boolean, plain: Buffer[][]): Promise<Measured> {
  const out: Alert[] = [];
  const matcher = new FlowCtiMatcher(intel, { includeEvents: true }, out);
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < corpus.files.length; i++) {
    const file = corpus.files[i] as string;
    const source = gunzip ? Readable.from([readFileSync(file)]).pipe(createGunzip({ chunkSize: 64 * 1024 })) : Readable.from(plain[i] as Buffer[]);
    await scanFlowLines(source, DEFAULT_FLOW_HEADER, (view) => matcher.line(view, file), { uri: file });
  }
  matcher.flush();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, alerts: out.length, matches: matcher.stats.matches };
}

async function best(rounds: number, run: () => Promise<Measured>): Promise<Measured> {
  let result: Measured | undefined;
  for (let round = 0; round < rounds; round++) {
    const measured = await run();
    if (result === undefined || measured.ms < result.ms) result = measured;
  }
  return result as Measured;
}

async function main(): Promise<void> {
  const lines = argument('--lines', 1_000_000);
  const indicatorCount = argument('--indicators', 100_000);
  const rounds = argument('--rounds', 3);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`machine: nproc ${cpus().length}, ${cpu}, Node ${process.version}`);

  let t = performance.now();
  const corpus = generate(lines, indicatorCount);
  console.log(
    `corpus: ${lines.toLocaleString('en-US')} lines in ${corpus.files.length} objects, ${(corpus.rawBytes / 1e6).toFixed(1)} MB raw, ` +
      `${(corpus.gzipBytes / 1e6).toFixed(1)} MB gzip, ${corpus.plannedHits} planted hits (${((performance.now() - t) / 1000).toFixed(1)}s to generate)`,
  );
  try {
    t = performance.now();
    const loaded = await loadFeeds([corpus.feed], { maxAgeMs: Number.POSITIVE_INFINITY });
    console.log(`feed: ${loaded.index.indicators.length.toLocaleString('en-US')} indicators loaded in ${(performance.now() - t).toFixed(0)} ms`);
    const intel = loaded.index;

    const pack = await loadRuleSet({ paths: [DEFAULT_RULES_DIR] });
    const ruleFile = join(corpus.dir, 'any-flow.yml');
    writeFileSync(
      ruleFile,
      'title: Any public source\nid: 0b7b8c5e-1d2f-4a3b-9c4d-5e6f7a8b9c0d\nname: bench-any-public-source\nlogsource: {product: aws, service: vpcflow}\n' +
        "detection:\n  private:\n    srcaddr|cidr: ['10.0.0.0/8']\n  condition: not private\nlevel: low\n",
    );
    const unconstrained = await loadRuleSet({ paths: [ruleFile] });

    const plain = corpus.files.map((file) => chunks(gunzipSync(readFileSync(file)), 64 * 1024));
    const rows: [string, Measured][] = [];
    rows.push(['scan(): no intel, no Sigma rule (decode only: the floor)', await best(rounds, () => scanOnce(corpus, undefined, []))]);
    rows.push(['scan(): CTI only, no Sigma rule (fast path)', await best(rounds, () => scanOnce(corpus, intel, []))]);
    rows.push(['scan(): CTI + built-in pack (fast path, flow rule prefilter)', await best(rounds, () => scanOnce(corpus, intel, pack.rules))]);
    rows.push(['scan(): CTI + a flow rule pinning no value (a record per line)', await best(rounds, () => scanOnce(corpus, intel, unconstrained.rules))]);
    rows.push(['fast path alone: gunzip + scanner + CTI', await best(rounds, () => fastPathOnce(corpus, intel, true, plain))]);
    rows.push(['fast path alone: scanner + CTI, already gunzipped', await best(rounds, () => fastPathOnce(corpus, intel, false, plain))]);

    console.log('');
    const perSecond = (ms: number): string => Math.round((lines / ms) * 1000).toLocaleString('en-US');
    console.log(`| path | lines/s (wall) | lines per CPU-second | wall ms | address matches | alerts |`);
    console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
    for (const [label, measured] of rows) {
      console.log(`| ${label} | ${perSecond(measured.ms)} | ${perSecond(measured.cpuMs)} | ${measured.ms.toFixed(0)} | ${measured.matches} | ${measured.alerts} |`);
    }
    console.log(`\nload average at the end: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(corpus.dir, { recursive: true, force: true });
  }
}

await main();
