/**
 * The scan worker bundle (src/engine/worker-module.ts): one self-contained module whose
 * relative files resolve as they do unbundled, and whose stack traces name the sources.
 * Running it is tested by parallel-scan.test.ts, whose workers start from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { bundleWorker, scanWorkerModule, sourcesKey } from '../../src/scan/worker-module.ts';

test('the worker bundles into one module with each source keeping its own import.meta.url', async () => {
  const bundle = await bundleWorker();
  assert.ok(bundle !== undefined, 'esbuild bundles the worker');
  const code = bundle.code;
  assert.doesNotMatch(code, /import\.meta\.url/);
  // The rules folder and the WebAssembly scan are found from their own modules' URLs.
  assert.match(code, /file:\/\/[^"]*\/src\/pack\/rule-set\.ts"/);
  assert.match(code, /file:\/\/[^"]*\/src\/formats\/cloudtrail\/record-scan-wasm\.ts"/);
  // Only Node's modules and the AWS SDK (which no worker loads) are imported from outside.
  const imports = [...code.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((match) => match[1] as string);
  assert.ok(imports.includes('node:fs'), 'the bundle imports node:fs');
  for (const specifier of imports) assert.match(specifier, /^(node:|@aws-sdk\/)/, specifier);
});

test('workers start from the bundle written beside its source map, built once per process', async () => {
  const first = scanWorkerModule();
  assert.equal(scanWorkerModule(), first);
  const url = await first;
  assert.equal(url.protocol, 'file:');
  assert.match(url.pathname, /\/scan-worker-[0-9a-f]{16}\.mjs$/);
  const map = JSON.parse(readFileSync(new URL(`${url.href}.map`), 'utf8')) as { sources: string[] };
  const source = map.sources.find((name) => name.endsWith('src/scan/worker-thread.ts'));
  assert.ok(source !== undefined);
  // The map's paths are relative to the bundle's folder and lead to the real sources.
  assert.ok(readFileSync(new URL(source, url), 'utf8').includes('parentPort'));
});

test('a worker that fails reports a stack naming the TypeScript sources', async () => {
  // Without a recipe the worker cannot build its detector, and says where.
  const worker = new Worker(await scanWorkerModule(), { workerData: { range: {}, prefilter: false } });
  const message = await new Promise<{ kind: string; message?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(message.kind, 'failed');
  assert.match(message.message ?? '', /src\/scan\/worker-recipe\.ts:\d+/);
});

test('a later scan of the same sources starts its workers from the bundle already written', async () => {
  const url = await scanWorkerModule();
  assert.equal(await sourcesKey(), await sourcesKey());
  const original = readFileSync(url, 'utf8');
  const marker = `\n// reused ${Date.now()}\n`;
  appendFileSync(url, marker);
  try {
    const fresh = (await import(`../../src/scan/worker-module.ts?reuse=${Date.now()}`)) as typeof import('../../src/scan/worker-module.ts');
    assert.equal((await fresh.scanWorkerModule()).href, url.href);
    assert.ok(readFileSync(url, 'utf8').endsWith(marker), 'the bundle was not written again');
  } finally {
    writeFileSync(url, original);
  }
});

test('bundles of other versions older than a week are removed when workers start', async () => {
  const url = await scanWorkerModule();
  const dir = new URL('.', url);
  const stale = new URL('scan-worker-0000000000000000.mjs', dir);
  const recent = new URL('scan-worker-1111111111111111.mjs', dir);
  writeFileSync(stale, '// old');
  writeFileSync(recent, '// recent');
  const weekAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(stale, weekAgo, weekAgo);
  try {
    // A fresh module instance looks for its bundle again (the cached URL is per module instance).
    const fresh = (await import(`../../src/scan/worker-module.ts?again=${Date.now()}`)) as typeof import('../../src/scan/worker-module.ts');
    assert.equal((await fresh.scanWorkerModule()).href, url.href);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(recent), true);
  } finally {
    rmSync(stale, { force: true });
    rmSync(recent, { force: true });
  }
});
