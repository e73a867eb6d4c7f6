/**
 * Watches a local folder by polling: every poll interval the folder is walked (as `scan` walks
 * it) and each file not yet processed in its current version (`mtime:size`) is read, once it
 * has settled: unchanged since the previous poll, or last modified more than a poll interval
 * ago. A file that grows is a new version: it is read again, and the alerts already raised
 * are not raised twice (the alerts table keys them by id).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { LocatedError } from '../core/errors.ts';
import { expandPath } from '../sources/files.ts';
import { sleep } from '../core/backoff.ts';
import type { FolderSourceConfig } from './config.ts';
import type { WorkObject } from './object-processor.ts';
import type { RunnerContext } from './runner-context.ts';

export class FolderRunner {
  readonly config: FolderSourceConfig;
  private readonly ctx: RunnerContext;
  private readonly lastSeen = new Map<string, string>();
  private readonly reported = new Set<string>();

  constructor(config: FolderSourceConfig, ctx: RunnerContext) {
    this.config = config;
    this.ctx = ctx;
  }

  async run(): Promise<void> {
    const { logger, stopping } = this.ctx;
    logger.info('watching folder', { source: this.config.name, path: this.config.path });
    while (!stopping.aborted) {
      try {
        await this.poll();
      } catch (error) {
        this.ctx.metrics.inc('trailhound_errors_total', { stage: 'state' });
        logger.error('polling the folder failed; trying again at the next poll', { source: this.config.name, error: (error as Error).message });
      }
      await sleep(this.config.pollIntervalMs, stopping);
    }
  }

  /** One pass over the folder. */
  async poll(): Promise<void> {
    const { logger, stopping, processor, mutex, outbox } = this.ctx;
    const seen = new Map<string, string>();
    let processed = 0;
    const onError = (error: LocatedError): void => {
      const key = `${error.location}\u0000${error.message}`;
      if (this.reported.has(key)) return;
      this.reported.add(key);
      logger.located('warn', error, { source: this.config.name });
    };
    for await (const unit of expandPath(this.config.path, onError)) {
      if (stopping.aborted) break;
      let version: string;
      let mtime: number;
      try {
        const stats = await stat(unit.uri);
        version = `${Math.trunc(stats.mtimeMs)}:${stats.size}`;
        mtime = stats.mtimeMs;
      } catch {
        continue;
      }
      // Processed files are passed over quietly: every poll sees them again.
      if (await processor.isDone(unit.uri, version)) continue;
      seen.set(unit.uri, version);
      const settled = this.lastSeen.get(unit.uri) === version || mtime < Date.now() - this.config.pollIntervalMs;
      if (!settled) continue;
      const work: WorkObject = {
        source: this.config.name,
        uri: unit.uri,
        version,
        announcedAt: mtime,
        open: async () => ({ unit: { uri: unit.uri, ...(unit.size === undefined ? {} : { size: unit.size }), open: () => createReadStream(unit.uri) }, version, size: unit.size }),
      };
      const outcome = await mutex.run(() => processor.process(work, this.config.poisonAfter, this.ctx.aborting));
      if (outcome.kind === 'processed') processed += 1;
      if (outcome.kind === 'interrupted') break;
    }
    this.lastSeen.clear();
    for (const [path, version] of seen) this.lastSeen.set(path, version);
    if (processed > 0) await outbox.flush();
  }
}
