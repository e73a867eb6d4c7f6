import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './run-cli.ts';
import { Diagnostics } from '../../src/cli/diagnostics.ts';
import { prepareCti } from '../../src/cli/scan-cti.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/flow-cti/', import.meta.url));
const DAY = 86_400_000;
let dir = '';

/** Feeds copied (fresh mtime: undated indicators live 30 days from it) or written relative to now. */
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-intel-cli-'));
  copyFileSync(join(FIXTURES, 'feed.txt'), join(dir, 'feed.txt'));
  const iso = (offset: number): string => new Date(Date.now() + offset).toISOString();
  const indicator = (n: number, pattern: string, extra: Record<string, unknown>): Record<string, unknown> => ({
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--00000000-0000-4000-8000-0000000002${String(n).padStart(2, '0')}`,
    created: iso(-10 * DAY),
    modified: iso(-DAY),
    pattern,
    pattern_type: 'stix',
    valid_from: iso(-10 * DAY),
    ...extra,
  });
  const bundle = {
    type: 'bundle',
    id: 'bundle--00000000-0000-4000-8000-0000000002ff',
    objects: [
      indicator(1, "[ipv4-addr:value = '198.51.100.10']", { valid_until: iso(300 * DAY) }),
      indicator(2, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { valid_until: iso(300 * DAY) }),
      indicator(3, "[ipv6-addr:value = '2001:db8::1']", { valid_until: iso(300 * DAY) }),
      indicator(4, "[domain-name:value = 'evil.example']", { valid_until: iso(300 * DAY) }),
      indicator(5, "[ipv4-addr:value = '198.51.100.11']", { valid_until: iso(-DAY) }),
      indicator(6, "[ipv4-addr:value = '198.51.100.12']", { valid_until: iso(300 * DAY), revoked: true }),
      indicator(7, "[url:value = 'http://evil.example/x']", { valid_until: iso(300 * DAY) }),
    ],
  };
  writeFileSync(join(dir, 'stix.json'), JSON.stringify(bundle));
  writeFileSync(join(dir, 'broken.txt'), '198.51.100.20\n999.1.1.1\nnot an indicator at all\n');
  writeFileSync(join(dir, 'truncated.json'), '{"type": "bundle", "objects": [');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('intel check prints counts by kind and what was left out, per feed; exit 0 when every feed is clean', async () => {
  const result = await runCli(['intel', 'check', join(dir, 'feed.txt'), join(dir, 'stix.json')]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^FEED\s+FORMAT\s+IPV4\s+IPV6\s+CIDR\s+DOMAIN\s+PENDING\s+EXPIRED\s+REVOKED\s+UNSUPPORTED\s+INVALID\s+REFUSED\s+SKIPPED$/);
  const cells = (line: string | undefined): string[] => (line ?? '').trim().split(/\s+/);
  assert.deepEqual(cells(lines[1]), ['feed.txt', 'list', '3', '0', '2', '0', '0', '0', '0', '0', '0', '0', '0']);
  assert.deepEqual(cells(lines[2]), ['stix.json', 'stix', '1', '1', '1', '1', '0', '1', '1', '1', '0', '0', '0']);
  assert.deepEqual(cells(lines[3]), ['total', '4', '1', '3', '1', '0', '1', '1', '1', '0', '0', '0']);

  const jsonl = await runCli(['intel', 'check', '--format', 'jsonl', join(dir, 'stix.json')]);
  assert.deepEqual(JSON.parse(jsonl.stdout), {
    feed: 'stix.json',
    path: join(dir, 'stix.json'),
    format: 'stix',
    ipv4: 1,
    ipv6: 1,
    cidr: 1,
    domain: 1,
    pending: 0,
    expired: 1,
    revoked: 1,
    unsupported: 1,
    invalid: 0,
    refused: 0,
    skipped: 0,
  });
  const listed = await runCli(['intel', 'check', '--list-unsupported', join(dir, 'stix.json')]);
  assert.equal(listed.code, 0);
  assert.match(listed.stderr, /^warning: .*stix\.json#indicator--00000000-0000-4000-8000-000000000207: TH_INTEL_INDICATOR .*url/m);
});

test('intel check: MISP attributes of kinds trailhound does not match count as unsupported and are listed', async () => {
  const ts = String(Math.floor(Date.now() / 1000) - 3600);
  const attribute = (n: number, type: string, value: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: String(n),
    uuid: `d0000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`,
    event_id: '77',
    type,
    category: 'Network activity',
    value,
    to_ids: true,
    deleted: false,
    timestamp: ts,
    ...extra,
  });
  const event = {
    Event: {
      id: '77',
      info: 'unsupported kinds',
      timestamp: ts,
      Attribute: [
        attribute(1, 'ip-dst', '198.51.100.90'),
        attribute(2, 'url', 'http://evil.example/payload'),
        attribute(3, 'sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
        attribute(4, 'email-src', 'phish@evil.example'),
        attribute(5, 'url', 'http://evil.example/not-for-detection', { to_ids: false }),
        attribute(6, 'ip-dst', '198.51.100.91', { deleted: true }),
      ],
    },
  };
  const feed = join(dir, 'misp-unsupported.json');
  writeFileSync(feed, JSON.stringify(event));

  const counted = await runCli(['intel', 'check', '--format', 'jsonl', feed]);
  assert.equal(counted.code, 0, counted.stderr);
  assert.equal(counted.stderr, '', 'unsupported is not an error');
  const row = JSON.parse(counted.stdout) as Record<string, unknown>;
  assert.deepEqual([row.format, row.ipv4, row.unsupported, row.skipped], ['misp', 1, 3, 2], 'url, sha256, email-src unsupported; to_ids false and deleted skipped');

  const listed = await runCli(['intel', 'check', '--list-unsupported', feed]);
  assert.equal(listed.code, 0, listed.stderr);
  const warnings = listed.stderr.split('\n').filter((line) => line.startsWith('warning: '));
  const at = (n: number): string => `${feed}#event-77/attribute-d0000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}: TH_INTEL_INDICATOR`;
  assert.deepEqual(
    warnings.map((line) => line.slice('warning: '.length, line.indexOf(' TH_INTEL_INDICATOR') + ' TH_INTEL_INDICATOR'.length)),
    [at(2), at(3), at(4)],
  );
  assert.match(warnings[0] ?? '', /MISP attribute type "url" is not supported: "http:\/\/evil\.example\/payload"/);
  assert.match(warnings[1] ?? '', /MISP attribute type "sha256" is not supported/);
  assert.match(warnings[2] ?? '', /MISP attribute type "email-src" is not supported/);
});

test('intel check: located errors on stderr and exit 2; the other feeds are still counted', async () => {
  const result = await runCli(['intel', 'check', join(dir, 'broken.txt'), join(dir, 'truncated.json'), join(dir, 'feed.txt'), join(dir, 'missing.txt')]);
  assert.equal(result.code, 2);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.deepEqual(
    errors.map((line) => line.replace(dir, '<dir>').replace(/ (TH_[A-Z_]+) .*$/, ' $1')),
    ['error: <dir>/broken.txt:2: TH_INTEL_INDICATOR', 'error: <dir>/broken.txt:3: TH_INTEL_INDICATOR', 'error: <dir>/truncated.json: TH_INTEL_FEED', 'error: <dir>/missing.txt: TH_INTEL_FEED'],
  );
  assert.match(result.stdout, /^feed\.txt\s+list\s+3\s+0\s+2\s+0/m);
  assert.match(result.stdout, /^broken\.txt\s+list\s+1\s+/m);
  assert.equal((await runCli(['intel', 'check', '--cti-max-age', 'soon', join(dir, 'feed.txt')])).code, 2);
});

test('scan --cti: matches flow logs, loads what it can when a feed is broken (exit 2), and checks --flow-format up front', async () => {
  const flows = join(FIXTURES, 'v5-header.log');
  const ok = await runCli(['scan', flows, '--cti', join(dir, 'feed.txt'), '--no-events']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /^threat intel: 5 indicators from 1 feed \(ipv4 3, ipv6 0, cidr 2, domain 0\)$/m);
  const alerts = ok.stdout.trim().split('\n').map((line) => JSON.parse(line) as { rule: { name: string; level: string }; cti: { field: string; direction: string } });
  assert.deepEqual(alerts.map((a) => `${a.rule.name} ${a.rule.level} ${a.cti.field} ${a.cti.direction}`).sort(), [
    'aws-vpcflow-cti-ip-match high dstaddr egress',
    'aws-vpcflow-cti-ip-match high pkt-dstaddr egress',
    'aws-vpcflow-cti-ip-match informational srcaddr ingress',
  ]);

  const broken = await runCli(['scan', flows, '--cti', join(dir, 'feed.txt'), '--cti', join(dir, 'broken.txt'), '--no-events']);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /broken\.txt:2: TH_INTEL_INDICATOR/);
  assert.equal(broken.stdout.trim().split('\n').length, 3, 'the scan still ran with the feeds that loaded');

  const bad = await runCli(['scan', flows, '--cti', join(dir, 'feed.txt'), '--flow-format', '${version} ${not a field}']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --flow-format: TH_CONFIG /m);
  assert.equal(bad.stdout, '', 'nothing scanned');

  const bucket = await runCli(['scan', flows, '--cti', join(dir, 'feed.txt'), '--cti-bucket', '1d', '--cti-max-age', 'unbounded', '--no-default-rules']);
  assert.equal(bucket.code, 0, bucket.stderr);
  assert.match(bucket.stdout, /"window":\{"start":"2026-11-02T00:00:00.000Z","end":"2026-11-03T00:00:00.000Z"\}/);
});

test('the other --cti options are checked before anything is read: TH_CONFIG naming the flag', async () => {
  const base = { cti: [join(dir, 'feed.txt')], ctiMaxAge: '30d', ctiBucket: '1h', ctiEgressBytes: '10485760' };
  for (const [flag, change] of [
    ['--cti-bucket', { ctiBucket: 'an hour' }],
    ['--cti-max-age', { ctiMaxAge: '-1d' }],
    ['--cti-egress-bytes', { ctiEgressBytes: 'lots' }],
    ['--flow-format', { flowFormat: '' }],
  ] as const) {
    const lines: string[] = [];
    const diagnostics = new Diagnostics({ quiet: false, stream: { write: (text: string) => lines.push(text) } as unknown as NodeJS.WritableStream });
    assert.equal(await prepareCti({ ...base, ...change }, diagnostics), undefined, flag);
    assert.match(lines.join(''), new RegExp(`^error: ${flag}: TH_CONFIG `), flag);
  }
  const lines: string[] = [];
  const diagnostics = new Diagnostics({ quiet: false, stream: { write: (text: string) => lines.push(text) } as unknown as NodeJS.WritableStream });
  const prepared = await prepareCti({ ...base, ctiBucket: '15m', ctiMaxAge: 'unbounded' }, diagnostics);
  assert.deepEqual(prepared?.detectorOptions.cti, { bucketMs: 900_000, egressBytesThreshold: 10_485_760 });
  assert.equal(prepared?.detectorOptions.intel?.indicators.length, 5);
  assert.equal(prepared?.errors, 0);
});
