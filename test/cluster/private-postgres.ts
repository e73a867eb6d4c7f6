/**
 * A private, throw-away PostgreSQL 15 server for the tests that must stop or restart the server
 * mid-run: the machine's shared server (127.0.0.1:5432, pg-test-db.ts) is used by other test files
 * at the same time and must never be restarted.
 *
 * Each server lives in a directory of its own under os.tmpdir() (trailhound-pg-<random>: data/,
 * the Unix socket, postgres.log), listens on 127.0.0.1 on a free port, with trust authentication
 * for the `postgres` role, and durability off (fsync, synchronous_commit, full_page_writes).
 * Debian's binaries (/usr/lib/postgresql/15/bin, or $TRAILHOUND_TEST_PG_BIN) are run as the
 * `postgres` OS user when the tests run as root (initdb and postgres refuse root), through runuser
 * or su.
 *
 * privatePostgresUnavailable() checks everything once per process, a trial initdb included: that
 * data directory is then the template the servers are copied from (cp -a is much faster than
 * initdb). Every child process has a timeout, so nothing hangs. Users call destroy() in after();
 * a process 'exit' handler (and SIGINT/SIGTERM/SIGHUP ones) also stops every server still running
 * (pg_ctl stop -m immediate, synchronously) and removes the directories, and directories left by a
 * process that was killed outright (its pid, in owner.pid, is gone) are swept at the next use.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants as fsConstants, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { access, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PrivatePostgres {
  port: number;
  /** The server's own directory: data/ (the data directory), the Unix socket, postgres.log. */
  readonly dir: string;
  /** The server's log (pg_ctl -l), for failure messages. */
  readonly logFile: string;
  /** postgres://postgres@127.0.0.1:<port>/<db> (db: `postgres` by default). */
  url(database?: string): string;
  /** CREATE DATABASE <name>; returns its url. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (pg_ctl stop -m fast), waits until stopped. Nothing when already stopped. */
  stop(): Promise<void>;
  /** Starts again on the same port and data directory, waits until it accepts connections. Nothing when running. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Immediate shutdown and the directory removed; safe to call twice. */
  destroy(): Promise<void>;
}

const BIN = process.env.TRAILHOUND_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const INITDB = join(BIN, 'initdb');
const PG_CTL = join(BIN, 'pg_ctl');
const POSTGRES = join(BIN, 'postgres');
const OS_USER = 'postgres';
const DIR_PREFIX = 'trailhound-pg-';
const OWNER_FILE = 'owner.pid';
const READY_TIMEOUT_MS = 15_000;
/** pg_ctl's own wait (-t, seconds); the child process gets a few more. */
const PG_CTL_WAIT_S = 20;
const IS_ROOT = process.getuid?.() === 0;

interface Account {
  uid: number;
  gid: number;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** The postgres account from /etc/passwd, or undefined. */
function postgresAccount(): Account | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== OS_USER || fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  }
  return undefined;
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((path) => existsSync(path));
}

const RUNUSER = firstExisting(['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser', '/bin/runuser']);
const SU = firstExisting(['/usr/bin/su', '/bin/su']);

/** The command line that runs `file args` as the postgres user (as is when not root). */
function asPostgres(file: string, args: string[]): [string, string[]] {
  if (!IS_ROOT) return [file, args];
  if (RUNUSER !== undefined) return [RUNUSER, ['-u', OS_USER, '--', file, ...args]];
  if (SU !== undefined) return [SU, ['-s', '/bin/sh', OS_USER, '-c', 'exec "$0" "$@"', file, ...args]];
  throw new Error('neither runuser nor su found: cannot run the PostgreSQL binaries as the postgres user');
}

/** The environment of the children: no PG* variable of ours (PGDATA, PGPORT...) leaks in. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.LC_ALL = 'C';
  return env;
}

/** Runs `file args` as the postgres user in `cwd` (which that user can enter), killed after timeoutMs. Never throws. */
function run(file: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    let command: [string, string[]];
    try {
      command = asPostgres(file, args);
    } catch (error) {
      resolve({ code: null, signal: null, timedOut: false, stdout: '', stderr: '', error: error as Error });
      return;
    }
    const child = spawn(command[0], command[1], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ code, signal, timedOut, stdout, stderr, ...(spawnError ? { error: spawnError } : {}) });
    };
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      grace = setTimeout(() => {
        child.kill('SIGKILL');
        // The process is gone; a grandchild may still hold the pipes: do not wait for them.
        setTimeout(() => finish(child.exitCode, child.signalCode), 1000).unref();
      }, 2000);
    }, timeoutMs);
    child.on('error', (error) => {
      spawnError = error;
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function describe(what: string, result: RunResult, logFile?: string): string {
  const how = result.error
    ? result.error.message
    : result.timedOut
      ? 'timed out'
      : result.signal !== null
        ? `killed by ${result.signal}`
        : `exit code ${result.code}`;
  const output = `${result.stdout}${result.stderr}`.trim();
  const log = logFile !== undefined ? logTail(logFile) : '';
  return `${what} failed (${how})${output ? `:\n${output}` : ''}${log ? `\n--- ${logFile} (end) ---\n${log}` : ''}`;
}

function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A directory of our own under os.tmpdir(), owned by the postgres user, with our pid in owner.pid. */
async function makeOwnDir(account: Account | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  if (IS_ROOT && account !== undefined) await chown(dir, account.uid, account.gid);
  return dir;
}

/** A free TCP port on 127.0.0.1 (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port picked'))));
    });
  });
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// What to clean up synchronously when the process goes: servers still running, directories.

interface Live {
  dir: string;
  dataDir: string | undefined;
}

const live = new Set<Live>();
let handlersInstalled = false;

function stopImmediateSync(dataDir: string): void {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
  try {
    const [file, args] = asPostgres(PG_CTL, ['stop', '-m', 'immediate', '-w', '-t', '10', '-D', dataDir]);
    spawnSync(file, args, { cwd: tmpdir(), env: childEnv(), stdio: 'ignore', timeout: 15_000, killSignal: 'SIGKILL' });
  } catch {
    // killed below
  }
  killPostmaster(dataDir, 'SIGKILL');
}

/** Signals the postmaster named by postmaster.pid when there is one (and it is alive). */
function killPostmaster(dataDir: string, signal: NodeJS.Signals): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, signal);
  } catch {
    // no pid file, or the process is gone already
  }
}

function cleanupSync(): void {
  for (const entry of live) {
    if (entry.dataDir !== undefined) stopImmediateSync(entry.dataDir);
    try {
      rmSync(entry.dir, { recursive: true, force: true });
    } catch {
      // nothing more to do on the way out
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupSync();
  // Alone on this signal, ours replaced the default (ending the process): end it as it would have.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function track(entry: Live): void {
  live.add(entry);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/** Directories left by processes that are gone (killed outright): their servers stopped, the directories removed. */
function sweepStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let pid: number;
    try {
      if (!statSync(dir).isDirectory()) continue;
      pid = Number(readFileSync(join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      continue; // not ours, or being created: left alone
    }
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    stopImmediateSync(join(dir, 'data'));
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // someone else's to sort out
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// The check, once per process, and its trial initdb kept as the template.

interface Template {
  account: Account | undefined;
  dataDir: string;
}

let checked: Promise<{ reason: string } | { template: Template }> | undefined;

/** Why a private server cannot be run here (no binaries, no postgres user, initdb failing...), or undefined. */
export async function privatePostgresUnavailable(): Promise<string | undefined> {
  const outcome = await (checked ??= check());
  return 'reason' in outcome ? outcome.reason : undefined;
}

async function check(): Promise<{ reason: string } | { template: Template }> {
  for (const binary of [INITDB, PG_CTL, POSTGRES]) {
    try {
      await access(binary, fsConstants.X_OK);
    } catch {
      return { reason: `${binary} not found or not executable (Debian's postgresql-15; or set TRAILHOUND_TEST_PG_BIN)` };
    }
  }
  let account: Account | undefined;
  if (IS_ROOT) {
    account = postgresAccount();
    if (account === undefined) return { reason: `running as root, and there is no '${OS_USER}' OS user to run initdb and postgres as` };
    if (RUNUSER === undefined && SU === undefined) return { reason: `running as root, and neither runuser nor su is there to run initdb and postgres as '${OS_USER}'` };
  }
  sweepStale();
  let dir: string;
  try {
    dir = await makeOwnDir(account);
  } catch (error) {
    return { reason: `cannot make a directory under ${tmpdir()}: ${(error as Error).message}` };
  }
  const entry: Live = { dir, dataDir: undefined };
  track(entry);
  const dataDir = join(dir, 'data');
  const result = await run(INITDB, ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], dir, 60_000);
  if (result.code !== 0) {
    live.delete(entry);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return { reason: describe(`initdb${IS_ROOT ? ` (as ${OS_USER})` : ''} in ${dir}`, result) };
  }
  return { template: { account, dataDir } };
}

// ---------------------------------------------------------------------------------------------

/** A new server, started and accepting connections (throws, with the reason, when it cannot be). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  await privatePostgresUnavailable();
  const outcome = await checked;
  if (outcome === undefined || 'reason' in outcome) {
    throw new Error(`no private PostgreSQL server here: ${outcome?.reason ?? 'unknown'}`);
  }
  const { account, dataDir: templateDir } = outcome.template;
  const dir = await makeOwnDir(account);
  const entry: Live = { dir, dataDir: undefined };
  track(entry);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  try {
    const copied = await run('cp', ['-a', templateDir, dataDir], dir, 60_000);
    if (copied.code !== 0) throw new Error(describe(`copying the template data directory ${templateDir}`, copied));
    entry.dataDir = dataDir;
    const server = new Server(dir, dataDir, logFile, await freePort());
    // The port picked may be taken before the postmaster binds it: another one, then.
    for (let attempt = 1; ; attempt++) {
      try {
        await server.start();
        break;
      } catch (error) {
        if (attempt >= 3 || !/could not bind|address already in use/i.test(logTail(logFile, 50))) throw error;
        server.port = await freePort();
      }
    }
    server.onDestroyed = () => live.delete(entry);
    return server;
  } catch (error) {
    if (entry.dataDir !== undefined) stopImmediateSync(entry.dataDir);
    live.delete(entry);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

class Server implements PrivatePostgres {
  onDestroyed: () => void = () => undefined;
  private running = false;
  private destroyed: Promise<void> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly dataDir: string,
    readonly logFile: string,
    public port: number,
  ) {}

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    return this.url(name);
  }

  start(): Promise<void> {
    return this.serial(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serial(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      // Not behind the queue: a stuck start() must not keep the directory around.
      await this.stopImmediate();
      this.running = false;
      await rm(this.dir, { recursive: true, force: true });
      this.onDestroyed();
    })();
    return this.destroyed;
  }

  /** One operation at a time, in the order asked. */
  private serial(operation: () => Promise<void>): Promise<void> {
    const next = this.queue.then(() => {
      if (this.destroyed !== undefined) throw new Error(`the private PostgreSQL server in ${this.dir} was destroyed`);
      return operation();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    if (this.running) return;
    const options = [
      `-p ${this.port}`,
      `-k '${this.dir.replace(/'/g, `'\\''`)}'`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c shared_buffers=32MB',
    ].join(' ');
    const args = ['start', '-w', '-t', String(PG_CTL_WAIT_S), '-D', this.dataDir, '-l', this.logFile, '-o', options];
    const result = await run(PG_CTL, args, this.dir, (PG_CTL_WAIT_S + 10) * 1000);
    if (result.code !== 0) {
      // pg_ctl gave up waiting: do not leave a half-started postmaster behind.
      if (result.timedOut || (await this.status()) === 'running') await this.stopImmediate();
      throw new Error(describe(`pg_ctl start (port ${this.port})`, result, this.logFile));
    }
    this.running = true;
    await this.waitForConnections();
  }

  private async doStop(): Promise<void> {
    if (!this.running && (await this.status()) !== 'running') return;
    const result = await run(PG_CTL, ['stop', '-m', 'fast', '-w', '-t', String(PG_CTL_WAIT_S), '-D', this.dataDir], this.dir, (PG_CTL_WAIT_S + 10) * 1000);
    if (result.code !== 0 && (await this.status()) !== 'stopped') {
      throw new Error(describe(`pg_ctl stop -m fast (port ${this.port})`, result, this.logFile));
    }
    this.running = false;
  }

  /** pg_ctl status: exit code 0 running, 3 not running (4: no data directory). */
  private async status(): Promise<'running' | 'stopped' | 'unknown'> {
    const result = await run(PG_CTL, ['status', '-D', this.dataDir], this.dir, 10_000);
    if (result.code === 0) return 'running';
    if (result.code === 3 || result.code === 4) return 'stopped';
    return 'unknown';
  }

  private async stopImmediate(): Promise<void> {
    let pidFile: string;
    try {
      pidFile = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8');
    } catch {
      return; // not running
    }
    const result = await run(PG_CTL, ['stop', '-m', 'immediate', '-w', '-t', '10', '-D', this.dataDir], this.dir, 15_000);
    if (result.code === 0) return;
    // pg_ctl could not: the postmaster goes the hard way (its children follow when they see it gone).
    const pid = Number(pidFile.split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Until a connection answers SELECT 1 (pg_ctl -w said ready; this makes sure), or READY_TIMEOUT_MS. */
  private async waitForConnections(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        lastError = error;
      } finally {
        await client.end().catch(() => undefined);
      }
      await sleep(100);
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`the private PostgreSQL server on port ${this.port} did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${message})\n--- ${this.logFile} (end) ---\n${logTail(this.logFile)}`);
  }
}
