/**
 * The small pieces on their own: case folding fast paths against their definitions, wildcard
 * parsing, condition precedence, CIDR parsing, time parts, encodings, field paths.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIPv4 } from '../../src/core/ipv4.ts';
import { cidrContains, parseCidr, parseIPv6Into } from '../../src/sigma/cidr.ts';
import { parseCondition } from '../../src/sigma/condition.ts';
import type { ConditionNode } from '../../src/sigma/condition.ts';
import { base64offset, utf16, windash } from '../../src/sigma/encoding.ts';
import { compileFieldPath, someScalar, someTerminal } from '../../src/sigma/field-path.ts';
import { compileSigmaRegExp, searchEquivalentSource } from '../../src/sigma/regex.ts';
import { compilePatternTest, endsWithFold, equalsFold, includesFold, startsWithFold } from '../../src/sigma/string-match.ts';
import { extractTimePart, isoWeek } from '../../src/sigma/time-parts.ts';
import { literalText, parseSigmaString } from '../../src/sigma/wildcard.ts';

describe('case folding fast paths agree with toLowerCase', () => {
  test('on random strings, ASCII and not', () => {
    const alphabet = ['a', 'B', 'c', 'Z', '-', ' ', 'é', 'É', 'K', '\u212a', 'İ', 'i', 'ß', 'Σ', 'σ', 'ς', '1'];
    let state = 12345;
    const next = (): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
    const word = (max: number): string => Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const value = word(8);
      const needle = word(4).toLowerCase();
      const lower = value.toLowerCase();
      assert.equal(equalsFold(value, needle), lower === needle, `equals ${value} ${needle}`);
      assert.equal(startsWithFold(value, needle), lower.startsWith(needle), `starts ${value} ${needle}`);
      assert.equal(endsWithFold(value, needle), lower.endsWith(needle), `ends ${value} ${needle}`);
      assert.equal(includesFold(value, needle), lower.includes(needle), `includes ${value} ${needle}`);
      assert.equal(equalsFold(value, lower), true);
    }
  });
});

describe('Sigma strings', () => {
  const show = (raw: string, placeholders = false): string => parseSigmaString(raw, placeholders)
    .map((t) => (t.kind === 'literal' ? `"${t.text}"` : t.kind === 'placeholder' ? `%${t.name}%` : t.kind))
    .join(' ');

  test('wildcards and escapes per the specification', () => {
    assert.equal(show('prog?.exe'), '"prog" one ".exe"');
    assert.equal(show('a*b**c'), '"a" any "b" any "c"');
    assert.equal(show(String.raw`a\*b\?c`), '"a*b?c"');
    assert.equal(show(String.raw`C:\Windows\x`), String.raw`"C:\Windows\x"`);
    assert.equal(show(String.raw`C:\\Windows`), String.raw`"C:\Windows"`);
    assert.equal(show(String.raw`x\\*`), String.raw`"x\" any`);
    assert.equal(show(String.raw`x\\\*`), String.raw`"x\*"`);
    assert.equal(show(String.raw`x\\\\`), String.raw`"x\\"`);
    assert.equal(show(String.raw`x\\\y`), String.raw`"x\\y"`);
    assert.equal(show(String.raw`end\\`), String.raw`"end\"`);
    assert.equal(show(String.raw`end\\`.slice(0, -1)), String.raw`"end\"`);
  });

  test('placeholders only under expand; \\% escapes a percent sign', () => {
    assert.equal(show('%admins%'), '"%admins%"');
    assert.equal(show('%admins%', true), '%admins%');
    assert.equal(show(String.raw`\%plain%name%`, true), '"%plain" %name%');
    assert.equal(show('100%', true), '"100%"');
    assert.equal(show('a%b c%', true), '"a%b c%"');
  });

  test('pattern tests: fast paths and the regular expression path', () => {
    const t = (raw: string, cased = false): ((v: string | number | boolean) => boolean) => compilePatternTest(parseSigmaString(raw), cased);
    assert.equal(t('abc')('ABC'), true);
    assert.equal(t('abc', true)('ABC'), false);
    assert.equal(t('a*')('Abc'), true);
    assert.equal(t('*c')('abC'), true);
    assert.equal(t('*b*')('aBc'), true);
    assert.equal(t('a?c*d')('aXcYYd'), true);
    assert.equal(t('a?c*d')('acd'), false);
    assert.equal(t('*')(''), true);
    assert.equal(t('5')(5), true);
    assert.equal(t('5*')(55), true);
    assert.equal(t('true')(true), true);
    assert.equal(t('a.c')('abc'), false);
    assert.equal(t('(a|b)*')('(a|b)x'), true);
    assert.equal(t('?')('\u{1F600}'), true, 'one character is one code point');
  });
});

describe('condition grammar', () => {
  const show = (node: ConditionNode): string => {
    switch (node.kind) {
      case 'identifier':
        return node.name;
      case 'of':
        return node.quantifier === 'count' ? `${node.count ?? '?'}(${node.pattern})` : `${node.quantifier}(${node.pattern})`;
      case 'not':
        return `!${show(node.operand)}`;
      default:
        return `${node.kind}(${node.operands.map(show).join(',')})`;
    }
  };
  const parse = (text: string): string => {
    const result = parseCondition(text);
    assert.ok(result.ok, text);
    return show(result.ast);
  };

  test('precedence: or < and < not < x of < brackets', () => {
    assert.equal(parse('a or b and c'), 'or(a,and(b,c))');
    assert.equal(parse('a and b or c'), 'or(and(a,b),c)');
    assert.equal(parse('not a and b'), 'and(!a,b)');
    assert.equal(parse('not (a and b)'), '!and(a,b)');
    assert.equal(parse('a and not 1 of filter*'), 'and(a,!one(filter*))');
    assert.equal(parse('all of them or x'), 'or(all(them),x)');
    assert.equal(parse('2 of sel* and not 3 of them'), 'and(2(sel*),!3(them))');
    assert.equal(parse('1 OF x*'), 'one(x*)');
    assert.equal(parse('((a))'), 'a');
    assert.equal(parse('a or b or c and d and e'), 'or(a,b,and(c,d,e))');
    assert.equal(parse('A AND NOT B'), 'and(A,!B)');
    assert.equal(parse('selection_1 and(selection-2)'), 'and(selection_1,selection-2)');
  });

  test('syntax errors carry an offset', () => {
    const result = parseCondition('a and (b or c');
    assert.ok(!result.ok);
    assert.equal(result.kind, 'syntax');
    assert.equal(result.offset, 6);
    const aggregation = parseCondition('sel | count() by x > 5');
    assert.ok(!aggregation.ok);
    assert.equal(aggregation.kind, 'aggregation');
    assert.equal(aggregation.aggregation, 'count() by x > 5');
    assert.equal(aggregation.offset, 4);
    for (const bad of ['', 'a b', 'and a', 'a and', '1 of', 'all of and', '0 of x*', 'three of x*', '2 of', 'them', 'not', ')', 'x*']) {
      assert.equal(parseCondition(bad).ok, false, bad);
    }
  });
});

describe('CIDR', () => {
  test('IPv4 parsing is strict', () => {
    assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    for (const bad of ['10.1.2', '10.1.2.3.4', '256.1.1.1', '01.1.1.1', '1..1.1', '1.1.1.1 ', 'a.b.c.d', '']) assert.equal(parseIPv4(bad), -1, bad);
  });

  test('IPv6 parsing: compression, embedded IPv4, invalid forms', () => {
    const out = new Uint16Array(8);
    const groups = (text: string): string | undefined => (parseIPv6Into(text, out) ? Array.from(out, (g) => g.toString(16)).join(':') : undefined);
    assert.equal(groups('::'), '0:0:0:0:0:0:0:0');
    assert.equal(groups('::1'), '0:0:0:0:0:0:0:1');
    assert.equal(groups('1::'), '1:0:0:0:0:0:0:0');
    assert.equal(groups('2001:db8::8a2e:370:7334'), '2001:db8:0:0:0:8a2e:370:7334');
    assert.equal(groups('::ffff:192.0.2.1'), '0:0:0:0:0:ffff:c000:201');
    assert.equal(groups('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', '12345::', 'g::', '1:2:3:4:5:6:7', 'fe80::1%eth0', '::1.2.3']) assert.equal(groups(bad), undefined, bad);
  });

  test('containment at the prefix boundary', () => {
    const net = parseCidr('192.168.0.0/23');
    assert.ok(net);
    assert.equal(cidrContains(net, '192.168.1.255'), true);
    assert.equal(cidrContains(net, '192.168.2.0'), false);
    const any = parseCidr('0.0.0.0/0');
    assert.ok(any);
    assert.equal(cidrContains(any, '8.8.8.8'), true);
    assert.equal(cidrContains(any, '::1'), false);
    const host6 = parseCidr('2001:db8::1');
    assert.ok(host6);
    assert.equal(cidrContains(host6, '2001:DB8:0::1'), true);
    assert.equal(cidrContains(host6, '2001:db8::2'), false);
    const odd6 = parseCidr('2001:db8:8000::/33');
    assert.ok(odd6);
    assert.equal(cidrContains(odd6, '2001:db8:ffff::1'), true);
    assert.equal(cidrContains(odd6, '2001:db8:7fff::1'), false);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '::/129', 'x', '10.0.0.0/8/8']) assert.equal(parseCidr(bad), undefined, bad);
  });
});

describe('time parts', () => {
  test('read as written, without time zone conversion', () => {
    const t = '2024-03-10T23:30:05+02:00';
    assert.deepEqual(['year', 'month', 'day', 'hour', 'minute'].map((p) => extractTimePart(t, p as 'year')), [2024, 3, 10, 23, 30]);
    assert.equal(extractTimePart('2024-03-10', 'hour'), Number.NaN);
    assert.equal(extractTimePart('2024-02-30T00:00:00Z', 'day'), Number.NaN);
    assert.equal(extractTimePart('2024-13-01', 'month'), Number.NaN);
    assert.equal(extractTimePart('10/03/2024', 'year'), Number.NaN);
  });

  test('ISO weeks, including the year boundaries', () => {
    assert.equal(isoWeek(2024, 1, 1), 1);
    assert.equal(isoWeek(2021, 1, 1), 53);
    assert.equal(isoWeek(2021, 1, 4), 1);
    assert.equal(isoWeek(2019, 12, 30), 1);
    assert.equal(isoWeek(2020, 12, 31), 53);
    assert.equal(isoWeek(2024, 12, 30), 1);
    assert.equal(isoWeek(2024, 3, 10), 10);
  });
});

describe('encodings', () => {
  const texts = (patterns: { tokens: readonly import('../../src/sigma/wildcard.ts').PatternToken[] }[]): (string | undefined)[] => patterns.map((p) => literalText(p.tokens));

  test('base64offset gives pySigma\'s three variants', () => {
    assert.deepEqual(texts(base64offset({ tokens: parseSigmaString('/bin/bash'), bytes: false })), ['L2Jpbi9iYXNo', '9iaW4vYmFza', 'vYmluL2Jhc2']);
    assert.deepEqual(texts(base64offset({ tokens: parseSigmaString('/bin/sh'), bytes: false })), ['L2Jpbi9za', '9iaW4vc2', 'vYmluL3No']);
  });

  test('utf16 variants', () => {
    assert.deepEqual(texts(utf16({ tokens: parseSigmaString('cmd'), bytes: false }, 'utf16le')), ['c\0m\0d\0']);
    assert.deepEqual(texts(utf16({ tokens: parseSigmaString('cmd'), bytes: false }, 'utf16be')), ['\0c\0m\0d']);
    assert.deepEqual(texts(utf16({ tokens: parseSigmaString('cmd'), bytes: false }, 'utf16')), ['\u00ff\u00fec\0m\0d\0']);
  });

  test('windash marks every dash character', () => {
    const marked = windash({ tokens: parseSigmaString('a-b/c\u2013d'), bytes: false });
    assert.deepEqual(marked.tokens.map((t) => t.kind), ['literal', 'dash', 'literal', 'dash', 'literal', 'dash', 'literal']);
  });
});

describe('field paths', () => {
  const values = (record: unknown, path: string): unknown[] => {
    const out: unknown[] = [];
    someTerminal(record, compileFieldPath(path), (v) => {
      someScalar(v, (s) => {
        out.push(s);
        return false;
      });
      return false;
    });
    return out;
  };

  test('nested, arrays at any depth, literal dotted keys first', () => {
    assert.deepEqual(values({ a: { b: 1 } }, 'a.b'), [1]);
    assert.deepEqual(values({ a: [{ b: 1 }, { b: [2, [3]] }, { c: 4 }] }, 'a.b'), [1, 2, 3]);
    assert.deepEqual(values({ 'a.b': 'lit', a: { b: 'nested' } }, 'a.b'), ['lit']);
    assert.deepEqual(values({ a: { 'b.c': 'x' } }, 'a.b.c'), ['x']);
    assert.deepEqual(values({ a: { b: { c: 1, d: ['e'] } } }, 'a.b'), [1, 'e']);
    assert.deepEqual(values({ toString: 'own' }, 'toString'), ['own']);
    assert.deepEqual(values({}, 'toString'), []);
    assert.deepEqual(values({}, 'constructor.name'), []);
  });
});

describe('regular expressions', () => {
  test('leading and trailing .* / .+ are rewritten into an equivalent search', () => {
    assert.equal(searchEquivalentSource('.+:assumed-role/aws:.+'), '(?<=.):assumed-role/aws:(?=.)');
    assert.equal(searchEquivalentSource('.*foo.*'), 'foo');
    assert.equal(searchEquivalentSource('.*?foo.+?'), 'foo(?=.)');
    assert.equal(searchEquivalentSource('foo\\.+'), 'foo\\.+', 'an escaped dot is not rewritten');
    assert.equal(searchEquivalentSource('foo\\\\.+'), 'foo\\\\(?=.)');
    assert.equal(searchEquivalentSource('^.*foo.*$'), '^.*foo.*$');
    assert.equal(searchEquivalentSource('.*{2}'), '.*{2}');
  });

  test('the rewritten search agrees with the original on random text', () => {
    const patterns = ['.+:a/b:.+', '.*ab.*', '.+', '.*', '.+a|b.+', '.*?a', 'a.+?', '.+(a)\\1', '.*^a', '.+^a', 'a|.+', '.+|a', '.*\\.+'];
    const alphabet = ['a', 'b', ':', '/', '\n', '.', 'A'];
    let state = 99;
    const next = (): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
    for (const pattern of patterns) {
      for (const flags of ['', 's', 'm', 'i']) {
        const original = new RegExp(pattern, flags);
        const compiled = compileSigmaRegExp(pattern, flags);
        for (let i = 0; i < 400; i++) {
          const text = Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
          assert.equal(compiled.test(text), original.test(text), `/${pattern}/${flags} on ${JSON.stringify(text)} (rewritten as ${compiled.source})`);
        }
      }
    }
  });

  test('inline flags and Python named groups', () => {
    assert.equal(compileSigmaRegExp('(?i)^abc', '').test('ABC'), true);
    assert.equal(compileSigmaRegExp('(?P<x>a)\\k<x>', '').test('aa'), true);
    assert.throws(() => compileSigmaRegExp('(?x)a', ''), /inline flag/);
    assert.throws(() => compileSigmaRegExp('a(', ''), /invalid regular expression/);
  });
});
