import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/trailhound.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trailhound ARGS` as a user would, from the repository folder, stdout piped (so jsonl). */
export function runCli(args: string[], options: { stdin?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
    child.stdin.end(options.stdin ?? '');
  });
}

export interface AlertLine {
  id: string;
  time: string | null;
  rule: { name: string | null; level: string };
  event_ids: string[];
  count: number;
  events?: unknown[];
}

export function alertLines(stdout: string): AlertLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AlertLine);
}

/** `rule-name × count`, sorted: what a scan raised, order aside. */
export function ruleCounts(alerts: readonly AlertLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const alert of alerts) counts[alert.rule.name ?? '?'] = (counts[alert.rule.name ?? '?'] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
