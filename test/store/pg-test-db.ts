/**
 * A throw-away PostgreSQL database for the PostgreSQL store tests: created through the server's
 * `postgres` database ($TRAILHOUND_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres,
 * as on this project's machines: trust authentication) as trailhound_test_<random>, and dropped
 * at the end of the run (after(), whatever the outcome). Without a reachable server the tests
 * skip with SKIP_MESSAGE.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../src/store/pg-alert-store.ts';

export const ADMIN_URL = process.env.TRAILHOUND_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why the server cannot be used, or undefined when it can. */
export async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String((error as { code?: unknown }).code ?? error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function skipMessage(reason: string): string {
  return `PostgreSQL not reachable at ${redactUrl(ADMIN_URL)} (${reason}): the PostgreSQL store tests are skipped. Start it (pg_ctlcluster ... main start) or set TRAILHOUND_TEST_PG_URL`;
}

/** The URL of database `name` on the test server, with libpq `options` (e.g. a search_path) when given. */
export function databaseUrl(name: string, options?: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  if (options !== undefined) url.searchParams.set('options', options);
  return url.toString();
}

/** The URL of one schema of database `name`: the tables go there (search_path). */
export function schemaUrl(name: string, schema: string): string {
  return databaseUrl(name, `-c search_path=${schema}`);
}

export interface TestDatabase {
  name: string;
  url: string;
  /** A client on the test database (closed by drop). */
  admin: pg.Pool;
  drop: () => Promise<void>;
}

/** Creates trailhound_test_<random>; drop() ends every pool left and drops it (WITH (FORCE): even with connections open). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `trailhound_test_${randomBytes(6).toString('hex')}`;
  const server = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await server.connect();
  try {
    await server.query(`CREATE DATABASE ${name}`);
  } finally {
    await server.end();
  }
  const url = databaseUrl(name);
  const admin = new pg.Pool({ connectionString: url, max: 4 });
  admin.on('error', () => undefined);
  let dropped = false;
  return {
    name,
    url,
    admin,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin.end().catch(() => undefined);
      const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
