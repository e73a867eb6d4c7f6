/**
 * The shared corpus of GuardDuty findings (Elastic integration test data: JSON lines of raw
 * findings). Skipped when absent. Panther's JSON-lines test wrappers are not a GuardDuty
 * shape and are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Envelope, Origin } from '../../../src/core/envelope.ts';
import type { LocatedError } from '../../../src/core/errors.ts';
import { guardDutyFormat, guardDutyFindingVersion } from '../../../src/formats/guardduty/format.ts';
import { attackForFindingType, levelForGuardDutySeverity } from '../../../src/attack/guardduty-mapping.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/guardduty', import.meta.url));
const present = existsSync(CORPUS);

function decodeLines(path: string): { envelopes: Envelope[]; skipped: number; errors: LocatedError[] } {
  const envelopes: Envelope[] = [];
  const errors: LocatedError[] = [];
  let skipped = 0;
  let index = 0;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const value: unknown = JSON.parse(line);
      assert.equal(guardDutyFormat.recognise(value), true, `${path}:${i + 1} recognised`);
      envelopes.push(
        ...guardDutyFormat.unwrap(value, {
          uri: path,
          line: i + 1,
          nextOrigin: (l?: number): Origin => ({ uri: path, index: index++, ...(l === undefined ? {} : { line: l }) }),
          reportError: (e) => errors.push(e),
          countSkipped: () => skipped++,
        }),
      );
    });
  return { envelopes, skipped, errors };
}

test('corpus: Elastic GuardDuty samples', { skip: !present && 'corpus absent' }, () => {
  const dir = join(CORPUS, 'elastic-integrations');
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  assert.ok(logs.length >= 2);

  const full = decodeLines(join(dir, 'test-guardduty.log'));
  assert.deepEqual(full.errors, []);
  // 5 findings, 4 of them console samples, and one empty {"findings":[]} line.
  assert.equal(full.skipped, 4);
  assert.deepEqual(full.envelopes.map((e) => e.record.type), ['PrivilegeEscalation:Runtime/DockerSocketAccessed']);
  const e = full.envelopes[0] as Envelope;
  assert.equal(e.time, Date.parse('2024-10-04T04:09:13.066Z'));
  assert.equal(e.origin.line, 5);
  assert.deepEqual(guardDutyFindingVersion(e.record), { id: e.record.id, count: 9, updatedAt: e.time });
  assert.equal(levelForGuardDutySeverity(e.record.severity as number), 'medium');
  assert.deepEqual(attackForFindingType(e.record.type as string, e.record).tactics, ['privilege-escalation']);

  const partial = decodeLines(join(dir, 'test-guard_duty.first2lines.log'));
  assert.equal(partial.skipped, 2);
  assert.equal(partial.envelopes.length, 0);
});

test('corpus: Panther findings, unwrapped from their test cases, map to a level and drop samples', { skip: !present && 'corpus absent' }, () => {
  const path = join(CORPUS, 'panther-analysis.rule-tests.jsonl');
  if (!existsSync(path)) return;
  const expectedLevel: Record<string, string> = {
    'AWS.GuardDuty.CriticalSeverityFinding': 'critical',
    'AWS.GuardDuty.HighSeverityFinding': 'high',
    'AWS.GuardDuty.MediumSeverityFinding': 'medium',
    'AWS.GuardDuty.LowSeverityFinding': 'low',
  };
  for (const line of readFileSync(path, 'utf8').trim().split('\n')) {
    const test = JSON.parse(line) as { rule: string; expectedResult: boolean; event: Record<string, unknown> };
    let skipped = 0;
    const envelopes = guardDutyFormat.unwrap(test.event, {
      uri: path,
      nextOrigin: (): Origin => ({ uri: path, index: 0 }),
      reportError: () => assert.fail('no error expected'),
      countSkipped: () => skipped++,
    });
    // Panther expects no alert exactly for its sample-data cases.
    assert.equal(envelopes.length, test.expectedResult ? 1 : 0, test.rule);
    if (envelopes[0]) assert.equal(levelForGuardDutySeverity(envelopes[0].record.severity as number), expectedLevel[test.rule]);
  }
});
