/**
 * Nesting depth: values of any depth are written (stringifyDeep: the same text as
 * JSON.stringify), cut at a depth (truncateDeep), measured (exceedsDepth); and what rules read
 * through field paths, keywords, null, exists and fieldref stays bounded: a record nested far
 * deeper than the stack allows never overflows it, and records of normal depth match as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exceedsDepth, isStackOverflow, MAX_JSON_DEPTH, stringifyDeep, TRUNCATED_MARKER, truncateDeep } from '../../src/core/json-depth.ts';
import { compileFieldPath, compileFieldScalarTest, existsTerminal, isNullTerminal, someScalar, someTerminal } from '../../src/sigma/field-path.ts';
import { fieldKeys, fieldValue, keyOf } from '../../src/engine/correlation/fields.ts';
import { random } from '../random.ts';

/** Far deeper than JSON.stringify and any recursive walk can go (they fail near 5,000). */
const HOSTILE = 100_000;

type Shape = 'arrays' | 'objects' | 'mixed' | 'wide-mixed';

/** The JSON text of a value nested `depth` levels (the outermost container is level 1), `leaf` innermost; written as JSON.stringify writes it. */
function nestedText(shape: Shape, depth: number, leaf = '"needle"'): string {
  let open = '';
  let close = '';
  for (let level = 1; level <= depth; level++) {
    const array = shape === 'arrays' || (shape === 'mixed' && level % 2 === 0) || (shape === 'wide-mixed' && level % 3 === 0);
    if (array) {
      open += shape === 'wide-mixed' ? '[1,"x",' : '[';
      close = ']' + close;
    } else {
      open += shape === 'wide-mixed' ? `{"n${level}":null,"k":` : '{"k":';
      close = '}' + close;
    }
  }
  return open + leaf + close;
}

/** The value, parsed from its text as a log decoder would. */
function nested(shape: Shape, depth: number, leaf = '"needle"'): unknown {
  return JSON.parse(nestedText(shape, depth, leaf));
}

const SHAPES: Shape[] = ['arrays', 'objects', 'mixed', 'wide-mixed'];

test('JSON.stringify really overflows on the hostile depth (the tests below can fail)', () => {
  for (const shape of SHAPES) {
    assert.throws(() => JSON.stringify(nested(shape, HOSTILE)), (error: unknown) => isStackOverflow(error), shape);
  }
});

test('stringifyDeep writes exactly what JSON.stringify writes, whatever the depth', () => {
  const rng = random(7);
  // Normal values, with what JSON.stringify drops or converts.
  const samples: unknown[] = [
    { a: 1, b: [1, 'x', null, undefined, () => 1], c: undefined, d: new Date(0), e: { toJSON: () => ({ z: 1 }) }, f: Number.NaN, g: -0, h: '\u2028"\\' },
    [undefined, Symbol('s'), { x: [] }],
    'text',
    42,
    null,
  ];
  for (let i = 0; i < 50; i++) samples.push(nested(SHAPES[i % SHAPES.length] as Shape, 1 + Math.floor(rng() * 300), rng() < 0.5 ? '"leaf"' : '[1,{"a":true}]'));
  for (const value of samples) assert.equal(stringifyDeep(value), JSON.stringify(value));
  assert.equal(stringifyDeep(undefined), undefined);
  // Hostile depth: the text is what JSON.stringify would write with a big enough stack.
  for (const shape of SHAPES) {
    const expected = nestedText(shape, HOSTILE);
    assert.equal(stringifyDeep(JSON.parse(expected)), expected, shape);
    assert.equal(stringifyDeep({ record: JSON.parse(expected), n: 1 }), `{"record":${expected},"n":1}`, shape);
  }
  const cycle: Record<string, unknown> = { a: [] };
  (cycle.a as unknown[]).push(nested('arrays', HOSTILE, '0'), cycle);
  assert.throws(() => stringifyDeep(cycle), TypeError);
});

test('truncateDeep keeps MAX_JSON_DEPTH levels and replaces deeper containers by the marker; exceedsDepth tells which values need it', () => {
  for (const shape of SHAPES) {
    for (const depth of [1, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1000, HOSTILE]) {
      const value = nested(shape, depth);
      assert.equal(exceedsDepth(value, MAX_JSON_DEPTH), depth > MAX_JSON_DEPTH, `${shape} ${depth}`);
      const cut = truncateDeep(value);
      assert.equal(cut.truncated > 0, depth > MAX_JSON_DEPTH, `${shape} ${depth}`);
      const text = JSON.stringify(cut.value);
      assert.equal(exceedsDepth(cut.value, MAX_JSON_DEPTH), false);
      if (depth <= MAX_JSON_DEPTH) {
        assert.equal(text, JSON.stringify(value));
      } else {
        assert.ok(text.includes(JSON.stringify(TRUNCATED_MARKER)), `${shape} ${depth}`);
        assert.ok(!text.includes('needle'));
      }
    }
  }
  assert.equal(exceedsDepth('scalar', 0), false);
});

test('rules read at most MAX_JSON_DEPTH levels, without overflowing, whatever the depth (keywords, field paths, null, exists, correlation keys)', () => {
  const found = (value: string | number | boolean): boolean => value === 'needle';
  for (const shape of SHAPES) {
    // Within the limit: found, as before (the record is level 1, `deep` level 2).
    const shallow = { deep: nested(shape, MAX_JSON_DEPTH - 1) };
    assert.equal(someScalar(shallow, found), true, shape);
    assert.equal(someTerminal(shallow, compileFieldPath('deep'), (value, depth) => someScalar(value, found, depth)), true, shape);
    assert.equal(compileFieldScalarTest(compileFieldPath('deep'), found)(shallow), true, shape);
    // Hostile: no overflow, and nothing below the limit is seen.
    const record = { eventName: 'X', deep: nested(shape, HOSTILE) };
    assert.equal(someScalar(record, found), false, shape);
    assert.equal(compileFieldScalarTest(compileFieldPath('deep'), found)(record), false, shape);
    assert.equal(compileFieldScalarTest(compileFieldPath('deep.k.k.k'), found)(record), false, shape);
    // `deep.k` through arrays of arrays reaches nothing within the limit: missing, so null.
    assert.equal(someTerminal(record, compileFieldPath('deep.k'), isNullTerminal), shape === 'arrays', shape);
    assert.equal(someTerminal({ deep: nested(shape, HOSTILE, 'null') }, compileFieldPath('deep'), isNullTerminal), false, shape);
    assert.equal(someTerminal(record, compileFieldPath('deep'), existsTerminal), true);
    assert.equal(someScalar(record, (value) => value === 'X'), true, 'the rest of the record is read');
    // Correlation keys: a group-by on the deep value is its JSON, built without overflowing.
    assert.equal(keyOf(fieldValue(record, compileFieldPath('deep'))), nestedText(shape, HOSTILE));
    assert.equal(fieldKeys(record, compileFieldPath('deep.k')).length >= 1, true);
  }
  // Arrays in arrays do not advance a path: bounded too.
  const arrays = { a: nested('arrays', HOSTILE, '{"b":"needle"}') };
  assert.equal(compileFieldScalarTest(compileFieldPath('a.b'), found)(arrays), false);
  const within = { a: nested('arrays', MAX_JSON_DEPTH - 2, '{"b":"needle"}') };
  assert.equal(compileFieldScalarTest(compileFieldPath('a.b'), found)(within), true);
});
