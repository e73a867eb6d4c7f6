/**
 * The public samples in ../shared/corpus (not in the repository; skipped when absent): every
 * CloudTrail file decodes without throwing and yields the events MANIFEST.md counts.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { codes, decodeAll } from './helpers.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
const skip = existsSync(CORPUS) ? false : 'shared corpus absent (../shared/corpus)';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(path);
  }
  return out;
}

/** MANIFEST.md rows: corpus-relative file -> { events, digest }. */
function manifest(): Map<string, { events: number; digest: boolean }> {
  const rows = new Map<string, { events: number; digest: boolean }>();
  for (const line of readFileSync(join(CORPUS, 'MANIFEST.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 8 || !/^(cloudtrail|guardduty|vpcflow)\//.test(cells[1] ?? '')) continue;
    rows.set(cells[1] ?? '', { events: Number(cells[2]), digest: (cells[7] ?? '') === '(digest)' });
  }
  return rows;
}

function unitFor(path: string): InputUnit {
  return { uri: path, open: () => createReadStream(path) };
}

describe('shared corpus: CloudTrail', { skip }, () => {
  it('every file decodes without throwing; digests are skipped; samples yield their records', async (t) => {
    const expected = manifest();
    const report: string[] = [];
    let total = 0;
    for (const path of files(join(CORPUS, 'cloudtrail'))) {
      const name = relative(CORPUS, path);
      if (name.endsWith('SOURCES.tsv')) continue;
      const { envelopes, errors, stats } = await decodeAll(unitFor(path));
      total += envelopes.length;
      report.push(`${String(envelopes.length).padStart(4)} records ${String(stats.skipped).padStart(2)} skipped ${String(errors.length).padStart(4)} errors  ${name}`);
      assert.equal(stats.records, envelopes.length, name);
      assert.equal(stats.errors, errors.length, name);
      const row = expected.get(name);
      if (name.includes('panther-analysis.rule-tests')) {
        // Panther's test wrappers are not a shape we read: one located error per line, no crash.
        assert.equal(envelopes.length, 0, name);
        assert.ok(errors.length > 0 && errors.every((e) => e.code === 'TH_INPUT_FORMAT' || e.code === 'TH_INPUT_RECORD'), name);
        assert.match(errors[0]?.location ?? '', /:1$/);
        continue;
      }
      assert.deepEqual(codes(errors), [], name);
      assert.ok(row !== undefined, `${name} is not in MANIFEST.md`);
      if (row.digest) {
        assert.equal(envelopes.length, 0, name);
        assert.equal(stats.skipped, 1, name);
      } else {
        assert.equal(envelopes.length, row.events, name);
        for (const envelope of envelopes) assert.equal(envelope.source, 'cloudtrail');
      }
      if (name.includes('otrf-security-datasets')) {
        // Logstash JSON lines: @timestamp, no eventTime. The records come out; time is NaN.
        assert.ok(envelopes.every((e) => Number.isNaN(e.time)), name);
      } else if (!row.digest) {
        assert.ok(envelopes.every((e) => Number.isFinite(e.time)), `${name}: every record has an eventTime`);
      }
    }
    t.diagnostic(`${total} CloudTrail records`);
    for (const line of report) t.diagnostic(line);
  });
});

describe('shared corpus: any file', { skip }, () => {
  it('decodes without throwing, whatever it holds', async () => {
    for (const path of files(CORPUS)) {
      const { errors, stats } = await decodeAll(unitFor(path));
      assert.equal(stats.errors, errors.length, path);
    }
  });
});
