/**
 * What every command over the alert store shares (`tokens`, `alerts`): the `--store` option,
 * and opening the store, running the action and closing it, with store errors as located
 * TH_STORE_* lines on stderr (exit 2).
 */
import { Option } from 'commander';
import { located } from '../core/errors.ts';
import { StoreError, type AlertStore } from '../store/alert-store.ts';
import { displayStoreSpec, openAlertStore } from '../store/index.ts';
import { Diagnostics } from './diagnostics.ts';
import { EXIT } from './exit-codes.ts';

export interface StoreFlags {
  store: string;
}

export const storeOption = (): Option => new Option('--store <file|url>', 'the alert store: a SQLite FILE.db (or a watch state file), or postgres://user@host/db').makeOptionMandatory();

/** Opens the store, runs the action and closes it; store errors are TH_STORE_* on stderr, exit 2. */
export async function withStore(spec: string, action: (store: AlertStore, diagnostics: Diagnostics) => Promise<number>): Promise<number> {
  const diagnostics = new Diagnostics({ quiet: false });
  let store: AlertStore;
  try {
    store = await openAlertStore(spec);
  } catch (error) {
    diagnostics.error(located('TH_STORE_OPEN', (error as Error).message, '--store'));
    return EXIT.RULE_OR_CONFIG_ERROR;
  }
  try {
    return await action(store, diagnostics);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    diagnostics.error(located(error.code, error.message, displayStoreSpec(spec)));
    return EXIT.RULE_OR_CONFIG_ERROR;
  } finally {
    await store.close();
  }
}
