/**
 * Hostile feeds: networks too broad to be indicators (in every feed format), malformed STIX
 * entries, and patterns built to exhaust the parser. Each is a located error with its code and
 * a count; everything else in the feed still loads.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFeeds, type FeedSource } from '../../src/intel/load.ts';
import { DEFAULT_NETWORK_LIMITS, parseNetworkLimits, type NetworkLimits } from '../../src/intel/network-limits.ts';
import { parseIndicatorValue } from '../../src/intel/indicator-value.ts';
import { MAX_PATTERN_DEPTH, MAX_PATTERN_LENGTH, parseStixPattern } from '../../src/intel/stix-pattern.ts';
import type { LocatedError } from '../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'trailhound-hostile-feeds-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.now();
let n = 0;
function feedFile(ext: string, text: string): string {
  const path = join(dir, `feed-${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** Refused whatever the limits. */
const ALWAYS_REFUSED = ['::', '0.0.0.0', '0.0.0.0/32', '::0/128', '0:0:0:0:0:0:0:0', '::ffff:0:0/96', '::ffff:0.0.0.0/96', '::ffff:0.0.0.0'];
/** Refused by the default limits (nothing wider than /8 for IPv4, /32 for IPv6). */
const TOO_BROAD = ['0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1', '10.0.0.0/7', '11.1.2.3/7', '64.0.0.0/2', '::/0', '::/1', '::/16', '2000::/3', '2001:db8::/31', '::ffff:10.0.0.0/103', '::ffff:0.0.0.0/97'];
/** Accepted by the default limits. */
const ACCEPTED: [string, string][] = [
  ['10.0.0.0/8', '10.0.0.0/8'],
  ['0.0.0.0/8', '0.0.0.0/8'],
  ['198.51.100.0/24', '198.51.100.0/24'],
  ['198.51.100.7', '198.51.100.7'],
  ['::/32', '::/32'],
  ['2001:db8::/32', '2001:db8::/32'],
  ['2001:db8::1', '2001:db8::1'],
  ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
  ['::ffff:198.51.100.9', '198.51.100.9'],
];

const refusedLocations = (errors: readonly LocatedError[]): string[] => errors.filter((e) => e.code === 'TH_INTEL_TOO_BROAD').map((e) => e.location);

test('limits: v4=/N,v6=/M parsed strictly; a family left out keeps its default', () => {
  assert.deepEqual(DEFAULT_NETWORK_LIMITS, { v4: 8, v6: 32 });
  const ok: [string, NetworkLimits][] = [
    ['v4=/8,v6=/32', { v4: 8, v6: 32 }],
    ['v4=/0', { v4: 0, v6: 32 }],
    ['v6=48', { v4: 8, v6: 48 }],
    [' V4 = /16 , ipv6=/64 ', { v4: 16, v6: 64 }],
    ['v4=/32,v6=/128', { v4: 32, v6: 128 }],
  ];
  for (const [text, limits] of ok) assert.deepEqual(parseNetworkLimits(text), limits, text);
  for (const bad of ['', ',', 'v4=/33', 'v6=/129', 'v5=/8', '8', '/8', 'v4=/8,', 'v4=/8,v4=/9', 'v4=-1', 'v4=/8;v6=/32', 'v4=/1e1', `v4=/8,${'v6=/32,'.repeat(30)}`]) {
    assert.equal(typeof parseNetworkLimits(bad), 'string', JSON.stringify(bad));
  }
});

test('indicator values: broad networks refused only when limits are given (sniffing an input list does not apply them)', () => {
  for (const text of [...ALWAYS_REFUSED, ...TOO_BROAD]) {
    const value = parseIndicatorValue(text, DEFAULT_NETWORK_LIMITS);
    assert.ok(!value.ok && value.tooBroad === true, text);
    assert.ok(parseIndicatorValue(text).ok, `${text} without limits`);
  }
  for (const [text, canonical] of ACCEPTED) {
    const value = parseIndicatorValue(text, DEFAULT_NETWORK_LIMITS);
    assert.ok(value.ok && value.value === canonical, text);
  }
  const open = { v4: 0, v6: 0 };
  for (const text of TOO_BROAD) assert.ok(parseIndicatorValue(text, open).ok, `${text} with v4=/0,v6=/0`);
  for (const text of ALWAYS_REFUSED) {
    const value = parseIndicatorValue(text, open);
    assert.ok(!value.ok && value.tooBroad === true, `${text} with v4=/0,v6=/0`);
  }
  const strict = { v4: 24, v6: 64 };
  assert.ok(!parseIndicatorValue('10.0.0.0/8', strict).ok);
  assert.ok(!parseIndicatorValue('2001:db8::/48', strict).ok);
  assert.ok(parseIndicatorValue('198.51.100.0/24', strict).ok);
  // Defanged and padded forms are judged after refanging.
  const defanged = parseIndicatorValue(' 0[.]0[.]0[.]0/0 ', DEFAULT_NETWORK_LIMITS);
  assert.ok(!defanged.ok && defanged.tooBroad === true);
});

/** One feed per format, holding the given values; where each value sits (its location). */
function feedsOf(values: readonly string[]): { source: FeedSource; locations: string[] }[] {
  const list = feedFile('txt', ['# hostile list', ...values.map((v) => `${v}   # entry`)].join('\n'));
  const csv = feedFile('csv', ['indicator,type,last_seen', ...values.map((v) => `${v},ip,${new Date(NOW).toISOString()}`)].join('\n'));
  const id = (i: number, k: number): string => `indicator--00000000-0000-4000-8000-${String(k * 1000 + i).padStart(12, '0')}`;
  const patterns: ((v: string) => string)[] = [
    (v) => `[${v.includes(':') ? 'ipv6' : 'ipv4'}-addr:value ${v.includes('/') ? 'ISSUBSET' : '='} '${v}']`,
    (v) => `[network-traffic:dst_ref.value = '${v}' AND network-traffic:dst_port = 443]`,
    (v) => `[${v.includes(':') ? 'ipv6' : 'ipv4'}-addr:value IN ('${v}')]`,
  ];
  const stix = patterns.map((pattern, k) =>
    feedFile(
      'json',
      JSON.stringify({
        type: 'bundle',
        id: 'bundle--00000000-0000-4000-8000-000000000000',
        objects: values.map((v, i) => ({ type: 'indicator', spec_version: '2.1', id: id(i, k), pattern: pattern(v), pattern_type: 'stix', valid_from: new Date(NOW - 1000).toISOString(), modified: new Date(NOW).toISOString() })),
      }),
    ),
  );
  const uuid = (i: number): string => `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const ts = String(Math.floor(NOW / 1000));
  const misp = feedFile(
    'json',
    JSON.stringify({ Event: { id: '7', info: 'hostile', timestamp: ts, Attribute: values.map((v, i) => ({ uuid: uuid(i), type: 'ip-dst', value: v, to_ids: true, timestamp: ts })) } }),
  );
  return [
    { source: { path: list }, locations: values.map((_, i) => `${list}:${i + 2}`) },
    { source: { path: csv }, locations: values.map((_, i) => `${csv}:${i + 2}`) },
    ...stix.map((path, k) => ({ source: { path }, locations: values.map((_, i) => `${path}#${id(i, k)}`) })),
    { source: { path: misp }, locations: values.map((_, i) => `${misp}#event-7/attribute-${uuid(i)}`) },
  ];
}

test('every feed format: broad networks refused, located, counted as refused; the rest loads and matches', async () => {
  const hostile = [...ALWAYS_REFUSED, ...TOO_BROAD];
  const values = [...hostile, ...ACCEPTED.map(([v]) => v)];
  for (const { source, locations } of feedsOf(values)) {
    const { index, stats, errors } = await loadFeeds([source], { now: NOW });
    const s = stats[0];
    assert.ok(s !== undefined);
    assert.equal(s.refused, hostile.length, `${source.path} (${s.format}): ${JSON.stringify(errors.slice(0, 3))}`);
    assert.equal(s.invalid, 0, source.path);
    assert.equal(s.loaded.ipv4 + s.loaded.ipv6, ACCEPTED.length, source.path);
    assert.deepEqual(refusedLocations(errors), locations.slice(0, hostile.length), `${source.path}: each refusal is located where the indicator is`);
    assert.ok(errors.every((e) => e.code === 'TH_INTEL_TOO_BROAD'), source.path);
    assert.deepEqual(index.indicators.map((i) => i.value).sort(), ACCEPTED.map(([, canonical]) => canonical).sort(), source.path);
    // Nothing broad reached the index: a private address and an arbitrary public one match nothing.
    assert.deepEqual(index.lookupIp('172.16.5.4'), [], source.path);
    assert.deepEqual(index.lookupIp('8.8.8.8'), [], source.path);
    assert.deepEqual(index.lookupIp('2600::1'), [], source.path);
    assert.equal(index.lookupIp('10.1.2.3').length, 2, `${source.path}: 10.0.0.0/8 and ::ffff:10.0.0.0/104 are kept`);
    assert.equal(index.lookupIp('198.51.100.7').length, 2, source.path);
  }
});

test('limits are configurable per load and per feed; the always-refused stay refused', async () => {
  const values = ['0.0.0.0/0', '::/0', '10.0.0.0/8', '::', '0.0.0.0', '::ffff:0:0/96', '198.51.100.0/24'];
  const [list] = feedsOf(values);
  assert.ok(list !== undefined);
  const open = await loadFeeds([list.source], { now: NOW, limits: { v4: 0, v6: 0 } });
  assert.equal(open.stats[0]?.refused, 3);
  assert.deepEqual(refusedLocations(open.errors), [list.locations[3], list.locations[4], list.locations[5]]);
  assert.equal(open.index.lookupIp('172.16.5.4').length, 1, '0.0.0.0/0 was allowed explicitly');
  const strict = await loadFeeds([{ ...list.source, limits: { v4: 16, v6: 48 } }], { now: NOW, limits: { v4: 0, v6: 0 } });
  assert.equal(strict.stats[0]?.refused, 6, 'the feed\'s own limits win: 10.0.0.0/8 refused too');
  assert.deepEqual(strict.index.indicators.map((i) => i.value), ['198.51.100.0/24']);
});

test('refusals share the per-feed error cap; the count stays exact', async () => {
  const values = Array.from({ length: 250 }, (_, i) => `${i % 2 === 0 ? '0.0.0.0' : '::'}/${i % 8}`);
  const path = feedFile('txt', [...values, '198.51.100.1'].join('\n'));
  const { stats, errors, index } = await loadFeeds([path], { now: NOW, maxErrorsPerFeed: 20 });
  assert.equal(stats[0]?.refused, 250);
  assert.equal(refusedLocations(errors).length, 20);
  assert.match(errors.at(-1)?.message ?? '', /230 more/);
  assert.equal(index.indicators.length, 1);
});

// ---- malformed STIX entries ----

const GOOD = (i: number): Record<string, unknown> => ({ type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`, pattern: `[ipv4-addr:value = '198.51.100.${i}']`, pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', modified: new Date(NOW).toISOString() });

const MALFORMED: [string, unknown, RegExp][] = [
  ['no pattern', { ...GOOD(0), pattern: undefined }, /no pattern/],
  ['pattern a number', { ...GOOD(0), pattern: 7 }, /pattern is a number/],
  ['pattern an object', { ...GOOD(0), pattern: { value: '1.2.3.4' } }, /pattern is an object/],
  ['pattern_type a number', { ...GOOD(0), pattern_type: 1 }, /pattern_type is a number/],
  ['pattern_type null', { ...GOOD(0), pattern_type: null }, /pattern_type is null/],
  ['invalid pattern', { ...GOOD(0), pattern: "[ipv4-addr:value = '1.2.3.4'" }, /invalid STIX pattern/],
  ['empty pattern', { ...GOOD(0), pattern: '' }, /invalid STIX pattern/],
  ['bad START', { ...GOOD(0), pattern: "[ipv4-addr:value = '1.2.3.4'] START t'yesterday' STOP t'2030-01-01T00:00:00Z'" }, /START .* not a STIX timestamp/],
  ['STOP before START', { ...GOOD(0), pattern: "[ipv4-addr:value = '1.2.3.4'] START t'2030-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'" }, /STOP is not after START/],
  ['negative WITHIN', { ...GOOD(0), pattern: "[ipv4-addr:value = '1.2.3.4'] WITHIN -5 SECONDS" }, /WITHIN needs a positive/],
  ['REPEATS 0', { ...GOOD(0), pattern: "[ipv4-addr:value = '1.2.3.4'] REPEATS 0 TIMES" }, /REPEATS needs a positive/],
  ['valid_until garbage', { ...GOOD(0), valid_until: 'soon' }, /valid_until "soon" is not a timestamp/],
  ['valid_from an object', { ...GOOD(0), valid_from: {} }, /valid_from is an object/],
  ['valid_until before valid_from', { ...GOOD(0), valid_until: '2023-01-01T00:00:00Z' }, /valid_until is not after valid_from/],
  ['modified garbage', { ...GOOD(0), modified: 'recently' }, /modified "recently"/],
  ['created a boolean', { ...GOOD(0), created: true }, /created is a boolean/],
  ['revoked a string', { ...GOOD(0), revoked: 'false' }, /revoked is a string/],
  ['confidence a string', { ...GOOD(0), confidence: '80' }, /confidence is a string/],
  ['confidence out of range', { ...GOOD(0), confidence: 500 }, /confidence 500/],
  ['confidence fractional', { ...GOOD(0), confidence: 0.5 }, /confidence 0\.5/],
  ['id a number', { ...GOOD(0), id: 12 }, /id is a number/],
  ['no id', { ...GOOD(0), id: undefined }, /no id/],
  ['id with a newline', { ...GOOD(0), id: 'indicator--x\nerror: forged' }, /id is empty, too long or holds/],
  ['id too long', { ...GOOD(0), id: `indicator--${'a'.repeat(300)}` }, /id is empty, too long/],
  ['type a number', { ...GOOD(0), type: 5 }, /type is a number/],
  ['no type', { ...GOOD(0), type: undefined }, /has no type/],
  ['entry a number', 42, /is a number, not a STIX object/],
  ['entry null', null, /is null, not a STIX object/],
  ['entry a string', 'indicator', /is a string, not a STIX object/],
  ['entry an array', [GOOD(0)], /is an array, not a STIX object/],
  ['pattern too long', { ...GOOD(0), pattern: `[ipv4-addr:value = '${'1'.repeat(MAX_PATTERN_LENGTH)}']` }, /longer than/],
  ['pattern nested too deep', { ...GOOD(0), pattern: `${'('.repeat(5000)}[ipv4-addr:value = '1.2.3.4']${')'.repeat(5000)}` }, /nest deeper/],
  ['comparisons nested too deep', { ...GOOD(0), pattern: `[${'('.repeat(MAX_PATTERN_DEPTH + 1)}ipv4-addr:value = '1.2.3.4'${')'.repeat(MAX_PATTERN_DEPTH + 1)}]` }, /nest deeper/],
  ['value of the wrong kind', { ...GOOD(0), pattern: "[ipv4-addr:value = 'evil.example']" }, /not a valid ipv4/],
  ['value forging a log line', { ...GOOD(0), pattern: "[domain-name:value = 'x\nerror: forged.example: TH_INTEL_FEED']" }, /\\nerror: forged/],
  ['value with terminal escapes', { ...GOOD(0), pattern: "[ipv4-addr:value = '\u001b[31m1.2.3.4']" }, /\\u001b/],
];

test('malformed STIX entries: each a located TH_INTEL_INDICATOR, counted invalid; every good indicator around them loads', async () => {
  const objects: unknown[] = [GOOD(1), { type: 'identity', id: 'identity--00000000-0000-4000-8000-000000000001', name: 'not an indicator: passed over' }];
  const expected: { location: RegExp; message: RegExp; what: string }[] = [];
  MALFORMED.forEach(([what, entry, message], i) => {
    const at = objects.length;
    if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
      const obj = entry as Record<string, unknown>;
      if (obj.id === GOOD(0).id) obj.id = `indicator--00000000-0000-4000-8000-1000000000${String(i).padStart(2, '0')}`;
      const loc = typeof obj.id === 'string' && !/[\s]/.test(obj.id) && obj.id.length <= 256 && typeof obj.type === 'string' ? `#${obj.id}` : `#objects[${at}]`;
      expected.push({ location: new RegExp(`${loc.replace(/[[\]]/g, '\\$&')}$`), message, what });
    } else {
      expected.push({ location: new RegExp(`#objects\\[${at}\\]$`), message, what });
    }
    objects.push(entry);
    objects.push(GOOD(10 + i));
  });
  const path = feedFile('json', JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000009', objects }));
  const { stats, errors, index } = await loadFeeds([path], { now: NOW, maxErrorsPerFeed: 1000 });
  assert.equal(stats[0]?.format, 'stix');
  assert.equal(errors.length, MALFORMED.length, errors.map((e) => `${e.location} ${e.message}`).join('\n'));
  errors.forEach((error, i) => {
    const want = expected[i];
    assert.ok(want !== undefined);
    assert.equal(error.code, 'TH_INTEL_INDICATOR', want.what);
    assert.ok(error.location.startsWith(`${path}#`), want.what);
    assert.match(error.location, want.location, want.what);
    assert.match(error.message, want.message, want.what);
    assert.ok(!error.message.includes('\n'), `${want.what}: messages stay on one line`);
    assert.ok(error.message.length < 600, `${want.what}: messages stay short`);
  });
  assert.equal(stats[0]?.invalid, MALFORMED.length);
  assert.equal(index.indicators.length, 1 + MALFORMED.length, 'every good indicator loaded');
});

test('a bundle whose objects is not an array is a feed error, not an empty feed', async () => {
  for (const objects of [{}, 'x', 3]) {
    const path = feedFile('json', JSON.stringify({ type: 'bundle', id: 'bundle--1', objects }));
    const { errors } = await loadFeeds([path], { now: NOW });
    assert.equal(errors[0]?.code, 'TH_INTEL_FEED', JSON.stringify(objects));
    assert.match(errors[0]?.message ?? '', /not an array/);
  }
});

test('MISP: an attribute that is not an object is reported, the others load', async () => {
  const ts = String(Math.floor(NOW / 1000));
  const path = feedFile(
    'json',
    JSON.stringify({ Event: { id: '9', info: 'x', timestamp: ts, Attribute: [null, 5, 'ip-dst', { uuid: 'u1', type: 'ip-dst', value: '198.51.100.1', to_ids: true, timestamp: ts }] } }),
  );
  const { errors, index } = await loadFeeds([path], { now: NOW });
  assert.deepEqual(errors.map((e) => [e.code, e.location.slice(path.length)]), [
    ['TH_INTEL_INDICATOR', '#event-9/Attribute[0]'],
    ['TH_INTEL_INDICATOR', '#event-9/Attribute[1]'],
    ['TH_INTEL_INDICATOR', '#event-9/Attribute[2]'],
  ]);
  assert.equal(index.indicators.length, 1);
});

// ---- bounded pattern work ----

function timed(pattern: string): { ms: number; result: ReturnType<typeof parseStixPattern> } {
  const started = performance.now();
  const result = parseStixPattern(pattern);
  return { ms: performance.now() - started, result };
}

test('hostile patterns: refused quickly, never a stack overflow or a hang', () => {
  const cmp = "ipv4-addr:value = '1.2.3.4'";
  const fit = (unit: string, sep: string, open = '', close = ''): string => {
    const count = Math.floor((MAX_PATTERN_LENGTH - open.length - close.length) / (unit.length + sep.length));
    return open + Array(count).fill(unit).join(sep) + close;
  };
  const hostile: [string, string, RegExp][] = [
    ['observation parentheses x100000', `${'('.repeat(100_000)}[${cmp}]${')'.repeat(100_000)}`, /longer than/],
    ['observation parentheses x30000', `${'('.repeat(30_000)}[${cmp}]${')'.repeat(30_000)}`, /nest deeper/],
    ['comparison parentheses x30000', `[${'('.repeat(30_000)}${cmp}${')'.repeat(30_000)}]`, /nest deeper/],
    ['unbalanced parentheses x60000', '('.repeat(60_000), /nest deeper|expected/],
    ['OR chain', fit("a:b='1'", ' OR ', '[', ']'), /alternatives/],
    ['AND chain', fit("a:b='1'", ' AND ', '[', ']'), /ANDs more than/],
    ['observation OR chain', fit("[a:b='1']", ' OR '), /alternatives/],
    ['IN list', fit("'1.2.3.4'", ',', '[ipv4-addr:value IN (', ')]'), /IN lists more than/],
    ['AND of ORs', `[${Array(40).fill("(a:b='1' OR a:b='2')").join(' AND ')}]`, /too many alternatives/],
    ['one huge string', `[${cmp.slice(0, -1)}${'x'.repeat(MAX_PATTERN_LENGTH)}']`, /longer than/],
    ['unterminated string', `[a:b = '${'x'.repeat(MAX_PATTERN_LENGTH - 20)}`, /unterminated/],
    ['junk after', `[${cmp}] ${'x'.repeat(MAX_PATTERN_LENGTH - 40)}`, /unexpected/],
    ['escapes', `[a:b = '${'\\\\'.repeat(30_000)}`, /unterminated/],
  ];
  for (const [what, pattern, error] of hostile) {
    const { ms, result } = timed(pattern);
    assert.equal(result.ok, false, what);
    if (!result.ok) assert.match(result.error, error, what);
    assert.ok(ms < 1500, `${what}: ${ms.toFixed(0)} ms`);
  }
  // Long but legitimate: every part still works at the bounds.
  const deep = `${'('.repeat(MAX_PATTERN_DEPTH - 1)}[${cmp}]${')'.repeat(MAX_PATTERN_DEPTH - 1)}`;
  assert.ok(timed(deep).result.ok, 'nesting up to the bound');
  const many = timed(`[ipv4-addr:value IN (${Array.from({ length: 3000 }, (_, i) => `'10.0.${i >> 8}.${i & 255}'`).join(', ')})]`);
  assert.ok(many.result.ok && many.result.terms.length === 3000);
  const alternatives = timed(Array.from({ length: 1000 }, (_, i) => `[ipv4-addr:value = '10.1.${i >> 8}.${i & 255}']`).join(' OR '));
  assert.ok(alternatives.result.ok && alternatives.result.terms.length === 1000);
});
