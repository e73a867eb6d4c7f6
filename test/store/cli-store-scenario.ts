/**
 * The `scan --store` scenario both backends' CLI tests run (cli-store.test.ts for SQLite,
 * pg-cli-store.test.ts for PostgreSQL): the alerts go to the store and are still printed, a
 * re-scan adds nothing new and never reopens a triaged alert.
 */
import assert from 'node:assert/strict';
import { alertLines, runCli } from '../cli/run-cli.ts';
import type { AlertStore } from '../../src/store/alert-store.ts';

export interface CliStoreSpec {
  /** What `--store` is given: a file or a postgres:// URL. */
  store: string;
  open: (store: string) => AlertStore | Promise<AlertStore>;
  /** When set, the first scan's summary must name the store as this (in parentheses). */
  shownAs?: string;
}

export async function rescanScenario(spec: CliStoreSpec): Promise<void> {
  const first = await runCli(['scan', 'samples/', '--store', spec.store]);
  assert.equal(first.code, 0, first.stderr);
  const printed = alertLines(first.stdout);
  assert.ok(printed.length > 0);
  const shown = spec.shownAs === undefined ? '' : ` \\(${spec.shownAs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`;
  assert.match(first.stderr, new RegExp(`store: ${printed.length} new, 0 seen again${shown}`));
  const store = await spec.open(spec.store);
  let page = await store.list({ filter: { status: [] }, limit: 500 });
  assert.equal(page.total, printed.length);
  assert.deepEqual(page.alerts.map((alert) => alert.id).sort(), printed.map((alert) => alert.id).sort());
  const one = printed[0]?.id as string;
  const triaged = await store.update(one, 1, { status: 'closed', reason: 'false_positive' }, 'alice');
  await store.close();

  const second = await runCli(['scan', 'samples/', '--store', spec.store]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(alertLines(second.stdout).length, printed.length, 'still printed');
  assert.match(second.stderr, new RegExp(`store: 0 new, ${printed.length} seen again`));
  const reopened = await spec.open(spec.store);
  page = await reopened.list({ filter: { status: [] }, limit: 500 });
  assert.equal(page.total, printed.length, 'nothing duplicated');
  assert.ok(page.alerts.every((alert) => alert.hits === 2));
  const kept = await reopened.get(one);
  assert.equal(kept?.status, 'closed', 'a re-scan never reopens');
  assert.equal(kept?.version, triaged.version);
  await reopened.close();
}
