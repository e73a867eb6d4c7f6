import type { Alert } from '../core/alert.ts';

/** Where alerts go. `write` may buffer; `close` flushes and must be awaited. */
export interface AlertSink {
  write(alert: Alert): void | Promise<void>;
  close(): Promise<void>;
}
