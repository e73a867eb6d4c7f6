/**
 * `scan --store FILE.db`: every alert the scan raises is also put into the alert store (and
 * still printed as before). Stored once per id: a re-scan of the same input adds nothing new,
 * it moves each alert's hits and last_seen (src/store/alert-store.ts). Alerts are written in
 * batches, one transaction each; the summary on stderr says what was new:
 * `store: N new, M seen again (FILE)`.
 */
import type { Alert } from '../core/alert.ts';
import { located } from '../core/errors.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { StoreError } from '../store/alert-store.ts';
import { displayStoreSpec, openAlertStore } from '../store/index.ts';
import type { Diagnostics } from './diagnostics.ts';

/** Alerts per transaction. */
const BATCH = 500;

export class ScanStore {
  private readonly store: AlertStore;
  private readonly spec: string;
  private readonly diagnostics: Diagnostics;
  private pending: Alert[] = [];
  private inserted = 0;
  private updated = 0;
  private failed = false;
  /** The batches written so far, in order. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(store: AlertStore, spec: string, diagnostics: Diagnostics) {
    this.store = store;
    // As printed: a PostgreSQL URL without its password.
    this.spec = displayStoreSpec(spec);
    this.diagnostics = diagnostics;
  }

  /** Opens the store named by `--store`, or reports TH_STORE_OPEN and returns undefined (exit 2). */
  static async open(spec: string, diagnostics: Diagnostics): Promise<ScanStore | undefined> {
    try {
      return new ScanStore(await openAlertStore(spec), spec, diagnostics);
    } catch (error) {
      const message = error instanceof StoreError ? error.message : `cannot open the alert store: ${(error as Error).message}`;
      diagnostics.error(located('TH_STORE_OPEN', message, '--store'));
      return undefined;
    }
  }

  /** Queues one alert; a full batch is written next, after the batches before it. */
  add(alert: Alert): void {
    if (this.failed) return;
    this.pending.push(alert);
    if (this.pending.length >= BATCH) this.writing = this.writing.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.failed) return;
    const batch = this.pending;
    this.pending = [];
    try {
      const result = await this.store.putAlerts(batch, 'scan');
      this.inserted += result.inserted;
      this.updated += result.updated;
    } catch (error) {
      // The scan goes on (alerts are still printed); the store is left as its last whole batch.
      this.failed = true;
      this.diagnostics.error(located('TH_STORE_OPEN', `cannot write to the alert store: ${(error as Error).message}; alerts from here on are not stored`, this.spec));
    }
  }

  /**
   * Writes what is left, adds the matches each allowlist filter kept out to the suppressions the
   * store wrote ("Suppress from this alert": counted, never silently dropped), closes the store
   * and prints the summary line. False when the store failed (exit 2).
   */
  async finish(suppressed: ReadonlyMap<string, number> = new Map()): Promise<boolean> {
    await this.writing;
    await this.flush();
    if (!this.failed) {
      try {
        for (const [filterId, matches] of suppressed) if (matches > 0) await this.store.countSuppressed(filterId, matches);
      } catch (error) {
        this.failed = true;
        this.diagnostics.error(located('TH_STORE_OPEN', `cannot count suppressed matches in the alert store: ${(error as Error).message}`, this.spec));
      }
    }
    try {
      await this.store.close();
    } catch (error) {
      this.failed = true;
      this.diagnostics.error(located('TH_STORE_OPEN', `cannot close the alert store: ${(error as Error).message}`, this.spec));
    }
    this.diagnostics.info(`store: ${this.inserted} new, ${this.updated} seen again (${this.spec})`);
    return !this.failed;
  }
}
