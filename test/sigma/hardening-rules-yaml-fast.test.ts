/**
 * The fast reader of plain YAML (src/sigma/yaml-fast.ts) must read exactly what the `yaml`
 * library reads, or give up: compared here on every YAML file of the repository and on
 * generated documents (valid and broken, block scalars included). A document it accepts must
 * give the library's tree, positions included, and no error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_YAML_DEPTH, parseYamlFile, parseYamlFileWithLibrary } from '../../src/sigma/parse.ts';
import { readPlainYamlDocument, splitYamlDocuments } from '../../src/sigma/yaml-fast.ts';
import { REPO_DIR } from '../cli/run-cli.ts';

let seed = 4242;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const KEYS = ['title', 'id', 'a', 'a b', 'a#b', 'k:v', '12', '-5', 'null', '~', 'true', 'False', '0x1F', "'q'", '"d"', "'it''s'", '"e\\n"', '-x', 'x-', '@k', '? k', 'k ', 'é', '1.5', '.inf', '[k]', 'key'];
const SCALARS = ['plain', 'two words', 'a:b', 'http://x/y', 'a: b', 'a:', 'x #c', 'x#c', '#c', '-5', '- x', '-x', '+3', '0x1F', '0o17', '017', '1e3', '.5', '1.', '1.0', '.inf', '-.Inf', '.nan', '9007199254740993', '-9007199254740993', 'true', 'False', 'TRUE', 'tRue', 'null', 'Null', '~', '', 'a, b', '[x]', '{x}', 'x]', 'x}', 'x,', '*a', '&a x', '!t x', '|', '>', '%x', '@x', '`x', "'single'", "'it''s'", "'a # b'", '"dq"', '"a\\nb"', '"\\x41\\u263A"', '"\\q"', '"a\\"b"', "'unclosed", '"unclosed', '[a, b]', '[a, [b, c]]', '[]', '[ ]', '[a, ]', '[, a]', '{a: 1, b: [2]}', '{a: 1, a: 2}', '{}', '{a: }', '{"a": 1}', '{a:1}', '[a b, c]', '[a#b]', '[http://x]', '[-1, -x]', '[1, 2', 'é', 'x  ', 'a\tb', 'a   #  c', '{ a : b }', '[ "x" , \'y\' ]'];

function generate(indent: number, depth: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  const kind = depth > 3 ? 'scalars' : pick(['map', 'map', 'seq', 'scalars']);
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    if (random() < 0.08) lines.push(pick(['', '   ', `${pad}# comment`, '# top comment', `${' '.repeat(Math.max(0, indent - 1))}# off`]));
    const step = pick([2, 2, 4, 1, 3]);
    const roll = random();
    if (kind === 'seq') {
      if (roll < 0.45 || depth > 3) lines.push(`${pad}- ${pick(SCALARS)}`);
      else if (roll < 0.5) {
        lines.push(`${pad}- ${pick(['|', '>-', '|+'])}`);
        for (let j = 0; j < 3; j++) lines.push(pick([`${' '.repeat(indent + 2)}line`, '', `${' '.repeat(indent + 3)}deeper`]));
      } else if (roll < 0.7) {
        lines.push(`${pad}- ${pick(KEYS)}: ${pick(SCALARS)}`);
        if (random() < 0.6) lines.push(`${pad}  ${pick(KEYS)}: ${pick(SCALARS)}`);
      } else if (roll < 0.8) {
        lines.push(`${pad}-`);
        generate(indent + step, depth + 1, lines);
      } else lines.push(`${pad}- ${pick(['- x', '? y', '', '#c'])}`);
      continue;
    }
    const key = pick(KEYS);
    if (roll < 0.55 || kind === 'scalars') lines.push(`${pad}${key}: ${pick(SCALARS)}${random() < 0.1 ? ' # c' : ''}`);
    else if (roll < 0.7) {
      lines.push(`${pad}${key}:${random() < 0.2 ? ' # c' : ''}`);
      generate(indent + step, depth + 1, lines);
    } else if (roll < 0.8) {
      lines.push(`${pad}${key}:`);
      for (let j = 0; j < 1 + Math.floor(random() * 3); j++) lines.push(`${pad}${random() < 0.8 ? '' : ' '}- ${pick(SCALARS)}`);
    } else if (roll < 0.88) lines.push(`${pad}${key}:`);
    else if (roll < 0.94) {
      lines.push(`${pad}${key}: ${pick(['plain', 'x'])}`);
      lines.push(`${pad}${' '.repeat(step)}${pick(['continued', 'k: v', '- i'])}`);
    } else lines.push(`${pad}${key}:${pick(['x', '  ', '\t x'])}`);
  }
}

function blockScalarDocument(): string {
  const parent = pick([0, 2]);
  const indent = parent + pick([1, 2, 4]);
  const lines: string[] = parent > 0 ? ['outer:'] : [];
  const item = random() < 0.5;
  lines.push(`${' '.repeat(parent)}${item ? '- ' : 'key: '}${pick(['|', '|-', '|+', '>', '>-', '>+', '| # c', '>- #c', '|2', '|x'])}`);
  for (let j = 0; j < 1 + Math.floor(random() * 6); j++) {
    lines.push(pick([`${' '.repeat(indent)}${pick(['text', 'more text', '# hash', 'a: b', '- item', 'x  ', "it's", '"q"'])}`, `${' '.repeat(indent + pick([1, 2]))}indented`, '', '', ' '.repeat(Math.max(0, indent - 1)), ' '.repeat(indent + 1)]));
  }
  if (random() < 0.7) lines.push(`${' '.repeat(parent)}${item ? '- tail' : 'next: 1'}`);
  return lines.join('\n') + pick(['\n', '\n\n', '']);
}

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Fast and library readings of one document agree, or the fast reader gave up; true when it read it. */
function agrees(text: string): boolean {
  const fast = readPlainYamlDocument(text, 0, text.length, 1, 'f.yml', MAX_YAML_DEPTH);
  if (fast === undefined) return false;
  const library = parseYamlFileWithLibrary(text, 'f.yml');
  assert.deepEqual(library.errors, [], `the fast reader accepted a document the library refuses: ${JSON.stringify(text)}`);
  const trees = library.documents.filter((document) => document.tree !== null).map((document) => plain(document.tree));
  assert.deepEqual(trees, fast === null ? [] : [plain(fast)], `the readings differ on ${JSON.stringify(text)}`);
  return true;
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yamlFiles(path, out);
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

describe('the fast YAML reader', () => {
  test('reads every YAML file of the repository as the library does (documents, values, errors)', () => {
    const files = [...yamlFiles(join(REPO_DIR, 'rules')), ...yamlFiles(join(REPO_DIR, 'test')), ...yamlFiles(join(REPO_DIR, 'samples'))];
    assert.ok(files.length > 50);
    let fast = 0;
    let documents = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const both = [parseYamlFile(text, file), parseYamlFileWithLibrary(text, file)].map((result) => plain({ documents: result.documents.filter((document) => document.tree !== null).map((document) => [document.tree, document.value]), errors: result.errors }));
      assert.deepEqual(both[0], both[1], file);
      for (const span of splitYamlDocuments(text) ?? []) {
        const tree = readPlainYamlDocument(text, span.start, span.end, span.firstLine, file, MAX_YAML_DEPTH);
        if (tree === null) continue;
        documents++;
        if (tree !== undefined) fast++;
      }
    }
    // The built-in pack is plain YAML: nearly all of it takes the fast path.
    assert.ok(fast > documents * 0.9, `${fast} of ${documents}`);
  });

  test('agrees with the library on generated documents, or gives up', () => {
    let read = 0;
    for (let i = 0; i < 3000; i++) {
      const lines: string[] = [];
      generate(0, 0, lines);
      if (agrees(lines.join('\n') + (random() < 0.5 ? '\n' : ''))) read++;
    }
    let blocks = 0;
    for (let i = 0; i < 1500; i++) if (agrees(blockScalarDocument())) blocks++;
    assert.ok(read > 500 && blocks > 300, `${read} generated and ${blocks} block-scalar documents took the fast path`);
  });

  test('several documents: split at --- lines, each read on its own; the library takes what the fast reader cannot', () => {
    const text = 'a: 1\n---\nb: &x 2\nc: *x\n--- # comment\nd: |\n  text\n\n---\n\n---\ne: [1, 2]\n';
    const result = parseYamlFile(text, 'm.yml');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.documents.filter((document) => document.tree !== null).map((document) => [document.value, document.position.line]), [[{ a: 1 }, 1], [{ b: 2, c: 2 }, 3], [{ d: 'text\n' }, 6], [{ e: [1, 2] }, 12]]);
    assert.equal(splitYamlDocuments('%YAML 1.2\n---\na: 1\n'), undefined);
    assert.equal(splitYamlDocuments('a: 1\n...\n'), undefined);
    assert.equal(splitYamlDocuments('--- |\n  x\n'), undefined);
  });
});
