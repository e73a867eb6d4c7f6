/**
 * `trailhound alerts`: the stored alerts as the scan wrote them (jsonl), filtered by level,
 * status and rule; a job filter on a store where no job ran lists nothing; a bad filter is a
 * located TH_STORE_INVALID (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertLines, runCli } from './run-cli.ts';

test('alerts lists what scan --store stored, as the scan printed it, and filters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'th-alerts-'));
  try {
    const store = join(dir, 'alerts.db');
    const scanned = await runCli(['scan', 'samples/', '--store', store]);
    assert.equal(scanned.code, 0, scanned.stderr);
    const printed = alertLines(scanned.stdout);
    assert.ok(printed.length > 5);

    const all = await runCli(['alerts', '--store', store, '--format', 'jsonl']);
    assert.equal(all.code, 0, all.stderr);
    const listed = alertLines(all.stdout);
    assert.deepEqual(listed.map((alert) => alert.id).sort(), printed.map((alert) => alert.id).sort());
    // The same JSON as the scan wrote, line for line.
    const byId = new Map(scanned.stdout.trim().split('\n').map((line) => [(JSON.parse(line) as { id: string }).id, line]));
    for (const line of all.stdout.trim().split('\n')) assert.equal(line, byId.get((JSON.parse(line) as { id: string }).id));
    assert.match(all.stderr, new RegExp(`${printed.length} of ${printed.length} alerts`));

    const critical = await runCli(['alerts', '--store', store, '--level', 'critical', '--format', 'jsonl']);
    assert.deepEqual(alertLines(critical.stdout).map((alert) => alert.rule.level), printed.filter((alert) => alert.rule.level === 'critical').map(() => 'critical'));
    const limited = await runCli(['alerts', '--store', store, '--limit', '2', '--format', 'jsonl']);
    assert.equal(alertLines(limited.stdout).length, 2);
    const noJob = await runCli(['alerts', '--store', store, '--job', 'nightly', '--format', 'jsonl']);
    assert.equal(noJob.code, 0, noJob.stderr);
    assert.equal(noJob.stdout, '');

    const bad = await runCli(['alerts', '--store', store, '--level', 'severe']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TH_STORE_INVALID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
