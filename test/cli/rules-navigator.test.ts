import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';
import { alertsLayer, LAYER_FORMAT_VERSION, rulesLayer } from '../../src/pack/navigator-layer.ts';
import type { NavigatorLayer } from '../../src/pack/navigator-layer.ts';

/**
 * The layer format 4.5 (mitre-attack/attack-navigator layers/LAYERFORMATv4_5.md): required
 * properties and their types, and the rules the format states (versions.layer "4.5", navigator
 * at least 4.9.0, a known domain, gradient with two colours and maxValue > minValue...).
 */
function assertLayer45(layer: NavigatorLayer): void {
  const value = layer as unknown as Record<string, unknown>;
  assert.equal(typeof value['name'], 'string');
  assert.equal(layer.versions.layer, '4.5');
  assert.match(layer.versions.navigator, /^(\d+)\.(\d+)\.(\d+)$/);
  const [major, minor] = layer.versions.navigator.split('.').map(Number) as [number, number];
  assert.ok(major > 4 || (major === 4 && minor >= 9), 'navigator must be at least 4.9.0');
  assert.match(layer.versions.attack, /^\d+$/);
  assert.ok(['enterprise-attack', 'mobile-attack', 'ics-attack'].includes(layer.domain));
  assert.equal(typeof layer.description, 'string');
  assert.ok([0, 1, 2, 3].includes(layer.sorting));
  assert.ok(['side', 'flat', 'mini'].includes(layer.layout.layout));
  assert.ok(['average', 'min', 'max', 'sum'].includes(layer.layout.aggregateFunction));
  assert.ok(['none', 'all', 'annotated'].includes(layer.layout.expandedSubtechniques));
  for (const key of ['showID', 'showName', 'showAggregateScores', 'countUnscored'] as const) assert.equal(typeof layer.layout[key], 'boolean');
  for (const key of ['hideDisabled', 'showTacticRowBackground', 'selectTechniquesAcrossTactics', 'selectSubtechniquesWithParent', 'selectVisibleTechniques'] as const) assert.equal(typeof layer[key], 'boolean');
  assert.ok(layer.gradient.colors.length >= 2);
  for (const color of [...layer.gradient.colors, ...layer.legendItems.map((item) => item.color)]) assert.match(color, /^#[0-9a-f]{6}([0-9a-f]{2})?$/i);
  assert.ok(layer.gradient.maxValue > layer.gradient.minValue);
  for (const item of layer.legendItems) assert.equal(typeof item.label, 'string');
  const ids = layer.techniques.map((technique) => technique.techniqueID);
  assert.equal(new Set(ids).size, ids.length, 'one entry per technique');
  for (const technique of layer.techniques) {
    assert.match(technique.techniqueID, /^T\d{4}(\.\d{3})?$/);
    assert.equal(typeof technique.score, 'number');
    assert.equal(typeof technique.comment, 'string');
    assert.equal(typeof technique.enabled, 'boolean');
    assert.equal(typeof technique.showSubtechniques, 'boolean');
    for (const row of technique.metadata) assert.deepEqual(Object.keys(row).sort(), ['name', 'value']);
  }
}

const RULES = [
  { id: 'r1', name: 'rule-a', tags: ['attack.persistence', 'attack.t1098.001'] },
  { id: 'r2', name: 'rule-b', tags: ['attack.t1098.001', 'attack.t1078.004'] },
  { id: 'r3', name: 'rule-c', tags: ['attack.t1685.002'] },
  { id: 'r4', name: 'rule-off', tags: ['attack.t1530', 'attack.t1098.001'], disabled: true },
  { id: 'r5', tags: ['attack.t9999', 'attack.t1086', 'attack.t1562.008'] },
];

const RULE_CASES: { id: string; score: number; comment: string }[] = [
  { id: 'T1078.004', score: 1, comment: '1 rule: rule-b' },
  { id: 'T1098.001', score: 2, comment: '2 rules: rule-a, rule-b' },
  // rule-c's v19 tag stands as its v18 id; r5 has no name: its id.
  { id: 'T1562.008', score: 2, comment: '2 rules: r5, rule-c' },
];

test('rulesLayer: one entry per technique, scored by rule count, names in the comment, disabled rules and unknown ids left out', () => {
  const { layer, skipped } = rulesLayer(RULES);
  assertLayer45(layer);
  assert.equal(layer.versions.layer, LAYER_FORMAT_VERSION);
  assert.deepEqual(layer.techniques.map((t) => [t.techniqueID, t.score, t.comment]), RULE_CASES.map((c) => [c.id, c.score, c.comment]));
  assert.ok(!layer.techniques.some((t) => t.techniqueID === 'T1530'), 'a disabled rule adds nothing');
  assert.deepEqual(skipped, ['T1086', 'T9999']);
  assert.equal(layer.gradient.maxValue, 2);
  assert.deepEqual(layer.techniques.find((t) => t.techniqueID === 'T1098.001')?.metadata, [{ name: 'rule', value: 'rule-a' }, { name: 'rule', value: 'rule-b' }]);
});

test('alertsLayer: the techniques that alerted, scored by alert count, the rules that raised them', () => {
  const alerts = [
    { rule: { name: 'rule-a' }, attack: { techniques: ['T1098.001'] } },
    { rule: { name: 'rule-a' }, attack: { techniques: ['T1098.001'] } },
    { rule: { name: 'rule-b' }, attack: { techniques: ['T1098.001', 'T1078.004'] } },
    { rule: { name: null, id: 'abc' }, attack: { techniques: ['T1562.008', 'T1685.002'] } },
  ];
  const { layer, skipped } = alertsLayer(alerts);
  assertLayer45(layer);
  assert.deepEqual(layer.techniques.map((t) => [t.techniqueID, t.score, t.comment]), [
    ['T1078.004', 1, '1 alert from rule-b (1)'],
    ['T1098.001', 3, '3 alerts from rule-a (2), rule-b (1)'],
    ['T1562.008', 1, '1 alert from abc (1)'],
  ]);
  assert.deepEqual(skipped, []);
  assert.equal(layer.gradient.maxValue, 3);
});

test('an empty layer is still a valid layer', () => {
  assertLayer45(rulesLayer([]).layer);
  assertLayer45(alertsLayer([]).layer);
});

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-navigator-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('rules navigator on the built-in pack writes a 4.5 layer of every rule technique', async () => {
  const result = await runCli(['rules', 'navigator']);
  assert.equal(result.code, 0, result.stderr);
  const layer = JSON.parse(result.stdout) as NavigatorLayer;
  assertLayer45(layer);
  assert.ok(layer.techniques.length > 10);
  const logs = layer.techniques.find((t) => t.techniqueID === 'T1562.008');
  assert.ok(logs !== undefined && logs.score >= 1 && logs.comment.includes('aws-ct-bedrock-invocation-logging-deleted'), JSON.stringify(logs));
  assert.ok(!layer.techniques.some((t) => t.techniqueID.startsWith('T1685')), 'v18 ids only, for an ATT&CK 18 layer');
  assert.match(result.stderr, /rules navigator: \d+ techniques\n/);
});

test('rules navigator --tuning: a disabled rule is left out; -o writes the file', async () => {
  const tuning = join(dir, 'tuning.yml');
  writeFileSync(tuning, 'rules:\n  aws-ct-bedrock-invocation-logging-deleted:\n    disabled: true\n    reason: test\n');
  const output = join(dir, 'layer.json');
  const result = await runCli(['rules', 'navigator', '--tuning', tuning, '-o', output]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  const layer = JSON.parse(readFileSync(output, 'utf8')) as NavigatorLayer;
  assertLayer45(layer);
  assert.ok(!layer.techniques.some((t) => t.comment.includes('aws-ct-bedrock-invocation-logging-deleted')));
});

test('rules navigator --alerts colours what alerted', async () => {
  const alerts = join(dir, 'alerts.jsonl');
  writeFileSync(alerts, [
    { id: '1', rule: { id: 'x', name: 'aws-ct-a', title: 'A', level: 'high' }, attack: { techniques: ['T1098.001'], tactics: ['persistence'] } },
    { id: '2', rule: { id: 'x', name: 'aws-ct-a', title: 'A', level: 'high' }, attack: { techniques: ['T1098.001'], tactics: ['persistence'] } },
  ].map((line) => JSON.stringify(line)).join('\n') + '\n');
  const result = await runCli(['rules', 'navigator', '--alerts', alerts]);
  assert.equal(result.code, 0, result.stderr);
  const layer = JSON.parse(result.stdout) as NavigatorLayer;
  assertLayer45(layer);
  assert.deepEqual(layer.techniques.map((t) => [t.techniqueID, t.score, t.comment]), [['T1098.001', 2, '2 alerts from aws-ct-a (2)']]);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"rule":\n');
  const failed = await runCli(['rules', 'navigator', '--alerts', bad]);
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /TH_CONFIG/);
});
