/**
 * Load time of 1,000,000 indicators and lookup rates. Skipped unless TRAILHOUND_BENCH=1:
 *   TRAILHOUND_BENCH=1 node --import tsx --test --test-reporter=spec test/intel/load-bench.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFeeds } from '../../src/intel/load.ts';

const N = Number(process.env.TRAILHOUND_BENCH_INDICATORS ?? 1_000_000);

test('1M indicators: load and lookup', { skip: process.env.TRAILHOUND_BENCH !== '1' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailhound-bench-'));
  try {
    let seed = 3;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const ip = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    const lines: string[] = ['# generated'];
    const csv: string[] = ['indicator,type,confidence,last_seen'];
    for (let i = 0; i < N; i++) {
      const r = i % 100;
      const v = rnd();
      let line: string;
      if (r < 90) line = ip(v);
      else if (r < 95) line = `${ip(v)}/${16 + (v % 13)}`;
      else if (r < 98) line = `2001:db8:${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}::${(i & 0xffff).toString(16)}`;
      else line = `host${i}.bad${v % 1000}.example`;
      if (i % 2 === 0) lines.push(line);
      else csv.push(`${line},x,${v % 100},2024-05-01`);
    }
    writeFileSync(join(dir, 'half.txt'), lines.join('\n'));
    writeFileSync(join(dir, 'half.csv'), csv.join('\n'));
    const now = Date.parse('2024-05-15T00:00:00Z');
    const t0 = performance.now();
    const { index, stats, errors } = await loadFeeds([join(dir, 'half.txt'), join(dir, 'half.csv')], { now });
    const loadMs = performance.now() - t0;
    assert.deepEqual(errors, []);
    const loaded = stats.reduce((n, s) => n + s.loaded.ipv4 + s.loaded.ipv6 + s.loaded.domain, 0);
    assert.equal(loaded, N);
    console.log(`load ${N} indicators (list + CSV): ${loadMs.toFixed(0)} ms (${((N / loadMs) * 1000 / 1e6).toFixed(2)}M/s); heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);

    const Q = 2_000_000;
    const queries = new Uint32Array(Q);
    for (let i = 0; i < Q; i++) queries[i] = rnd();
    let hits = 0;
    let t = performance.now();
    for (let i = 0; i < Q; i++) if (index.mayMatchIPv4(queries[i] as number)) hits++;
    let ms = performance.now() - t;
    console.log(`mayMatchIPv4 (u32 fast path): ${((Q / ms) * 1000 / 1e6).toFixed(1)}M lookups/s, ${hits} hits`);
    t = performance.now();
    let found = 0;
    for (let i = 0; i < Q; i++) found += index.lookupIPv4(queries[i] as number).length;
    ms = performance.now() - t;
    console.log(`lookupIPv4 (u32, with validity filter): ${((Q / ms) * 1000 / 1e6).toFixed(1)}M lookups/s, ${found} indicators`);
    const strings = Array.from({ length: 200_000 }, (_, i) => `${(queries[i] as number) >>> 24}.${((queries[i] as number) >>> 16) & 255}.${((queries[i] as number) >>> 8) & 255}.${(queries[i] as number) & 255}`);
    t = performance.now();
    for (const s of strings) found += index.lookupIp(s).length;
    ms = performance.now() - t;
    console.log(`lookupIp (string): ${((strings.length / ms) * 1000 / 1e6).toFixed(1)}M lookups/s`);
    t = performance.now();
    for (let i = 0; i < 200_000; i++) found += index.lookupIp(`2001:db8:${i.toString(16)}::1`).length;
    ms = performance.now() - t;
    console.log(`lookupIp (IPv6 string): ${((200_000 / ms) * 1000 / 1e6).toFixed(1)}M lookups/s`);
    t = performance.now();
    for (let i = 0; i < 200_000; i++) found += index.lookupDomain(`www.host${i}.bad${i % 1000}.example`).length;
    ms = performance.now() - t;
    console.log(`lookupDomain: ${((200_000 / ms) * 1000 / 1e6).toFixed(1)}M lookups/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
