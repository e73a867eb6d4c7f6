/**
 * Correlator benchmark: cost (events/s) and memory (peak RSS, peak heap) with one million
 * distinct principals, the worst case for correlation state (every event opens a group).
 *
 *   node --import tsx bench/correlator.ts [--events 1000000]
 *
 * Each scenario runs in its own process (peak RSS is per process). Events are CloudTrail
 * Describe* calls generated on the fly (nothing is preloaded), in time order over 24 hours,
 * each by a different principal; 1 in 1000 principals is an attacker making a 10-call burst.
 * Rules: the shipped aws-ct-discovery-call and aws-ct-discovery-burst (value_count of
 * eventName >= 10 in 30m by account and principal).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Detector } from '../src/engine/detector.ts';
import type { DetectorOptions } from '../src/engine/detector.ts';
import { loadRuleSet } from '../src/pack/rule-set.ts';
import type { Alert } from '../src/core/alert.ts';
import type { Envelope } from '../src/core/envelope.ts';

interface Scenario {
  label: string;
  correlations: boolean;
  lateness?: number;
  maxGroups?: number;
}

const SCENARIOS: Record<string, Scenario> = {
  baseline: { label: 'rules only, no correlation (baseline)', correlations: false },
  capped: { label: 'correlation, unbounded lateness, cap 100 000 groups (scan default)', correlations: true },
  watermark: { label: 'correlation, lateness 15m (watermark eviction), cap 100 000', correlations: true, lateness: 15 * 60_000 },
  uncapped: { label: 'correlation, unbounded lateness, cap 2 000 000 (what the cap prevents)', correlations: true, maxGroups: 2_000_000 },
};

const CALLS = ['DescribeInstances', 'DescribeSecurityGroups', 'DescribeKeyPairs', 'DescribeVpcs', 'DescribeSnapshots', 'DescribeImages', 'DescribeSubnets', 'DescribeVolumes', 'DescribeRouteTables', 'DescribeAddresses'];
const T0 = Date.parse('2026-11-04T00:00:00Z');
const DAY = 86_400_000;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

async function runScenario(name: string, events: number): Promise<void> {
  const scenario = SCENARIOS[name];
  if (scenario === undefined) throw new Error(`unknown scenario ${name}`);
  const rulesDir = new URL('../rules/aws/cloudtrail/', import.meta.url).pathname;
  const set = await loadRuleSet({ paths: [`${rulesDir}aws-ct-discovery-call.yml`, `${rulesDir}aws-ct-discovery-burst.yml`] });
  if (set.errors.length > 0) throw new Error(JSON.stringify(set.errors));
  const options: DetectorOptions = { rules: set.rules, includeEvents: false };
  if (scenario.correlations) options.correlations = set.correlations;
  if (scenario.lateness !== undefined) options.lateness = scenario.lateness;
  if (scenario.maxGroups !== undefined) options.maxGroups = scenario.maxGroups;
  const detector = new Detector(options);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakHeap = heapBefore;
  let peakGroups = 0;
  const out: Alert[] = [];
  let alerts = 0;
  const step = DAY / events;
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    const attacker = i % 1000 === 0;
    const time = T0 + Math.floor(i * step);
    const principal = `arn:aws:sts::111122223333:assumed-role/app-${i % 97}/session-${i}`;
    const envelope: Envelope = {
      source: 'cloudtrail',
      time,
      record: {
        eventTime: new Date(time).toISOString(),
        eventSource: 'ec2.amazonaws.com',
        eventName: CALLS[i % CALLS.length],
        userIdentity: { type: 'AssumedRole', arn: principal },
        recipientAccountId: '111122223333',
        awsRegion: 'us-east-1',
        eventID: `e-${i}`,
      },
      origin: { uri: 'bench', index: i },
    };
    detector.process(envelope, out);
    if (attacker) {
      // The attacker's burst: nine more distinct calls within three minutes.
      for (let k = 1; k < CALLS.length; k++) {
        detector.process({ ...envelope, time: time + k * 20_000, record: { ...envelope.record, eventName: CALLS[(i + k) % CALLS.length], eventID: `e-${i}-${k}` } }, out);
      }
    }
    alerts += out.length;
    out.length = 0;
    if (i % 50_000 === 0) {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      peakGroups = Math.max(peakGroups, detector.correlationStats()?.liveGroups ?? 0);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const stats = detector.correlationStats();
  // Live state at the end of the input, before flush: what the correlator holds.
  gc?.();
  const liveHeap = process.memoryUsage().heapUsed - heapBefore;
  detector.flush(out);
  alerts += out.length;
  const processed = events + Math.ceil(events / 1000) * (CALLS.length - 1);
  const result = {
    name,
    label: scenario.label,
    events: processed,
    seconds,
    eventsPerSecond: processed / seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapMiB: (peakHeap - heapBefore) / 2 ** 20,
    liveHeapMiB: liveHeap / 2 ** 20,
    liveGroups: stats?.liveGroups ?? 0,
    alerts,
    peakGroups: stats?.peakGroups ?? 0,
    groupsEvicted: stats?.groupsEvicted ?? 0,
    lateEvents: stats?.lateEvents ?? 0,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function machine(): string {
  const nproc = (() => {
    try {
      return execFileSync('nproc', { encoding: 'utf8' }).trim();
    } catch {
      return String(cpus().length);
    }
  })();
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux
  }
  return `nproc ${nproc}; node ${process.version}; ${model}`;
}

async function main(): Promise<void> {
  const events = argument('--events', 1_000_000);
  const only = process.argv.indexOf('--scenario');
  if (only !== -1) {
    await runScenario(process.argv[only + 1] ?? '', events);
    return;
  }
  process.stdout.write(`Correlator benchmark: ${events} distinct principals (${machine()})\n\n`);
  process.stdout.write('| scenario | events | events/s | peak RSS | peak heap Δ (with garbage) | live heap Δ at end (after GC) | live groups at end / peak | groups evicted | alerts |\n');
  process.stdout.write('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  for (const name of Object.keys(SCENARIOS)) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', new URL(import.meta.url).pathname, '--scenario', name, '--events', String(events)], { encoding: 'utf8' });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || line === '') {
      process.stdout.write(`| ${SCENARIOS[name]?.label ?? name} | failed: ${child.stderr.trim().split('\n').pop() ?? ''} |\n`);
      continue;
    }
    const r = JSON.parse(line) as { label: string; events: number; eventsPerSecond: number; peakRssMiB: number; peakHeapMiB: number; liveHeapMiB: number; liveGroups: number; peakGroups: number; groupsEvicted: number; alerts: number };
    const n = (value: number): string => Math.round(value).toLocaleString('en-US');
    process.stdout.write(`| ${r.label} | ${n(r.events)} | ${n(r.eventsPerSecond)} | ${n(r.peakRssMiB)} MiB | ${n(r.peakHeapMiB)} MiB | ${n(r.liveHeapMiB)} MiB | ${n(r.liveGroups)} / ${n(r.peakGroups)} | ${n(r.groupsEvicted)} | ${n(r.alerts)} |\n`);
  }
}

await main();
