/**
 * The alert store by its spec, as `--store` (scan, serve, tokens) gives it: a path is the
 * embedded SQLite store (created with its parent folders when missing; a watch state file
 * `<state_dir>/trailhound.sqlite` is one), `postgres://` / `postgresql://` the PostgreSQL
 * store of the cluster mode (connected and migrated before it is returned). The backends are
 * loaded when one is opened: a scan without --store loads neither driver.
 */
import { StoreError, type AlertStore } from './alert-store.ts';
import { isPostgresSpec } from './store-url.ts';

export { displayStoreSpec, isPostgresSpec } from './store-url.ts';

export async function openAlertStore(spec: string): Promise<AlertStore> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new StoreError('TH_STORE_OPEN', 'the alert store needs a path (FILE.db) or a postgres:// URL', 500);
  // Each backend (and its driver) is loaded when a store of its kind is opened.
  if (isPostgresSpec(spec)) return (await import('./pg-alert-store.ts')).PgAlertStore.open(spec.trim());
  return (await import('./sqlite-alert-store.ts')).SqliteAlertStore.open(spec);
}
