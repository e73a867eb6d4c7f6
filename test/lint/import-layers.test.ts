/**
 * The layout is enforced: the lint rule (eslint-rules/import-layers.js) fires on an import that
 * runs up or sideways, and the tree as it is has no import cycle between folders at any depth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { LAYERS, layerViolation, layersPlugin } from '../../eslint-rules/import-layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

function lintAs(file: string, code: string): string[] {
  const linter = new Linter({ cwd: ROOT });
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser }, plugins: { layers: layersPlugin }, rules: { 'layers/import-layers': ['error', { srcDir: SRC }] } }],
    join(SRC, file),
  );
  return messages.map((message) => message.message);
}

const CASES: Array<{ file: string; code: string; fails: boolean }> = [
  { file: 'core/x.ts', code: "import type { Detector } from '../engine/detector.ts';", fails: true },
  { file: 'formats/x.ts', code: "import { sourcesOfRule } from '../engine/match/rule-index.ts';", fails: true },
  { file: 'formats/cloudtrail/x.ts', code: "export { Detector } from '../../engine/detector.ts';", fails: true },
  { file: 'sinks/x.ts', code: "const m = await import('../service/watch.ts');", fails: true },
  { file: 'formats/x.ts', code: "import type { Source } from '../sources/source.ts';", fails: true },
  { file: 'scan/x.ts', code: "import { ObjectProcessor } from '../service/object-processor.ts';", fails: true },
  { file: 'engine/x.ts', code: "import type { Alert } from '../core/alert.ts';", fails: false },
  { file: 'engine/cti/x.ts', code: "import { decodeUnit } from '../../formats/index.ts';", fails: false },
  { file: 'cli/x.ts', code: "import { scan } from '../scan/scan.ts';", fails: false },
  { file: 'engine/match/x.ts', code: "import { Correlator } from '../correlation/correlator.ts';", fails: false },
  { file: 'core/x.ts', code: "import { readFile } from 'node:fs/promises';", fails: false },
];

for (const { file, code, fails } of CASES) {
  test(`import-layers: src/${file}: ${code} ${fails ? 'fails' : 'passes'}`, () => {
    const messages = lintAs(file, code);
    assert.equal(messages.length, fails ? 1 : 0, messages.join('\n'));
  });
}

test('every folder of src/ is on exactly one layer', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const layered = LAYERS.flat();
  assert.equal(new Set(layered).size, layered.length, 'a folder is on two layers');
  for (const folder of folders) assert.ok(layered.includes(folder), `src/${folder}/ is on no layer`);
  assert.equal(layerViolation('engine', 'core'), undefined);
  assert.match(layerViolation('core', 'engine') ?? '', /imports go down only/);
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? tsFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** Folder -> folders it imports from, for every pair of sibling folders at every depth. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of tsFiles(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), (match[1] ?? match[2]) as string);
      const from = relative(SRC, dirname(file)).split('/');
      const to = relative(SRC, dirname(target)).split('/');
      // The first folder level where the two paths part: those two siblings are an edge.
      let depth = 0;
      while (depth < from.length && depth < to.length && from[depth] === to[depth]) depth++;
      if (depth >= from.length || depth >= to.length) continue;
      const a = from.slice(0, depth + 1).join('/');
      const b = to.slice(0, depth + 1).join('/');
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)?.add(b);
    }
  }
  return graph;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

test('no import cycle between folders of src/, at any depth', () => {
  const graph = folderGraph();
  assert.ok(graph.size > 10, 'the import graph was read');
  assert.deepEqual(findCycle(graph), undefined);
});

test('the cycle check finds a cycle when there is one', () => {
  const graph = new Map([['engine/match', new Set(['engine/correlation'])], ['engine/correlation', new Set(['engine/alerts'])], ['engine/alerts', new Set(['engine/match'])]]);
  assert.deepEqual(findCycle(graph), ['engine/match', 'engine/correlation', 'engine/alerts', 'engine/match']);
});
