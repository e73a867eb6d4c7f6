import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIPv4 } from '../../src/core/ipv4.ts';
import { formatIPv4, formatIPv6, parseIPv6, parseNetwork } from '../../src/intel/ip-address.ts';

test('IPv4: strict dotted quads', () => {
  assert.equal(parseIPv4('0.0.0.0'), 0);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIPv4('192.0.2.1'), 0xc0000201);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.04', '1..3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-1']) {
    assert.equal(parseIPv4(bad), -1, bad);
  }
  assert.equal(formatIPv4(0xc0000201), '192.0.2.1');
});

test('IPv6: RFC 4291 text forms in, RFC 5952 out', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['2a02:cf40::', '2a02:cf40::'],
  ];
  for (const [input, canonical] of cases) {
    const words = parseIPv6(input);
    assert.ok(words, input);
    assert.equal(formatIPv6(words), canonical, input);
  }
  for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '1.2.3.4', '::1:', 'fe80::1%eth0']) {
    assert.equal(parseIPv6(bad), undefined, bad);
  }
});

test('networks: canonical text, host bits cleared, mapped IPv4 as IPv4', () => {
  const cases: [string, string, string][] = [
    ['192.0.2.1', 'ipv4', '192.0.2.1'],
    ['192.0.2.1/32', 'ipv4', '192.0.2.1'],
    ['10.1.2.3/8', 'ipv4', '10.0.0.0/8'],
    ['0.0.0.0/0', 'ipv4', '0.0.0.0/0'],
    ['2001:DB8:BAD:CAFE::1/64', 'ipv6', '2001:db8:bad:cafe::/64'],
    ['2001:db8::1/128', 'ipv6', '2001:db8::1'],
    ['::ffff:192.0.2.1', 'ipv4', '192.0.2.1'],
    ['::ffff:192.0.2.0/120', 'ipv4', '192.0.2.0/24'],
  ];
  for (const [input, kind, canonical] of cases) {
    const net = parseNetwork(input);
    assert.equal(net?.kind, kind, input);
    assert.equal(net?.canonical, canonical, input);
  }
  const block = parseNetwork('198.51.100.0/24');
  assert.equal(block?.kind === 'ipv4' && block.end, 0xc63364ff);
  for (const bad of ['1.2.3.4/33', '1.2.3.4/', '1.2.3.4/x', '::/129', 'evil.example', '1.2.3.4/-1']) {
    assert.equal(parseNetwork(bad), undefined, bad);
  }
});
