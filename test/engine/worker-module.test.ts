/**
 * The scan worker bundle (src/engine/worker-module.ts): one self-contained module whose
 * relative files resolve as they do unbundled. Running it is tested by parallel-scan.test.ts,
 * whose workers start from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleWorker, scanWorkerModule } from '../../src/engine/worker-module.ts';

test('the worker bundles into one module with each source keeping its own import.meta.url', async () => {
  const code = await bundleWorker();
  assert.ok(code !== undefined, 'esbuild bundles the worker');
  assert.doesNotMatch(code, /import\.meta\.url/);
  // The rules folder and the WebAssembly scan are found from their own modules' URLs.
  assert.match(code, /file:\/\/[^"]*\/src\/engine\/rule-set\.ts"/);
  assert.match(code, /file:\/\/[^"]*\/src\/engine\/record-scan-wasm\.ts"/);
  // Only Node's modules and the AWS SDK (which no worker loads) are imported from outside.
  const imports = [...code.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((match) => match[1] as string);
  assert.ok(imports.includes('node:fs'), 'the bundle imports node:fs');
  for (const specifier of imports) assert.match(specifier, /^(node:|@aws-sdk\/)/, specifier);
});

test('workers start from the bundle, built once per process', async () => {
  const first = scanWorkerModule();
  assert.equal(scanWorkerModule(), first);
  assert.equal((await first).protocol, 'data:');
});
