/**
 * The compiled build (scripts/build.mjs, run by `npm ci` as the `prepare` script) and the
 * launcher's choice between it and the TypeScript sources (bin/compiled.js):
 * - dist/ runs only while it is the build of the sources as they are; an edited source, a
 *   missing or foreign build.json, or TRAILHOUND_FROM_SOURCES=1 runs the sources through tsx;
 * - the build gives the output of the sources, byte for byte: a scan on one thread, a scan on
 *   worker threads (which start from the build's own worker module), and the commands loaded
 *   on demand.
 * The build under test goes to a temporary folder (in node_modules/.cache, where the packages
 * resolve): dist/ of the checkout is never touched.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { compiledEntry, contentKey, sourcesKey } from '../../bin/compiled.js';
import { defaultOptions, generateCorpus } from '../../bench/generate.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let work: string;
let runner: string;

before(async () => {
  // Inside the checkout (node_modules/.cache), so that the build's packages resolve as from dist/.
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  work = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'th-compiled-'));
  const out = join(work, 'dist');
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outdir', out], { cwd: ROOT });
  runner = join(work, 'run.mjs');
  writeFileSync(runner, `const { main } = await import(${JSON.stringify(pathToFileURL(join(out, 'cli.mjs')).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
});

after(() => rmSync(work, { recursive: true, force: true }));

async function cli(args: string[], compiled: boolean): Promise<{ stdout: string; code: number }> {
  const command = compiled ? [runner, ...args] : [join(ROOT, 'bin/trailhound.js'), ...args];
  try {
    const { stdout } = await run(process.execPath, command, { cwd: ROOT, env: { ...process.env, TRAILHOUND_FROM_SOURCES: '1' }, maxBuffer: 256 * 1024 * 1024 });
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; code?: number; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { stdout: failed.stdout ?? '', code: failed.code };
  }
}

test('the launcher runs dist/ only while it is the build of the sources as they are', () => {
  const root = mkdtempSync(join(work, 'root-'));
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'package.json'), '{}\n');
  assert.equal(compiledEntry(root, {}), undefined, 'no build');
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', 'build.json'), JSON.stringify({ key: sourcesKey(root) }));
  assert.equal(compiledEntry(root, {})?.href, pathToFileURL(join(root, 'dist', 'cli.mjs')).href, 'the build of these sources');
  assert.equal(compiledEntry(root, { TRAILHOUND_FROM_SOURCES: '1' }), undefined, 'asked to run the sources');
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export const a = 12;\n');
  assert.equal(compiledEntry(root, {}), undefined, 'an edited source: the build is stale');
  writeFileSync(join(root, 'dist', 'build.json'), JSON.stringify({ key: sourcesKey(root), content: contentKey(root) }));
  // Same content, new times (an installed package, a checkout, touch): the content key says fresh.
  utimesSync(join(root, 'src', 'cli', 'main.ts'), new Date('1985-10-26T08:15:00Z'), new Date('1985-10-26T08:15:00Z'));
  assert.notEqual(JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8')).key, sourcesKey(root));
  assert.equal(compiledEntry(root, {})?.href, pathToFileURL(join(root, 'dist', 'cli.mjs')).href, 'new times, same content: the build');
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export const a = 13;\n');
  assert.equal(compiledEntry(root, {}), undefined, 'an edit of the same size: stale by content');
  writeFileSync(join(root, 'dist', 'build.json'), JSON.stringify({ key: sourcesKey(root), content: contentKey(root) }));
  writeFileSync(join(root, 'src', 'cli', 'new.ts'), '\n');
  assert.equal(compiledEntry(root, {}), undefined, 'a new source: stale');
  writeFileSync(join(root, 'dist', 'build.json'), 'not json');
  assert.equal(compiledEntry(root, {}), undefined, 'a damaged build.json');
  // The checkout's own build, when there is one, is keyed like this.
  const own = JSON.parse(readFileSync(join(work, 'dist', 'build.json'), 'utf8')) as { key: string; content: string };
  assert.equal(own.key, sourcesKey(ROOT));
  assert.equal(own.content, contentKey(ROOT));
});

test('the build scans the samples as the sources do, and loads commands on demand', async () => {
  const args = ['scan', 'samples/', '--format', 'jsonl', '--workers', '1'];
  const [fromBuild, fromSources] = await Promise.all([cli(args, true), cli(args, false)]);
  assert.equal(fromBuild.code, fromSources.code);
  assert.ok(fromBuild.stdout.split('\n').length > 10, 'the samples raise alerts');
  assert.equal(fromBuild.stdout, fromSources.stdout);
  assert.equal((await cli(['--version'], true)).stdout.trim(), '0.1.0');
  const list = await cli(['rules', 'list'], true);
  assert.equal(list.code, 0);
  assert.equal(list.stdout, (await cli(['rules', 'list'], false)).stdout);
  assert.match((await cli(['--help'], true)).stdout, /scan[\s\S]*serve[\s\S]*cluster/, 'the help lists every command');
});

test('a scan on worker threads from the build (its own worker module) gives the alerts of one thread', { timeout: 240_000 }, async () => {
  const corpus = join(work, 'corpus');
  await generateCorpus(defaultOptions({ out: corpus, seed: 5, records: 30_000, minPerFile: 500, maxPerFile: 1500, flowLines: 5000, indicators: 300 }));
  const inputs = [join(corpus, 'AWSLogs'), join(corpus, 'flows'), '--cti', join(corpus, 'indicators.txt'), '--format', 'jsonl'];
  const one = await cli(['scan', ...inputs, '--workers', '1'], true);
  const two = await cli(['scan', ...inputs, '--workers', '2'], true);
  assert.ok(one.stdout.length > 0, 'the corpus raises alerts');
  assert.equal(two.stdout, one.stdout);
  assert.equal(two.code, one.code);
});
