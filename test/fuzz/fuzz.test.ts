/**
 * The fuzz targets, run for a bounded time in every test run (FUZZ_MS per target, default 4 s;
 * FUZZ_SEED to explore other mutants), each in a child process with a hard timeout so that a
 * mutant that hangs is caught too. A mutant that crashes or hangs is kept: the failure message
 * names the file, to be copied into test/fixtures/fuzz/<target>/, where every file is replayed
 * on every run as a regression input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './driver.ts';

const DRIVER = fileURLToPath(new URL('./driver.ts', import.meta.url));
const REGRESSIONS = fileURLToPath(new URL('../fixtures/fuzz/', import.meta.url));
const MS = Number(process.env.FUZZ_MS ?? 4000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
/** Start-up, rule compilation, and the slowest single mutant allowed. */
const GRACE_MS = 30_000;

function driver(args: string[], timeout: number): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=512', DRIVER, ...args], { encoding: 'utf8', timeout, killSignal: 'SIGKILL' });
}

for (const target of TARGETS) {
  test(`fuzz ${target}: ${MS} ms of mutants, no crash, no hang (seed ${SEED})`, { timeout: MS + GRACE_MS + 10_000 }, () => {
    const workdir = mkdtempSync(join(tmpdir(), `trailhound-fuzz-${target}-`));
    const result = driver(['fuzz', target, String(SEED), String(MS), workdir], MS + GRACE_MS);
    if (result.status === 0) {
      const summary = JSON.parse(String(result.stdout).trim().split('\n').pop() ?? '{}') as { iterations?: number };
      assert.ok((summary.iterations ?? 0) > 0, 'the fuzzer ran mutants');
      process.stdout.write(`# fuzz ${target}: ${summary.iterations} mutants\n`);
      return;
    }
    const hung = result.signal === 'SIGKILL' || result.error !== undefined;
    const kept = join(workdir, hung ? `current.${target}` : `crash.${target}`);
    const keep = join(workdir, `keep-${target}-${SEED}`);
    if (existsSync(kept)) copyFileSync(kept, keep);
    assert.fail(`${hung ? 'a mutant hung' : 'a mutant crashed'} (${target}); keep it as a regression input: cp ${keep} test/fixtures/fuzz/${target}/\n${String(result.stdout).slice(-3000)}\n${String(result.stderr).slice(-3000)}`);
  });
}

for (const target of TARGETS) {
  const dir = join(REGRESSIONS, target);
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.') && name !== 'README.md').sort() : [];
  for (const file of files) {
    test(`fuzz regression ${target}/${file}: no crash, no hang`, { timeout: GRACE_MS + 10_000 }, () => {
      const result = driver(['replay', target, join(dir, file)], GRACE_MS);
      assert.equal(result.status, 0, `${String(result.stdout).slice(-2000)}\n${String(result.stderr).slice(-2000)}`);
    });
  }
}
