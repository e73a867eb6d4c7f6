/**
 * Required substrings: the derivation rules, the regular expression literal extractor, and the
 * soundness property the raw pre-filter relies on: a record that the required substrings do not
 * admit never matches (over random rules and records, the conformance cases and, when
 * ../shared/corpus is present, the SigmaHQ AWS rules over the corpus CloudTrail records).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogRecord } from '../../src/core/envelope.ts';
import { loadRulePaths } from '../../src/sigma/load.ts';
import { admitsRecordSubstrings, containsLiteral, foldForLiterals, patternLiteral, regexLiteral, substringsAll, substringsAny } from '../../src/sigma/required-substrings.ts';
import type { CompiledDetectionRule, RequiredLiteral } from '../../src/sigma/types.ts';
import { parseSigmaString } from '../../src/sigma/wildcard.ts';
import { corpusCloudTrailRecords, corpusPath, corpusSkip } from '../corpus.ts';
import { compileRule, varsOf } from './helpers.ts';
import { recordMutations } from './record-mutations.ts';
import { conformanceSoundness } from './conformance-soundness.ts';
import { pickFrom, randomRuleSoundness } from './random-rules.ts';
import { random } from '../random.ts';

/** `ci:text` / `cs:text` per literal, per field. */
function show(literals: readonly RequiredLiteral[]): string[] {
  return literals.map((l) => `${l.caseSensitive ? 'cs' : 'ci'}:${l.text}`);
}

function required(rule: CompiledDetectionRule): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [field, literals] of rule.requiredSubstrings) out[field] = show(literals).sort();
  return out;
}

function re(source: string, flags = ''): string | undefined {
  const literal = regexLiteral(source, flags);
  return literal === undefined ? undefined : show([literal])[0];
}

describe('required substrings: sources of literals', () => {
  test('plain values: the value itself, lowercased; numbers and booleans by string form; cased keeps case', () => {
    const rule = compileRule(`
      sel:
        eventSource: IAM.amazonaws.com
        eventName:
          - CreateUser
          - DeleteUser
        code: 5
        flag: true
        ua|cased: Boto3/X
        short: ab
      condition: sel`);
    assert.deepEqual(required(rule), {
      eventSource: ['ci:iam.amazonaws.com'],
      eventName: ['ci:createuser', 'ci:deleteuser'],
      code: ['ci:5'],
      flag: ['ci:true'],
      ua: ['cs:Boto3/X'],
      short: ['ci:ab'],
    });
  });

  test('contains, startswith, endswith: the value, any length; cased; |all is a conjunction (longest shortest literal kept)', () => {
    const rule = compileRule(`
      sel:
        a|contains: Terraform
        b|startswith: AWS-
        c|endswith: .EXE
        d|contains|cased: Jersey/
        e|contains: x
        f|contains|all:
          - ab
          - longer
          - xyz
        g|contains|all:
          - abcd
          - efg
      condition: sel`);
    assert.deepEqual(required(rule), {
      a: ['ci:terraform'],
      b: ['ci:aws-'],
      c: ['ci:.exe'],
      d: ['cs:Jersey/'],
      e: ['ci:x'],
      f: ['ci:longer'],
      g: ['ci:abcd'],
    });
  });

  test('wildcards: the longest literal run, when at least 3 characters; escapes are literal', () => {
    const rule = compileRule(String.raw`
      sel:
        a: 'arn:aws:iam::*:role/Admin*'
        b: 'ab*cd'
        c: 'x?yz'
        d: 'Power*'
        e: '*ab'
        f: 'ab?'
        g|contains: 'abc*de'
        h: 'a\*b*c'
        i|startswith: 'Get*Policy'
      condition: sel`);
    assert.deepEqual(required(rule), {
      a: ['ci:arn:aws:iam::'],
      d: ['ci:power'],
      e: ['ci:ab'],
      g: ['ci:abc'],
      h: ['ci:a*b'],
      i: ['ci:policy'],
    });
  });

  test('patternLiteral on tokens directly', () => {
    const lit = (raw: string, cased = false): string | undefined => {
      const literal = patternLiteral(parseSigmaString(raw), cased);
      return literal === undefined ? undefined : show([literal])[0];
    };
    assert.equal(lit(''), undefined);
    assert.equal(lit('*'), undefined);
    assert.equal(lit('**?**'), undefined);
    assert.equal(lit('*a*'), 'ci:a');
    assert.equal(lit('a*b'), undefined);
    assert.equal(lit('abc*de?fghi'), 'ci:fghi');
    assert.equal(lit('ABC*DE', true), 'cs:ABC');
    // Case-insensitive non-ASCII: the longest ASCII run (then at least 3 characters).
    assert.equal(lit('café'), 'ci:caf');
    assert.equal(lit('éa'), undefined);
    assert.equal(lit('Straße-Nord'), 'ci:e-nord');
    assert.equal(lit('café', true), 'cs:café');
  });

  test('re: the SigmaHQ IMDS rule gives :assumed-role/aws:, case-sensitive', () => {
    const rule = compileRule(`
      selection:
        userIdentity.arn|re: '.+:assumed-role/aws:.+'
      filter_main_generic:
        - eventSource: 'ssm.amazonaws.com'
        - eventName: 'RegisterManagedInstance'
        - sourceIPAddress: 'AWS Internal'
      condition: selection and not 1 of filter_main_*`);
    assert.deepEqual(required(rule), { 'userIdentity.arn': ['cs::assumed-role/aws:'] });
    assert.deepEqual(rule.requiredValues, new Map());
    const arn = 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1';
    assert.equal(rule.match({ userIdentity: { arn }, eventSource: 's3.amazonaws.com' }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { userIdentity: { arn } }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { userIdentity: { arn: arn.toUpperCase() } }), false);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { userIdentity: { arn: 'arn:aws:iam::1:user/x' } }), false);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { userIdentity: {} }), false);
  });

  test('re flags: i (modifier or leading inline group) makes the literal case-insensitive; m and s change nothing', () => {
    const rule = compileRule(`
      sel:
        a|re|i: '^Create[a-z]+User$'
        b|re: '(?i)AdminAccess'
        c|re|m|s: '^line.Two$'
        d|re:
          - 'abc+'
          - 'x?yzw'
        e|re|all:
          - 'abcd'
          - 'efg'
        f|re:
          - 'abc'
          - 'a|bcd'
        g|re|cased: 'Boto3'
      condition: sel`);
    assert.deepEqual(required(rule), {
      a: ['ci:create'],
      b: ['ci:adminaccess'],
      c: ['cs:line'],
      d: ['cs:abc', 'cs:yzw'],
      e: ['cs:abcd'],
      g: ['cs:Boto3'],
    });
  });

  test('neq, keywords, null, exists, fieldref, cidr, comparisons, time parts and encodings give nothing', () => {
    const rule = compileRule(`
      sel:
        a|contains|neq: abcdef
        b: null
        c|exists: true
        d|fieldref: e
        f|cidr: 10.0.0.0/8
        g|gt: 5
        h|hour: 3
        i|base64: abcdef
        j|base64offset|contains: abcdef
        k|utf16le|contains: abcdef
        l|windash|contains: '-abcdef'
        m|contains: '*'
        n|re|neq: abcdef
        o|fieldref|contains: p
        q: '*'
      kw:
        - evilstring
      kwre:
        '|re': 'evil.*string'
      condition: sel and kw and kwre`);
    assert.deepEqual(required(rule), {});
  });

  test('expand: every expanded pattern must give a literal', () => {
    const plain = compileRule(`
      sel:
        userAgent|expand|contains: '%agents%'
      condition: sel`, varsOf({ agents: ['Boto3', 'aws-cli'] }));
    assert.deepEqual(required(plain), { userAgent: ['ci:aws-cli', 'ci:boto3'] });
    const wild = compileRule(`
      sel:
        userAgent|expand: '%agents%'
      condition: sel`, varsOf({ agents: ['Boto3', '*'] }));
    assert.deepEqual(required(wild), {});
  });
});

describe('required substrings: combination', () => {
  test('AND keeps every conjunct; on a shared field the list whose shortest literal is longest', () => {
    const rule = compileRule(`
      a:
        userAgent|contains:
          - ab
          - abcdef
      b:
        userAgent|contains: abcd
        eventSource: s3.amazonaws.com
      condition: a and b`);
    assert.deepEqual(required(rule), { userAgent: ['ci:abcd'], eventSource: ['ci:s3.amazonaws.com'] });
    const lit = (text: string): RequiredLiteral => ({ text, caseSensitive: false });
    assert.deepEqual(substringsAll([new Map([['f', [lit('abc')]]]), new Map([['f', [lit('xyz'), lit('uvw')]]])]).get('f'), [lit('abc')]);
    assert.deepEqual(substringsAll([new Map([['f', [lit('abc'), lit('defg')]]]), new Map([['f', [lit('abcd')]]])]).get('f'), [lit('abcd')]);
  });

  test('OR keeps only fields constrained in every branch, with the lists concatenated (no duplicates)', () => {
    const rule = compileRule(`
      a:
        userAgent|contains: boto
        eventSource: s1
      b:
        userAgent|re: 'aws-cli/\\d'
      c:
        userAgent: Boto
      condition: a or b or c`);
    assert.deepEqual(required(rule), { userAgent: ['ci:boto', 'cs:aws-cli/'] });
    const lit = (text: string, caseSensitive = false): RequiredLiteral => ({ text, caseSensitive });
    const any = substringsAny([new Map([['f', [lit('abc')]], ['g', [lit('x')]]]), new Map([['f', [lit('abc'), lit('ABC', true)]]])]);
    assert.deepEqual([...any], [['f', [lit('abc'), lit('ABC', true)]]]);
    assert.deepEqual(substringsAny([]), new Map());
  });

  test('a list of maps and a value list are ORs; one unconstrained value drops the field', () => {
    const maps = compileRule(`
      sel:
        - userAgent|contains: boto
          x: 1
        - userAgent|startswith: aws-cli
      condition: sel`);
    assert.deepEqual(required(maps), { userAgent: ['ci:aws-cli', 'ci:boto'] });
    const values = compileRule(`
      sel:
        userAgent|contains:
          - boto
          - '*'
      condition: sel`);
    assert.deepEqual(required(values), {});
  });

  test('not constrains nothing; 1 of, all of, them, a list of conditions', () => {
    assert.deepEqual(required(compileRule(`
      a:
        userAgent|contains: boto
      condition: not a`)), {});
    assert.deepEqual(required(compileRule(`
      sel_a:
        userAgent|contains: boto
      sel_b:
        userAgent|contains: terraform
        eventName|contains: Put
      condition: 1 of sel_*`)), { userAgent: ['ci:boto', 'ci:terraform'] });
    assert.deepEqual(required(compileRule(`
      sel_a:
        userAgent|contains: boto
      sel_b:
        eventName|contains: Put
      condition: all of them`)), { userAgent: ['ci:boto'], eventName: ['ci:put'] });
    assert.deepEqual(required(compileRule(`
      a:
        userAgent|contains: boto
      b:
        userAgent|contains: terraform
        eventName: x
      condition:
        - a
        - b`)), { userAgent: ['ci:boto', 'ci:terraform'] });
  });

  test('|all over contains keeps one literal list (sound when the field is an array)', () => {
    const rule = compileRule(`
      sel:
        tags|contains|all:
          - alpha
          - beta
      condition: sel`);
    assert.equal(rule.match({ tags: ['alpha', 'beta'] }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { tags: ['alpha', 'beta'] }), true);
    assert.equal(rule.requiredSubstrings.get('tags')?.length, 1);
  });
});

describe('required substrings: the regular expression literal extractor', () => {
  test('plain runs, escapes and the longest run', () => {
    assert.equal(re('.+:assumed-role/aws:.+'), 'cs::assumed-role/aws:');
    assert.equal(re('abc'), 'cs:abc');
    assert.equal(re('ab'), undefined);
    assert.equal(re(String.raw`s3\.amazonaws\.com`), 'cs:s3.amazonaws.com');
    assert.equal(re(String.raw`arn\:aws\:iam\/x`), 'cs:arn:aws:iam/x');
    assert.equal(re(String.raw`a\-b\ c\_d`), 'cs:a-b c_d');
    assert.equal(re(String.raw`\|abc\|`), 'cs:|abc|');
    assert.equal(re('abc.defgh'), 'cs:defgh');
    assert.equal(re('^Create$'), 'cs:Create');
  });

  test('alternation at the top level gives nothing; inside a group it only ends the run', () => {
    assert.equal(re('abcdef|ghijkl'), undefined);
    assert.equal(re('abc(def|ghi)jklm'), 'cs:jklm');
    assert.equal(re('(?:a|b)xyz'), 'cs:xyz');
    assert.equal(re('[|]abcd'), 'cs:abcd');
    assert.equal(re(String.raw`abcd\|e`), 'cs:abcd|e');
  });

  test('optional characters are dropped, repeated ones kept once and end the run', () => {
    assert.equal(re('abcd?efg'), 'cs:abc');
    assert.equal(re('abcde*fg'), 'cs:abcd');
    assert.equal(re('ab?cdef'), 'cs:cdef');
    assert.equal(re('abc+def'), 'cs:abc');
    assert.equal(re('xyzab+c'), 'cs:xyzab');
    assert.equal(re('xab+cdefg'), 'cs:cdefg');
    assert.equal(re('wxyz+?abc'), 'cs:wxyz');
    assert.equal(re('abcd*?ef'), 'cs:abc');
    assert.equal(re('abc{0,3}defg'), 'cs:defg');
    assert.equal(re('abcd{0}xy'), 'cs:abc');
    assert.equal(re('abcd{2}xy'), 'cs:abcd');
    assert.equal(re('abcd{1,}xy'), 'cs:abcd');
    assert.equal(re('abc{2,5}?x'), 'cs:abc');
    // Braces that are not a quantifier are literal in JavaScript without the u flag: they end the run.
    assert.equal(re('abcd{x}efg'), 'cs:abcd');
    assert.equal(re('abcd{,3}efg'), 'cs:abcd');
    assert.equal(re('ab{'), undefined);
  });

  test('classes, class escapes, groups, anchors, lookarounds and back references end the run', () => {
    assert.equal(re('[abc]defg'), 'cs:defg');
    assert.equal(re('ab[c-e]fg'), undefined);
    assert.equal(re('[]]abcd'), 'cs:abcd');
    assert.equal(re(String.raw`[\]x]abcd`), 'cs:abcd');
    assert.equal(re(String.raw`abc\d+defg`), 'cs:defg');
    assert.equal(re(String.raw`\w+@example\.com`), 'cs:@example.com');
    assert.equal(re(String.raw`abc\sdefg\bxyz`), 'cs:defg');
    assert.equal(re('abcd(?=ef)ghi'), 'cs:abcd');
    assert.equal(re('(?<!x)abcd(?!e)'), 'cs:abcd');
    assert.equal(re('(a)bc\\1defg'), 'cs:defg');
    assert.equal(re('(?<n>a)bcd\\k<n>xy'), 'cs:bcd');
    assert.equal(re('^(abc)$'), undefined);
    assert.equal(re('abc(xyz)?defg'), 'cs:defg');
  });

  test('escapes that are not punctuation are never literal (their longest reading is skipped)', () => {
    assert.equal(re(String.raw`\x41BCD`), 'cs:BCD');
    assert.equal(re(String.raw`ab\x41cd`), undefined);
    assert.equal(re(String.raw`\x4zabc`), 'cs:4zabc'); // \x without two hex digits is the letter x
    assert.equal(re(String.raw`\u0041bcd`), 'cs:bcd');
    assert.equal(re(String.raw`\u004xyz`), 'cs:004xyz');
    assert.equal(re(String.raw`\cJabc`), 'cs:abc');
    assert.equal(re(String.raw`\101bcd`), 'cs:bcd');
    assert.equal(re(String.raw`\0abc`), 'cs:abc');
    assert.equal(re(String.raw`\nabc\tdef`), 'cs:abc');
    assert.equal(re(String.raw`\p{L}abc`), 'cs:abc');
    assert.equal(re('caf\u00e9xy'), 'cs:caf');
  });

  test('the i flag, from the modifier or a leading inline group, lowercases and makes it case-insensitive', () => {
    assert.equal(re('AssumeRole', 'i'), 'ci:assumerole');
    assert.equal(re('(?i)AssumeRole'), 'ci:assumerole');
    assert.equal(re('(?im)^AssumeRole'), 'ci:assumerole');
    assert.equal(re('(?s)Assume.Role'), 'cs:Assume');
    assert.equal(re('AssumeRole', 'ms'), 'cs:AssumeRole');
  });

  test('randomized: every string a generated regular expression matches contains its literal', () => {
    const next = random(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const CHARS = ['a', 'b', 'c', 'A', 'B', ':', '/', '-', '.'];
    type Node = { source: string; sample: () => string };
    const atom = (depth: number): Node => {
      const roll = next();
      if (roll < 0.6) {
        const c = pick(CHARS);
        const source = /[a-zA-Z:]/.test(c) ? c : `\\${c}`;
        return { source, sample: () => c };
      }
      if (roll < 0.65) return { source: '.', sample: () => pick(CHARS) };
      if (roll < 0.7) return { source: '[ab:]', sample: () => pick(['a', 'b', ':']) };
      if (roll < 0.73) return { source: '\\w', sample: () => pick(['a', 'B', '_']) };
      if (roll < 0.76) return { source: '\\x41', sample: () => 'A' };
      if (depth < 2 && roll < 0.9) {
        const branches = Array.from({ length: 1 + Math.floor(next() * 2) }, () => sequence(depth + 1));
        const prefix = pick(['', '?:', '?<g>'.replace('g', `g${Math.floor(next() * 1e9)}`)]);
        return { source: `(${prefix}${branches.map((b) => b.source).join('|')})`, sample: () => pick(branches).sample() };
      }
      return { source: '(?=a|b|:|\\/|A)', sample: () => '' };
    };
    const quantified = (depth: number): Node => {
      const base = atom(depth);
      if (base.source.startsWith('(?=')) return base;
      const roll = next();
      const repeat = (min: number, max: number, source: string): Node => ({
        source: base.source + source + (next() < 0.2 ? '?' : ''),
        sample: () => Array.from({ length: min + Math.floor(next() * (max - min + 1)) }, base.sample).join(''),
      });
      if (roll < 0.6) return base;
      if (roll < 0.68) return repeat(0, 1, '?');
      if (roll < 0.76) return repeat(0, 3, '*');
      if (roll < 0.84) return repeat(1, 3, '+');
      if (roll < 0.9) return repeat(2, 2, '{2}');
      if (roll < 0.95) return repeat(0, 2, '{0,2}');
      return repeat(1, 3, '{1,}');
    };
    const sequence = (depth: number): Node => {
      const parts = Array.from({ length: 1 + Math.floor(next() * (depth === 0 ? 10 : 3)) }, () => quantified(depth));
      return { source: parts.map((p) => p.source).join(''), sample: () => parts.map((p) => p.sample()).join('') };
    };
    let literals = 0;
    let matched = 0;
    for (let i = 0; i < 5000; i++) {
      const node = sequence(0);
      const anchored = next() < 0.2;
      const source = (anchored ? '^' : '') + node.source + (next() < 0.2 ? '$' : '');
      const flags = next() < 0.3 ? 'i' : '';
      let regexp: RegExp;
      try {
        regexp = new RegExp(source, flags);
      } catch {
        continue;
      }
      const literal = regexLiteral(source, flags);
      if (literal === undefined) continue;
      literals++;
      for (let j = 0; j < 30; j++) {
        let text = (next() < 0.5 ? pick(CHARS) : '') + node.sample() + (next() < 0.5 ? pick(CHARS) : '');
        if (flags === 'i') text = [...text].map((c) => (next() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
        if (!regexp.test(text)) continue;
        matched++;
        assert.ok(containsLiteral(text, literal), `/${source}/${flags} matches ${JSON.stringify(text)} but the literal is ${JSON.stringify(literal)}`);
      }
    }
    assert.ok(literals > 500, `${literals} regexps with a literal`);
    assert.ok(matched > 5000, `${matched} matches`);
  });
});

describe('required substrings: case folding', () => {
  test('foldForLiterals: ASCII lowercase and the three non-ASCII letters the matcher equates with ASCII', () => {
    assert.equal(foldForLiterals('AbC-\u0130\u017f\u212a-ÉÄ'), 'abc-isk-ÉÄ');
  });

  test('a wildcard pattern (a /iu RegExp) matches U+017F for s and U+212A for k: the literal still admits it', () => {
    const rule = compileRule(`
      sel:
        f: 'x*sts*kk'
        g|contains: 'kelvin'
        h|contains: 'xi'
      condition: sel`);
    const record = { f: 'xy\u017fts-\u212ak', g: '\u212aELVIN', h: 'x\u0130' };
    assert.equal(rule.match(record), true);
    assert.deepEqual(required(rule), { f: ['ci:sts'], g: ['ci:kelvin'], h: ['ci:xi'] });
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, record), true);
    assert.equal('xy\u017fts'.toLowerCase().includes('sts'), false, 'a plain toLowerCase would not do');
  });

  test('non-string values admit; null and missing do not', () => {
    const rule = compileRule(`
      sel:
        code|contains: '404'
      condition: sel`);
    assert.equal(rule.match({ code: 404 }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { code: 404 }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { code: true }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { code: { nested: ['x', 'e404'] } }), true);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { code: { nested: ['x', 'e40'] } }), false);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, { code: null }), false);
    assert.equal(admitsRecordSubstrings(rule.requiredSubstrings, {}), false);
  });
});

/** Variants of a record: case flips, tricky letters, removal, replacement, arrays. */
function mutations(record: LogRecord, next: () => number): LogRecord[] {
  const pool: unknown[] = ['x', 'X', '', 'createuser', 5, '5', true, null, ['x', 'y'], [], { z: 'evil' }];
  return recordMutations(record, next, pool, (value) => (next() < 0.5 ? value.toUpperCase() : value.replace(/s/g, '\u017f').replace(/k/gi, '\u212a')));
}

describe('required substrings: soundness', () => {
  test('over the conformance cases and their mutations, no record outside the required substrings matches', () => {
    const next = random(42);
    const promise = { constrains: (rule: CompiledDetectionRule) => rule.requiredSubstrings.size > 0, admits: (rule: CompiledDetectionRule, record: LogRecord) => admitsRecordSubstrings(rule.requiredSubstrings, record), describe: (rule: CompiledDetectionRule) => JSON.stringify(required(rule)) };
    const { checked, matched, constrained } = conformanceSoundness(promise, (record) => mutations(record, next));
    assert.ok(checked > 1000, `checked ${checked}`);
    assert.ok(matched > 200, `matched ${matched}`);
    assert.ok(constrained > 30, `constrained rules ${constrained}`);
  });

  test('over random rules and records, no record outside the required substrings matches', () => {
    const next = random(7);
    const pick = pickFrom(next);
    const FIELDS = ['eventName', 'userAgent', 'a.b', 'tags'];
    const FRAGMENTS = ['abc', 'ABC', 'Sts', 'kit', 'role/aws:', 'xi', '-', '5', 'true', 'é'];
    const word = (): string => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(FRAGMENTS)).join('');
    const sigmaValue = (): string | number | boolean => {
      const roll = next();
      if (roll < 0.08) return 5;
      if (roll < 0.12) return true;
      let text = word();
      if (next() < 0.4) {
        const at = Math.floor(next() * (text.length + 1));
        text = text.slice(0, at) + pick(['*', '?', '\\*']) + text.slice(at);
      }
      return text;
    };
    const REGEXES = ['abc', 'role/aws:', '.+:assumed-role/aws:.+', 'Sts|kit', 'ab?c', 'ab+c', '^abc', 'c5$', '[a-c]{2}Sts', '(?i)STS', 'x(i|y)kit', 'kit\\d', 'ab(?=c)c', 'é+abc'];
    const MODIFIERS = ['', '', '', '|contains', '|contains', '|startswith', '|endswith', '|cased', '|contains|cased', '|contains|all', '|all', '|neq', '|re', '|re', '|re|i', '|exists', '|windash|contains', '|base64offset|contains'];
    const yamlValue = (value: unknown): string => JSON.stringify(value);
    const entry = (indent: string): string => {
      const field = pick(FIELDS);
      const modifier = pick(MODIFIERS);
      if (modifier === '|exists') return `${indent}${yamlValue(field + modifier)}: ${next() < 0.5}`;
      const count = modifier.includes('|all') ? 2 + Math.floor(next() * 2) : 1 + Math.floor(next() * 3);
      const values = Array.from({ length: count }, () => (modifier.startsWith('|re') ? pick(REGEXES) : sigmaValue()));
      if (count === 1 && !modifier.includes('|all')) return `${indent}${yamlValue(field + modifier)}: ${yamlValue(values[0])}`;
      return `${indent}${yamlValue(field + modifier)}:\n${values.map((v) => `${indent}  - ${yamlValue(v)}`).join('\n')}`;
    };
    const recordString = (): string => {
      let text = Array.from({ length: Math.floor(next() * 4) }, () => pick([...FRAGMENTS, ':assumed-role/aws:', 'arn', '/', '\u2013', ' '])).join('');
      const roll = next();
      if (roll < 0.2) text = text.toUpperCase();
      else if (roll < 0.3) text = text.replace(/s/g, '\u017f');
      else if (roll < 0.4) text = text.replace(/k/gi, '\u212a').replace(/I/g, '\u0130');
      return text;
    };
    const scalar = (): unknown => {
      const roll = next();
      if (roll < 0.08) return null;
      if (roll < 0.14) return pick([5, 55, true, false]);
      return recordString();
    };
    const fieldValue = (): unknown => (next() < 0.25 ? Array.from({ length: Math.floor(next() * 3) }, scalar) : next() < 0.05 ? { n: scalar() } : scalar());
    const promise = { constrains: (rule: CompiledDetectionRule) => rule.requiredSubstrings.size > 0, admits: (rule: CompiledDetectionRule, record: LogRecord) => admitsRecordSubstrings(rule.requiredSubstrings, record), describe: (rule: CompiledDetectionRule) => JSON.stringify(required(rule)) };
    const { rules, constrained, matched, excluded } = randomRuleSoundness({ next, entry, keywords: ['abc', 'kit'], fields: FIELDS, fieldValue, missing: 0.2 }, promise, 500, 200);
    assert.ok(rules > 350, `compiled ${rules} random rules`);
    assert.ok(constrained > 100, `${constrained} rules had required substrings`);
    assert.ok(matched > 2000, `${matched} matches`);
    assert.ok(excluded > 5000, `${excluded} records excluded by required substrings`);
  });
});

describe('required substrings: SigmaHQ AWS rules', corpusSkip(), () => {
  test('the literals of the rules with |re or |contains', async () => {
    const result = await loadRulePaths([corpusPath('sigmahq-aws/rules')]);
    const byFile = new Map(result.rules.map((rule) => [rule.position.file.split('/').pop() as string, rule]));
    const imds = byFile.get('aws_cloudtrail_imds_malicious_usage.yml');
    assert.ok(imds);
    assert.deepEqual(required(imds), { 'userIdentity.arn': ['cs::assumed-role/aws:'] });
    const trufflehog = byFile.get('aws_sts_getcalleridentity_trufflehog.yml');
    assert.ok(trufflehog);
    assert.deepEqual(required(trufflehog).userAgent, ['ci:trufflehog']);
    // Every rule now pins a value or a substring.
    for (const rule of result.rules) assert.ok(rule.requiredValues.size > 0 || rule.requiredSubstrings.size > 0, rule.title);
  });

  test('over the corpus CloudTrail records and their mutations, every match is admitted by the required substrings', async () => {
    const result = await loadRulePaths([corpusPath('sigmahq-aws/rules')]);
    const records = corpusCloudTrailRecords();
    assert.ok(records.length > 300, `${records.length} records`);
    const next = random(3);
    let matches = 0;
    for (const record of records) {
      const variants = [record, ...mutations(record, next).slice(0, 6)];
      for (const variant of variants) {
        for (const rule of result.rules) {
          if (!rule.match(variant)) continue;
          matches++;
          assert.ok(admitsRecordSubstrings(rule.requiredSubstrings, variant), `${rule.title} matched a record its required substrings exclude`);
        }
      }
    }
    assert.ok(matches > 0, 'some corpus record should match some SigmaHQ rule');
  });
});
