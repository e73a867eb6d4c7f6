import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, formatLocatedError } from '../../src/core/errors.ts';

test('docs/errors.md documents exactly the codes src/errors.ts defines', () => {
  const documented = new Set([...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `(TH_[A-Z0-9_]+)` \|/gm)].map((match) => match[1]));
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});

test('a located error reads location first, then the code', () => {
  assert.equal(
    formatLocatedError({ code: 'TH_INPUT_JSON', message: 'unexpected end of JSON', location: 'logs/a.json:12' }),
    'logs/a.json:12: TH_INPUT_JSON unexpected end of JSON',
  );
});
