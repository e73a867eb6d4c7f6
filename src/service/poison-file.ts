/**
 * `poisoned.jsonl` in the state directory: what the service set aside instead of retrying
 * forever (objects that failed `poison_after` times, messages it cannot read), one JSON line
 * each, so that an operator can look, fix the cause and rescan.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PoisonRecord {
  source: string;
  /** The object, or the message id for an unreadable message. */
  uri: string;
  error: string;
  /** The message body, for messages. */
  body?: string;
}

export class PoisonFile {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'poisoned.jsonl');
  }

  async append(record: PoisonRecord): Promise<void> {
    await appendFile(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}
