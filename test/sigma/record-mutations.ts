import type { LogRecord } from '../../src/core/envelope.ts';

/**
 * Variants of a record for soundness checks: every string changed by `flipString` (deep),
 * then per key: removed, replaced by a value from `pool`, or made an array with one.
 */
export function recordMutations(record: LogRecord, next: () => number, pool: readonly unknown[], flipString: (value: string) => string): LogRecord[] {
  const out: LogRecord[] = [];
  const flip = (value: unknown): unknown => {
    if (typeof value === 'string') return flipString(value);
    if (Array.isArray(value)) return value.map(flip);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flip(v)]));
    return value;
  };
  out.push(flip(record) as LogRecord);
  for (const key of Object.keys(record)) {
    const without: LogRecord = { ...record };
    delete without[key];
    out.push(without);
    out.push({ ...record, [key]: pool[Math.floor(next() * pool.length)] });
    out.push({ ...record, [key]: [record[key], pool[Math.floor(next() * pool.length)]] });
  }
  return out;
}
