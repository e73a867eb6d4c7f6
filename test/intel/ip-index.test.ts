import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPv4RangeIndex, IPv6RangeIndex } from '../../src/intel/ip-index.ts';
import { parseIPv4 } from '../../src/core/ipv4.ts';
import { parseIPv6, parseNetwork } from '../../src/intel/ip-address.ts';

function v4Index(cidrs: string[]): IPv4RangeIndex {
  const nets = cidrs.map((c) => {
    const n = parseNetwork(c);
    if (!n || n.kind !== 'ipv4') throw new Error(c);
    return n;
  });
  return IPv4RangeIndex.build(
    Uint32Array.from(nets.map((n) => n.start)),
    Uint8Array.from(nets.map((n) => n.prefix)),
    Uint32Array.from(nets.map((_, i) => i)),
  );
}

const ids = (index: IPv4RangeIndex, ip: string): number[] => [...index.lookup(parseIPv4(ip))];

test('IPv4: exact addresses, CIDR containment and boundaries', () => {
  const index = v4Index(['192.0.2.1', '198.51.100.0/24', '0.0.0.0/32', '255.255.255.255/32', '203.0.113.128/25']);
  assert.deepEqual(ids(index, '192.0.2.1'), [0]);
  assert.deepEqual(ids(index, '192.0.2.2'), []);
  assert.deepEqual(ids(index, '192.0.2.0'), []);
  assert.deepEqual(ids(index, '198.51.100.0'), [1]);
  assert.deepEqual(ids(index, '198.51.100.255'), [1]);
  assert.deepEqual(ids(index, '198.51.101.0'), []);
  assert.deepEqual(ids(index, '198.51.99.255'), []);
  assert.deepEqual(ids(index, '0.0.0.0'), [2]);
  assert.deepEqual(ids(index, '255.255.255.255'), [3]);
  assert.deepEqual(ids(index, '203.0.113.127'), []);
  assert.deepEqual(ids(index, '203.0.113.128'), [4]);
  assert.equal(index.find(parseIPv4('10.0.0.1')), -1);
});

test('IPv4: nested and duplicate blocks return every match, most specific first', () => {
  const index = v4Index(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '10.1.2.3', '0.0.0.0/0', '10.1.255.0/24']);
  assert.deepEqual(ids(index, '10.1.2.3'), [3, 2, 1, 0, 4]);
  assert.deepEqual(ids(index, '10.1.2.4'), [1, 0, 4]);
  assert.deepEqual(ids(index, '10.1.255.9'), [5, 1, 0, 4]);
  assert.deepEqual(ids(index, '10.2.0.0'), [0, 4]);
  assert.deepEqual(ids(index, '11.0.0.0'), [4]);
  assert.deepEqual(ids(index, '255.255.255.255'), [4]);
});

test('IPv4: random blocks agree with a naive scan', () => {
  let seed = 7;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const cidrs: string[] = [];
  for (let i = 0; i < 400; i++) {
    const prefix = [8, 12, 16, 20, 24, 28, 30, 32][rnd() % 8] as number;
    // Keep blocks inside 10.0.0.0/8 so that they overlap often.
    const ip = (0x0a000000 | (rnd() & 0x00ffffff)) >>> 0;
    cidrs.push(`${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/${prefix}`);
  }
  const nets = cidrs.map((c) => parseNetwork(c));
  const index = v4Index(cidrs);
  for (let q = 0; q < 5000; q++) {
    const ip = q % 2 === 0 ? (0x0a000000 | (rnd() & 0x00ffffff)) >>> 0 : rnd();
    const expected = nets
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => n?.kind === 'ipv4' && ip >= n.start && ip <= n.end)
      .map(({ i }) => i)
      .sort();
    assert.deepEqual([...index.lookup(ip)].sort(), expected, `ip ${ip}`);
  }
});

test('IPv6: containment, nesting, boundaries', () => {
  const cidrs = ['2001:db8::/32', '2001:db8:bad::/48', '2001:db8:bad::1', '::/0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8:bad::1'];
  const nets = cidrs.map((c) => parseNetwork(c));
  const index = IPv6RangeIndex.build(
    nets.map((n) => (n?.kind === 'ipv6' ? n.start : new Uint32Array(4))),
    nets.map((n) => n?.prefix ?? 0),
    nets.map((_, i) => i),
  );
  const look = (ip: string): number[] => [...index.lookup(parseIPv6(ip) ?? new Uint32Array(4))];
  assert.deepEqual(look('2001:db8:bad::1'), [5, 2, 1, 0, 3]);
  assert.deepEqual(look('2001:db8:bad::2'), [1, 0, 3]);
  assert.deepEqual(look('2001:db8:bad:ffff:ffff:ffff:ffff:ffff'), [1, 0, 3]);
  assert.deepEqual(look('2001:db8:bae::'), [0, 3]);
  assert.deepEqual(look('2001:db9::'), [3]);
  assert.deepEqual(look('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), [4, 3]);
  assert.deepEqual(look('::'), [3]);
  const empty = IPv6RangeIndex.build([], [], []);
  assert.deepEqual([...empty.lookup(parseIPv6('::1') ?? new Uint32Array(4))], []);
});

test('IPv6: random blocks agree with a naive scan', () => {
  let seed = 11;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const toBig = (w: ArrayLike<number>): bigint => (BigInt(w[0] ?? 0) << 96n) | (BigInt(w[1] ?? 0) << 64n) | (BigInt(w[2] ?? 0) << 32n) | BigInt(w[3] ?? 0);
  const starts: Uint32Array[] = [];
  const prefixes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const words = Uint32Array.of(0x20010db8, rnd() & 0xf, rnd() & 0xff, rnd());
    const prefix = [48, 56, 64, 96, 112, 120, 128][rnd() % 7] as number;
    const net = parseNetwork(`${[...words].map((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)].join(':')).join(':')}/${prefix}`);
    if (net?.kind !== 'ipv6') throw new Error('bad generated block');
    starts.push(net.start);
    prefixes.push(prefix);
  }
  const index = IPv6RangeIndex.build(starts, prefixes, starts.map((_, i) => i));
  for (let q = 0; q < 3000; q++) {
    const ip = Uint32Array.of(0x20010db8, rnd() & 0xf, rnd() & 0xff, rnd());
    if (q % 3 === 0) ip.set(starts[q % starts.length] as Uint32Array);
    const x = toBig(ip);
    const expected = starts
      .map((s, i) => ({ lo: toBig(s), hi: toBig(s) + (1n << BigInt(128 - (prefixes[i] ?? 128))) - 1n, i }))
      .filter(({ lo, hi }) => x >= lo && x <= hi)
      .map(({ i }) => i)
      .sort((a, b) => a - b);
    assert.deepEqual([...index.lookup(ip)].sort((a, b) => a - b), expected);
  }
});
