/**
 * Hardening: `|re` patterns are hostile input. A pattern the static check proves safe keeps
 * running on RegExp; any other runs on the linear-time engine or is refused with
 * TH_RULE_REGEX_UNSAFE at the value's file:line:col. The hostile shapes and inputs are generated.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRuleText } from '../../src/sigma/load.ts';
import { compileSigmaRegex, compileSigmaRegExp, linearSigmaRegex, LONG_VALUE_CHARS, searchEquivalentSource } from '../../src/sigma/regex.ts';
import { analyseRegex } from '../../src/sigma/regex-safety.ts';
import { parseRegex } from '../../src/sigma/regex-syntax.ts';

function rule(detection: string, id = '11111111-1111-4111-8111-111111111111'): string {
  return `title: t\nid: ${id}\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n${detection}\n`;
}

function verdict(pattern: string, flags = ''): ReturnType<typeof analyseRegex> {
  const node = parseRegex(pattern, flags);
  assert.ok(node !== undefined, `parses ${pattern}`);
  return analyseRegex(node, flags);
}

let seed = 12345;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Unsafe shapes, each with a text that makes a backtracking engine explode on it (several per class). */
function unsafeShapes(): { pattern: string; hostile: string }[] {
  const shapes: { pattern: string; hostile: string }[] = [];
  const atoms: [string, string][] = [['a', 'a'], ['\\w', 'x'], ['[a-z]', 'q'], ['\\d', '7'], ['.', 'z']];
  for (const [atom, char] of atoms) {
    const run = char.repeat(40);
    // Nested quantifiers.
    shapes.push({ pattern: `(${atom}+)+$`, hostile: `${run}!` });
    shapes.push({ pattern: `(${atom}*)*$`, hostile: `${run}!` });
    shapes.push({ pattern: `(?:${atom}+){2,}!`, hostile: `${run}` });
    shapes.push({ pattern: `(${atom}+\\s?)+$`, hostile: `${run}!` });
    // Overlapping alternation under a quantifier.
    shapes.push({ pattern: `(${atom}|${atom})*$`, hostile: `${run}!` });
    shapes.push({ pattern: `(?:${atom}|${atom}${atom})+$`, hostile: `${run}!` });
    // Polynomial: adjacent or repeated overlapping loops.
    shapes.push({ pattern: `${atom}+${atom}+${atom}+$`, hostile: `${char.repeat(3000)}!` });
    shapes.push({ pattern: `(.*${atom}){12}`, hostile: `${char.repeat(200)}` });
  }
  shapes.push({ pattern: '^(a|ab)*$', hostile: 'ab'.repeat(5000) + 'x' }); // safe, anchored: still fine on RegExp
  return shapes;
}

describe('the static check', () => {
  test('proves SigmaHQ-style patterns safe: they stay on RegExp', () => {
    const safe = [
      '^arn:aws:iam::\\d{12}:root$', '(?i)\\.(exe|dll)$', '^[A-Za-z0-9+/]{40,}={0,2}$', '.+:assumed-role/aws:.+', '^create[a-z]+$',
      '[a-z0-9]{16}\\.exe', '(\\d{1,3}\\.){3}\\d{1,3}', '^(?!.*admin).*$', 'ab(?=c)c', 'kit\\d', 'x(i|y)kit', '^(a|b)*$', 'aws-cli/\\d',
      '^10\\.', '(?i)AdminAccess', '^Create[a-z]+User$', 'evil.*string', '\\\\Temp\\\\[a-z0-9]{8}\\.exe', '^[0-9a-f]{32}$', '\\w+@\\w+\\.com',
    ];
    for (const pattern of safe) {
      // As RegExp runs it: the inline flag taken out, a leading or trailing .+ rewritten.
      const result = verdict(searchEquivalentSource(pattern.replace(/^\(\?i\)/, '')), pattern.startsWith('(?i)') ? 'i' : '');
      assert.equal(result.safe, true, `${pattern}: ${result.safe ? '' : result.reason}`);
      assert.notEqual(compileSigmaRegex(pattern, '').engine, 'linear', pattern);
    }
  });

  test('does not prove nested, overlapping or polynomial quantifiers safe', () => {
    for (const { pattern } of unsafeShapes()) {
      if (pattern.startsWith('^(a|ab)')) continue;
      assert.equal(verdict(pattern).safe, false, pattern);
    }
    for (const pattern of ['(a|a)*', '(a|ab|b)*c', '(\\w+\\s?)+$', '(.*a){20}', '^.*x.*y$', '\\d+\\d+$', '(a*b?)*c', '(a?a?)*c', '(?:a+)+(?=x)']) {
      assert.equal(verdict(pattern).safe, false, pattern);
    }
  });

  test('a lookaround is checked too, and one that loops must not sit under a quantifier', () => {
    assert.equal(verdict('x(?=(a+)+$)').safe, false);
    assert.equal(verdict('(?:a(?=.*z))+x').safe, false);
    assert.equal(verdict('^(?=.*z)abc').safe, true);
    assert.equal(verdict('(?<=(a|a)+)b').safe, false);
  });

  test('case-insensitive sets are folded before the overlap is checked', () => {
    assert.equal(verdict('(?:a|A)+$', '').safe, true);
    assert.equal(verdict('(?:a|A)+$', 'i').safe, false);
  });
});

describe('engines', () => {
  test('every unsafe shape runs on the linear engine, agrees with RegExp on short texts and answers hostile texts at once', { timeout: 30_000 }, () => {
    for (const { pattern, hostile } of unsafeShapes()) {
      const compiled = compileSigmaRegex(pattern, '');
      if (pattern.startsWith('^(a|ab)')) {
        assert.equal(compiled.engine, 'backtracking');
      } else {
        assert.equal(compiled.engine, 'linear', pattern);
      }
      const reference = new RegExp(pattern);
      for (const text of ['', 'a', 'ab!', 'x7 q', 'aaaa', '7777!', 'zz\nz']) assert.equal(compiled.test(text), reference.test(text), `${pattern} on ${JSON.stringify(text)}`);
      const started = performance.now();
      compiled.test(hostile);
      compiled.test(hostile.repeat(20));
      assert.ok(performance.now() - started < 2000, `${pattern} took ${performance.now() - started} ms`);
    }
  });

  test('a proven pattern that can loop without ^ sends long values to the linear engine', { timeout: 20_000 }, () => {
    for (const pattern of ['\\w+@', '\\s+$', '(a|ab)*c', '[a-z]+\\d', 'foo.*bar']) {
      const compiled = compileSigmaRegex(pattern, '');
      assert.equal(compiled.engine, 'backtracking+linear', pattern);
      const hostile = 'a'.repeat(LONG_VALUE_CHARS * 200);
      const started = performance.now();
      assert.equal(compiled.test(hostile), new RegExp(pattern).test('aaaa'), pattern);
      assert.ok(performance.now() - started < 1000, `${pattern} took ${performance.now() - started} ms`);
      assert.equal(compiled.test(`${hostile} x@y`), pattern === '\\w+@');
    }
  });

  test('unsafe patterns the linear engine cannot run are refused', () => {
    for (const pattern of ['(a+)+(?=b)', '(a*)*\\1', '(\\w+\\s?)+(?!x)', '(x|x)*(?=$)', '(.*a){1001}']) {
      assert.throws(() => compileSigmaRegex(pattern, ''), (error: Error & { code?: string }) => error.code === 'TH_RULE_REGEX_UNSAFE' && error.message.includes(pattern), pattern);
    }
    // Safe, but quadratic without ^, and a lookahead: refused too; anchored, it stays.
    assert.throws(() => compileSigmaRegex('\\w+(?=@)', ''), /square of the value's length/);
    assert.equal(compileSigmaRegex('^\\w+(?=@)', '').engine, 'backtracking');
  });

  test('the linear engine reads patterns exactly as RegExp does (random patterns, flags and texts)', () => {
    const atoms = ['a', 'b', 'k', 's', 'K', '.', '\\d', '\\w', '\\s', '\\S', '\\W', '[a-c]', '[^a]', '[^k]', '[\\d-z]', '[\\w.]', '\\.', '\\x41', '\\u0062', '\\n', '[]', '[^]', '\\0', '\\cA', '\\c', '\\k', '\\8', '\\101', ']', '}', '{', 'x{', '\\/', '[\\b]', '[a-]', '\\t', 'é', '\u212a', '\u017f'];
    const generate = (depth: number): string => {
      const roll = random();
      if (depth > 3 || roll < 0.35) return pick(atoms);
      if (roll < 0.5) return generate(depth + 1) + generate(depth + 1);
      if (roll < 0.6) return `(${generate(depth + 1)}|${generate(depth + 1)})`;
      if (roll < 0.7) return `(?:${generate(depth + 1)})${pick(['*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '{2,}'])}`;
      if (roll < 0.8) return pick(['^', '$', '\\b', '\\B']) + generate(depth + 1);
      if (roll < 0.88) return generate(depth + 1) + pick(['^', '$', '\\b', '\\B']);
      if (roll < 0.94) return `(?<${pick(['=', '!'])}${generate(depth + 1)})${generate(depth + 1)}`;
      return pick(atoms) + pick(['*', '+', '?', '{2}', '{1,3}']);
    };
    const alphabet = ['a', 'b', 'c', 'A', 'k', 'K', 's', 'S', '\u212a', '\u017f', '\u0130', '1', ' ', '\n', '.', '-', '_', 'é', 'É', '\t', '\u00a0', 'x', '{', '}', ']', '\u0001', '\\', '8', '/', '\b'];
    let compared = 0;
    for (let i = 0; i < 1500; i++) {
      const pattern = generate(0);
      const flags = pick(['', '', 'i', 'm', 's', 'ims']);
      let reference: RegExp;
      try {
        reference = new RegExp(pattern, flags);
      } catch {
        continue;
      }
      const linear = linearSigmaRegex(pattern, flags);
      assert.equal(typeof linear, 'object', `${pattern} has no lookahead or backreference: the linear engine runs it`);
      if (typeof linear === 'string') continue;
      const fast = compileSigmaRegExp(pattern, flags);
      for (let j = 0; j < 20; j++) {
        const text = Array.from({ length: Math.floor(random() * 7) }, () => pick(alphabet)).join('');
        const expected = reference.test(text);
        assert.equal(linear.test(text), expected, `linear /${pattern}/${flags} on ${JSON.stringify(text)}`);
        assert.equal(fast.test(text), expected, `RegExp /${pattern}/${flags} on ${JSON.stringify(text)}`);
        compared++;
      }
    }
    assert.ok(compared > 10_000);
  });
});

describe('rules', () => {
  test('an unsafe pattern the linear engine cannot run is located at its value; the other rules load', { timeout: 20_000 }, () => {
    const bad = rule(`  sel:\n    eventName: CreateUser\n    userAgent|re: '(a+)+(?=b)'\n  condition: sel`);
    const good = rule(`  sel:\n    userAgent|re: '(a+)+$'\n  condition: sel`, '22222222-2222-4222-8222-222222222222');
    const result = loadRuleText(`${bad}---\n${good}`, 'rules/x.yml');
    assert.equal(result.rules.length, 1);
    assert.equal(result.rules[0]?.id, '22222222-2222-4222-8222-222222222222');
    assert.deepEqual(result.errors.map((error) => [error.code, error.location]), [['TH_RULE_REGEX_UNSAFE', 'rules/x.yml:7:19']]);
    assert.match(result.errors[0]?.message ?? '', /'userAgent\|re'.*backtrack catastrophically.*lookahead/);
    const match = result.rules[0]?.match;
    assert.ok(match !== undefined);
    assert.equal(match({ userAgent: 'aaa' }), true);
    const started = performance.now();
    assert.equal(match({ userAgent: `${'a'.repeat(5000)}!` }), false);
    assert.ok(performance.now() - started < 1000);
  });

  test('required substrings still come from a pattern on the linear engine', { timeout: 20_000 }, () => {
    const result = loadRuleText(rule(`  sel:\n    userAgent|re: 'evil-tool/(\\d+\\.?)+$'\n  condition: sel`), 'r.yml');
    assert.deepEqual(result.errors, []);
    assert.deepEqual([...(result.rules[0]?.requiredSubstrings ?? new Map())], [['userAgent', [{ text: 'evil-tool/', caseSensitive: true }]]]);
    assert.equal(result.rules[0]?.match({ userAgent: 'evil-tool/1.2.3' }), true);
    assert.equal(result.rules[0]?.match({ userAgent: `evil-tool/${'1'.repeat(5000)}x` }), false);
  });

  test('|re|i, |re|m and |re|s on the linear engine', () => {
    const result = loadRuleText(rule(`  a:\n    f|re|i: '^(?:create|CREATE)+user$'\n  b:\n    g|re|m: '^(x+x+)+$'\n  c:\n    h|re|s: 'a(.|.)+b'\n  condition: a or b or c`), 'r.yml');
    assert.deepEqual(result.errors, []);
    const match = result.rules[0]?.match;
    assert.ok(match !== undefined);
    assert.equal(match({ f: 'CreateUser' }), true);
    assert.equal(match({ g: 'line\nxxx\nmore' }), true);
    assert.equal(match({ h: 'a\nb' }), true);
    assert.equal(match({ f: 'Create', g: 'y', h: 'ab' }), false);
  });
});
