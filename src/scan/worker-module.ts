/**
 * Where a scan worker thread starts from. Run from the TypeScript sources (the usual case: no
 * build step), the worker module is bundled once per process with esbuild (tsx's own compiler)
 * into one JavaScript module: started through tsx instead, each worker loads some 200 modules
 * through tsx's loader thread, 1.4 s of a 2-core machine before its first file. When esbuild
 * cannot bundle, workers start through tsx as before; from the compiled build (dist/,
 * scripts/build.mjs), from its dist/scan-worker.mjs.
 *
 * The bundle is self-contained (the packages it needs are inside it; the AWS SDK, which no
 * worker loads, stays outside), so it runs from anywhere: it is written, with its source map,
 * to the system's temporary folder, and a worker's stack traces name the TypeScript sources.
 * Its name comes from the sources as they are (every file's path, size and modification time,
 * the lock file's, Node's version): the next scan of the same sources starts its workers from
 * it without bundling again. `import.meta.url` in each source becomes that source's
 * own file URL, so relative files (the rules folder, the record-scan WebAssembly) resolve as
 * they do unbundled.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ENTRY = new URL('./worker-thread.ts', import.meta.url);

/** Where tsx's loader API is (import.meta.resolve is behind a flag before Node 20.6). */
function tsxApiUrl(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  }
}

/** The worker through tsx's loader. */
function tsxBootstrap(): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsxApiUrl())};\nregister();\nawait import(${JSON.stringify(ENTRY.href)});\n`)}`);
}

/** The bundled worker module and its source map. */
export interface WorkerBundle {
  code: string;
  map: string;
}

/** Where bundles are written: the source map's paths are relative to it. */
function bundleDir(): string {
  return join(tmpdir(), `trailhound-${userInfo().uid}`);
}

/** The worker module bundled into one, or undefined when esbuild is not there or fails. */
export async function bundleWorker(): Promise<WorkerBundle | undefined> {
  try {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [fileURLToPath(ENTRY)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outfile: join(bundleDir(), 'scan-worker.mjs'),
      sourcemap: 'linked',
      logLevel: 'silent',
      external: ['@aws-sdk/*'],
      // CommonJS packages inside an ESM bundle call require() for Node's modules.
      banner: { js: `import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(${JSON.stringify(ENTRY.href)});` },
      plugins: [
        {
          name: 'own-import-meta-url',
          setup(build) {
            build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
              const text = await readFile(args.path, 'utf8');
              if (!text.includes('import.meta.url')) return undefined;
              return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js' };
            });
          },
        },
      ],
    });
    const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))?.text;
    const map = result.outputFiles.find((file) => file.path.endsWith('.map'))?.text;
    return code === undefined || map === undefined ? undefined : { code, map };
  } catch {
    return undefined;
  }
}

/** Bundles of other versions are removed once they are this old (a scan running one has long loaded it). */
const STALE_BUNDLE_MS = 7 * 24 * 3600 * 1000;

async function removeStaleBundles(dir: string, keep: string): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('scan-worker-') || entry.startsWith(keep)) continue;
    const path = join(dir, entry);
    try {
      if (now - (await stat(path)).mtimeMs > STALE_BUNDLE_MS) await rm(path, { force: true });
    } catch {
      // Another scan removed it first.
    }
  }
}

/**
 * A key for the bundle of the sources as they are now: each source file's path, size and
 * modification time, the package and lock files', and Node's version. Any change, a new key.
 */
export async function sourcesKey(): Promise<string> {
  const hash = createHash('sha256');
  const add = async (path: string): Promise<void> => {
    const stats = await stat(path);
    if (stats.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await add(join(path, entry));
    } else {
      hash.update(`${path}\0${stats.size}\0${stats.mtimeMs}\n`);
    }
  };
  await add(fileURLToPath(new URL('../', import.meta.url)));
  for (const file of ['package.json', 'package-lock.json']) {
    try {
      await add(fileURLToPath(new URL(`../../${file}`, import.meta.url)));
    } catch {
      // An installed package may ship without its lock file.
    }
  }
  hash.update(process.version);
  return hash.digest('hex').slice(0, 16);
}

/** The bundle already written for these sources, if any (its time refreshed, so it is not taken for stale). */
async function existingBundle(dir: string, name: string): Promise<URL | undefined> {
  const file = join(dir, name);
  try {
    await stat(`${file}.map`);
    const now = new Date();
    await utimes(file, now, now);
    return pathToFileURL(file);
  } catch {
    return undefined;
  }
}

/** Writes the bundle where a worker can start from it (atomically: concurrent scans may write the same one). */
async function writeBundle(bundle: WorkerBundle, name: string): Promise<URL | undefined> {
  try {
    const dir = bundleDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(`${partial}.map`, bundle.map);
    await rename(`${partial}.map`, `${file}.map`);
    // The bundle's own last line names scan-worker.mjs.map: point it at this name.
    await writeFile(partial, bundle.code.replace(/\/\/# sourceMappingURL=scan-worker\.mjs\.map\s*$/, `//# sourceMappingURL=${name}.map\n`));
    await rename(partial, file);
    return pathToFileURL(file);
  } catch {
    return undefined;
  }
}

/** The bundle for the sources as they are: the one written before, or a new one; undefined when esbuild cannot make it. */
async function bundleUrl(): Promise<URL | undefined> {
  let name: string;
  try {
    name = `scan-worker-${await sourcesKey()}.mjs`;
  } catch {
    return undefined;
  }
  const dir = bundleDir();
  const url = (await existingBundle(dir, name)) ?? (await bundleWorker().then((bundle) => (bundle === undefined ? undefined : writeBundle(bundle, name))));
  if (url !== undefined) await removeStaleBundles(dir, name).catch(() => {});
  return url;
}

let cached: Promise<URL> | undefined;

/** Set in every module of the compiled build (scripts/build.mjs): the URL of dist/. */
declare const __trailhoundDist: string | undefined;

/** The URL to start scan workers from (built once per process). */
export function scanWorkerModule(): Promise<URL> {
  // Compiled: the build's own worker entry, beside the CLI's.
  if (typeof __trailhoundDist === 'string') return Promise.resolve(new URL('./scan-worker.mjs', __trailhoundDist));
  cached ??= bundleUrl().then((url) => url ?? tsxBootstrap());
  return cached;
}
