/**
 * Several downloads at once, units still in key order: while the scan decodes one object, the
 * next ones (a bounded window, by count and by bytes) download in the background. Objects too
 * large for the window are streamed when their turn comes instead.
 *
 * A unit once handed out is the scan's: its download goes on, and it may be opened, after the
 * listing has ended (a scan with worker threads reads several units at once, and asks for the
 * next before the previous is read). Only the downloads still in the window, never handed out,
 * are aborted when the scan stops early.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { downloadObject, openObject } from './s3-fetch.ts';
import type { FetchOptions } from './s3-fetch.ts';
import type { ListedObject } from './s3-list.ts';
import { s3Uri } from './s3-uri.ts';
import type { InputUnit } from '../core/input-unit.ts';

export interface PrefetchOptions {
  /** Objects downloading or waiting ahead of the one being scanned (default 8). */
  concurrency?: number;
  /** Objects larger than this are streamed, not prefetched (default 16 MiB). */
  maxObjectBytes?: number;
  /** Bytes held ahead at most (default 128 MiB). */
  maxWindowBytes?: number;
  fetch?: Omit<FetchOptions, 'signal'>;
}

interface Slot {
  object: ListedObject;
  /** Aborts this slot's download if the scan stops before taking it. */
  abort: AbortController;
  /** The download when prefetched; undefined: streamed when opened. */
  download?: Promise<Buffer>;
  bytes: number;
}

export async function* prefetchUnits(client: S3Client, objects: AsyncIterable<ListedObject>, options: PrefetchOptions = {}): AsyncGenerator<InputUnit> {
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const maxObjectBytes = options.maxObjectBytes ?? 16 * 1024 * 1024;
  const maxWindowBytes = options.maxWindowBytes ?? 128 * 1024 * 1024;
  const source = objects[Symbol.asyncIterator]();
  const window: Slot[] = [];
  let windowBytes = 0;
  let exhausted = false;

  const fill = async (): Promise<void> => {
    while (!exhausted && window.length < concurrency) {
      const next = await source.next();
      if (next.done === true) {
        exhausted = true;
        return;
      }
      const object = next.value;
      const size = object.size ?? Number.POSITIVE_INFINITY;
      const slot: Slot = { object, abort: new AbortController(), bytes: 0 };
      if (size <= maxObjectBytes && windowBytes + size <= maxWindowBytes) {
        slot.bytes = size;
        windowBytes += size;
        slot.download = downloadObject(client, object, { ...options.fetch, signal: slot.abort.signal }).then((result) => result.bytes);
        // Failures surface when the unit is opened; until then the rejection is expected.
        slot.download.catch(() => undefined);
      }
      window.push(slot);
    }
  };

  try {
    for (;;) {
      await fill();
      const slot = window.shift();
      if (slot === undefined) return;
      const { object, download } = slot;
      const unit: InputUnit = {
        uri: s3Uri(object.bucket, object.key),
        open: async () => {
          if (download === undefined) return (await openObject(client, object, { ...options.fetch })).stream;
          return Readable.from([await download], { objectMode: false });
        },
      };
      if (object.size !== undefined) unit.size = object.size;
      yield unit;
      // The scan asks for the next unit once it is done with this one.
      windowBytes -= slot.bytes;
    }
  } finally {
    for (const slot of window) slot.abort.abort();
    await source.return?.(undefined);
  }
}
