/**
 * A compiled Sigma string pattern as a test on one event value. Plain values, prefixes, suffixes
 * and substrings take allocation-free fast paths (ASCII case folding by hand, full Unicode
 * lowercasing only when the event value has a non-ASCII character where it matters); only
 * general wildcard patterns become a RegExp.
 *
 * Event numbers and booleans are compared through their string form (`5` equals `'5'`, `false`
 * equals `'false'`).
 */
import { WINDASH_CHARACTERS } from './wildcard.ts';
import type { PatternToken } from './wildcard.ts';

/** A test on one scalar event value. */
export type ScalarTest = (value: string | number | boolean) => boolean;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

/*
 * The fold helpers below take a lowercased needle and whether it is pure ASCII (computed once at
 * compile time). With an ASCII needle they compare by hand, folding A-Z, and fall back to
 * `value.toLowerCase()` as soon as a non-ASCII character of the value is involved; this is
 * exact because toLowerCase maps every character to one character except U+0130, whose
 * lowercase form is not ASCII. A non-ASCII needle always takes the slow path.
 */

/** `value.toLowerCase() === lower`, without allocating on ASCII. */
export function equalsFold(value: string, lower: string, asciiLower = isAscii(lower)): boolean {
  if (!asciiLower) return value.toLowerCase() === lower;
  const n = lower.length;
  if (value.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const d = lower.charCodeAt(i);
    if (c === d) continue;
    if (c >= 65 && c <= 90 && c + 32 === d) continue;
    if (c < 128) return false;
    return value.toLowerCase() === lower;
  }
  return true;
}

/** `value.toLowerCase().startsWith(lower)`, allocation-free on ASCII. */
export function startsWithFold(value: string, lower: string, asciiLower = isAscii(lower)): boolean {
  if (!asciiLower) return value.toLowerCase().startsWith(lower);
  const n = lower.length;
  if (value.length < n) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const d = lower.charCodeAt(i);
    if (c === d) continue;
    if (c >= 65 && c <= 90 && c + 32 === d) continue;
    if (c < 128) return false;
    return value.toLowerCase().startsWith(lower);
  }
  return true;
}

/** `value.toLowerCase().endsWith(lower)`, allocation-free on ASCII. */
export function endsWithFold(value: string, lower: string, asciiLower = isAscii(lower)): boolean {
  if (!asciiLower) return value.toLowerCase().endsWith(lower);
  const n = lower.length;
  const offset = value.length - n;
  if (offset < 0) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(offset + i);
    const d = lower.charCodeAt(i);
    if (c === d) continue;
    if (c >= 65 && c <= 90 && c + 32 === d) continue;
    if (c < 128) return false;
    return value.toLowerCase().endsWith(lower);
  }
  return true;
}

/** `value.toLowerCase().includes(lower)`, allocation-free on ASCII. */
export function includesFold(value: string, lower: string, asciiLower = isAscii(lower)): boolean {
  if (!asciiLower) return value.toLowerCase().includes(lower);
  const n = lower.length;
  if (n === 0) return true;
  if (value.length < n) return false;
  const first = lower.charCodeAt(0);
  const last = value.length - n;
  outer: for (let i = 0; i <= last; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== first) {
      if (c >= 128) return value.toLowerCase().includes(lower);
      continue;
    }
    for (let j = 1; j < n; j++) {
      let e = value.charCodeAt(i + j);
      const d = lower.charCodeAt(j);
      if (e === d) continue;
      if (e >= 65 && e <= 90) e += 32;
      if (e === d) continue;
      if (e >= 128) return value.toLowerCase().includes(lower);
      continue outer;
    }
    return true;
  }
  return false;
}

/** The number whose string form is exactly `text`, or NaN (so that `v === n` is `String(v) === text`). */
function canonicalNumber(text: string): number {
  if (text.length === 0) return Number.NaN;
  const n = Number(text);
  return String(n) === text ? n : Number.NaN;
}

function booleanForm(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** The RegExp source of a pattern, anchored at both ends. */
export function patternRegExpSource(tokens: readonly PatternToken[]): string {
  let source = '^';
  for (const token of tokens) {
    if (token.kind === 'literal') source += escapeRegExp(token.text);
    else if (token.kind === 'any') source += '.*';
    else if (token.kind === 'one') source += '.';
    else if (token.kind === 'dash') source += `[${WINDASH_CHARACTERS.map(escapeRegExp).join('')}]`;
    else source += escapeRegExp(`%${token.name}%`);
  }
  return `${source}$`;
}

/** A test for plain equality with one of several literal values (lowercased unless `cased`). */
export function compileEqualityTest(literals: readonly string[], cased: boolean): ScalarTest {
  if (literals.length === 1) {
    const literal = literals[0] as string;
    if (cased) {
      const number = canonicalNumber(literal);
      const bool = booleanForm(literal);
      return (value) => (typeof value === 'string' ? value === literal : typeof value === 'number' ? value === number : value === bool);
    }
    const lower = literal.toLowerCase();
    const ascii = isAscii(lower);
    const number = canonicalNumber(lower);
    const bool = booleanForm(lower);
    return (value) => (typeof value === 'string' ? equalsFold(value, lower, ascii) : typeof value === 'number' ? value === number : value === bool);
  }
  const forms = cased ? literals.slice() : literals.map((literal) => literal.toLowerCase());
  const exact = new Set(literals);
  const numbers = new Set<number>();
  let matchTrue = false;
  let matchFalse = false;
  for (const form of forms) {
    const number = canonicalNumber(form);
    if (!Number.isNaN(number)) numbers.add(number);
    if (form === 'true') matchTrue = true;
    if (form === 'false') matchFalse = true;
  }
  if (cased) {
    return (value) => (typeof value === 'string' ? exact.has(value) : typeof value === 'number' ? numbers.has(value) : value ? matchTrue : matchFalse);
  }
  const allAscii = forms.every(isAscii);
  if (allAscii) {
    // Bucket by length: an ASCII rule value can only equal an event value of the same length.
    const byLength = new Map<number, string[]>();
    for (const form of forms) {
      const bucket = byLength.get(form.length);
      if (bucket) bucket.push(form);
      else byLength.set(form.length, [form]);
    }
    return (value) => {
      if (typeof value === 'string') {
        if (exact.has(value)) return true;
        const bucket = byLength.get(value.length);
        if (bucket === undefined) return false;
        for (let i = 0; i < bucket.length; i++) if (equalsFold(value, bucket[i] as string, true)) return true;
        return false;
      }
      return typeof value === 'number' ? numbers.has(value) : value ? matchTrue : matchFalse;
    };
  }
  const asciiForms = forms.map(isAscii);
  return (value) => {
    if (typeof value === 'string') {
      if (exact.has(value)) return true;
      for (let i = 0; i < forms.length; i++) if (equalsFold(value, forms[i] as string, asciiForms[i] as boolean)) return true;
      return false;
    }
    return typeof value === 'number' ? numbers.has(value) : value ? matchTrue : matchFalse;
  };
}

function onString(test: (text: string) => boolean): ScalarTest {
  return (value) => test(typeof value === 'string' ? value : String(value));
}

/** Compile pattern tokens (normalized, without placeholders) into a test. */
export function compilePatternTest(tokens: readonly PatternToken[], cased: boolean): ScalarTest {
  const n = tokens.length;
  const first = tokens[0];
  const second = tokens[1];
  const third = tokens[2];
  if (n === 0) return compileEqualityTest([''], cased);
  if (n === 1 && first?.kind === 'literal') return compileEqualityTest([first.text], cased);
  if (n === 1 && first?.kind === 'any') return () => true;
  if (n === 2 && first?.kind === 'literal' && second?.kind === 'any') {
    const prefix = cased ? first.text : first.text.toLowerCase();
    const ascii = isAscii(prefix);
    return onString(cased ? (text) => text.startsWith(prefix) : (text) => startsWithFold(text, prefix, ascii));
  }
  if (n === 2 && first?.kind === 'any' && second?.kind === 'literal') {
    const suffix = cased ? second.text : second.text.toLowerCase();
    const ascii = isAscii(suffix);
    return onString(cased ? (text) => text.endsWith(suffix) : (text) => endsWithFold(text, suffix, ascii));
  }
  if (n === 3 && first?.kind === 'any' && second?.kind === 'literal' && third?.kind === 'any') {
    const needle = cased ? second.text : second.text.toLowerCase();
    const ascii = isAscii(needle);
    return onString(cased ? (text) => text.includes(needle) : (text) => includesFold(text, needle, ascii));
  }
  const regexp = new RegExp(patternRegExpSource(tokens), cased ? 'su' : 'isu');
  return onString((text) => regexp.test(text));
}

/** OR of several tests. */
export function anyOfTests(tests: readonly ScalarTest[]): ScalarTest {
  if (tests.length === 1) return tests[0] as ScalarTest;
  if (tests.length === 2) {
    const a = tests[0] as ScalarTest;
    const b = tests[1] as ScalarTest;
    return (value) => a(value) || b(value);
  }
  const list = tests.slice();
  return (value) => {
    for (let i = 0; i < list.length; i++) if ((list[i] as ScalarTest)(value)) return true;
    return false;
  };
}
