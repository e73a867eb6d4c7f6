/**
 * The parse-only floor, run as its own process by run.ts: read + gunzip + JSON.parse of every
 * file, on one thread, no rules. Prints one JSON line: records, bytes, time, peak RSS.
 *
 *   node --import tsx floor.ts <dir>
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { gunzipChunkSize } from '../src/formats/read-unit.ts';

/** Every regular file under dir, in byte order of names at each level (trailhound's order). */
export function listFiles(dir: string, suffix = ''): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, suffix));
    else if (entry.name.endsWith(suffix)) out.push(path);
  }
  return out;
}

function main(): void {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: floor.ts <dir>');
  const files = listFiles(dir, '.json.gz');
  const started = performance.now();
  let records = 0;
  let compressedBytes = 0;
  let uncompressedBytes = 0;
  for (const file of files) {
    const compressed = readFileSync(file);
    // Output in one chunk of the size the gzip trailer announces, as trailhound does: no joining copy.
    const plain = gunzipSync(compressed, { chunkSize: gunzipChunkSize(compressed) });
    const value = JSON.parse(plain.toString('utf8')) as { Records?: unknown[] };
    records += value.Records?.length ?? 0;
    compressedBytes += compressed.length;
    uncompressedBytes += plain.length;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ files: files.length, records, compressedBytes, uncompressedBytes, seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

if (process.argv[1]?.endsWith('floor.ts') === true) main();
