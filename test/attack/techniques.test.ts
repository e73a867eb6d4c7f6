import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attackTagsToIds,
  equivalentTechniques,
  tacticInfo,
  tacticSlug,
  techniqueInfo,
  TECHNIQUES,
  TACTICS,
  ATTACK_V19_REDIRECTS,
} from '../../src/attack/techniques.ts';

test('attackTagsToIds parses Sigma ATT&CK tags', () => {
  assert.deepEqual(
    attackTagsToIds([
      'attack.persistence',
      'attack.t1098.001',
      'attack.T1078.004',
      'attack.defense-evasion',
      'attack.defense_impairment',
      'attack.ta0006',
      'attack.g0016',
      'attack.s0002',
      'cve.2021-44228',
      'detection.threat-hunting',
      'attack.t1098.001',
      ' attack.t1562 ',
    ]),
    {
      techniques: ['T1098.001', 'T1078.004', 'T1562'],
      tactics: ['persistence', 'defense-evasion', 'defense-impairment', 'credential-access'],
    },
  );
  assert.deepEqual(attackTagsToIds([]), { techniques: [], tactics: [] });
});

test('v18 <-> v19 redirects go both ways', () => {
  assert.deepEqual(equivalentTechniques('T1562.008'), ['T1685.002']);
  assert.deepEqual(equivalentTechniques('T1685.002'), ['T1562.008']);
  assert.deepEqual(equivalentTechniques('T1562.001'), ['T1685']);
  assert.deepEqual(equivalentTechniques('T1685'), ['T1562.001']);
  assert.deepEqual(equivalentTechniques('T1078.004'), []);
  for (const [a, b] of Object.entries(ATTACK_V19_REDIRECTS)) assert.equal(ATTACK_V19_REDIRECTS[b], a);
});

test('tables: ids well-formed and unique, technique tactics known', () => {
  const ids = TECHNIQUES.map((t) => t.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const t of TECHNIQUES) {
    assert.match(t.id, /^T\d{4}(\.\d{3})?$/);
    assert.ok(t.tactics.length > 0);
    for (const slug of t.tactics) assert.ok(tacticInfo(slug), `${t.id}: tactic ${slug}`);
  }
  for (const id of ['T1078.004', 'T1098.001', 'T1562.008', 'T1685.002', 'T1562.001', 'T1685', 'T1552.005', 'T1580']) {
    assert.ok(techniqueInfo(id), id);
  }
  assert.equal(new Set(TACTICS.map((t) => t.slug)).size, TACTICS.length);
});

test('tacticSlug accepts ids, names, CamelCase and snake_case', () => {
  assert.equal(tacticSlug('TA0006'), 'credential-access');
  assert.equal(tacticSlug('Credential Access'), 'credential-access');
  assert.equal(tacticSlug('CredentialAccess'), 'credential-access');
  assert.equal(tacticSlug('credential_access'), 'credential-access');
  assert.equal(tacticSlug('Command and Control'), 'command-and-control');
  assert.equal(tacticSlug('CommandAndControl'), 'command-and-control');
  assert.equal(tacticSlug('Defense Evasion'), 'defense-evasion');
  assert.equal(tacticSlug('nope'), undefined);
});
