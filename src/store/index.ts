/**
 * The alert store by its spec, as `--store` (scan, serve, tokens) gives it: a path is the
 * embedded SQLite store (created with its parent folders when missing; a watch state file
 * `<state_dir>/trailhound.sqlite` is one), `postgres://` / `postgresql://` the cluster mode.
 */
import { StoreError, type AlertStore } from './alert-store.ts';
import { SqliteAlertStore } from './sqlite-alert-store.ts';

export async function openAlertStore(spec: string): Promise<AlertStore> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new StoreError('TH_STORE_OPEN', 'the alert store needs a path (FILE.db) or a postgres:// URL', 500);
  if (/^postgres(ql)?:\/\//i.test(spec.trim())) {
    throw new StoreError('TH_STORE_OPEN', 'PostgreSQL is the cluster mode (issue 14), not available yet: give a SQLite file (FILE.db) instead', 500);
  }
  return SqliteAlertStore.open(spec);
}
