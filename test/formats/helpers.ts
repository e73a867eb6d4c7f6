/** Shared helpers for the formats tests: in-memory and fixture units, decode-everything. */
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LocatedError } from '../../src/core/errors.ts';
import type { Envelope } from '../../src/core/envelope.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import type { DecodeStats } from '../../src/formats/types.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));

export function fixturePath(name: string): string {
  return `${FIXTURES}${name}`;
}

export function fixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

export function fixtureUnit(name: string): InputUnit {
  const path = fixturePath(name);
  return { uri: path, open: () => createReadStream(path) };
}

/** A unit over bytes in memory, delivered in chunks of `chunkSize` (to cross every boundary). */
export function memoryUnit(uri: string, bytes: Buffer | string, chunkSize = 0): InputUnit {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return {
    uri,
    open: () => {
      if (chunkSize <= 0) return Readable.from([buf]);
      const chunks: Buffer[] = [];
      for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
      return Readable.from(chunks);
    },
  };
}

export interface Decoded {
  envelopes: Envelope[];
  errors: LocatedError[];
  stats: DecodeStats;
  batches: number;
}

export async function decodeAll(unit: InputUnit, batchSize?: number): Promise<Decoded> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const envelopes: Envelope[] = [];
  let batches = 0;
  const options = batchSize === undefined ? { onError: (e: LocatedError) => errors.push(e), stats } : { onError: (e: LocatedError) => errors.push(e), stats, batchSize };
  for await (const batch of decodeUnit(unit, options)) {
    batches++;
    envelopes.push(...batch);
  }
  return { envelopes, errors, stats, batches };
}

/** `code location` of each error, for compact assertions. */
export function codes(errors: readonly LocatedError[]): string[] {
  return errors.map((e) => `${e.code} ${e.location}`);
}

export function eventIds(envelopes: readonly Envelope[]): unknown[] {
  return envelopes.map((e) => e.record.eventID);
}

export function eventNames(envelopes: readonly Envelope[]): unknown[] {
  return envelopes.map((e) => e.record.eventName);
}
