/**
 * Running one measured command: wall time, CPU time and peak RSS of a child process (GNU
 * time when /usr/bin/time exists, else what the child reports), optionally pinned to one CPU
 * with taskset; and the statistics of repetitions (median and spread).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
export const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));

export interface Measured {
  wallSeconds: number;
  cpuSeconds: number | undefined;
  /** Peak resident set size in bytes (the largest process of the command). */
  maxRssBytes: number | undefined;
  stdout: string;
  stderr: string;
  status: number | null;
}

/** Runs `command` (argv), pinned to `cpu` when given and taskset exists. */
export function run(command: readonly string[], options: { cpu?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'th-bench-'));
  const timeFile = join(dir, 'time');
  let argv = [...command];
  if (options.cpu !== undefined && TASKSET !== undefined) argv = [TASKSET, '-c', String(options.cpu), ...argv];
  if (GNU_TIME !== undefined) argv = [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, ...argv];
  const started = performance.now();
  const result = spawnSync(argv[0] as string, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  let cpuSeconds: number | undefined;
  let maxRssBytes: number | undefined;
  let wallSeconds = wall;
  if (GNU_TIME !== undefined && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [elapsed, user, system, rss] = last.split(' ').map(Number);
    if (elapsed !== undefined && Number.isFinite(elapsed)) wallSeconds = elapsed;
    if (user !== undefined && system !== undefined && Number.isFinite(user + system)) cpuSeconds = user + system;
    if (rss !== undefined && Number.isFinite(rss)) maxRssBytes = rss * 1024;
  }
  rmSync(dir, { recursive: true, force: true });
  return { wallSeconds, cpuSeconds, maxRssBytes, stdout: result.stdout ?? '', stderr: result.stderr ?? '', status: result.status };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median: the run-to-run noise. */
  relative: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, relative: NaN, values: [] };
  const median = n % 2 === 1 ? (sorted[(n - 1) / 2] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  return { median, min, max, relative: median > 0 ? (max - min) / median : NaN, values: sorted };
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  loadAverage: string;
}

export function describeMachine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  let os: string = process.platform;
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux
  }
  let loadAverage = '';
  try {
    loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  return { nproc: availableParallelism(), cpuModel, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, os, loadAverage };
}

/** `jq --version`, or undefined when jq is not installed. */
export function jqVersion(): string | undefined {
  const result = spawnSync('jq', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The value after `--name` on the command line, if given. */
export function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** The repository's root and its CLI, as the benchmarks run it. */
export const REPO_ROOT = new URL('../', import.meta.url).pathname;
export const REPO_CLI = `${REPO_ROOT}bin/trailhound.js`;
