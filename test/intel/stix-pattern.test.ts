import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStixPattern, type StixTerm } from '../../src/intel/stix-pattern.ts';

function terms(pattern: string): StixTerm[] {
  const r = parseStixPattern(pattern);
  assert.ok(r.ok, `${pattern}: ${r.ok ? '' : r.error}`);
  return r.terms;
}

function unsupported(pattern: string): string[] {
  const r = parseStixPattern(pattern);
  assert.ok(r.ok, pattern);
  assert.deepEqual(r.terms, [], pattern);
  return r.unsupported;
}

test('simple address patterns', () => {
  assert.deepEqual(terms("[ipv4-addr:value = '1.2.3.4']"), [{ kind: 'ipv4', value: '1.2.3.4', side: 'any' }]);
  assert.deepEqual(terms("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"), [{ kind: 'ipv4', value: '198.51.100.0/24', side: 'any' }]);
  assert.deepEqual(terms("[ipv6-addr:value = '2001:db8::1']"), [{ kind: 'ipv6', value: '2001:db8::1', side: 'any' }]);
  assert.deepEqual(terms("[domain-name:value = 'evil.example']"), [{ kind: 'domain', value: 'evil.example', side: 'any' }]);
  assert.deepEqual(terms("  [ ipv4-addr:value='1.2.3.4' ]  "), [{ kind: 'ipv4', value: '1.2.3.4', side: 'any' }]);
  assert.deepEqual(terms("[domain-name:value = 'it\\'s.example']")[0]?.value, "it's.example");
});

test('MISP network-traffic forms: side, ref type, port', () => {
  assert.deepEqual(terms("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8']"), [
    { kind: 'ipv4', value: '5.6.7.8', side: 'dst' },
  ]);
  assert.deepEqual(terms("[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = '2001:db8::9']"), [
    { kind: 'ipv6', value: '2001:db8::9', side: 'src' },
  ]);
  assert.deepEqual(
    terms("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = '5678']"),
    [{ kind: 'ipv4', value: '5.6.7.8', side: 'dst', port: 5678 }],
  );
  assert.deepEqual(terms('[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value = \'5.6.7.8\']'), [
    { kind: 'ipv4', value: '5.6.7.8', side: 'dst', port: 443 },
  ]);
  assert.deepEqual(terms("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'c2.example']"), [
    { kind: 'domain', value: 'c2.example', side: 'dst' },
  ]);
});

test('OR between comparisons and observations; IN lists; parentheses', () => {
  assert.deepEqual(
    terms("[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2'] OR ([ipv6-addr:value = '::2'])").map((t) => t.value),
    ['1.1.1.1', '2.2.2.2', '::2'],
  );
  assert.deepEqual(terms("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]").map((t) => t.value), ['1.1.1.1', '2.2.2.2']);
  assert.deepEqual(
    terms("[(network-traffic:dst_ref.value = '1.1.1.1' OR network-traffic:dst_ref.value = '2.2.2.2') AND network-traffic:dst_port = 22]"),
    [
      { kind: 'ipv4', value: '1.1.1.1', side: 'dst', port: 22 },
      { kind: 'ipv4', value: '2.2.2.2', side: 'dst', port: 22 },
    ],
  );
});

test('qualifiers: START/STOP narrow validity, WITHIN ignored, REPEATS unsupported', () => {
  const r = parseStixPattern("[ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'");
  assert.ok(r.ok);
  assert.equal(r.start, Date.parse('2024-01-01T00:00:00Z'));
  assert.equal(r.stop, Date.parse('2024-02-01T00:00:00Z'));
  assert.equal(terms("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS").length, 1);
  assert.match(unsupported("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES").join(), /REPEATS/);
});

test('unsupported patterns are reported, not guessed', () => {
  assert.match(unsupported("[url:value = 'http://x.example/']").join(), /url:value/);
  assert.match(unsupported("[file:hashes.'SHA-256' = 'abc']").join(), /file:hashes/);
  assert.match(unsupported("[ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2']").join(), /AND between observations/);
  assert.match(unsupported("[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2']").join(), /FOLLOWEDBY/);
  assert.match(unsupported("[ipv4-addr:value != '1.1.1.1']").join(), /operator !=/);
  assert.match(unsupported("[ipv4-addr:value NOT = '1.1.1.1']").join(), /negated/);
  assert.match(unsupported("[domain-name:value MATCHES '^evil']").join(), /MATCHES/);
  assert.match(unsupported("[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '1.2.3.4']").join(), /resolves_to_refs/);
  assert.match(unsupported("[network-traffic:dst_ref.value = '1.1.1.1' AND network-traffic:src_ref.value = '2.2.2.2']").join(), /more than one address/);
  assert.match(unsupported("[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = '1.1.1.1']").join(), /does not fit/);
  // A supported alternative next to an unsupported one is kept.
  const mixed = parseStixPattern("[ipv4-addr:value = '1.1.1.1'] OR [url:value = 'http://x/']");
  assert.ok(mixed.ok);
  assert.equal(mixed.terms.length, 1);
  assert.equal(mixed.unsupported.length, 1);
});

test('syntax errors', () => {
  for (const bad of ["[ipv4-addr:value = '1.2.3.4'", "ipv4-addr:value = '1.2.3.4'", "[ipv4-addr:value = ]", "[ipv4-addr:value = 'x' AND]", "[ipv4-addr:value = 'unterminated]", '', "[ipv4-addr:value = '1.2.3.4'] garbage"]) {
    const r = parseStixPattern(bad);
    assert.equal(r.ok, false, bad);
  }
});
