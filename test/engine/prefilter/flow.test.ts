import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FlowPrefilter } from '../../../src/engine/prefilter/flow.ts';
import { loadRuleSet } from '../../../src/pack/rule-set.ts';
import { scanFlowLines } from '../../../src/formats/vpcflow/format.ts';
import { isIndicatorList } from '../../../src/formats/indicator-list.ts';
import { decodeAll, memoryUnit } from '../../formats/helpers.ts';

const RULES = fileURLToPath(new URL('../../../rules/aws/vpcflow/', import.meta.url));

test('the prefilter never drops a line its rules match, and drops most of the others', async () => {
  const { rules } = await loadRuleSet({ paths: [RULES] });
  assert.ok(rules.length >= 1);
  const prefilter = FlowPrefilter.compile(rules);
  assert.ok(prefilter !== undefined, 'the shipped flow rules pin values');
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  const lines = ['version interface-id srcaddr dstaddr srcport dstport protocol start action log-status'];
  for (let i = 0; i < 5000; i++) {
    const src = rnd(2) === 0 ? `10.0.${rnd(4)}.${rnd(255)}` : `198.51.100.${rnd(255)}`;
    const dst = rnd(2) === 0 ? `10.0.${rnd(4)}.${rnd(255)}` : `203.0.113.${rnd(255)}`;
    const action = ['ACCEPT', 'accept', 'REJECT', '-'][rnd(4)];
    lines.push(`5 eni-${rnd(9)} ${src} ${dst} ${rnd(2) === 0 ? 40000 : 22} ${[22, 3389, 443, 80][rnd(4)]} ${[6, 17][rnd(2)]} 1793610000 ${action} OK`);
  }
  let matched = 0;
  let passed = 0;
  await scanFlowLines(Readable.from([Buffer.from(lines.join('\n'))]), undefined, (view) => {
    const record = view.record();
    const may = prefilter.mayMatch(view);
    if (may) passed++;
    if (rules.some((rule) => rule.match(record))) {
      matched++;
      assert.ok(may, `dropped a matching line: ${JSON.stringify(record)}`);
    }
  });
  assert.ok(matched > 50, `${matched} matching lines`);
  assert.ok(passed < 5000 * 0.2, `${passed} of 5000 lines built`);
});

test('a rule that pins no top-level value gives no prefilter', async () => {
  const { rules } = await loadRuleSet({ paths: [fileURLToPath(new URL('../../fixtures/flow-cti/rules/', import.meta.url))] });
  assert.equal(FlowPrefilter.compile([...rules, { ...rules[0]!, requiredValues: new Map() }]), undefined);
});

test('a plain indicator list among the inputs is skipped, not an error; other text still is', async () => {
  assert.equal(isIndicatorList('# feed\n198.51.100.7\n192.0.2.0/24 ; block\n\nevil.example # c2\n2001:db8::/32\n'), true);
  assert.equal(isIndicatorList('# only comments\n'), false);
  assert.equal(isIndicatorList('#!/bin/sh\necho hello\n'), false);
  assert.equal(isIndicatorList('198.51.100.7 203.0.113.9\n'), false);
  const list = await decodeAll(memoryUnit('feed.txt', '# feed\n198.51.100.7\n'));
  assert.deepEqual([list.errors, list.stats], [[], { records: 0, skipped: 1, errors: 0 }]);
  const script = await decodeAll(memoryUnit('run.sh', '#!/bin/sh\necho hello\n'));
  assert.deepEqual(script.errors.map((e) => e.code), ['TH_INPUT_FORMAT']);
});

test('the prefilter drops lines whose address lies outside every network a rule requires', async () => {
  const { rules } = await loadRuleSet({ paths: [RULES] });
  const prefilter = FlowPrefilter.compile(rules);
  assert.ok(prefilter !== undefined);
  const header = 'version srcaddr dstaddr dstport protocol action';
  const lines = [
    '2 198.51.100.1 10.0.0.5 22 6 ACCEPT', // the rule's own case
    '2 10.0.0.5 198.51.100.1 22 6 ACCEPT', // our host to an internet SSH server: to_private_address fails
    '2 10.0.0.5 2001:db8::1 22 6 ACCEPT', // not a dotted quad: left to the rule
    '2 10.0.0.5 - 22 6 ACCEPT',
    '2 198.51.100.1 172.31.255.255 3389 6 ACCEPT',
    '2 198.51.100.1 172.32.0.1 3389 6 ACCEPT',
  ];
  const may: boolean[] = [];
  await scanFlowLines(Readable.from([Buffer.from(`${header}\n${lines.join('\n')}\n`)]), undefined, (view) => {
    may.push(prefilter.mayMatch(view));
  });
  assert.deepEqual(may, [true, false, true, true, true, false]);
  // A header holding the field twice: the record keeps the last column, so no network test.
  may.length = 0;
  await scanFlowLines(Readable.from([Buffer.from(`version srcaddr dstaddr dstport protocol action dstaddr\n2 198.51.100.1 198.51.100.2 22 6 ACCEPT 10.0.0.1\n`)]), undefined, (view) => {
    may.push(prefilter.mayMatch(view));
  });
  assert.deepEqual(may, [true]);
});
