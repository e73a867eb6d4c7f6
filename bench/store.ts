/**
 * The alert store benchmark (SQLite): a store of 1,000,000 alerts as `scan --store` and
 * `watch` write them (putAlerts, batches of 5,000), with a realistic spread (rules, actors,
 * accounts, levels by rule, sources, techniques, triage statuses); then the list the UI and
 * the API run (a filter and a page of 50: p50/p95 over 100 queries, with and without free
 * text and technique), the process RSS, and a bulk close of 10,000 alerts (preview, then the
 * update, each alert with its own history entries).
 *
 *   cd bench && npm run store -- [--alerts 1000000] [--keep FILE.db] [--no-write]
 *
 * Appends (or replaces) its section of RESULTS.md, "Alert store (SQLite)".
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../src/core/alert.ts';
import type { SigmaLevel } from '../src/core/levels.ts';
import type { AlertFilter, AlertSort } from '../src/store/alert-store.ts';
import { SqliteAlertStore } from '../src/store/sqlite-alert-store.ts';
import { describeMachine } from './measure.ts';
import { Rng } from './rng.ts';

const RESULTS = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const SECTION = 'alert-store';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const rng = new Rng(20261105);

/** Zipf-like pick: index i with weight 1 / (i + 1)^s. */
function zipf(n: number, s: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const weight of weights) cumulative.push((acc += weight / total));
  return () => {
    const x = rng.float();
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cumulative[mid] as number) < x) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

const TECHNIQUES = ['T1098.001', 'T1098.003', 'T1078.004', 'T1087.004', 'T1562.008', 'T1530', 'T1552.005', 'T1136.003', 'T1484.002', 'T1580', 'T1526', 'T1110.001', 'T1496', 'T1537', 'T1046', 'T1071', 'T1190', 'T1548', 'T1098'];
const TACTICS = ['persistence', 'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'collection', 'exfiltration', 'impact', 'initial-access', 'command-and-control'];
const LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'medium', 'high', 'high', 'critical'];
const REGIONS = ['us-east-1', 'us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const EVENT_NAMES = ['CreateAccessKey', 'AttachUserPolicy', 'ConsoleLogin', 'PutBucketPolicy', 'StopLogging', 'GetSecretValue', 'AssumeRole', 'CreateUser', 'UpdateTrail', 'ListBuckets'];

interface RuleInfo {
  id: string;
  name: string;
  title: string;
  level: SigmaLevel;
  techniques: string[];
  tactics: string[];
  source: Alert['source'];
}

const RULES: RuleInfo[] = Array.from({ length: 90 }, (_, i) => {
  const source: Alert['source'] = i < 75 ? 'cloudtrail' : i < 84 ? 'guardduty' : 'vpcflow';
  const technique = TECHNIQUES[i % TECHNIQUES.length] as string;
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `aws-${source === 'cloudtrail' ? 'ct' : source === 'guardduty' ? 'gd' : 'vpc'}-rule-${String(i).padStart(2, '0')}`,
    title: `${EVENT_NAMES[i % EVENT_NAMES.length]} by an unusual principal (${i})`,
    level: LEVELS[i % LEVELS.length] as SigmaLevel,
    techniques: i % 5 === 0 ? [technique, TECHNIQUES[(i + 7) % TECHNIQUES.length] as string] : [technique],
    tactics: [TACTICS[i % TACTICS.length] as string],
    source,
  };
});
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => String(111100000000 + i * 1013));
const ACTORS = Array.from({ length: 5000 }, (_, i) => `arn:aws:iam::${ACCOUNTS[i % ACCOUNTS.length]}:${i % 3 === 0 ? `role/app-${i}` : `user/person-${i}`}`);
const IPS = Array.from({ length: 20000 }, () => `${rng.between(1, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`);
const pickRule = zipf(RULES.length, 1.1);
const pickActor = zipf(ACTORS.length, 1.0);
const pickIp = zipf(IPS.length, 0.9);
const START = Date.parse('2026-08-01T00:00:00Z');
const SPAN = 90 * 86400_000;

function makeAlert(i: number): Alert {
  const rule = RULES[pickRule()] as RuleInfo;
  const actor = ACTORS[pickActor()] as string;
  const account = actor.split(':')[4] as string;
  const ip = IPS[pickIp()] as string;
  const time = new Date(START + rng.int(SPAN)).toISOString();
  const eventId = `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-8${rng.hex(3)}-${rng.hex(12)}`;
  const region = rng.pick(REGIONS);
  const alert: Alert = {
    id: `${rng.hex(24)}${i.toString(16).padStart(8, '0')}`,
    time,
    rule: { id: rule.id, name: rule.name, title: rule.title, level: rule.level },
    attack: { techniques: rule.techniques, tactics: rule.tactics },
    source: rule.source,
    account,
    region,
    actor,
    source_ip: ip,
    event_ids: [eventId],
    count: rng.chance(0.05) ? rng.between(2, 50) : 1,
    events: [
      {
        eventVersion: '1.09',
        userIdentity: { type: 'IAMUser', arn: actor, accountId: account, accessKeyId: `AKIA${rng.chars(16)}` },
        eventTime: time,
        eventSource: 'iam.amazonaws.com',
        eventName: rule.title.split(' ')[0],
        awsRegion: region,
        sourceIPAddress: ip,
        userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
        requestParameters: { userName: `person-${rng.int(5000)}` },
        responseElements: null,
        eventID: eventId,
        readOnly: false,
        eventType: 'AwsApiCall',
        recipientAccountId: account,
      },
    ],
  };
  if (rule.source === 'guardduty') {
    alert.guardduty = { id: rng.hex(32), type: 'Recon:IAMUser/MaliciousIPCaller', severity: rng.between(2, 8), count: rng.between(1, 20), updated_at: time };
  }
  return alert;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const total = Number(argument('--alerts') ?? 1_000_000);
  const keep = argument('--keep');
  const write = !process.argv.includes('--no-write');
  const directory = mkdtempSync(join(tmpdir(), 'trailhound-store-bench-'));
  const path = keep ?? join(directory, 'alerts.db');
  if (keep !== undefined) for (const suffix of ['', '-wal', '-shm']) rmSync(`${keep}${suffix}`, { force: true });
  const store = SqliteAlertStore.open(path);
  const startedAt = new Date();

  // 1. Fill: putAlerts in batches, as scan --store does; a share of them seen again (re-scans).
  const batch = 5000;
  let t = performance.now();
  const sampleIds: string[] = [];
  const firstSeen = Date.parse('2026-11-01T00:00:00Z');
  for (let done = 0; done < total; done += batch) {
    const alerts: Alert[] = [];
    for (let i = done; i < Math.min(total, done + batch); i++) alerts.push(makeAlert(i));
    for (const alert of alerts) if (sampleIds.length < 200_000 && rng.chance(0.25)) sampleIds.push(alert.id);
    await store.putAlerts(alerts, 'scan', new Date(firstSeen + done * 1000));
    if ((done / batch) % 40 === 0) process.stderr.write(`\rput ${done + alerts.length} / ${total}`);
  }
  const fillMs = performance.now() - t;
  process.stderr.write('\n');
  // Re-puts of 50,000 known alerts (a re-scan): hits and last_seen only.
  t = performance.now();
  {
    const again = await store.list({ filter: { status: [] }, limit: 500 });
    const known = again.alerts.map(({ status: _s, reason: _r, assignee: _a, tags: _t, notes: _n, version: _v, first_seen: _f, last_seen: _l, hits: _h, ...alert }) => alert as Alert);
    for (let round = 0; round < 100; round++) await store.putAlerts(known, 'scan');
  }
  const reputMs = performance.now() - t;

  // 2. Triage spread: ~20% closed (reasons), ~10% acknowledged, some assigned and tagged.
  t = performance.now();
  const reasons = ['false_positive', 'false_positive', 'benign_positive', 'true_positive', 'duplicate', 'other'] as const;
  const closedShare = Math.floor(sampleIds.length * 0.8);
  for (let i = 0; i < closedShare; i += 10_000) {
    const ids = sampleIds.slice(i, Math.min(closedShare, i + 10_000));
    await store.bulkUpdate({ ids }, { status: 'closed', reason: reasons[(i / 10_000) % reasons.length] as (typeof reasons)[number] }, 'analyst-1');
  }
  for (let i = closedShare; i < sampleIds.length; i += 10_000) {
    const ids = sampleIds.slice(i, Math.min(sampleIds.length, i + 10_000));
    await store.bulkUpdate({ ids }, { status: 'acknowledged', assignee: `analyst-${(i / 10_000) % 4}`, tags_add: ['triage-2026-11'] }, 'analyst-2');
  }
  const triageMs = performance.now() - t;
  const triaged = sampleIds.length;

  // 3. The list: 100 queries, each a filter and a page of 50, with its total and counts.
  const actor = (i: number): string => ACTORS[i * 37 % 50] as string;
  const filters: { kind: string; filter: AlertFilter; sort?: AlertSort }[] = [];
  for (let i = 0; i < 100; i++) {
    const kind = ['default', 'level', 'rule', 'actor', 'account+level', 'technique', 'tactic', 'time range', 'free text', 'free text (ip)'][i % 10] as string;
    const filter: AlertFilter = (() => {
      switch (kind) {
        case 'default':
          return {};
        case 'level':
          return { level: [(['critical', 'high'] as const)[i % 2] as SigmaLevel] };
        case 'rule':
          return { rule: [(RULES[i % 30] as RuleInfo).name] };
        case 'actor':
          return { actor: actor(i) };
        case 'account+level':
          return { account: [ACCOUNTS[i % ACCOUNTS.length] as string], level: ['high', 'critical'] as SigmaLevel[] };
        case 'technique':
          return { technique: [(['T1098', 'T1087.004', 'T1562.008', 'T1078'] as const)[i % 4] as string] };
        case 'tactic':
          return { tactic: [TACTICS[i % TACTICS.length] as string] };
        case 'time range':
          return { since: new Date(START + (i % 80) * 86400_000).toISOString(), until: new Date(START + ((i % 80) + 3) * 86400_000).toISOString() };
        case 'free text':
          return { q: `person-${100 + i}` };
        default:
          return { q: (IPS[i] as string).split('.').slice(0, 3).join('.') };
      }
    })();
    filters.push({ kind, filter, ...(i % 3 === 1 ? { sort: '-level' as const } : {}) });
  }
  const times: number[] = [];
  const byKind = new Map<string, number[]>();
  let rssPeak = process.memoryUsage().rss;
  let pageTwoMs = 0;
  for (const item of filters) {
    const begin = performance.now();
    const page = await store.list({ filter: item.filter, limit: 50, ...(item.sort === undefined ? {} : { sort: item.sort }) });
    const elapsed = performance.now() - begin;
    times.push(elapsed);
    byKind.set(item.kind, [...(byKind.get(item.kind) ?? []), elapsed]);
    if (item.kind === 'default' && page.next_cursor !== null && pageTwoMs === 0) {
      const begin2 = performance.now();
      await store.list({ filter: item.filter, limit: 50, cursor: page.next_cursor });
      pageTwoMs = performance.now() - begin2;
    }
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  const sorted = [...times].sort((a, b) => a - b);

  // 4. Bulk close of 10,000 open alerts: preview, then the update.
  const openIds: string[] = [];
  let cursor: string | undefined;
  while (openIds.length < 10_000) {
    const page = await store.list({ filter: { status: ['open'], rule: [(RULES[0] as RuleInfo).name] }, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    openIds.push(...page.alerts.map((alert) => alert.id));
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  const closeIds = openIds.slice(0, 10_000);
  t = performance.now();
  const preview = await store.bulkPreview({ ids: closeIds }, { status: 'closed', reason: 'false_positive', note: 'bulk close (benchmark)' });
  const previewMs = performance.now() - t;
  t = performance.now();
  const closed = await store.bulkUpdate({ ids: closeIds }, { status: 'closed', reason: 'false_positive', note: 'bulk close (benchmark)' }, 'analyst-3');
  const bulkMs = performance.now() - t;
  // By filter: every open alert of one actor.
  t = performance.now();
  const byFilter = await store.bulkUpdate({ filter: { actor: actor(3), status: ['open'] } }, { status: 'acknowledged' }, 'analyst-4');
  const bulkFilterMs = performance.now() - t;
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const finalPage = await store.list({ filter: { status: [] }, limit: 1 });
  await store.close();
  const size = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(`${path}${suffix}`) ? statSync(`${path}${suffix}`).size : 0), 0);
  if (keep === undefined) rmSync(directory, { recursive: true, force: true });

  const machine = describeMachine();
  const kinds = [...byKind.entries()].map(([kind, values]) => {
    const s = [...values].sort((a, b) => a - b);
    return `| ${kind} | ${values.length} | ${ms(percentile(s, 50))} | ${ms(percentile(s, 95))} | ${ms(s[s.length - 1] as number)} |`;
  });
  const body = [
    '## Alert store (SQLite)',
    '',
    '`cd bench && npm run store` (bench/store.ts; `--alerts N`, `--keep FILE.db`).',
    '',
    `Machine: ${machine.nproc} cores, CPU "${machine.cpuModel}", ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}; run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (load average ${machine.loadAverage}). better-sqlite3 12, WAL, synchronous FULL, one process.`,
    '',
    `Workload: ${total.toLocaleString('en-US')} alerts put through \`putAlerts\` (batches of ${batch.toLocaleString('en-US')}, one transaction each), as \`scan --store\` writes them: 90 rules (Zipf), 5,000 actors (Zipf), 20 accounts, 6 regions, 20,000 source addresses, 85% CloudTrail / 10% GuardDuty / 5% flow alerts, one embedded CloudTrail record each; then ${triaged.toLocaleString('en-US')} triaged by bulk updates (80% closed with reasons, 20% acknowledged, assigned and tagged). Database on disk: ${mib(size)} (${(size / total).toFixed(0)} bytes per alert, indexes and history included). Final total: ${finalPage.total.toLocaleString('en-US')} alerts.`,
    '',
    '| step | time |',
    '| --- | ---: |',
    `| put ${total.toLocaleString('en-US')} new alerts | ${(fillMs / 1000).toFixed(1)} s (${Math.round(total / (fillMs / 1000)).toLocaleString('en-US')} alerts/s) |`,
    `| put 50,000 known alerts again (500 × 100: hits, last_seen) | ${(reputMs / 1000).toFixed(2)} s |`,
    `| triage ${triaged.toLocaleString('en-US')} alerts by bulk updates of 10,000 | ${(triageMs / 1000).toFixed(1)} s |`,
    `| bulk close preview, 10,000 ids (${preview.toLocaleString('en-US')} would change) | ${ms(previewMs)} |`,
    `| bulk close, 10,000 ids (${closed.changed.toLocaleString('en-US')} changed; status + reason + note history per alert) | ${ms(bulkMs)} |`,
    `| bulk acknowledge by filter (one actor's open alerts: ${byFilter.changed.toLocaleString('en-US')}) | ${ms(bulkFilterMs)} |`,
    `| the list's next page (keyset cursor, default filter) | ${ms(pageTwoMs)} |`,
    '',
    `The list: 100 queries, each a filter, a page of 50, its total and its counts by status and by level (three statements in one read transaction); a third of them sorted by level. **p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}**, max ${ms(sorted[sorted.length - 1] as number)}. Peak RSS of the process over the run: ${mib(rssPeak)}.`,
    '',
    '| filter | queries | p50 | p95 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...kinds,
    '',
    "How to read it: a filter served by an index that ends with (status, level_rank) (actor, account, time range) reads only its rows, page and counts alike. The counts and the total visit every alert the filter matches, so a filter matching most of the million (the default, open + acknowledged; a level; the most frequent rules of the Zipf spread, 20% of all alerts) pays for that many index entries, and a sort the index cannot give (`-level` under a status filter, a rule matched by name or id) sorts every match before the page. Free text is one `LIKE '%text%'` over the `search` column, read from the covering index (status, level_rank, search): a scan of every index entry, never of the table. The RSS is mostly SQLite's page cache (64 MiB) and the generator's data.",
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (write) appendSection(body);
}

/** Replaces the section between its markers, or appends it at the end of RESULTS.md. */
function appendSection(body: string): void {
  const start = `<!-- ${SECTION}:start -->`;
  const end = `<!-- ${SECTION}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}\n`;
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from !== -1 && to > from ? `${text.slice(0, from)}${block.trimEnd()}${text.slice(to + end.length)}` : `${text.trimEnd()}\n\n${block}`;
  writeFileSync(RESULTS, next);
}

await main();
