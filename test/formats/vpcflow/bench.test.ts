/**
 * Throughput of the flow-log decoder on 1M generated default-format lines, gunzip included.
 * Skipped unless TRAILHOUND_BENCH=1:  TRAILHOUND_BENCH=1 node --import tsx --test test/formats/vpcflow-bench.test.ts
 */
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { vpcFlowFormat } from '../../../src/formats/vpcflow/format.ts';
import { scanFlowLines, DEFAULT_FLOW_HEADER } from '../../../src/formats/vpcflow/format.ts';
import type { DecodeStats } from '../../../src/formats/types.ts';

const LINES = Number(process.env.TRAILHOUND_BENCH_LINES ?? 1_000_000);

function generate(n: number): Buffer {
  let seed = 42;
  const rnd = (m: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % m;
  };
  const parts: string[] = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  for (let i = 0; i < n; i++) {
    const src = `10.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
    const dst = `${rnd(223) + 1}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
    const start = 1700000000 + (i >> 4);
    parts.push(`2 123456789012 eni-0${(rnd(1 << 30)).toString(16)} ${src} ${dst} ${rnd(65536)} ${[443, 80, 22, 53][rnd(4)]} 6 ${rnd(100) + 1} ${rnd(100000) + 40} ${start} ${start + 60} ${rnd(10) === 0 ? 'REJECT' : 'ACCEPT'} OK`);
  }
  return Buffer.from(parts.join('\n') + '\n');
}

function gunzipStream(gz: Buffer): AsyncIterable<Buffer> {
  return Readable.from([gz]).pipe(createGunzip({ chunkSize: 64 * 1024 }));
}

test('vpcflow throughput', { skip: process.env.TRAILHOUND_BENCH !== '1' }, async () => {
  const raw = generate(LINES);
  const gz = gzipSync(raw);
  const rate = (ms: number): string => `${((LINES / ms) * 1000 / 1e6).toFixed(2)}M lines/s`;
  const report = (label: string, ms: number): void => console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${rate(ms)}`);
  console.log(`${LINES} lines, ${(raw.length / 1e6).toFixed(1)} MB raw, ${(gz.length / 1e6).toFixed(1)} MB gzip`);

  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    let bytes = 0;
    for await (const chunk of gunzipStream(gz)) bytes += (chunk as Buffer).length;
    report('gunzip only', performance.now() - t);

    t = performance.now();
    let hits = 0;
    await scanFlowLines(gunzipStream(gz), DEFAULT_FLOW_HEADER, (v) => {
      const s = v.ipv4(v.header.srcaddr);
      const d = v.ipv4(v.header.dstaddr);
      if (((s ^ d) & 0xff) === 0) hits++;
    }, { uri: 'bench' });
    report('gunzip + scan + src/dst as u32 (no objects)', performance.now() - t);

    t = performance.now();
    const plain = gunzipSync(gz);
    const oneThread: Buffer[] = [];
    for (let i = 0; i < plain.length; i += 65536) oneThread.push(plain.subarray(i, i + 65536));
    await scanFlowLines(Readable.from(oneThread), DEFAULT_FLOW_HEADER, (v) => {
      if (v.ipv4(v.header.srcaddr) === v.ipv4(v.header.dstaddr)) hits++;
    }, { uri: 'bench' });
    report('gunzipSync + scan, one thread (no objects)', performance.now() - t);

    const chunks: Buffer[] = [];
    for (let i = 0; i < raw.length; i += 65536) chunks.push(raw.subarray(i, i + 65536));
    t = performance.now();
    await scanFlowLines(Readable.from(chunks), DEFAULT_FLOW_HEADER, (v) => {
      if (v.ipv4(v.header.srcaddr) === v.ipv4(v.header.dstaddr)) hits++;
    }, { uri: 'bench' });
    report('scan + src/dst as u32 (no gunzip)', performance.now() - t);

    t = performance.now();
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    let n = 0;
    for await (const batch of vpcFlowFormat.decode(gunzipStream(gz), 'bench', { stats, onError: () => {} })) n += batch.length;
    report('gunzip + decode (records + envelopes)', performance.now() - t);

    t = performance.now();
    for await (const batch of vpcFlowFormat.decode(Readable.from(chunks), 'bench', { stats, onError: () => {} })) n += batch.length;
    report('decode (records + envelopes, no gunzip)', performance.now() - t);
    if (bytes === 0 || n === 0 || hits < 0) throw new Error('nothing decoded');
  }
});
