/**
 * Too-broad indicators through the CLI, as a user meets them: `intel check` counts them as
 * refused and exits 2; `scan --cti` on the samples refuses them, located, and raises exactly the
 * alerts the clean feed raises (none on our own private addresses); `--cti-max-prefix` allows
 * them explicitly, and is checked before anything is read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertLines, REPO_DIR, runCli } from './run-cli.ts';

const SAMPLE_FEED = join(REPO_DIR, 'samples/intel/feed.txt');
const BROAD = ['0.0.0.0/0', '::/0', '0.0.0.0/1', '10.0.0.0/7', '::/16', '::', '0.0.0.0', '::ffff:0:0/96', '::ffff:10.0.0.0/103'];
/** Refused even with v4=/0,v6=/0. */
const ALWAYS = new Set(['::', '0.0.0.0', '::ffff:0:0/96']);
let dir = '';
let broadFeed = '';
let sampleLines = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-hardening-feeds-'));
  const sample = readFileSync(SAMPLE_FEED, 'utf8').trimEnd();
  sampleLines = sample.split('\n').length;
  broadFeed = join(dir, 'broad.txt');
  writeFileSync(broadFeed, `${sample}\n${BROAD.join('\n')}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface CtiAlert {
  id: string;
  source_ip: string | null;
  cti?: { indicator: string; matched: string };
}

const PRIVATE = /^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/;

test('intel check: too-broad indicators refused, located, counted; exit 2; the rest loads', async () => {
  const result = await runCli(['intel', 'check', broadFeed]);
  assert.equal(result.code, 2, result.stderr);
  const refused = result.stderr.split('\n').filter((line) => line.includes('TH_INTEL_TOO_BROAD'));
  assert.deepEqual(
    refused.map((line) => /^error: (.*):(\d+): TH_INTEL_TOO_BROAD /.exec(line)?.slice(1)),
    BROAD.map((_, i) => [broadFeed, String(sampleLines + 1 + i)]),
  );
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /\bINVALID\s+REFUSED\s+SKIPPED$/);
  const jsonl = await runCli(['intel', 'check', '--format', 'jsonl', broadFeed]);
  assert.equal(jsonl.code, 2);
  const row = JSON.parse(jsonl.stdout) as Record<string, number>;
  assert.deepEqual([row.ipv4, row.cidr, row.refused, row.invalid], [3, 1, BROAD.length, 0]);

  const clean = await runCli(['intel', 'check', '--format', 'jsonl', SAMPLE_FEED]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal((JSON.parse(clean.stdout) as Record<string, number>).refused, 0);
});

test('intel check --cti-max-prefix: broader networks allowed explicitly; unspecified and mapped-range still refused', async () => {
  const open = await runCli(['intel', 'check', '--format', 'jsonl', '--cti-max-prefix', 'v4=/0,v6=/0', broadFeed]);
  assert.equal(open.code, 2, 'the always-refused values are still errors');
  assert.equal((JSON.parse(open.stdout) as Record<string, number>).refused, ALWAYS.size);
  const onlyWide = join(dir, 'wide.txt');
  writeFileSync(onlyWide, BROAD.filter((value) => !ALWAYS.has(value)).join('\n'));
  const wide = await runCli(['intel', 'check', '--format', 'jsonl', '--cti-max-prefix', 'v4=/0,v6=/0', onlyWide]);
  assert.equal(wide.code, 0, wide.stderr);
  const narrow = await runCli(['intel', 'check', '--format', 'jsonl', '--cti-max-prefix', 'v4=/24', SAMPLE_FEED]);
  assert.equal(narrow.code, 0, 'the sample feed holds a /26 and addresses only');
  const stricter = await runCli(['intel', 'check', '--format', 'jsonl', '--cti-max-prefix', 'v4=/28', SAMPLE_FEED]);
  assert.equal(stricter.code, 2);
  assert.match(stricter.stderr, /feed\.txt:4: TH_INTEL_TOO_BROAD "192\.0\.2\.0\/26"/);
});

test('--cti-max-prefix is checked before anything is read, for intel check and scan', async () => {
  for (const bad of ['v4=/33', 'v6=/200', 'v4=8;v6=32', 'wide', '']) {
    const check = await runCli(['intel', 'check', '--cti-max-prefix', bad, SAMPLE_FEED]);
    assert.equal(check.code, 2, bad);
    assert.match(check.stderr, /^error: --cti-max-prefix: TH_CONFIG /m, bad);
    assert.equal(check.stdout, '', bad);
    const scan = await runCli(['scan', 'samples/', '--cti', SAMPLE_FEED, '--cti-max-prefix', bad]);
    assert.equal(scan.code, 2, bad);
    assert.match(scan.stderr, /^error: --cti-max-prefix: TH_CONFIG /m, bad);
    assert.equal(scan.stdout, '', `${bad}: nothing scanned`);
  }
});

test('scan --cti on the samples: the broad indicators are refused and raise nothing; the real ones still alert; exit 2', async () => {
  const clean = await runCli(['scan', 'samples/', '--cti', SAMPLE_FEED]);
  assert.equal(clean.code, 0, clean.stderr);
  const broad = await runCli(['scan', 'samples/', '--cti', broadFeed]);
  assert.equal(broad.code, 2, 'a feed error: exit 2, as for TH_INTEL_INDICATOR');
  assert.equal(broad.stderr.split('\n').filter((line) => line.includes('TH_INTEL_TOO_BROAD')).length, BROAD.length);
  assert.match(broad.stderr, new RegExp(`^threat intel: 4 indicators from 1 feed .*; left out: ${BROAD.length} refused as too broad$`, 'm'));
  const cleanAlerts = alertLines(clean.stdout) as unknown as CtiAlert[];
  const broadAlerts = alertLines(broad.stdout) as unknown as CtiAlert[];
  assert.ok(cleanAlerts.some((alert) => alert.cti !== undefined), 'the sample feed raises cti alerts');
  assert.deepEqual(broadAlerts.map((alert) => alert.id).sort(), cleanAlerts.map((alert) => alert.id).sort(), 'the same alerts as the clean feed: nothing from the broad indicators');
  assert.deepEqual(broadAlerts.filter((alert) => alert.cti !== undefined && PRIVATE.test(alert.cti.matched)), [], 'no alert on our own private addresses');

  // Allowed explicitly (one thread: the scan's workers load feeds with the default limits):
  // every address matches, private ones included, which is why it is refused by default.
  const open = await runCli(['scan', 'samples/', '--workers', '1', '--cti', broadFeed, '--cti-max-prefix', 'v4=/0,v6=/0']);
  assert.equal(open.code, 2, 'the unspecified and mapped-range values are still refused');
  const openAlerts = alertLines(open.stdout) as unknown as CtiAlert[];
  assert.ok(openAlerts.length > cleanAlerts.length);
  const wide = new Set(['0.0.0.0/0', '0.0.0.0/1', '10.0.0.0/7']);
  assert.ok(openAlerts.some((alert) => alert.cti !== undefined && wide.has(alert.cti.indicator) && PRIVATE.test(alert.cti.matched)), 'with /0 allowed, private addresses alert');
});
