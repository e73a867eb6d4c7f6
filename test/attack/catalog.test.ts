import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogTechnique, catalogTechniques, catalogVersion, deprecatedTechnique, revokedTechnique } from '../../src/attack/catalog.ts';
import { buildCatalogModule } from '../../src/attack/catalog-build.ts';
import { attackTagsToIds, ATTACK_V19_IDS, equivalentTechniques, techniqueInfo, techniqueStatus, TECHNIQUES } from '../../src/attack/techniques.ts';
import type { TechniqueStatus } from '../../src/attack/techniques.ts';

test('the catalog holds every live Enterprise technique of its ATT&CK version (18.0: 216 techniques, 475 sub-techniques)', () => {
  assert.equal(catalogVersion(), '18.0');
  const all = catalogTechniques();
  assert.equal(all.filter((t) => !t.id.includes('.')).length, 216);
  assert.equal(all.filter((t) => t.id.includes('.')).length, 475);
  assert.equal(new Set(all.map((t) => t.id)).size, all.length);
  for (const t of all) {
    assert.match(t.id, /^T\d{4}(\.\d{3})?$/);
    assert.ok(t.tactics.length > 0, t.id);
    if (t.id.includes('.')) assert.ok(catalogTechnique(t.id.slice(0, 5)) !== undefined, `${t.id} has its parent`);
  }
});

const LOOKUPS: { id: string; name: string; tactics: string[] }[] = [
  { id: 'T1098.001', name: 'Account Manipulation: Additional Cloud Credentials', tactics: ['persistence', 'privilege-escalation'] },
  { id: 'T1078.004', name: 'Valid Accounts: Cloud Accounts', tactics: ['defense-evasion', 'persistence', 'privilege-escalation', 'initial-access'] },
  { id: 'T1562.008', name: 'Impair Defenses: Disable or Modify Cloud Logs', tactics: ['defense-evasion'] },
  { id: 'T1530', name: 'Data from Cloud Storage', tactics: ['collection'] },
  { id: 't1619', name: 'Cloud Storage Object Discovery', tactics: ['discovery'] },
  { id: 'T1546.018', name: 'Event Triggered Execution: Python Startup Hooks', tactics: ['privilege-escalation', 'persistence'] },
  { id: 'T1659', name: 'Content Injection', tactics: ['initial-access', 'command-and-control'] },
];

for (const { id, name, tactics } of LOOKUPS) {
  test(`catalog: ${id} is ${name}`, () => {
    assert.deepEqual(catalogTechnique(id), { id: id.toUpperCase(), name, tactics });
  });
}

// Every technique the cloud (IaaS) matrix shows: all of them are in the catalog.
const CLOUD_TECHNIQUES = ['T1078.004', 'T1098.001', 'T1098.003', 'T1136.003', 'T1190', 'T1199', 'T1526', 'T1530', 'T1535', 'T1537', 'T1538', 'T1552.005', 'T1578.001', 'T1578.002', 'T1578.003', 'T1578.004', 'T1578.005', 'T1580', 'T1619', 'T1651', 'T1666', 'T1485', 'T1486', 'T1490', 'T1496.004', 'T1498', 'T1499', 'T1531', 'T1562.007', 'T1562.008', 'T1648', 'T1087.004', 'T1069.003', 'T1201', 'T1082', 'T1046', 'T1110.003', 'T1606.002', 'T1621', 'T1556.006'];

test('catalog: the cloud matrix techniques are all there', () => {
  for (const id of CLOUD_TECHNIQUES) assert.ok(catalogTechnique(id), id);
});

const STATUSES: { id: string; kind: TechniqueStatus['kind']; replacedBy?: string; v18?: string }[] = [
  { id: 'T1098.001', kind: 'active' },
  { id: 'T1086', kind: 'revoked', replacedBy: 'T1059.001' },
  { id: 't1089', kind: 'revoked', replacedBy: 'T1562.001' },
  { id: 'T1527', kind: 'revoked', replacedBy: 'T1550.001' },
  { id: 'T1547.011', kind: 'revoked', replacedBy: 'T1647' },
  { id: 'T1064', kind: 'deprecated' },
  { id: 'T9999', kind: 'unknown' },
  { id: 'T1562.005', kind: 'unknown' },
  { id: 'T1685', kind: 'v19', v18: 'T1562.001' },
  { id: 'T1685.002', kind: 'v19', v18: 'T1562.008' },
  { id: 'T1685.004', kind: 'v19', v18: 'T1562.012' },
  { id: 'T1686', kind: 'v19', v18: 'T1562.004' },
  { id: 'T1686.001', kind: 'v19', v18: 'T1562.007' },
];

for (const { id, kind, replacedBy, v18 } of STATUSES) {
  test(`techniqueStatus(${id}) is ${kind}${replacedBy === undefined ? '' : ` by ${replacedBy}`}`, () => {
    const status = techniqueStatus(id);
    assert.equal(status.kind, kind);
    if (replacedBy !== undefined) assert.equal(status.kind === 'revoked' ? status.replacedBy : undefined, replacedBy);
    if (v18 !== undefined) assert.equal(status.kind === 'v19' ? status.v18 : undefined, v18);
  });
}

test('revoked and deprecated lookups name the old technique', () => {
  assert.deepEqual(revokedTechnique('T1086'), { name: 'PowerShell', replacedBy: 'T1059.001' });
  assert.equal(deprecatedTechnique('T1064')?.name, 'Scripting');
  assert.equal(revokedTechnique('T1059.001'), undefined);
  for (const [, , replacement] of [['T1086', '', 'T1059.001']]) assert.ok(catalogTechnique(replacement as string));
});

test('every revoked id points at a live technique, and no live id is also revoked', () => {
  for (const t of catalogTechniques()) {
    assert.equal(revokedTechnique(t.id), undefined, t.id);
    assert.equal(deprecatedTechnique(t.id), undefined, t.id);
  }
  for (const id of ['T1028', 'T1076', 'T1077', 'T1081', 'T1085', 'T1086', 'T1089', 'T1093', 'T1099', 'T1100', 'T1107', 'T1117', 'T1118', 'T1121', 'T1145', 'T1150', 'T1155', 'T1170', 'T1191', 'T1208', 'T1214', 'T1502', 'T1504', 'T1527', 'T1536', 'T1547.011']) {
    const replacement = revokedTechnique(id)?.replacedBy;
    assert.ok(replacement !== undefined && catalogTechnique(replacement) !== undefined, `${id} -> ${replacement ?? '?'}`);
  }
});

test('every v19 redirect goes from a live v18 technique to an id outside the v18 catalog, one to one', () => {
  const targets = Object.values(ATTACK_V19_IDS);
  assert.equal(new Set(targets).size, targets.length);
  for (const [v18, v19] of Object.entries(ATTACK_V19_IDS)) {
    assert.ok(catalogTechnique(v18), v18);
    assert.equal(catalogTechnique(v19), undefined, v19);
    assert.ok(techniqueInfo(v19), `${v19} has a name`);
  }
});

test('techniqueInfo: the pack table first, the catalog for any other id', () => {
  const own = TECHNIQUES.find((t) => t.id === 'T1098.001');
  assert.equal(techniqueInfo('T1098.001'), own);
  assert.equal(techniqueInfo('T1003.001')?.name, 'OS Credential Dumping: LSASS Memory');
  assert.match(techniqueInfo('T1686.001')?.name ?? '', /Disable or Modify Cloud Firewall \(v19 id of T1562\.007\)/);
  assert.equal(techniqueInfo('T9999'), undefined);
});

// Alerts take their techniques from attackTagsToIds: any rule's tag, the user's too, gets its
// partner in the other ATT&CK version, deduplicated, first appearance first.
const REDIRECT_CASES: { tags: string[]; techniques: string[] }[] = [
  { tags: ['attack.t1562.008'], techniques: ['T1562.008', 'T1685.002'] },
  { tags: ['attack.t1685.002'], techniques: ['T1685.002', 'T1562.008'] },
  { tags: ['attack.t1562.001'], techniques: ['T1562.001', 'T1685'] },
  { tags: ['attack.T1685'], techniques: ['T1685', 'T1562.001'] },
  { tags: ['attack.t1562.008', 'attack.t1685.002'], techniques: ['T1562.008', 'T1685.002'] },
  { tags: ['attack.t1685.002', 'attack.t1562.008', 'attack.t1098'], techniques: ['T1685.002', 'T1562.008', 'T1098'] },
  { tags: ['attack.t1562.007', 'attack.t1562.012', 'attack.t1562.004'], techniques: ['T1562.007', 'T1686.001', 'T1562.012', 'T1685.004', 'T1562.004', 'T1686'] },
  { tags: ['attack.t1078.004', 'attack.t1562'], techniques: ['T1078.004', 'T1562'] },
];

for (const { tags, techniques } of REDIRECT_CASES) {
  test(`attackTagsToIds(${tags.join(', ')}) -> ${techniques.join(', ')}`, () => {
    assert.deepEqual(attackTagsToIds(tags).techniques, techniques);
  });
}

test('equivalentTechniques is case-insensitive and symmetric', () => {
  assert.deepEqual(equivalentTechniques('t1562.008'), ['T1685.002']);
  for (const [v18, v19] of Object.entries(ATTACK_V19_IDS)) assert.deepEqual(equivalentTechniques(v19), [v18]);
});

test('the generator writes the catalog module from an enterprise-attack STIX bundle', async () => {
  const ref = (id: string) => [{ source_name: 'mitre-attack', external_id: id }];
  const phases = (...names: string[]) => names.map((phase_name) => ({ kill_chain_name: 'mitre-attack', phase_name }));
  const bundle = {
    objects: [
      { type: 'x-mitre-collection', x_mitre_version: '18.0' },
      { type: 'attack-pattern', id: 'attack-pattern--a', name: 'Command and Scripting Interpreter', external_references: ref('T1059'), kill_chain_phases: phases('execution') },
      { type: 'attack-pattern', id: 'attack-pattern--b', name: 'PowerShell', external_references: ref('T1059.001'), kill_chain_phases: phases('execution') },
      { type: 'attack-pattern', id: 'attack-pattern--c', name: 'PowerShell', revoked: true, external_references: ref('T1086') },
      { type: 'attack-pattern', id: 'attack-pattern--d', name: 'Scripting', x_mitre_deprecated: true, external_references: ref('T1064'), kill_chain_phases: phases('execution') },
      { type: 'attack-pattern', id: 'attack-pattern--e', name: 'Valid Accounts', external_references: ref('T1078'), kill_chain_phases: phases('defense-evasion', 'persistence') },
      { type: 'attack-pattern', id: 'attack-pattern--f', name: 'Odd One', external_references: ref('T1078.009'), kill_chain_phases: phases('persistence') },
      { type: 'relationship', relationship_type: 'revoked-by', source_ref: 'attack-pattern--c', target_ref: 'attack-pattern--b' },
    ],
  };
  const text = buildCatalogModule(bundle, 'test bundle');
  assert.match(text, /ENTERPRISE_ATTACK_VERSION = "18\.0"/);
  assert.match(text, /\nT1059 exec Command and Scripting Interpreter\n\.001 PowerShell\nT1078 evasion,persist Valid Accounts\n\.009 =persist Odd One\n`/);
  assert.match(text, /ENTERPRISE_REVOKED = `\nT1086 T1059\.001\n`/);
  assert.match(text, /ENTERPRISE_DEPRECATED = `\nT1064\n`/);
  // The module it writes is the one catalog.ts reads: same format, same header.
  const { ENTERPRISE_TECHNIQUES } = await import('../../src/attack/enterprise-catalog.ts');
  assert.match(ENTERPRISE_TECHNIQUES, /\nT1059 exec Command and Scripting Interpreter\n\.001 PowerShell\n/);
});
