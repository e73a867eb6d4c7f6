/** Groups envelopes into batches of a fixed size, the unit the engine's hot loop consumes. */
import type { Envelope } from '../core/envelope.ts';

export const DEFAULT_BATCH_SIZE = 512;

export class Batcher {
  private batch: Envelope[] = [];
  private ready: Envelope[][] = [];
  private readonly size: number;

  constructor(size: number = DEFAULT_BATCH_SIZE) {
    this.size = Number.isInteger(size) && size > 0 ? size : DEFAULT_BATCH_SIZE;
  }

  push(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      this.batch.push(envelope);
      if (this.batch.length >= this.size) {
        this.ready.push(this.batch);
        this.batch = [];
      }
    }
  }

  /** The full batches collected so far (and, with `all`, the partial one). */
  take(all = false): Envelope[][] {
    if (all && this.batch.length > 0) {
      this.ready.push(this.batch);
      this.batch = [];
    }
    if (this.ready.length === 0) return [];
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
