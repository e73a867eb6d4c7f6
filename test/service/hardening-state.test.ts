/**
 * `trailhound watch` with a damaged state database, as a child process: it refuses to start
 * (TH_STATE_DAMAGED naming the file, exit code 2) instead of reading every object again;
 * `--reset-state` moves the damaged file aside and starts afresh.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cloudTrailFile, stopLogging } from './cloudtrail-fixtures.ts';
import { listItem } from './config-fixtures.ts';
import { CLI, jsonLines, removeDir, REPO_ROOT, tempDir } from './files.ts';
import { STATE_FILE } from '../../src/store/state-store.ts';

const dir = tempDir('hardening-state');
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await removeDir(dir);
});

interface Run {
  stderr: () => string;
  exited: Promise<number | null>;
  stop: () => void;
  kill: () => void;
}

/** The exit code, or 'still running' (then killed) when the process did not exit in time. */
async function exitCode(run: Run, ms = 20_000): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  const result = await Promise.race([run.exited, timeout]);
  clearTimeout(timer);
  if (result === 'still running') run.kill();
  return result;
}

function watch(configPath: string, extra: string[] = []): Run {
  const child = spawn(process.execPath, [join(REPO_ROOT, CLI), 'watch', '--config', configPath, ...extra], { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { stderr: () => stderr, exited, stop: () => child.kill('SIGTERM'), kill: () => child.kill('SIGKILL') };
}

async function until(what: string, check: () => boolean, run: Run, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const alertIds = (file: string): string[] => (existsSync(file) ? jsonLines<{ id: string }>(readFileSync(file, 'utf8')).map((alert) => alert.id) : []);

interface LogLine {
  level: string;
  msg: string;
  code?: string;
  location?: string;
  damaged?: string;
}
const logLines = (text: string): LogLine[] => text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);

test('watch refuses a damaged state with TH_STATE_DAMAGED and exit 2; --reset-state moves it aside and starts afresh', { timeout: 90_000 }, async () => {
  const base = join(dir, 'service');
  await mkdir(join(base, 'logs'), { recursive: true });
  await writeFile(join(base, 'logs', 'trail.json.gz'), cloudTrailFile([stopLogging('stop-1', '2026-11-05T10:00:00Z')]));
  const configPath = join(base, 'trailhound.yml');
  const alertsFile = join(base, 'alerts.jsonl');
  await writeFile(
    configPath,
    ['state_dir: ./state', 'sources:', listItem('folder', { path: './logs', poll_interval: '200ms' }), 'sinks:', listItem('file', { path: './alerts.jsonl' }), ''].join('\n'),
  );
  const stateFile = join(base, 'state', STATE_FILE);

  // A first run processes the folder: one alert, and a state that records it.
  const first = watch(configPath);
  await until('the first alert', () => alertIds(alertsFile).length === 1, first);
  first.stop();
  assert.equal(await exitCode(first), 0, first.stderr());
  const delivered = readFileSync(alertsFile, 'utf8');

  // Damaged in several ways: each time the service refuses to start, and reads nothing again.
  const pristine = readFileSync(stateFile);
  const damages: [string, () => void, RegExp][] = [
    ['0 bytes', () => truncateSync(stateFile, 0), /empty \(0 bytes\)/],
    ['half', () => truncateSync(stateFile, Math.floor(pristine.length / 2)), /truncated|cannot read|integrity/],
    ['garbage header', () => writeFileSync(stateFile, Buffer.concat([Buffer.from('not a database!!'), pristine.subarray(16)])), /not a SQLite database/],
  ];
  for (const [what, damage, message] of damages) {
    writeFileSync(stateFile, pristine);
    damage();
    const refused = watch(configPath);
    const code = await exitCode(refused);
    assert.equal(code, 2, `${what}: ${refused.stderr()}`);
    const error = logLines(refused.stderr()).find((line) => line.code === 'TH_STATE_DAMAGED');
    assert.ok(error !== undefined, `${what}: ${refused.stderr()}`);
    assert.equal(error.level, 'error');
    assert.equal(error.location, stateFile, `${what}: the file is named`);
    assert.match(error.msg, message, what);
    assert.match(error.msg, /--reset-state/);
    assert.equal(readFileSync(alertsFile, 'utf8'), delivered, `${what}: nothing read again, nothing sent again`);
    assert.deepEqual(readdirSync(join(base, 'state')).filter((name) => name.includes('damaged')), [], `${what}: nothing moved without --reset-state`);
  }

  // --reset-state: the damaged file is moved aside, a new state starts, the folder is read again.
  const damagedBytes = readFileSync(stateFile);
  const reset = watch(configPath, ['--reset-state']);
  await until('the reset warning', () => logLines(reset.stderr()).some((line) => line.damaged !== undefined), reset);
  await until('the folder read again', () => logLines(reset.stderr()).some((line) => line.msg === 'watching') && existsSync(stateFile) && readFileSync(stateFile).subarray(0, 15).toString('latin1') === 'SQLite format 3', reset);
  const warning = logLines(reset.stderr()).find((line) => line.damaged !== undefined);
  assert.ok(warning !== undefined);
  assert.equal(warning.level, 'warn');
  assert.ok(warning.damaged?.startsWith(`${stateFile}.damaged-`), warning.damaged);
  assert.deepEqual(readFileSync(warning.damaged ?? ''), damagedBytes, 'the damaged bytes are kept aside');
  reset.stop();
  assert.equal(await exitCode(reset), 0, reset.stderr());

  // The new state is whole: the next start, without the flag, is a normal one.
  const again = watch(configPath);
  await until('a normal start', () => logLines(again.stderr()).some((line) => line.msg === 'watching'), again);
  assert.ok(!logLines(again.stderr()).some((line) => line.code === 'TH_STATE_DAMAGED' || line.damaged !== undefined));
  again.stop();
  assert.equal(await exitCode(again), 0, again.stderr());
});
