/**
 * Required substrings: a second promise a detection makes about every record it matches, for
 * the engine's raw pre-filter, beside required values (src/sigma/required-values.ts). A
 * constraint maps a field path to a non-empty list of literals; it promises that a record can
 * only match when, for every constrained field, the values the path reaches (through arrays and
 * objects, exactly as the matcher reads fields: `someTerminal`, then every scalar inside the
 * terminal value, `someScalar`) include
 *
 * - a string that contains at least one of the listed literals, or
 * - a number or a boolean (the matcher compares those through their string form; this promise
 *   says nothing about them, so a reader must treat such a value as "maybe": the raw pre-filter
 *   parses any record whose field holds a value that is not a string).
 *
 * Null and missing values never satisfy a constraint (no item that produces one matches them).
 * An empty map promises nothing.
 *
 * Containment (`containsLiteral`): a case-sensitive literal is a plain `String#includes` (UTF-16
 * code units). A case-insensitive literal is always lowercase ASCII; the value is folded first
 * by `foldForLiterals` (ASCII A-Z to a-z, and the three non-ASCII characters that the matcher
 * can equate with an ASCII letter: U+0130 `İ` to `i` (its toLowerCase is `i` + U+0307), U+017F
 * `ſ` to `s` and U+212A (Kelvin sign) to `k` (Unicode case folding in `/iu` wildcard regexps);
 * every other character is kept as is). Keeping case-insensitive literals ASCII is what makes
 * this simple fold sound against both the toLowerCase-based fast paths and the case-folding
 * RegExps of src/sigma/string-match.ts and `|re|i` (which, without the `u` flag, folds ASCII
 * only). On raw JSON text this is an ASCII case-insensitive byte search, provided the string
 * has no escape (`\`) and, for case-insensitive literals, none of the UTF-8 sequences of those
 * three characters (C4 B0, C5 BF, E2 84 AA).
 *
 * Derivation (sound by construction; test/sigma/required-substrings.test.ts checks it):
 * - Sigma string values (`field: value`, `contains`, `startswith`, `endswith`, `cased`,
 *   `expand`), once the value is a pattern of literal text and wildcards: a pattern that is one
 *   literal, possibly with a leading and/or trailing `*` (plain equality, contains, startswith,
 *   endswith, or the same written with `*`), gives that literal; any other pattern gives its
 *   longest literal run between wildcards when it has at least 3 characters. Case-insensitive
 *   unless `cased` (lowercased); a case-insensitive literal with non-ASCII characters is cut to
 *   its longest ASCII run (then at least 3 characters). Empty literals give nothing.
 * - `re` (with `i`, `m`, `s` and a leading inline flag group, as src/sigma/regex.ts reads
 *   them): the literal of `regexLiteral` below, case-insensitive under `i`.
 * - A list of values (OR): every value must give literals, and the lists are concatenated.
 *   With `|all` (AND) each value constrains the field on its own: see below.
 * - `neq`, keywords, `null`, `exists`, `fieldref`, `cidr`, numeric and time comparisons and the
 *   encodings (`windash`, `base64`, `base64offset`, `utf16*`, `wide`) give nothing.
 * - AND (a map, `|all`, `all of`, `and`): every conjunct's constraints hold; when several
 *   constrain the same field, the list whose shortest literal is longest is kept (not an
 *   intersection: the field may hold an array whose elements satisfy different conjuncts).
 * - OR (a list of maps, `1 of` and `N of`, `or`, a list of conditions): only fields constrained in every
 *   branch, with the literal lists concatenated.
 * - `not` constrains nothing.
 * (AND and OR are the shared combinations of src/sigma/field-constraints.ts.)
 */
import { allFields, anyFields, unionBy } from './field-constraints.ts';
import type { FieldConstraints } from './field-constraints.ts';
import { compileFieldPath, someScalar, someTerminal } from './field-path.ts';
import type { RequiredLiteral } from './types.ts';
import type { PatternToken } from './wildcard.ts';

export type { RequiredLiteral } from './types.ts';

export type SubstringConstraint = FieldConstraints<readonly RequiredLiteral[]>;

export const NO_SUBSTRINGS: SubstringConstraint = new Map();

/** Literals from a wildcard pattern or a regular expression shorter than this are not kept. */
export const MIN_LITERAL_LENGTH = 3;

function shortest(literals: readonly RequiredLiteral[]): number {
  let min = Infinity;
  for (const literal of literals) if (literal.text.length < min) min = literal.text.length;
  return min;
}

/** Constraints of a conjunction: per field, the list whose shortest literal is longest (then the shorter list). */
export function substringsAll(constraints: readonly SubstringConstraint[]): SubstringConstraint {
  return allFields(constraints, (candidate, kept) => {
    const a = shortest(candidate);
    const b = shortest(kept);
    return a > b || (a === b && candidate.length < kept.length);
  });
}

function literalKey(literal: RequiredLiteral): string {
  return `${literal.caseSensitive ? 'c' : 'i'}${literal.text}`;
}

/** The concatenation of literal lists, without duplicates. */
export function concatLiterals(lists: readonly (readonly RequiredLiteral[])[]): RequiredLiteral[] {
  return unionBy(lists, literalKey);
}

/** Constraints of a disjunction: fields constrained in every branch, lists concatenated. */
export function substringsAny(constraints: readonly SubstringConstraint[]): SubstringConstraint {
  return anyFields(constraints, concatLiterals);
}

/**
 * The constraint of one detection item on `field`: `perValue` holds, for each listed value, the
 * literals one of which the value promises (undefined when it promises nothing). The values
 * are ORed, or ANDed with `all`.
 */
export function itemSubstrings(field: string, perValue: readonly (readonly RequiredLiteral[] | undefined)[], all: boolean): SubstringConstraint {
  if (perValue.length === 0) return NO_SUBSTRINGS;
  if (all) {
    return substringsAll(perValue.filter((list) => list !== undefined && list.length > 0).map((list) => new Map([[field, list as readonly RequiredLiteral[]]])));
  }
  if (perValue.some((list) => list === undefined || list.length === 0)) return NO_SUBSTRINGS;
  return new Map([[field, concatLiterals(perValue as (readonly RequiredLiteral[])[])]]);
}

function isAscii(code: number): boolean {
  return code < 0x80;
}

/** Maximal runs of ASCII characters of a text. */
function asciiRuns(text: string): string[] {
  const runs: string[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    if (isAscii(text.charCodeAt(i))) run += text[i];
    else {
      if (run.length > 0) runs.push(run);
      run = '';
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * The literal every value matching a Sigma string pattern (src/sigma/wildcard.ts tokens, after
 * `contains`/`startswith`/`endswith` and `expand`, without encodings) contains, or undefined.
 */
export function patternLiteral(tokens: readonly PatternToken[], cased: boolean): RequiredLiteral | undefined {
  let start = 0;
  let end = tokens.length;
  while (start < end && tokens[start]?.kind === 'any') start++;
  while (end > start && tokens[end - 1]?.kind === 'any') end--;
  const core = tokens.slice(start, end);
  const only = core.length === 1 && core[0]?.kind === 'literal' ? core[0].text : undefined;
  let best = '';
  for (const token of core) {
    if (token.kind !== 'literal') continue;
    for (const run of cased ? [token.text] : asciiRuns(token.text)) if (run.length > best.length) best = run;
  }
  if (best.length === 0) return undefined;
  if (best !== only && best.length < MIN_LITERAL_LENGTH) return undefined;
  return { text: cased ? best : best.toLowerCase(), caseSensitive: cased };
}

/** One element of a regular expression's top-level sequence: a literal character or anything else, with its quantifier's minimum. */
interface RegexAtom {
  /** The character it matches exactly (ASCII), or undefined for anything else (class, group, assertion, escape...). */
  readonly char: string | undefined;
  /** Minimum repetitions (1 without a quantifier). */
  readonly min: number;
  /** True when a quantifier applies. */
  readonly quantified: boolean;
}

/** Index after the class that starts at `start` (`[`), or -1. In JavaScript without `u`/`v`, `[` inside a class is literal and `]` right after `[` closes it. */
function skipClass(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === ']') return i + 1;
  }
  return -1;
}

/** Index after the group that starts at `start` (`(`), or -1. */
function skipGroup(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const after = skipClass(source, i);
      if (after < 0) return -1;
      i = after - 1;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const HEX = /^[0-9a-fA-F]$/;

function hexCount(source: string, from: number, max: number): number {
  let n = 0;
  while (n < max && HEX.test(source[from + n] ?? '')) n++;
  return n;
}

/**
 * Index after the escape that starts at `start` (`\`), taking the longest reading JavaScript
 * (without the `u` flag, with Annex B) could give it, and the character it stands for when it
 * is a printable ASCII punctuation or space (an identity escape such as `\.` `\/` `\-` `\:`).
 * Anything else (`\d`, `\b`, `\x41`, `\u0041`, back references, octal escapes...) is not a
 * literal; over-reading only drops characters from literals, which stays sound.
 */
function readEscape(source: string, start: number): { end: number; char: string | undefined } | undefined {
  const next = source[start + 1];
  if (next === undefined) return undefined;
  const code = next.charCodeAt(0);
  if (code >= 0x20 && code < 0x7f && !/[0-9A-Za-z]/.test(next)) return { end: start + 2, char: next };
  let end = start + 2;
  if (next === 'x') end += hexCount(source, end, 2) === 2 ? 2 : 0;
  else if (next === 'u') {
    if (source[end] === '{') {
      const close = source.indexOf('}', end);
      end = close < 0 ? end : close + 1;
    } else if (hexCount(source, end, 4) === 4) end += 4;
  } else if (next === 'c') end += /[A-Za-z]/.test(source[end] ?? '') ? 1 : 0;
  else if (/[0-9]/.test(next)) while (/[0-9]/.test(source[end] ?? '')) end++;
  else if ((next === 'k' && source[end] === '<') || ((next === 'p' || next === 'P') && source[end] === '{')) {
    const close = source.indexOf(next === 'k' ? '>' : '}', end);
    end = close < 0 ? end : close + 1;
  }
  return { end, char: undefined };
}

const QUANTIFIER_BRACES = /^\{(\d+)(?:,(\d*))?\}/;

/** The top-level sequence of a regular expression, or undefined (give up: top-level alternation, or anything unexpected). */
function topLevelAtoms(source: string): RegexAtom[] | undefined {
  const atoms: RegexAtom[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    let end: number;
    let char: string | undefined;
    if (c === '|') return undefined;
    if (c === '(') {
      end = skipGroup(source, i);
      if (end < 0) return undefined;
    } else if (c === '[') {
      end = skipClass(source, i);
      if (end < 0) return undefined;
    } else if (c === '\\') {
      const escape = readEscape(source, i);
      if (escape === undefined) return undefined;
      end = escape.end;
      char = escape.char;
    } else if (c === '*' || c === '+' || c === '?' || c === ')') {
      return undefined; // a quantifier with nothing to repeat, or an unbalanced group: not expected after a successful compile
    } else {
      end = i + 1;
      const code = c.charCodeAt(0);
      // `.`, anchors and the braces/brackets JavaScript may read as literals are not kept; nor is anything outside printable ASCII.
      if (code >= 0x20 && code < 0x7f && !'.^${}]'.includes(c)) char = c;
    }
    // A quantifier applying to this atom.
    let min = 1;
    let quantified = false;
    const q = source[end];
    if (q === '*' || q === '?') {
      min = 0;
      quantified = true;
      end++;
    } else if (q === '+') {
      quantified = true;
      end++;
    } else if (q === '{') {
      const braces = QUANTIFIER_BRACES.exec(source.slice(end));
      if (braces !== null) {
        min = Number(braces[1]);
        quantified = true;
        end += braces[0].length;
      }
    }
    if (quantified && source[end] === '?') end++; // lazy
    atoms.push({ char, min, quantified });
    i = end;
  }
  return atoms;
}

/**
 * A literal every match of a `|re` regular expression contains, or undefined. Conservative: no
 * literal when the top level has an alternation; groups (of any kind, lookarounds included),
 * classes, `.`, anchors, back references and escapes other than ASCII punctuation end a run; a
 * character under `?`, `*` or `{0,...}` ends it too, and under `+` or `{n,...}` (n >= 1) is kept
 * once and then ends it. The longest run of printable ASCII characters wins, when at least 3
 * characters long. Case-insensitive (lowercased) under the `i` flag, from `flags` or from a
 * leading inline group such as `(?i)` (as compileSigmaRegExp reads it).
 */
export function regexLiteral(source: string, flags: string): RequiredLiteral | undefined {
  let body = source;
  let all = flags;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (inline) {
    all += inline[1] as string;
    body = body.slice(inline[0].length);
  }
  const atoms = topLevelAtoms(body);
  if (atoms === undefined) return undefined;
  let best = '';
  let run = '';
  const flush = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (const atom of atoms) {
    if (atom.char === undefined || atom.min === 0) {
      flush();
      continue;
    }
    run += atom.char;
    if (atom.quantified) flush();
  }
  flush();
  if (best.length < MIN_LITERAL_LENGTH) return undefined;
  const caseInsensitive = all.includes('i');
  return { text: caseInsensitive ? best.toLowerCase() : best, caseSensitive: !caseInsensitive };
}

const FOLD: Readonly<Record<string, string>> = { '\u0130': 'i', '\u017f': 's', '\u212a': 'k' };

/** The fold a case-insensitive literal is searched in: ASCII lowercase, and U+0130, U+017F, U+212A to i, s, k. */
export function foldForLiterals(text: string): string {
  return text.replace(/[A-Z\u0130\u017f\u212a]/g, (c) => FOLD[c] ?? c.toLowerCase());
}

/** True when the string value contains the literal, as the promise reads it. */
export function containsLiteral(value: string, literal: RequiredLiteral): boolean {
  return literal.caseSensitive ? value.includes(literal.text) : foldForLiterals(value).includes(literal.text);
}

/**
 * True when the record satisfies the constraint, read exactly as the matcher reads fields; a
 * number or boolean reached by a constrained field admits the record (see the module comment).
 * A record for which this is false never matches the rule.
 */
export function admitsRecordSubstrings(required: SubstringConstraint, record: unknown): boolean {
  for (const [field, literals] of required) {
    const path = compileFieldPath(field);
    const ok = someTerminal(record, path, (value) => someScalar(value, (scalar) => typeof scalar !== 'string' || literals.some((literal) => containsLiteral(scalar, literal))));
    if (!ok) return false;
  }
  return true;
}
