import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadFeeds, type FeedStats } from '../../src/intel/load.ts';
import { IntelIndex } from '../../src/intel/intel-index.ts';
import { DEFAULT_MAX_AGE_MS, indicatorExpiry, indicatorState, parseFeedTime } from '../../src/intel/expiry.ts';
import type { Indicator } from '../../src/intel/indicator.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/intel/', import.meta.url));
const MTIME = Date.parse('2024-05-10T00:00:00Z');
const NOW = Date.parse('2024-05-15T00:00:00Z');
const DAY = 86_400_000;
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-intel-'));
  for (const name of readdirSync(FIXTURES)) {
    copyFileSync(join(FIXTURES, name), join(dir, name));
    utimesSync(join(dir, name), MTIME / 1000, MTIME / 1000);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

const at = (name: string): string => join(dir, name);
const values = (list: Indicator[]): string[] => list.map((i) => `${i.feed}:${i.value}`);

test('expiry rule: revoked, pending, validUntil, max age from seenAt or file time', () => {
  const base: Indicator = { kind: 'ipv4', value: '1.2.3.4', sideHint: 'any', revoked: false, feed: 'f', provenance: 'line 1' };
  const policy = { now: NOW, fileTime: MTIME };
  assert.equal(indicatorState(base, policy), 'live');
  assert.equal(indicatorExpiry(base, policy), MTIME + DEFAULT_MAX_AGE_MS);
  assert.equal(indicatorState(base, { now: MTIME + 30 * DAY, fileTime: MTIME }), 'expired');
  assert.equal(indicatorState(base, { now: MTIME + 30 * DAY - 1, fileTime: MTIME }), 'live');
  assert.equal(indicatorState({ ...base, seenAt: NOW - 31 * DAY }, policy), 'expired');
  assert.equal(indicatorState({ ...base, seenAt: NOW - 31 * DAY }, { ...policy, maxAgeMs: 40 * DAY }), 'live');
  assert.equal(indicatorState({ ...base, seenAt: 0 }, { ...policy, maxAgeMs: Infinity }), 'live');
  assert.equal(indicatorState({ ...base, validUntil: NOW }, policy), 'expired');
  assert.equal(indicatorState({ ...base, validUntil: NOW + 1, seenAt: 0 }, policy), 'live', 'validUntil beats max age');
  assert.equal(indicatorState({ ...base, validFrom: NOW + 1 }, policy), 'pending');
  assert.equal(indicatorState({ ...base, revoked: true }, policy), 'revoked');
  assert.equal(indicatorExpiry(base, { now: NOW }), NOW + DEFAULT_MAX_AGE_MS, 'no date at all: from load time');
});

test('feed times', () => {
  assert.equal(parseFeedTime('2024-05-01 12:00:00'), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseFeedTime('2024-05-01'), Date.parse('2024-05-01T00:00:00Z'));
  assert.equal(parseFeedTime('2024-05-01T12:00:00+02:00'), Date.parse('2024-05-01T10:00:00Z'));
  assert.equal(parseFeedTime('1714521600'), 1714521600000);
  assert.equal(parseFeedTime(1714521600), 1714521600000);
  assert.equal(parseFeedTime('1714521600000'), 1714521600000);
  assert.equal(parseFeedTime(''), undefined);
  assert.equal(parseFeedTime('yesterday'), undefined);
  assert.equal(parseFeedTime(null), undefined);
});

test('loadFeeds: every format, per-feed stats, located errors, one index', async () => {
  const { index, stats, errors } = await loadFeeds(
    [at('list.txt'), at('indicators.csv'), at('abusech.csv'), { path: at('custom-column.csv'), column: 'host_ip_addr', name: 'custom' }, at('stix-bundle.json'), at('misp-event.json'), at('misp-response.json')],
    { now: NOW },
  );
  const s = (feed: string): FeedStats => {
    const found = stats.find((x) => x.feed === feed);
    assert.ok(found, feed);
    return found;
  };
  assert.deepEqual(
    stats.map((x) => [x.feed, x.format]),
    [
      ['list.txt', 'list'],
      ['indicators.csv', 'csv'],
      ['abusech.csv', 'csv'],
      ['custom', 'csv'],
      ['stix-bundle.json', 'stix'],
      ['misp-event.json', 'misp'],
      ['misp-response.json', 'misp'],
    ],
  );
  assert.deepEqual(s('list.txt').loaded, { ipv4: 5, ipv6: 2, domain: 3 });
  assert.equal(s('list.txt').invalid, 3);
  assert.equal(s('list.txt').unsupported, 2);
  assert.equal(s('list.txt').fileTime, MTIME);
  assert.deepEqual(s('stix-bundle.json').loaded, { ipv4: 10, ipv6: 1, domain: 1 });
  assert.equal(s('stix-bundle.json').expired, 1);
  assert.equal(s('stix-bundle.json').revoked, 1);
  assert.equal(s('stix-bundle.json').pending, 1);
  assert.equal(s('stix-bundle.json').unsupported, 4);
  assert.equal(s('stix-bundle.json').invalid, 2);
  assert.equal(s('misp-event.json').skipped, 3);
  assert.equal(s('misp-event.json').unsupported, 1, 'the md5 attribute');
  assert.equal(s('misp-response.json').expired, 1);
  assert.deepEqual(s('misp-response.json').loaded, { ipv4: 1, ipv6: 0, domain: 0 });
  assert.deepEqual(index.size, { ipv4: 27, ipv6: 5, domain: 8 });

  assert.ok(errors.every((e) => e.code === 'TH_INTEL_INDICATOR'));
  const locations = errors.map((e) => e.location);
  assert.ok(locations.includes(`${at('list.txt')}:14`));
  assert.ok(locations.includes(`${at('indicators.csv')}:7`));
  assert.ok(locations.includes(`${at('stix-bundle.json')}#indicator--00000000-0000-4000-8000-00000000000f`));
  assert.ok(locations.includes(`${at('misp-event.json')}#event-1234/attribute-a0000000-0000-4000-8000-00000000000a`));

  // IPv4: exact, inside a CIDR, most specific first; mapped IPv6 reads as IPv4.
  assert.deepEqual(values(index.lookupIp('198.51.100.7')), ['list.txt:198.51.100.7', 'misp-event.json:198.51.100.0/28', 'stix-bundle.json:198.51.100.0/24']);
  assert.deepEqual(values(index.lookupIp('198.51.100.5')), ['misp-event.json:198.51.100.0/28', 'stix-bundle.json:198.51.100.0/24']);
  assert.deepEqual(values(index.lookupIp('203.0.113.200')), ['list.txt:203.0.113.0/24']);
  assert.deepEqual(values(index.lookupIp('10.200.1.1')), ['list.txt:10.0.0.0/8']);
  assert.deepEqual(values(index.lookupIp('::ffff:203.0.113.9')), ['list.txt:203.0.113.0/24']);
  assert.deepEqual(values(index.lookupIp('192.0.2.99')), ['custom:192.0.2.99']);
  assert.deepEqual(values(index.lookupIp('192.0.2.50')).length, 1);
  assert.deepEqual(index.lookupIp('192.0.2.51')[0]?.port, 443);
  // IPv6: exact and CIDR.
  assert.deepEqual(values(index.lookupIp('2001:db8:bad:cafe::42')), ['list.txt:2001:db8:bad:cafe::/64']);
  assert.deepEqual(values(index.lookupIp('2001:DB8:BAD::1')), ['list.txt:2001:db8:bad::1']);
  assert.deepEqual(values(index.lookupIp('2001:db8:1:2::3')), ['indicators.csv:2001:db8:1::/48']);
  assert.deepEqual(index.lookupIp('2001:db8:2::1'), []);
  // Side hints and ports travel with the indicator.
  const dst = index.lookupIp('5.6.7.9')[0];
  assert.deepEqual([dst?.sideHint, dst?.port, dst?.provenance], ['dst', 5678, 'stix:indicator--00000000-0000-4000-8000-000000000007']);
  // Expired, revoked, not yet valid.
  assert.deepEqual(index.lookupIp('192.0.2.20'), [], 'valid_until passed');
  assert.deepEqual(index.lookupIp('192.0.2.21'), [], 'revoked');
  assert.deepEqual(index.lookupIp('192.0.2.22'), [], 'valid_from in the future');
  assert.deepEqual(values(index.lookupIp('192.0.2.22', Date.parse('2030-06-01T00:00:00Z'))), ['stix-bundle.json:192.0.2.22']);
  assert.deepEqual(index.lookupIp('192.0.2.100'), [], 'MISP event from 2020');
  assert.deepEqual(index.lookupIp('192.0.2.10', NOW + 20 * DAY), [], 'STIX modified + 30 days has passed');
  // Domains: exact and parents, case-insensitive, trailing dot.
  assert.deepEqual(values(index.lookupDomain('evil.example')), ['list.txt:evil.example']);
  assert.deepEqual(values(index.lookupDomain('A.B.Evil.Example.')), ['list.txt:evil.example']);
  assert.deepEqual(index.lookupDomain('notevil.example'), []);
  assert.deepEqual(index.lookupDomain('example'), []);
  assert.deepEqual(values(index.lookupDomain('x.c2.misp-evil2.example')), ['misp-event.json:c2.misp-evil2.example']);
  assert.deepEqual(index.lookupDomain('misp-evil2.example'), [], 'a subdomain indicator does not match its parent');
  // Fast path.
  assert.equal(index.mayMatchIPv4(((198 << 24) | (51 << 16) | (100 << 8) | 7) >>> 0), true);
  assert.equal(index.mayMatchIPv4(0x08080808), false);
});

test('loadFeeds: later now expires dated and undated indicators by the rule', async () => {
  const { index, stats } = await loadFeeds([at('indicators.csv'), at('list.txt')], { now: Date.parse('2024-06-05T00:00:00Z') });
  // CSV rows with last_seen in early May are past 30 days; the undated row follows the file time.
  assert.deepEqual(values(index.lookupIp('198.51.100.21')), ['indicators.csv:198.51.100.21']);
  assert.deepEqual(index.lookupIp('198.51.100.20'), []);
  assert.equal(stats[0]?.expired, 3);
  assert.deepEqual(values(index.lookupIp('198.51.100.7')), ['list.txt:198.51.100.7']);
  const later = await loadFeeds([at('list.txt')], { now: MTIME + 31 * DAY });
  assert.equal(later.stats[0]?.expired, 10);
  const kept = await loadFeeds([at('list.txt')], { now: MTIME + 31 * DAY, maxAgeMs: Infinity });
  assert.equal(kept.stats[0]?.expired, 0);
});

test('loadFeeds: unreadable, broken and gzip feeds', async () => {
  writeFileSync(at('list.txt.gz'), gzipSync('198.51.100.250\n'));
  const { index, stats, errors } = await loadFeeds([at('missing.txt'), at('broken.json'), at('list.txt.gz')], { now: NOW });
  assert.deepEqual(errors.map((e) => [e.code, e.location]), [
    ['TH_INTEL_FEED', at('missing.txt')],
    ['TH_INTEL_FEED', at('broken.json')],
  ]);
  assert.deepEqual(values(index.lookupIp('198.51.100.250')), ['list.txt.gz:198.51.100.250']);
  assert.equal(stats.length, 3);
});

test('loadFeeds: errors are capped per feed with a summary', async () => {
  const lines = Array.from({ length: 250 }, (_, i) => `bad value ${i}!`).join('\n');
  writeFileSync(at('noisy.txt'), `${lines}\n198.51.100.251\n`);
  const { errors, stats, index } = await loadFeeds([at('noisy.txt')], { now: NOW, maxErrorsPerFeed: 10 });
  assert.equal(errors.length, 11);
  assert.match(errors[10]?.message ?? '', /240 more indicator errors/);
  assert.equal(stats[0]?.invalid, 250);
  assert.equal(index.lookupIp('198.51.100.251').length, 1);
});

test('IntelIndex.of builds from indicators directly', () => {
  const ind = (value: string, extra: Partial<Indicator> = {}): Indicator => ({
    kind: value.includes(':') ? 'ipv6' : /^[\d./]+$/.test(value) ? 'ipv4' : 'domain',
    value,
    sideHint: 'any',
    revoked: false,
    feed: 't',
    provenance: value,
    ...extra,
  });
  const index = IntelIndex.of([ind('192.0.2.0/24'), ind('192.0.2.1', { revoked: true }), ind('evil.example', { validUntil: NOW - 1 }), ind('ok.example')], { now: NOW });
  assert.deepEqual(values(index.lookupIp('192.0.2.1')), ['t:192.0.2.0/24']);
  assert.deepEqual(index.lookupDomain('evil.example'), []);
  assert.deepEqual(values(index.lookupDomain('www.ok.example')), ['t:ok.example']);
  assert.deepEqual(index.lookupIp('not an ip'), []);
});
