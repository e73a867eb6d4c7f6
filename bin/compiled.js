/**
 * Whether the compiled build in dist/ (scripts/build.mjs) may run: only when it was built
 * from the sources as they are now. The key of the sources is every file under src/ (path,
 * size, modification time) and the package and lock files; the build writes it into
 * dist/build.json. An edited source changes the key, so it runs through tsx until `npm run
 * build`: never stale. Plain JavaScript: it runs before any TypeScript can.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The key of the sources under `root` (the package's folder). */
export function sourcesKey(root) {
  const hash = createHash('sha256');
  const add = (path, name) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return;
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry), `${name}/${entry}`);
    } else {
      hash.update(`${name}\0${stats.size}\0${stats.mtimeMs}\n`);
    }
  };
  add(join(root, 'src'), 'src');
  add(join(root, 'package.json'), 'package.json');
  add(join(root, 'package-lock.json'), 'package-lock.json');
  return hash.digest('hex').slice(0, 24);
}

/** The URL of dist/cli.mjs under `root` when it is the build of these sources; undefined otherwise. */
export function compiledEntry(root, env = process.env) {
  if (env.TRAILHOUND_FROM_SOURCES === '1') return undefined;
  let built;
  try {
    built = JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof built?.key !== 'string' || built.key !== sourcesKey(root)) return undefined;
  return pathToFileURL(join(root, 'dist', 'cli.mjs'));
}
