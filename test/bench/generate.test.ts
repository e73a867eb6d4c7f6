/**
 * The benchmark corpus generator (bench/generate.ts): deterministic for a seed, in the S3
 * layout, and the planted attacks raise exactly the expected alerts (the background none, but for
 * the discovery bursts its automation raises: measured by bench/precision.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { defaultOptions, generateCorpus } from '../../bench/generate.ts';
import type { GenerateOptions } from '../../bench/generate.ts';
import { listFiles } from '../../bench/floor.ts';
import { PRECISION_RULES, diffAlertCounts } from '../../bench/planted.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function small(out: string, seed = 7): GenerateOptions {
  return defaultOptions({ out, seed, records: 6000, minPerFile: 100, maxPerFile: 400, flowLines: 3000, indicators: 500 });
}

function digest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of listFiles(dir)) {
    if (file.endsWith('manifest.json')) continue;
    const bytes = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
    out.set(relative(dir, file), createHash('sha256').update(bytes).digest('hex'));
  }
  return out;
}

test('the same seed gives the same corpus, another seed another one', async () => {
  const base = mkdtempSync(join(tmpdir(), 'th-gen-'));
  try {
    const a = await generateCorpus(small(join(base, 'a')));
    const b = await generateCorpus(small(join(base, 'b')));
    const c = await generateCorpus(small(join(base, 'c'), 8));
    assert.deepEqual(digest(join(base, 'a')), digest(join(base, 'b')));
    assert.deepEqual({ ...a, compressedBytes: 0 }, { ...b, compressedBytes: 0 });
    assert.notDeepEqual(digest(join(base, 'a')), digest(join(base, 'c')));
    assert.equal(c.expected.pack['aws-ct-cloudtrail-stopped-or-deleted'], a.expected.pack['aws-ct-cloudtrail-stopped-or-deleted']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('files follow the S3 layout and hold {"Records": [...]} in time order', async () => {
  const out = mkdtempSync(join(tmpdir(), 'th-gen-'));
  try {
    const manifest = await generateCorpus(small(out));
    const files = listFiles(join(out, 'AWSLogs'), '.json.gz');
    assert.equal(files.length, manifest.files);
    let records = 0;
    for (const file of files) {
      assert.match(relative(out, file), /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\1_CloudTrail_\2_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/);
      const value = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { Records: Array<{ eventTime: string; userIdentity: { type: string } }> };
      const times = value.Records.map((record) => record.eventTime);
      assert.deepEqual(times, [...times].sort());
      records += value.Records.length;
    }
    assert.equal(records, manifest.records);
    for (const type of ['AssumedRole', 'AWSAccount', 'AWSService', 'FederatedUser', 'IAMUser', 'IdentityCenterUser', 'Root']) {
      assert.ok((manifest.identityTypes[type] ?? 0) > 0, `no ${type} identity`);
    }
    const flows = listFiles(join(out, 'flows'), '.log.gz');
    assert.ok(flows.length > 0);
    assert.match(gunzipSync(readFileSync(flows[0] as string)).toString('utf8').split('\n')[0] ?? '', /^version account-id interface-id srcaddr dstaddr/);
    assert.equal(manifest.flows?.hits, 30);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('scanning the corpus raises exactly the planted alerts (built-in pack, bench filters)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'th-gen-'));
  try {
    const manifest = await generateCorpus({ ...small(out), flowLines: 0 });
    const alerts = join(out, 'alerts.jsonl');
    const result = spawnSync(
      'node',
      ['bin/trailhound.js', 'scan', join(out, 'AWSLogs'), '--filters', 'bench/filters', '--vars', 'bench/vars.yml', '--no-events', '-f', 'jsonl', '-o', alerts, '-q'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    const counts: Record<string, number> = {};
    for (const line of readFileSync(alerts, 'utf8').split('\n')) {
      if (line === '') continue;
      const name = (JSON.parse(line) as { rule: { name: string } }).rule.name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    // Exactly the planted alerts, except the discovery bursts: the background's automation
    // (terraform plans, inventory, monitoring, CI) raises some today (bench/precision.ts).
    assert.deepEqual(diffAlertCounts(manifest.expected.pack, counts), []);
    for (const rule of PRECISION_RULES) assert.ok((manifest.expected.pack[rule] ?? 0) > 0, `${rule} is planted`);
    assert.equal(manifest.plantedBursts.length, 5);
    assert.equal(manifest.plantedBursts.filter((burst) => burst.accessKeyId !== undefined).length, 1, 'one burst from a leaked long-term key');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
