/**
 * The YAML reader's bounds (src/sigma/parse.ts): alias expansion, nesting, error floods,
 * duplicate keys in large mappings, and alias semantics kept while bounding them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRuleText } from '../../src/sigma/load.ts';
import { MAX_YAML_ALIAS_NODES, MAX_YAML_ERRORS_PER_DOCUMENT, parseYamlFile } from '../../src/sigma/parse.ts';
import { parsePlaceholderFile } from '../../src/sigma/placeholders.ts';

/** `levels` anchors of `width` uses each, in one of several shapes. */
function bomb(shape: 'flow' | 'block-seq' | 'block-map' | 'keys', levels: number, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < levels; i++) {
    const item = i === 0 ? 'lol' : `*a${i - 1}`;
    if (shape === 'flow') lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => item).join(', ')}]`);
    if (shape === 'block-seq') lines.push(`a${i}: &a${i}\n${Array.from({ length: width }, () => `  - ${item}`).join('\n')}`);
    if (shape === 'block-map') lines.push(`a${i}: &a${i}\n${Array.from({ length: width }, (_, j) => `  k${j}: ${item}`).join('\n')}`);
    if (shape === 'keys') lines.push(`a${i}: &a${i} {${Array.from({ length: width }, (_, j) => `k${j}: ${item}`).join(', ')}}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('alias expansion is bounded', () => {
  test('every bomb shape stops at the budget with TH_RULE_LIMIT at an alias, fast', () => {
    for (const shape of ['flow', 'block-seq', 'block-map', 'keys'] as const) {
      for (const [levels, width] of [[9, 9], [6, 30], [20, 3], [4, 400]] as const) {
        const started = performance.now();
        const result = parseYamlFile(bomb(shape, levels, width), 'b.yml');
        assert.ok(performance.now() - started < 2000, `${shape} ${levels}x${width}`);
        assert.deepEqual(result.documents, [], `${shape} ${levels}x${width}`);
        assert.equal(result.errors.length, 1);
        assert.equal(result.errors[0]?.code, 'TH_RULE_LIMIT');
        assert.match(result.errors[0]?.message ?? '', new RegExp(`more than ${MAX_YAML_ALIAS_NODES} nodes`));
      }
    }
  });

  test('the budget is per file: many documents under it each cannot add up past it', () => {
    const doc = bomb('flow', 4, 20); // a3 alone: 20 uses of a2 (8,421 nodes each), past the budget
    const small = bomb('flow', 3, 20); // 20 uses of a0 (21 nodes) and 20 of a1 (421): 8,840 alias nodes a document
    assert.equal(parseYamlFile(small, 's.yml').errors.length, 0);
    const many = Array.from({ length: 20 }, () => small).join('---\n');
    const result = parseYamlFile(many, 'm.yml');
    assert.ok(result.documents.length >= 10 && result.documents.length < 20, String(result.documents.length));
    assert.ok(result.errors.every((error) => error.code === 'TH_RULE_LIMIT'));
    assert.equal(parseYamlFile(doc, 'd.yml').errors[0]?.code, 'TH_RULE_LIMIT');
  });

  test('aliases keep their meaning: the last anchor before them, shared values, alias keys', () => {
    const result = parseYamlFile('a: &x 1\nb: *x\nc: &x 2\nd: *x\ne: &m {k: [1, 2]}\nf: *m\n&key g: 3\nn: {*key : 4}\n', 'a.yml');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.documents[0]?.value, { a: 1, b: 1, c: 2, d: 2, e: { k: [1, 2] }, f: { k: [1, 2] }, g: 3, n: { g: 4 } });
    // The located tree points an alias at itself, and a repeated key through an alias is a duplicate.
    const tree = result.documents[0]?.tree;
    assert.equal(tree?.kind === 'map' ? `${tree.entries[5]?.value.position.line}:${tree.entries[5]?.value.position.col}` : '', '6:4');
    assert.equal(parseYamlFile('&key g: 3\n*key : 4\n', 'k.yml').errors[0]?.message, 'invalid YAML: Map keys must be unique');
  });

  test('an alias can only name an anchor before it', () => {
    const result = parseYamlFile('a: *x\nb: &x 1\n', 'a.yml');
    assert.equal(result.errors[0]?.code, 'TH_RULE_YAML');
  });
});

describe('other bounds', () => {
  test('nesting past the limit is TH_RULE_LIMIT, also through aliases', () => {
    assert.equal(parseYamlFile(`a: ${'['.repeat(250)}${']'.repeat(250)}\n`, 'd.yml').errors[0]?.code, 'TH_RULE_LIMIT');
    const chain = ['a0: &a0 [x]', ...Array.from({ length: 220 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`)].join('\n');
    const result = parseYamlFile(`${chain}\n`, 'c.yml');
    assert.equal(result.errors[0]?.code, 'TH_RULE_LIMIT');
    assert.match(result.errors[0]?.message ?? '', /nested more than 200 levels/);
    // Far deeper than the YAML library's own stack: still one located error per document, no crash.
    const deeper = parseYamlFile(`a: ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`, 'x.yml');
    assert.ok(deeper.errors.length >= 1 && deeper.errors.length <= MAX_YAML_ERRORS_PER_DOCUMENT + 1);
    assert.ok(deeper.errors.every((error) => error.code === 'TH_RULE_LIMIT' || error.code === 'TH_RULE_YAML'));
  });

  test('a flood of YAML errors in a document is cut, with a count; the next document still loads', () => {
    const broken = Array.from({ length: 500 }, (_, i) => `k${i}: [unclosed${i}`).join('\n');
    const result = parseYamlFile(`${broken}\n---\nok: 1\n`, 'f.yml');
    assert.ok(result.errors.length <= MAX_YAML_ERRORS_PER_DOCUMENT + 1, String(result.errors.length));
    assert.deepEqual(result.documents.map((document) => document.value), [{ ok: 1 }]);
  });

  test('duplicate keys are found in a large mapping, at the second key', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}: v`);
    keys.push('k123: again');
    const started = performance.now();
    const result = parseYamlFile(`${keys.join('\n')}\n`, 'k.yml');
    assert.ok(performance.now() - started < 10_000);
    assert.deepEqual(result.errors.map((error) => [error.code, error.location]), [['TH_RULE_YAML', 'k.yml:50001:1']]);
  });

  test('a __proto__ key is a key, not a prototype', () => {
    const value = parseYamlFile('__proto__: {polluted: true}\na: 1\n', 'p.yml').documents[0]?.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((value as { polluted?: unknown }).polluted, undefined);
  });

  test('a --vars bomb is TH_RULE_LIMIT, not TH_VARS', () => {
    const { errors, vars } = parsePlaceholderFile(bomb('flow', 8, 10), 'vars.yml');
    assert.deepEqual(errors.map((error) => error.code), ['TH_RULE_LIMIT']);
    assert.equal(vars.size, 0);
  });

  test('a rule whose detection is an alias bomb is refused; its neighbour loads', () => {
    const lists = ['  v0: &v0 [a, b, c, d, e, f, g, h, i, j]', ...Array.from({ length: 6 }, (_, i) => `  v${i + 1}: &v${i + 1} [${Array.from({ length: 10 }, () => `*v${i}`).join(', ')}]`)];
    const head = (id: string): string => `title: t\nid: ${id}\nlogsource: {product: aws}\ndetection:\n`;
    const text = `${head('11111111-1111-4111-8111-111111111111')}${lists.join('\n')}\n  sel:\n    f|contains: *v6\n  condition: sel\n---\n${head('22222222-2222-4222-8222-222222222222')}  sel:\n    f: x\n  condition: sel\n`;
    const result = loadRuleText(text, 'r.yml');
    assert.deepEqual(result.rules.map((rule) => rule.id), ['22222222-2222-4222-8222-222222222222']);
    assert.deepEqual(result.errors.map((error) => error.code), ['TH_RULE_LIMIT']);
  });
});
