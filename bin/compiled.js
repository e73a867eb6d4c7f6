/**
 * Whether the compiled build in dist/ (scripts/build.mjs) may run: only when it was built
 * from the sources as they are now. The build writes two keys of the sources into
 * dist/build.json: every file under src/ and the package and lock files by path, size and
 * modification time (4 ms to check here), and by path and content (8 ms more), asked only when
 * the first differs: an installed package's files get new times, a checkout or `touch` too, and
 * their content is still what was built. An edited source changes both, so it runs through tsx
 * until `npm run build`: never stale. Plain JavaScript: it runs before any TypeScript can.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Every source file under `root` that the keys cover, in a fixed order: `visit(path, name, stats)`. */
function eachSource(root, visit) {
  const add = (path, name) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return;
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry), `${name}/${entry}`);
    } else {
      visit(path, name, stats);
    }
  };
  add(join(root, 'src'), 'src');
  add(join(root, 'package.json'), 'package.json');
  add(join(root, 'package-lock.json'), 'package-lock.json');
}

/** The key of the sources under `root` (the package's folder) by path, size and modification time. */
export function sourcesKey(root) {
  const hash = createHash('sha256');
  eachSource(root, (_path, name, stats) => hash.update(`${name}\0${stats.size}\0${stats.mtimeMs}\n`));
  return hash.digest('hex').slice(0, 24);
}

/** The key of the sources under `root` by path and content. */
export function contentKey(root) {
  const hash = createHash('sha256');
  eachSource(root, (path, name) => {
    const bytes = readFileSync(path);
    hash.update(`${name}\0${bytes.length}\n`);
    hash.update(bytes);
  });
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
  const fresh = (typeof built?.key === 'string' && built.key === sourcesKey(root)) || (typeof built?.content === 'string' && built.content === contentKey(root));
  return fresh ? pathToFileURL(join(root, 'dist', 'cli.mjs')) : undefined;
}
