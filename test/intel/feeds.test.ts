import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FeedContext } from '../../src/intel/feed-context.ts';
import type { Indicator } from '../../src/intel/indicator.ts';
import { parseFeed } from '../../src/intel/load.ts';
import { detectTextFeed } from '../../src/intel/feed-detect.ts';
import { splitCsvLine } from '../../src/intel/feed-csv.ts';
import { parseIndicatorValue } from '../../src/intel/indicator-value.ts';

interface Collected {
  format: string | undefined;
  indicators: Indicator[];
  invalid: string[];
  unsupported: string[];
  failed: string[];
  skipped: number;
}

function parse(name: string, column?: string): Collected {
  const file = `feeds/${name}`;
  const text = readFileSync(new URL(`../fixtures/intel/${name}`, import.meta.url), 'utf8');
  const out: Collected = { format: undefined, indicators: [], invalid: [], unsupported: [], failed: [], skipped: 0 };
  const ctx: FeedContext = {
    feed: name,
    file,
    invalid: (location) => out.invalid.push(location),
    unsupported: (location) => out.unsupported.push(location),
    skip: () => out.skipped++,
    fail: (location, message) => out.failed.push(`${location} ${message}`),
  };
  const r = parseFeed(text, ctx, column === undefined ? {} : { column });
  out.format = r.format;
  out.indicators = r.indicators;
  return out;
}

const brief = (i: Indicator): string => `${i.kind} ${i.value} ${i.sideHint}${i.port === undefined ? '' : `:${i.port}`}`;

test('indicator values: IPs, CIDRs, domains, refanging, other IOC kinds', () => {
  const ok = (t: string): string | undefined => {
    const v = parseIndicatorValue(t);
    return v.ok ? `${v.kind} ${v.value}` : undefined;
  };
  assert.equal(ok('198.51.100.7'), 'ipv4 198.51.100.7');
  assert.equal(ok('198.51.100.7/24'), 'ipv4 198.51.100.0/24');
  assert.equal(ok('2001:DB8::1'), 'ipv6 2001:db8::1');
  assert.equal(ok('Evil.Example.'), 'domain evil.example');
  assert.equal(ok('abc.de'), 'domain abc.de');
  assert.equal(ok('bücher.example'), 'domain xn--bcher-kva.example');
  assert.equal(ok('1.2.3[.]4'), 'ipv4 1.2.3.4');
  const kind = (t: string): string => {
    const v = parseIndicatorValue(t);
    return v.ok ? 'ok' : v.unsupported ? 'unsupported' : 'invalid';
  };
  assert.equal(kind('http://evil.example/x'), 'unsupported');
  assert.equal(kind('evil.example/path'), 'unsupported');
  assert.equal(kind('a@evil.example'), 'unsupported');
  assert.equal(kind('d41d8cd98f00b204e9800998ecf8427e'), 'unsupported');
  assert.equal(kind('1.2.3.4-1.2.3.9'), 'unsupported');
  assert.equal(kind('1.2.3.256'), 'invalid');
  assert.equal(kind('1.2.3'), 'invalid');
  assert.equal(kind('localhost'), 'invalid');
  assert.equal(kind('-bad-.example'), 'invalid');
  assert.equal(kind(''), 'invalid');
});

test('plain list: comments, blank lines, CIDRs v4/v6, domains, bad lines located', () => {
  const r = parse('list.txt');
  assert.equal(r.format, 'list');
  assert.deepEqual(r.indicators.map(brief), [
    'ipv4 198.51.100.7 any',
    'ipv4 203.0.113.0/24 any',
    'ipv4 192.0.2.128/25 any',
    'ipv4 10.0.0.0/8 any',
    'ipv6 2001:db8:bad::1 any',
    'ipv6 2001:db8:bad:cafe::/64 any',
    'ipv4 192.0.2.1 any',
    'domain evil.example any',
    'domain wildcard.example any',
    'domain bad.actor.example any',
  ]);
  assert.deepEqual(r.indicators.map((i) => i.provenance).slice(0, 2), ['line 4', 'line 5']);
  assert.ok(r.indicators.every((i) => i.feed === 'list.txt' && i.revoked === false && i.validUntil === undefined));
  assert.deepEqual(r.invalid, ['feeds/list.txt:14', 'feeds/list.txt:15', 'feeds/list.txt:18']);
  assert.deepEqual(r.unsupported, ['feeds/list.txt:16', 'feeds/list.txt:17']);
});

test('CSV with a header: indicator column by name, port, confidence, dates, types', () => {
  const r = parse('indicators.csv');
  assert.equal(r.format, 'csv');
  assert.deepEqual(r.indicators.map(brief), ['ipv4 198.51.100.20 any:443', 'ipv4 198.51.100.21 any', 'ipv6 2001:db8:1::/48 any', 'domain evil-csv.example any']);
  assert.equal(r.indicators[0]?.confidence, 80);
  assert.equal(r.indicators[0]?.seenAt, Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(r.indicators[3]?.seenAt, Date.parse('2024-05-03T00:00:00Z'));
  assert.equal(r.indicators[1]?.seenAt, undefined);
  assert.equal(r.indicators[0]?.provenance, 'line 2');
  assert.deepEqual(r.unsupported, ['feeds/indicators.csv:6']);
  assert.deepEqual(r.invalid, ['feeds/indicators.csv:7', 'feeds/indicators.csv:8']);
});

test('CSV with a commented header (abuse.ch): dst side and port', () => {
  const r = parse('abusech.csv');
  assert.equal(r.format, 'csv');
  assert.deepEqual(r.indicators.map(brief), ['ipv4 192.0.2.50 dst:8080', 'ipv4 192.0.2.51 dst:443']);
  assert.equal(r.indicators[0]?.seenAt, Date.parse('2024-05-01T00:00:00Z'), 'last_online wins over first_seen');
  assert.deepEqual(r.invalid, []);
});

test('CSV (OTX export): quoted cells, URL rows unsupported', () => {
  const r = parse('otx.csv');
  assert.deepEqual(r.indicators.map(brief), ['ipv4 203.0.113.77 any', 'domain otx-bad.example any']);
  assert.deepEqual(r.unsupported, ['feeds/otx.csv:4']);
  assert.deepEqual(splitCsvLine('IPv4,203.0.113.77,"scanner, seen in ""campaign"" X"', ','), ['IPv4', '203.0.113.77', 'scanner, seen in "campaign" X']);
});

test('CSV tokenised by csv-parse: a line with broken quotes is one located invalid indicator, the lines after it still load', () => {
  const text = ['indicator;type;note', '"198.51.100.1";ip;"a ""quoted""; note"', '"198.51.100.2;ip;quote never closed', '198.51.100.3 ; ip ; plain', '"198.51.100.4"x;ip;text after the closing quote', 'x"198.51.100.5;ip;stray quote inside an unquoted cell'].join('\n');
  const invalid: string[] = [];
  const ctx: FeedContext = { feed: 'q', file: 'q.csv', invalid: (l, m) => invalid.push(`${l} ${m}`), unsupported: (l, m) => invalid.push(`${l} unsupported ${m}`), skip: () => {}, fail: (l, m) => invalid.push(`${l} fail ${m}`) };
  const r = parseFeed(text, ctx, { format: 'csv' });
  assert.deepEqual(r.indicators.map(brief), ['ipv4 198.51.100.1 any', 'ipv4 198.51.100.3 any']);
  assert.equal(invalid.length, 3);
  assert.match(invalid[0] ?? '', /^q\.csv:3 not a valid CSV line: Quote Not Closed/);
  assert.match(invalid[1] ?? '', /^q\.csv:5 not a valid CSV line: Invalid Closing Quote/);
  assert.match(invalid[2] ?? '', /^q\.csv:6 /);
  assert.deepEqual(splitCsvLine('a;"b;c', ';'), undefined);
  assert.deepEqual(splitCsvLine(' a | "b|c" |', '|'), ['a', 'b|c', '']);
});

test('CSV with the indicator column named by option; without it the feed is rejected', () => {
  const named = parse('custom-column.csv', 'host_ip_addr');
  assert.equal(named.format, 'csv');
  assert.deepEqual(named.indicators.map(brief), ['ipv4 192.0.2.99 any']);
  const forced = (() => {
    const text = readFileSync(new URL('../fixtures/intel/custom-column.csv', import.meta.url), 'utf8');
    const failed: string[] = [];
    const ctx: FeedContext = { feed: 'c', file: 'c.csv', invalid: () => {}, unsupported: () => {}, skip: () => {}, fail: (l, m) => failed.push(`${l} ${m}`) };
    parseFeed(text, ctx, { format: 'csv' });
    return failed;
  })();
  assert.match(forced[0] ?? '', /^c\.csv:1 CSV feed has no header naming an indicator column/);
  assert.equal(detectTextFeed('host_ip_addr;notes\n192.0.2.99;x\n'), 'list');
});

test('STIX 2.1 bundle: patterns, validity, revocation, unsupported and invalid indicators', () => {
  const r = parse('stix-bundle.json');
  assert.equal(r.format, 'stix');
  const by = new Map(r.indicators.map((i) => [i.value, i]));
  assert.deepEqual(r.indicators.map(brief), [
    'ipv4 192.0.2.10 any',
    'ipv4 198.51.100.0/24 any',
    'ipv6 2001:db8:ffff::1 any',
    'domain stix-evil.example any',
    'ipv4 5.6.7.8 dst',
    'ipv4 9.9.9.9 src',
    'ipv4 5.6.7.9 dst:5678',
    'ipv4 192.0.2.11 any',
    'ipv4 192.0.2.12 any',
    'ipv4 192.0.2.13 any',
    'ipv4 192.0.2.20 any',
    'ipv4 192.0.2.21 any',
    'ipv4 192.0.2.22 any',
    'ipv4 192.0.2.60 any',
  ]);
  assert.equal(by.get('192.0.2.10')?.confidence, 85);
  assert.equal(by.get('192.0.2.10')?.provenance, 'stix:indicator--00000000-0000-4000-8000-000000000001');
  assert.equal(by.get('192.0.2.10')?.validFrom, Date.parse('2024-04-01T00:00:00Z'));
  assert.equal(by.get('192.0.2.10')?.seenAt, Date.parse('2024-05-01T00:00:00Z'));
  assert.equal(by.get('192.0.2.20')?.validUntil, Date.parse('2024-04-15T00:00:00Z'));
  assert.equal(by.get('192.0.2.21')?.revoked, true);
  assert.equal(by.get('192.0.2.22')?.validFrom, Date.parse('2030-01-01T00:00:00Z'));
  const loc = (n: string): string => `feeds/stix-bundle.json#indicator--00000000-0000-4000-8000-0000000000${n}`;
  assert.deepEqual(r.unsupported, [loc('0c'), loc('0d'), loc('0e'), loc('11')]);
  assert.deepEqual(r.invalid, [loc('0f'), loc('10')]);
});

test('MISP event: to_ids only, types and sides, ports, objects, deleted, bad values', () => {
  const r = parse('misp-event.json');
  assert.equal(r.format, 'misp');
  assert.deepEqual(r.indicators.map(brief), [
    'ipv4 198.51.100.60 src',
    'ipv4 198.51.100.61 dst',
    'ipv4 198.51.100.62 dst:4444',
    'ipv6 2001:db8:5::1 src:53',
    'domain misp-evil.example any',
    'domain c2.misp-evil2.example any',
    'domain both.misp.example any',
    'ipv4 198.51.100.66 any',
    'ipv4 198.51.100.0/28 dst',
    'ipv4 198.51.100.70 dst',
  ]);
  const second = r.indicators[1];
  assert.equal(second?.validFrom, Date.parse('2024-04-01T00:00:00Z'));
  assert.equal(second?.seenAt, Date.parse('2024-05-01T00:00:00Z'), 'last_seen');
  assert.equal(r.indicators[0]?.seenAt, 1714521600 * 1000, 'attribute timestamp');
  assert.equal(r.indicators[0]?.provenance, 'misp:event 1234 attr a0000000-0000-4000-8000-000000000001');
  assert.equal(r.skipped, 3, 'to_ids false, deleted, the port attribute (to_ids false)');
  assert.deepEqual(r.unsupported, ['feeds/misp-event.json#event-1234/attribute-a0000000-0000-4000-8000-000000000009'], 'md5 with to_ids: a kind we do not match');
  assert.deepEqual(r.invalid, [
    'feeds/misp-event.json#event-1234/attribute-a0000000-0000-4000-8000-00000000000a',
    'feeds/misp-event.json#event-1234/attribute-a0000000-0000-4000-8000-00000000000b',
  ]);
});

test('MISP response list: every event read', () => {
  const r = parse('misp-response.json');
  assert.equal(r.format, 'misp');
  assert.deepEqual(r.indicators.map((i) => [i.value, i.provenance]), [
    ['192.0.2.100', 'misp:event 1 attr c0000000-0000-4000-8000-000000000001'],
    ['192.0.2.101', 'misp:event 2 attr c0000000-0000-4000-8000-000000000002'],
  ]);
});

test('broken JSON and unknown JSON are feed errors', () => {
  assert.match(parse('broken.json').failed[0] ?? '', /^feeds\/broken\.json invalid JSON/);
  const ctx: FeedContext = { feed: 'x', file: 'x.json', invalid: () => {}, unsupported: () => {}, skip: () => {}, fail: (l, m) => failed.push(`${l} ${m}`) };
  const failed: string[] = [];
  parseFeed('{"hello": "world"}', ctx);
  assert.match(failed[0] ?? '', /neither STIX 2\.1 .* nor MISP/);
});
