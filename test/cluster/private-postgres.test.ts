/**
 * The private PostgreSQL server helper (private-postgres.ts): a database created, a row written
 * through a pg.Pool, the server restarted under the pool (which recovers: the broken clients are
 * dropped) with the row still there, stop() refusing connections and start() bringing the server
 * back, destroy() removing the directory (twice is fine). Skipped, with a message, when no private
 * server can be run here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';

const reason = await privatePostgresUnavailable();

if (reason !== undefined) {
  const message = `no private PostgreSQL server can be run here (${reason}): the private-postgres tests are skipped`;
  process.stderr.write(`\n*** ${message} ***\n\n`);
  test('private postgres: start, restart, stop, start, destroy', { skip: message }, () => undefined);
} else {
  registerTests();
}

function isConnectionRefused(error: unknown): boolean {
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  // Node may report an AggregateError (one attempt per address) around the ECONNREFUSED.
  return code === 'ECONNREFUSED' || (Array.isArray(errors) && errors.some(isConnectionRefused));
}

function registerTests(): void {
  let server: PrivatePostgres | undefined;
  let pool: pg.Pool | undefined;
  let started = 0;

  before(async () => {
    const t0 = Date.now();
    server = await startPrivatePostgres();
    started = Date.now() - t0;
  });
  after(async () => {
    await pool?.end().catch(() => undefined);
    await server?.destroy();
  });
  const the = (): { server: PrivatePostgres; pool: pg.Pool } => {
    assert.ok(server !== undefined && pool !== undefined, 'the server was started and the pool opened');
    return { server, pool };
  };

  test('a database is created and a row written through a pool', async (t) => {
    assert.ok(server !== undefined);
    t.diagnostic(`startPrivatePostgres: ${started} ms (port ${server.port}, ${server.dir})`);
    assert.notEqual(server.port, 5432);
    assert.equal(server.url(), `postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const url = await server.createDatabase('restart_me');
    assert.equal(url, server.url('restart_me'));
    pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 3000 });
    pool.on('error', () => undefined); // idle clients broken by a restart: dropped by the pool
    await pool.query('CREATE TABLE kept (id int PRIMARY KEY, note text)');
    await pool.query(`INSERT INTO kept VALUES (1, 'before the restart')`);
    const { rows } = await pool.query<{ data_directory: string; port: string }>(
      `SELECT current_setting('data_directory') AS data_directory, current_setting('port') AS port`,
    );
    assert.equal(dirname(rows[0]!.data_directory), server.dir, 'the data directory is in the server directory');
    assert.equal(Number(rows[0]!.port), server.port);
  });

  test('restart(): the pool recovers and the row is still there', async (t) => {
    const { server, pool } = the();
    // Idle clients in the pool, to be broken by the restart.
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')]);
    assert.ok(pool.idleCount >= 1);
    const pidBefore = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const t0 = Date.now();
    await server.restart();
    t.diagnostic(`restart: ${Date.now() - t0} ms`);
    const { rows } = await pool.query<{ id: number; note: string }>('SELECT id, note FROM kept');
    assert.deepEqual(rows, [{ id: 1, note: 'before the restart' }]);
    const pidAfter = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    assert.notEqual(pidAfter, pidBefore, 'a new backend after the restart');
    const uptime = await pool.query<{ seconds: number }>(
      'SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float AS seconds',
    );
    assert.ok(uptime.rows[0]!.seconds < 10, 'the postmaster was started again');
    await pool.query(`INSERT INTO kept VALUES (2, 'after the restart')`);
  });

  test('stop() refuses connections, start() brings the server back', async (t) => {
    const { server, pool } = the();
    const t0 = Date.now();
    await server.stop();
    t.diagnostic(`stop: ${Date.now() - t0} ms`);
    await server.stop(); // already stopped: nothing
    const client = new pg.Client({ connectionString: server.url(), connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), (error) => isConnectionRefused(error));
    await assert.rejects(pool.query('SELECT 1'), (error) => isConnectionRefused(error));
    const t1 = Date.now();
    await server.start();
    t.diagnostic(`start: ${Date.now() - t1} ms`);
    await server.start(); // already running: nothing
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM kept');
    assert.equal(rows[0]!.n, 2);
  });

  test('destroy() removes the directory, and can be called twice', async () => {
    const { server, pool } = the();
    await pool.end();
    const dir = server.dir;
    assert.ok(existsSync(dir));
    await server.destroy();
    assert.equal(existsSync(dir), false, `${dir} removed`);
    await server.destroy();
    await assert.rejects(server.start(), /destroyed/);
    const client = new pg.Client({ connectionString: server.url(), connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), (error) => isConnectionRefused(error));
  });
}
