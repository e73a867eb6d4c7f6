/**
 * Required networks: the derivation rules (a table of detections and the networks each must
 * promise per field), and the soundness property the flow pre-filter relies on: a record that
 * the required networks do not admit never matches (over the conformance cases and over random
 * rules and records).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogRecord } from '../../src/core/envelope.ts';
import type { CidrNetwork } from '../../src/sigma/cidr.ts';
import { formatIPv4, formatIPv6 } from '../../src/intel/ip-address.ts';
import { admitsRecordCidrs } from '../../src/sigma/required-cidrs.ts';
import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import { compileRule, varsOf } from './helpers.ts';
import { recordMutations } from './record-mutations.ts';
import { conformanceSoundness } from './conformance-soundness.ts';
import { pickFrom, randomRuleSoundness } from './random-rules.ts';
import { random } from '../random.ts';

/** A network as canonical text: `10.0.0.0/8`, `2001:db8::/32`. */
function show(network: CidrNetwork): string {
  if (network.family === 4) return `${formatIPv4(network.v4)}/${network.prefix}`;
  const g = network.v6;
  const words = [0, 1, 2, 3].map((w) => (((g[2 * w] ?? 0) << 16) | (g[2 * w + 1] ?? 0)) >>> 0);
  return `${formatIPv6(words)}/${network.prefix}`;
}

function required(rule: CompiledDetectionRule): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [field, networks] of rule.requiredCidrs) out[field] = networks.map(show);
  return out;
}

interface Case {
  name: string;
  detection: string;
  vars?: Record<string, string[]>;
  /** Field to the networks promised, in order. */
  expect: Record<string, string[]>;
}

const CASES: Case[] = [
  {
    name: 'a cidr selection required under and; IPv6 networks are kept beside IPv4 ones',
    detection: `
      sel:
        action: ACCEPT
      priv:
        dstaddr|cidr:
          - 10.0.0.0/8
          - 192.168.0.0/16
          - 2001:db8::/32
      condition: sel and priv`,
    expect: { dstaddr: ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'] },
  },
  {
    name: 'every cidr key of a map, host bits cleared, a bare address as a host network; a one-item condition list',
    detection: `
      one:
        srcaddr|cidr: 198.51.100.7
        dstaddr|cidr: 10.1.2.3/16
      condition:
        - one`,
    expect: { srcaddr: ['198.51.100.7/32'], dstaddr: ['10.1.0.0/16'] },
  },
  {
    name: 'an IPv6-only list still constrains (no IPv4 address lies in it)',
    detection: `
      v6:
        dstaddr|cidr: 2001:db8::/32
      condition: v6`,
    expect: { dstaddr: ['2001:db8::/32'] },
  },
  {
    name: 'nothing under not',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      sel:
        action: ACCEPT
      condition: sel and not priv`,
    expect: {},
  },
  {
    name: 'nothing under not not',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      condition: not (not priv)`,
    expect: {},
  },
  {
    name: 'or with a branch that does not constrain the field gives nothing',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      sel:
        action: ACCEPT
      condition: sel or priv`,
    expect: {},
  },
  {
    name: 'or of two cidr selections on the same field gives their union',
    detection: `
      a:
        dstaddr|cidr: 10.0.0.0/8
      b:
        dstaddr|cidr:
          - 172.16.0.0/12
          - 10.0.0.0/8
      condition: a or b`,
    expect: { dstaddr: ['10.0.0.0/8', '172.16.0.0/12'] },
  },
  {
    name: 'or of cidr selections on different fields gives nothing',
    detection: `
      a:
        dstaddr|cidr: 10.0.0.0/8
      b:
        srcaddr|cidr: 10.0.0.0/8
      condition: a or b`,
    expect: {},
  },
  {
    name: '1 of over one selection is that selection',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      condition: 1 of priv*`,
    expect: { dstaddr: ['10.0.0.0/8'] },
  },
  {
    name: '1 of over two selections is their union, on the fields both constrain',
    detection: `
      priv_a:
        dstaddr|cidr: 10.0.0.0/8
        srcaddr|cidr: 198.51.100.0/24
      priv_b:
        dstaddr|cidr: 192.168.0.0/16
      condition: 1 of priv_*`,
    expect: { dstaddr: ['10.0.0.0/8', '192.168.0.0/16'] },
  },
  {
    name: 'all of them keeps every field',
    detection: `
      a:
        dstaddr|cidr: 10.0.0.0/8
      b:
        srcaddr|cidr: 198.51.100.0/24
      condition: all of them`,
    expect: { dstaddr: ['10.0.0.0/8'], srcaddr: ['198.51.100.0/24'] },
  },
  {
    name: 'a list of maps is an or: nothing when one map does not constrain the field',
    detection: `
      priv:
        - dstaddr|cidr: 10.0.0.0/8
        - action: ACCEPT
      condition: priv`,
    expect: {},
  },
  {
    name: 'a list of maps is an or: the union when every map does',
    detection: `
      priv:
        - dstaddr|cidr: 10.0.0.0/8
          action: ACCEPT
        - dstaddr|cidr: 172.16.0.0/12
      condition: priv`,
    expect: { dstaddr: ['10.0.0.0/8', '172.16.0.0/12'] },
  },
  {
    name: 'a list of conditions is an or',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      other:
        dstaddr|cidr: 192.0.2.0/24
      condition:
        - priv
        - other`,
    expect: { dstaddr: ['10.0.0.0/8', '192.0.2.0/24'] },
  },
  {
    name: 'a list of conditions, one of which does not constrain the field, gives nothing',
    detection: `
      priv:
        dstaddr|cidr: 10.0.0.0/8
      sel:
        action: ACCEPT
      condition:
        - priv
        - sel`,
    expect: {},
  },
  {
    name: 'and of two selections on the same field keeps the one admitting fewer IPv4 addresses',
    detection: `
      wide:
        dstaddr|cidr: 10.0.0.0/8
      narrow:
        dstaddr|cidr:
          - 10.1.0.0/16
          - 10.2.0.0/16
      condition: wide and narrow`,
    expect: { dstaddr: ['10.1.0.0/16', '10.2.0.0/16'] },
  },
  {
    name: 'cidr|all: each network on its own, the narrowest kept',
    detection: `
      priv:
        dstaddr|cidr|all:
          - 10.0.0.0/8
          - 10.1.0.0/16
      condition: priv`,
    expect: { dstaddr: ['10.1.0.0/16'] },
  },
  {
    name: 'cidr|expand: the networks the placeholder gives',
    detection: `
      priv:
        dstaddr|cidr|expand: '%nets%'
      condition: priv`,
    vars: { nets: ['10.0.0.0/8', '2001:db8::/32'] },
    expect: { dstaddr: ['10.0.0.0/8', '2001:db8::/32'] },
  },
  {
    name: 'cidr|neq gives nothing',
    detection: `
      priv:
        dstaddr|cidr|neq: 10.0.0.0/8
      condition: priv`,
    expect: {},
  },
  {
    name: 'other modifiers and plain values give no networks',
    detection: `
      sel:
        dstaddr: 10.0.0.1
        srcaddr|startswith: '10.'
        ip|re: '^10\\.'
        host|exists: true
      condition: sel`,
    expect: {},
  },
  {
    name: 'a nested field is promised too (the flow pre-filter only reads top-level ones)',
    detection: `
      sel:
        tls.peer|cidr: 203.0.113.0/24
      condition: sel`,
    expect: { 'tls.peer': ['203.0.113.0/24'] },
  },
];

describe('required networks: derivation', () => {
  for (const c of CASES) {
    test(c.name, () => {
      assert.deepEqual(required(compileRule(c.detection, varsOf(c.vars))), c.expect);
    });
  }

  test('cidr|all is sound when the field holds an array whose elements lie in different networks', () => {
    const rule = compileRule(`
      sel:
        ips|cidr|all:
          - 10.0.0.0/8
          - 192.168.0.0/16
      condition: sel`);
    const record = { ips: ['10.0.0.1', '192.168.0.1'] };
    assert.equal(rule.match(record), true);
    assert.equal(admitsRecordCidrs(rule.requiredCidrs, record), true);
    assert.equal(rule.requiredCidrs.get('ips')?.length, 1);
  });

  test('the promise reads values as the matcher does', () => {
    const rule = compileRule(`
      sel:
        dstaddr|cidr:
          - 10.0.0.0/8
          - 2001:db8::/32
      condition: sel`);
    const admits = (record: LogRecord): boolean => admitsRecordCidrs(rule.requiredCidrs, record);
    assert.deepEqual(
      [{ dstaddr: '10.9.8.7' }, { dstaddr: '2001:db8::1' }, { dstaddr: ['8.8.8.8', '10.0.0.1'] }].map(admits),
      [true, true, true],
    );
    assert.deepEqual(
      [{ dstaddr: '11.0.0.1' }, { dstaddr: '010.0.0.1' }, { dstaddr: ' 10.0.0.1' }, { dstaddr: '::ffff:10.0.0.1' }, { dstaddr: 167772161 }, {}].map(admits),
      [false, false, false, false, false, false],
    );
  });
});

/** Variants of a record that keep its shape but change values: other addresses, arrays, removal. */
function mutations(record: LogRecord, next: () => number): LogRecord[] {
  const pool: unknown[] = ['10.0.0.1', '10.255.255.255', '11.0.0.0', '192.168.1.7', '172.31.0.1', '2001:db8::1', 'fe80::1', '', 5, null, ['8.8.8.8', '10.1.1.1'], []];
  return recordMutations(record, next, pool, (value) => (next() < 0.5 ? value.toUpperCase() : value));
}

const promise = {
  constrains: (rule: CompiledDetectionRule) => rule.requiredCidrs.size > 0,
  admits: (rule: CompiledDetectionRule, record: LogRecord) => admitsRecordCidrs(rule.requiredCidrs, record),
  describe: (rule: CompiledDetectionRule) => JSON.stringify(required(rule)),
};

describe('required networks: soundness', () => {
  test('over the conformance cases and their mutations, no record outside the required networks matches', () => {
    const next = random(42);
    const { checked, matched, constrained } = conformanceSoundness(promise, (record) => mutations(record, next));
    assert.ok(checked > 1000, `checked ${checked}`);
    assert.ok(matched > 200, `matched ${matched}`);
    assert.ok(constrained >= 2, `constrained rules ${constrained}`);
  });

  test('over random rules and records, no record outside the required networks matches', () => {
    const next = random(9);
    const pick = pickFrom(next);
    const FIELDS = ['srcaddr', 'dstaddr', 'a.b', 'tags'];
    const NETWORKS = ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.7', '172.16.0.0/12', '0.0.0.0/0', '2001:db8::/32', '::/0'];
    const ADDRESSES: unknown[] = ['10.0.0.1', '10.1.2.3', '10.2.0.1', '192.168.1.7', '172.20.0.1', '8.8.8.8', '2001:db8::1', '2001:db9::1', 'x', '', 5];
    const MODIFIERS = ['|cidr', '|cidr', '|cidr', '|cidr|all', '|cidr|neq', '', '|startswith'];
    const yamlValue = (value: unknown): string => JSON.stringify(value);
    const entry = (indent: string): string => {
      const field = pick(FIELDS);
      const modifier = pick(MODIFIERS);
      const pool = modifier.startsWith('|cidr') ? NETWORKS : ['10.0.0.1', '10.', 'x'];
      const count = modifier === '|cidr|all' ? 2 + Math.floor(next() * 2) : 1 + Math.floor(next() * 3);
      const values = Array.from({ length: count }, () => pick(pool));
      if (count === 1) return `${indent}${yamlValue(field + modifier)}: ${yamlValue(values[0])}`;
      return `${indent}${yamlValue(field + modifier)}:\n${values.map((v) => `${indent}  - ${yamlValue(v)}`).join('\n')}`;
    };
    const scalar = (): unknown => (next() < 0.1 ? null : pick(ADDRESSES));
    const fieldValue = (): unknown => (next() < 0.25 ? Array.from({ length: Math.floor(next() * 3) }, scalar) : scalar());
    const { rules, constrained, matched, excluded } = randomRuleSoundness({ next, entry, keywords: ['10.0.0.1', 'x'], fields: FIELDS, fieldValue, missing: 0.25 }, promise, 400, 150);
    assert.ok(rules > 300, `compiled ${rules} random rules`);
    assert.ok(constrained > 50, `${constrained} rules had required networks`);
    assert.ok(matched > 2000, `${matched} matches`);
    assert.ok(excluded > 2000, `${excluded} records excluded by required networks`);
  });
});
