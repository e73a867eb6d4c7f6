#!/usr/bin/env node
/**
 * Compiles the TypeScript sources into dist/ (the `prepare` script: `npm ci` and `npm install`
 * run it, so the two Quick start commands still do everything). bin/trailhound.js starts from
 * dist/ when it was built from the sources as they are now (dist/build.json holds their key,
 * bin/compiled.js), and through tsx otherwise: an edited source is never run stale.
 *
 * - esbuild bundles src/cli/main.ts and the scan worker (src/scan/worker-thread.ts) as ES
 *   modules, split into shared chunks; packages stay outside (Node resolves them as usual).
 * - `import.meta.url` in each source becomes that source's own location, relative to the
 *   output (`new URL('../src/...', import.meta.url)`): the rules folder, the WebAssembly and
 *   the UI's static files resolve as they do unbundled, wherever the package is.
 * - `__trailhoundDist` (a banner in every output file) tells the code it runs compiled and
 *   where: the scan starts its workers from dist/scan-worker.mjs.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentKey, sourcesKey } from '../bin/compiled.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--outdir DIR` (tests): another output folder; bin/trailhound.js only ever runs dist/.
const outdirAt = process.argv.indexOf('--outdir');
const dist = outdirAt > 0 && process.argv[outdirAt + 1] !== undefined ? resolve(process.argv[outdirAt + 1]) : join(root, 'dist');
const started = performance.now();

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Without esbuild (an install without optional parts), trailhound runs through tsx.
  process.stderr.write('trailhound build: esbuild is not installed; trailhound will run from its TypeScript sources\n');
  process.exit(0);
}

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

/** Each source's import.meta.url, as the source's own file, relative to where the output is. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const from = relative(dist, args.path).split('\\').join('/');
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(from)}, import.meta.url).href`),
        loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/main.ts', 'scan-worker': 'src/scan/worker-thread.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  banner: { js: 'const __trailhoundDist = new URL(".", import.meta.url).href;' },
  plugins: [ownUrl],
});

const key = sourcesKey(root);
const content = contentKey(root);
const outputs = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.mjs'));
await writeFile(join(dist, 'build.json'), `${JSON.stringify({ key, content, node: process.version, builtAt: new Date().toISOString(), outputs: outputs.length }, null, 2)}\n`);
process.stderr.write(`trailhound build: ${relative(root, dist) || '.'}/ (${outputs.length} modules) in ${Math.round(performance.now() - started)} ms\n`);
