/**
 * Allowlists for the built-in pseudo-rules (GuardDuty passthrough, threat-intel matches): a
 * benign finding type or a wrong indicator can be allowlisted like any rule, and what a filter
 * keeps out is counted in the summary, never silently dropped. Through the CLI, on samples/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/run-cli.ts';

interface Line {
  rule: { name: string };
  guardduty?: { type: string };
  cti?: { indicator: string };
}

const FILTERS = `title: Benign anomalous-discovery findings of the reporting role
id: 9a1b2c3d-0000-4000-8000-000000000001
owner: soc@example.com
reason: svc-reporting's weekly inventory
logsource: {product: aws, service: guardduty}
filter:
    rules: [aws-gd-finding-passthrough, aws-gd-cti-remote-ip-match]
    benign:
        type: 'Discovery:IAMUser/AnomalousBehavior'
    condition: not benign
---
title: A wrong indicator
id: 9a1b2c3d-0000-4000-8000-000000000002
owner: soc@example.com
reason: the feed lists our NAT address
logsource: {product: aws, service: vpcflow}
filter:
    rules: [aws-vpcflow-cti-ip-match]
    ours:
        - srcaddr: 198.51.100.166
        - dstaddr: 198.51.100.166
    condition: not ours
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'th-builtin-filters-'));
  await writeFile(join(dir, 'filters.yml'), FILTERS);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scan(extra: string[]): Promise<{ lines: Line[]; stderr: string }> {
  const result = await runCli(['scan', 'samples/', '--cti', 'samples/intel/feed.txt', '--format', 'jsonl', ...extra]);
  assert.equal(result.code, 0, result.stderr);
  return { lines: result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line), stderr: result.stderr };
}

const count = (lines: Line[], test: (line: Line) => boolean): number => lines.filter(test).length;
const benignFinding = (line: Line): boolean => line.rule.name.startsWith('aws-gd-') && line.guardduty?.type === 'Discovery:IAMUser/AnomalousBehavior';
const wrongIndicator = (line: Line): boolean => line.rule.name === 'aws-vpcflow-cti-ip-match' && line.cti?.indicator === '198.51.100.166';

test('filters naming pseudo-rules drop exactly what they name, and the summary counts it per filter', async () => {
  const plain = await scan([]);
  assert.equal(count(plain.lines, benignFinding), 2, 'the finding and its threat-intel match');
  assert.ok(count(plain.lines, wrongIndicator) > 0);
  assert.doesNotMatch(plain.stderr, /suppressed by allowlists/);

  const filtered = await scan(['--filters', dir]);
  assert.equal(count(filtered.lines, benignFinding), 0);
  assert.equal(count(filtered.lines, wrongIndicator), 0);
  const others = (lines: Line[]): string[] => lines.filter((line) => !benignFinding(line) && !wrongIndicator(line)).map((line) => `${line.rule.name} ${line.guardduty?.type ?? ''} ${line.cti?.indicator ?? ''}`).sort();
  assert.deepEqual(others(filtered.lines), others(plain.lines), 'every other alert is unchanged');
  const summary = /filters: (\d+) match\(es\) suppressed by allowlists \(9a1b2c3d-0000-4000-8000-000000000001: (\d+), 9a1b2c3d-0000-4000-8000-000000000002: (\d+)\)/.exec(filtered.stderr);
  assert.ok(summary, filtered.stderr);
  assert.equal(Number(summary[2]), 2, 'one finding, asked for the passthrough and for its threat-intel match');
  assert.ok(Number(summary[3]) >= count(plain.lines, wrongIndicator), 'at least one flow record behind each dropped alert');
});

test('a filter naming a pseudo-rule of another log source is a located reference error', async () => {
  const file = join(dir, 'wrong-source.yml');
  await writeFile(file, FILTERS.split('---')[0]!.replace('service: guardduty', 'service: cloudtrail'));
  const result = await runCli(['scan', 'samples/', '--format', 'jsonl', '--filters', file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /TH_RULE_REFERENCE filter 9a1b2c3d-0000-4000-8000-000000000001: the built-in aws-gd-finding-passthrough reads service guardduty/);
  await rm(file);
});
