import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverValue } from '../../src/formats/json/recover.ts';
import { createScanState, firstKey, scanValue, valueEnd } from '../../src/formats/json/scanner.ts';
import { decodeAll, eventIds, fixture, memoryUnit } from './helpers.ts';

const TRICKY = [
  '{"a":"}"}',
  '{"a":"\\"}\\\\","b":[1,{"c":"]"}]}',
  '{"path":"C:\\\\dir\\\\","q":"\\\\\\"","x":{}}',
  '[{"policy":"{\\"Statement\\":[{\\"Effect\\":\\"Allow\\"}]}"},[],[[]],"\\u007b"]',
  '{"emoji":"caf\u00e9 \ud83d\ude00 {","n":-1.5e3,"t":true,"z":null}',
];

/** Where the value ends when its bytes arrive in two chunks split at `cut`. */
function endInTwoChunks(buf: Buffer, cut: number): number {
  const state = createScanState(1);
  const a = buf.subarray(0, cut);
  const b = buf.subarray(cut);
  const first = scanValue(a, 1, a.length, state);
  if (first !== -1) return first;
  const second = scanValue(b, 0, b.length, state);
  return second === -1 ? -1 : cut + second;
}

describe('scanner', () => {
  it('finds where a value ends, across every chunk boundary, through strings and escapes', () => {
    for (const text of TRICKY) {
      const buf = Buffer.from(text + ' {"next":1}');
      const end = Buffer.byteLength(text);
      assert.equal(valueEnd(buf, 0), end, text);
      for (let cut = 1; cut < buf.length; cut++) assert.equal(endInTwoChunks(buf, cut), end, `${text} cut at ${cut}`);
    }
  });

  it('closes a string at a raw newline (damage) instead of swallowing the next lines', () => {
    const buf = Buffer.from('{"a":"broken\n,"b":1}\n{"c":2}');
    const state = createScanState(1);
    const end = scanValue(buf, 1, buf.length, state);
    assert.equal(buf.toString('utf8', 0, end), '{"a":"broken\n,"b":1}');
    assert.equal(state.brokenString, true);
    assert.equal(state.newlines, 1);
  });

  it('firstKey reads the first key of an object', () => {
    assert.equal(firstKey(Buffer.from('{ "Records" : []}'), 0), 'Records');
    assert.equal(firstKey(Buffer.from('[1]'), 0), undefined);
  });
});

describe('recoverValue', () => {
  const keys = new Set(['Records']);

  it('keeps the intact elements of a record array, undefined where one was damaged', () => {
    const buf = Buffer.from('{"Records":[{"a":1},{"b":x},{"c":3}],"other":true}');
    const recovered = recoverValue(buf, keys);
    assert.ok(recovered);
    assert.deepEqual(recovered.value, { Records: [{ a: 1 }, undefined, { c: 3 }], other: true });
    assert.deepEqual(recovered.damage.map((d) => d.path), ['.Records[1]']);
    assert.equal(recovered.truncated, false);
  });

  it('a top-level array is recovered element by element', () => {
    const recovered = recoverValue(Buffer.from('[{"a":1}, {"b":tru}, {"c":3}]'), keys);
    assert.deepEqual(recovered?.value, [{ a: 1 }, undefined, { c: 3 }]);
  });

  it('gives up a value damaged outside a record array: no record loses a field silently', () => {
    assert.equal(recoverValue(Buffer.from('{"eventName":"X","requestParameters":{"a":x}}'), keys), undefined);
    assert.equal(recoverValue(Buffer.from('{"Records":[{"a":1}],"requestParameters":{"a":x}}'), new Set()), undefined);
  });

  it('says when the bytes end inside the value', () => {
    const recovered = recoverValue(Buffer.from('{"Records":[{"a":1},{"b":2},{"c":'), keys);
    assert.deepEqual(recovered?.value, { Records: [{ a: 1 }, { b: 2 }] });
    assert.equal(recovered?.truncated, true);
  });

  it('a missing comma loses nothing but is reported', () => {
    const recovered = recoverValue(Buffer.from('{"Records":[{"a":1} {"b":2}]}'), keys);
    assert.deepEqual(recovered?.value, { Records: [{ a: 1 }, { b: 2 }] });
    assert.deepEqual(recovered?.damage.map((d) => d.path), ['.Records[1]']);
  });
});

describe('chunking does not change the result', () => {
  for (const name of ['records.json', 'records-pretty.json', 'records.jsonl', 'cloudwatch-firehose.json', 'lookup-events.json', 'array.json']) {
    it(name, async () => {
      const bytes = fixture(name);
      const whole = await decodeAll(memoryUnit(name, bytes));
      assert.deepEqual(whole.errors, []);
      for (const size of [1, 2, 3, 5, 64, 1000, 4096]) {
        const chunked = await decodeAll(memoryUnit(name, bytes, size));
        assert.deepEqual(chunked.errors, [], `chunks of ${size}`);
        assert.deepEqual(eventIds(chunked.envelopes), eventIds(whole.envelopes), `chunks of ${size}`);
        assert.deepEqual(
          chunked.envelopes.map((e) => e.origin),
          whole.envelopes.map((e) => e.origin),
          `chunks of ${size}`,
        );
      }
    });
  }
});
