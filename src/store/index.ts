/**
 * The alert store by its spec, as `--store` (scan, serve, tokens) gives it: a path is the
 * embedded SQLite store (created with its parent folders when missing; a watch state file
 * `<state_dir>/trailhound.sqlite` is one), `postgres://` / `postgresql://` the PostgreSQL
 * store of the cluster mode (connected and migrated before it is returned).
 */
import { StoreError, type AlertStore } from './alert-store.ts';
import { PgAlertStore, redactUrl } from './pg-alert-store.ts';
import { SqliteAlertStore } from './sqlite-alert-store.ts';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** True when the spec names a PostgreSQL store (postgres:// or postgresql://). */
export function isPostgresSpec(spec: string): boolean {
  return typeof spec === 'string' && POSTGRES_URL.test(spec.trim());
}

/** The spec as it may be printed: a PostgreSQL URL with its password replaced by ***, a path as it is. */
export function displayStoreSpec(spec: string): string {
  return isPostgresSpec(spec) ? redactUrl(spec.trim()) : spec;
}

export async function openAlertStore(spec: string): Promise<AlertStore> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new StoreError('TH_STORE_OPEN', 'the alert store needs a path (FILE.db) or a postgres:// URL', 500);
  if (isPostgresSpec(spec)) return PgAlertStore.open(spec.trim());
  return SqliteAlertStore.open(spec);
}
