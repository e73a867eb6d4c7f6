/**
 * The syntax of a `|re` pattern as JavaScript reads it (no `u` flag, with the web-compatibility
 * grammar of Annex B), as a tree: what src/sigma/regex-safety.ts analyses, and what
 * `toLinearSource` writes back in the syntax of the linear-time engine (RE2, src/sigma/regex-linear.ts).
 *
 * The parser is only ever given a pattern that `new RegExp(body, flags)` accepted, so it does not
 * report syntax errors: anything it does not expect makes it give up (undefined), and the
 * caller then treats the pattern as one it cannot prove anything about.
 *
 * Characters are UTF-16 code units, as in JavaScript without `u`. A character set is a sorted
 * list of disjoint ranges `[lo, hi]`.
 */

export type CharRanges = readonly (readonly [number, number])[];

export type RegexNode =
  | { readonly kind: 'empty' }
  | { readonly kind: 'char'; readonly set: CharRanges }
  | { readonly kind: 'assert'; readonly what: 'start' | 'end' | 'word' | 'nonword' }
  | { readonly kind: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alt'; readonly branches: readonly RegexNode[] }
  | { readonly kind: 'group'; readonly body: RegexNode }
  | { readonly kind: 'look'; readonly body: RegexNode; readonly behind: boolean; readonly negate: boolean }
  | { readonly kind: 'repeat'; readonly body: RegexNode; readonly min: number; readonly max: number }
  | { readonly kind: 'backref' };

const MAX_UNIT = 0xffff;

function normalize(ranges: [number, number][]): CharRanges {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(set: CharRanges): CharRanges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_UNIT) out.push([next, MAX_UNIT]);
  return out;
}

export function unionSets(...sets: CharRanges[]): CharRanges {
  return normalize(sets.flatMap((set) => set.map(([lo, hi]) => [lo, hi] as [number, number])));
}

/** True when the two sets share a character. */
export function overlaps(a: CharRanges, b: CharRanges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as readonly [number, number];
    const y = b[j] as readonly [number, number];
    if (x[1] < y[0]) i++;
    else if (y[1] < x[0]) j++;
    else return true;
  }
  return false;
}

const DIGIT: CharRanges = [[0x30, 0x39]];
const WORD: CharRanges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
/** JavaScript's \s: WhiteSpace and LineTerminator. */
const SPACE: CharRanges = normalize([[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]]);
const LINE_TERMINATORS: CharRanges = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
/** `.` without the s flag. */
export const DOT: CharRanges = complement(LINE_TERMINATORS);
export const ANY: CharRanges = [[0, MAX_UNIT]];

function classEscape(letter: string): CharRanges | undefined {
  switch (letter) {
    case 'd': return DIGIT;
    case 'D': return complement(DIGIT);
    case 'w': return WORD;
    case 'W': return complement(WORD);
    case 's': return SPACE;
    case 'S': return complement(SPACE);
    default: return undefined;
  }
}

const CONTROL: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z]$/.test(c);
}

/**
 * Case-insensitive matching as JavaScript does it without `u`: two characters are equal when
 * their Canonicalize values are (toUpperCase, when that is one character and does not map a
 * non-ASCII character to ASCII). The classes of characters with equal values, for those with
 * more than one member (some 1,400 characters; computed once, on first use).
 */
let caseClasses: number[][] | undefined;

function canonicalize(code: number): number {
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const result = upper.charCodeAt(0);
  return code >= 128 && result < 128 ? code : result;
}

function nonTrivialCaseClasses(): number[][] {
  if (caseClasses !== undefined) return caseClasses;
  const byValue = new Map<number, number[]>();
  for (let code = 0; code <= MAX_UNIT; code++) {
    const value = canonicalize(code);
    const members = byValue.get(value);
    if (members === undefined) byValue.set(value, [code]);
    else members.push(code);
  }
  caseClasses = [...byValue.values()].filter((members) => members.length > 1);
  return caseClasses;
}

function contains(set: CharRanges, code: number): boolean {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = set[mid] as readonly [number, number];
    if (code < a) hi = mid - 1;
    else if (code > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The characters JavaScript's `i` (without `u`) equates with some member of the set. */
export function foldSet(set: CharRanges): CharRanges {
  const extra: [number, number][] = [];
  for (const members of nonTrivialCaseClasses()) {
    if (members.some((code) => contains(set, code))) for (const code of members) extra.push([code, code]);
  }
  return extra.length === 0 ? set : unionSets(set, extra);
}

class Parser {
  private i = 0;
  private readonly groups: number;
  private readonly named: boolean;

  private readonly dotAll: boolean;
  private readonly ignoreCase: boolean;

  constructor(private readonly source: string, flags: string) {
    this.dotAll = flags.includes('s');
    this.ignoreCase = flags.includes('i');
    const counted = countGroups(source);
    this.groups = counted.groups;
    this.named = counted.named;
  }

  /** The set a character, escape or class matches: folded under `i`, then complemented for `[^...]` (ES CharacterSetMatcher). */
  private finish(set: CharRanges, negate = false): CharRanges {
    const folded = this.ignoreCase ? foldSet(set) : set;
    return negate ? complement(folded) : folded;
  }

  parse(): RegexNode | undefined {
    const node = this.disjunction();
    return this.i === this.source.length ? node : undefined;
  }

  private peek(offset = 0): string | undefined {
    return this.source[this.i + offset];
  }

  private disjunction(): RegexNode {
    const branches: RegexNode[] = [this.alternative()];
    while (this.peek() === '|') {
      this.i++;
      branches.push(this.alternative());
    }
    return branches.length === 1 ? (branches[0] as RegexNode) : { kind: 'alt', branches };
  }

  private alternative(): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const term = this.term();
      if (term === undefined) throw new GiveUp();
      items.push(term);
    }
    return items.length === 1 ? (items[0] as RegexNode) : items.length === 0 ? { kind: 'empty' } : { kind: 'seq', items };
  }

  private term(): RegexNode | undefined {
    const c = this.peek() as string;
    let atom: RegexNode;
    let quantifiable = true;
    if (c === '^' || c === '$') {
      this.i++;
      return { kind: 'assert', what: c === '^' ? 'start' : 'end' };
    }
    if (c === '\\' && (this.peek(1) === 'b' || this.peek(1) === 'B')) {
      this.i += 2;
      return { kind: 'assert', what: this.source[this.i - 1] === 'b' ? 'word' : 'nonword' };
    }
    if (c === '(') {
      const rest = this.source.slice(this.i, this.i + 4);
      let look: { behind: boolean; negate: boolean } | undefined;
      if (rest.startsWith('(?=')) look = { behind: false, negate: false };
      else if (rest.startsWith('(?!')) look = { behind: false, negate: true };
      else if (rest.startsWith('(?<=')) look = { behind: true, negate: false };
      else if (rest.startsWith('(?<!')) look = { behind: true, negate: true };
      if (look !== undefined) {
        this.i += look.behind ? 4 : 3;
        const body = this.disjunction();
        if (this.peek() !== ')') return undefined;
        this.i++;
        atom = { kind: 'look', body, ...look };
        // Annex B: a lookahead may take a quantifier; a lookbehind may not.
        quantifiable = !look.behind;
      } else {
        if (rest.startsWith('(?:')) this.i += 3;
        else if (rest.startsWith('(?<')) {
          const close = this.source.indexOf('>', this.i);
          if (close < 0) return undefined;
          this.i = close + 1;
        } else if (rest.startsWith('(?')) return undefined; // a group syntax this parser does not know
        else this.i++;
        const body = this.disjunction();
        if (this.peek() !== ')') return undefined;
        this.i++;
        atom = { kind: 'group', body };
      }
    } else if (c === '.') {
      this.i++;
      atom = { kind: 'char', set: this.dotAll ? ANY : DOT };
    } else if (c === '[') {
      const set = this.characterClass();
      if (set === undefined) return undefined;
      atom = { kind: 'char', set };
    } else if (c === '\\') {
      const escaped = this.atomEscape();
      if (escaped === undefined) return undefined;
      atom = escaped;
    } else if (c === '*' || c === '+' || c === '?') {
      return undefined; // nothing to repeat: RegExp would have refused it
    } else if (c === '{' && this.braces() !== undefined) {
      return undefined;
    } else {
      this.i++;
      atom = { kind: 'char', set: this.finish([[c.charCodeAt(0), c.charCodeAt(0)]]) };
    }
    const quantifier = this.quantifier();
    if (quantifier === undefined) return atom;
    if (!quantifiable) return undefined;
    if (atom.kind === 'look') return atom; // a quantified lookahead still only looks
    return { kind: 'repeat', body: atom, min: quantifier.min, max: quantifier.max };
  }

  /** `{n}`, `{n,}`, `{n,m}` at the current index, without consuming it. */
  private braces(): { min: number; max: number; length: number } | undefined {
    const match = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.source.slice(this.i, this.i + 40));
    if (match === null) return undefined;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' || match[3] === undefined ? Infinity : Number(match[3]);
    return { min, max, length: match[0].length };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    let result: { min: number; max: number } | undefined;
    if (c === '*') result = { min: 0, max: Infinity };
    else if (c === '+') result = { min: 1, max: Infinity };
    else if (c === '?') result = { min: 0, max: 1 };
    if (result !== undefined) this.i++;
    else if (c === '{') {
      const braces = this.braces();
      if (braces === undefined) return undefined;
      this.i += braces.length;
      result = { min: braces.min, max: braces.max };
    } else return undefined;
    if (this.peek() === '?') this.i++; // lazy: the same paths, in another order
    return result;
  }

  /** After `\` outside a class. */
  private atomEscape(): RegexNode | undefined {
    const next = this.peek(1);
    if (next === undefined) return undefined;
    if (/[1-9]/.test(next)) {
      const digits = /^\d+/.exec(this.source.slice(this.i + 1))?.[0] ?? next;
      if (Number(digits) <= this.groups) {
        this.i += 1 + digits.length;
        return { kind: 'backref' };
      }
    }
    if (next === 'k' && this.named) {
      const close = this.source.indexOf('>', this.i);
      if (this.peek(2) !== '<' || close < 0) return undefined;
      this.i = close + 1;
      return { kind: 'backref' };
    }
    const escape = this.characterEscape(false);
    return escape === undefined ? undefined : { kind: 'char', set: this.finish(escape.set) };
  }

  /**
   * A character escape (or class escape) after `\`, inside a class or not: consumes it and
   * returns its set. Backreferences and assertions are handled by the callers.
   */
  private characterEscape(inClass: boolean): { set: CharRanges; code: number | undefined } | undefined {
    const next = this.peek(1);
    if (next === undefined) return undefined;
    const single = (code: number, length: number): { set: CharRanges; code: number } => {
      this.i += length;
      return { set: [[code, code]], code };
    };
    const klass = classEscape(next);
    if (klass !== undefined) {
      this.i += 2;
      return { set: klass, code: undefined };
    }
    if (CONTROL[next] !== undefined) return single(CONTROL[next] as number, 2);
    if (next === 'c') {
      const letter = this.peek(2);
      if (isAsciiLetter(letter)) return single((letter as string).charCodeAt(0) % 32, 3);
      if (inClass && letter !== undefined && /[0-9_]/.test(letter)) return single(letter.charCodeAt(0) % 32, 3);
      return single(0x5c, 1); // the backslash stands for itself; `c` is read next
    }
    if (next === 'x') {
      if (isHex(this.peek(2)) && isHex(this.peek(3))) return single(parseInt(this.source.slice(this.i + 2, this.i + 4), 16), 4);
      return single(0x78, 2);
    }
    if (next === 'u') {
      const hex = this.source.slice(this.i + 2, this.i + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) return single(parseInt(hex, 16), 6);
      return single(0x75, 2);
    }
    if (next === 'b' && inClass) return single(0x08, 2);
    if (/[0-7]/.test(next)) {
      // Legacy octal: up to three digits, at most \377.
      let digits = /^[0-7]{1,3}/.exec(this.source.slice(this.i + 1))?.[0] ?? next;
      if (parseInt(digits, 8) > 0o377) digits = digits.slice(0, 2);
      return single(parseInt(digits, 8), 1 + digits.length);
    }
    // Identity escape (`\8`, `\9`, punctuation, any other letter).
    return single(next.charCodeAt(0), 2);
  }

  private characterClass(): CharRanges | undefined {
    this.i++; // [
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.i++;
    }
    const parts: CharRanges[] = [];
    const atom = (): { set: CharRanges; single: number | undefined } | undefined => {
      const c = this.peek();
      if (c === undefined) return undefined;
      if (c === '\\') {
        // A class escape (\d...) is never a range end.
        const escape = this.characterEscape(true);
        return escape === undefined ? undefined : { set: escape.set, single: escape.code };
      }
      this.i++;
      const code = c.charCodeAt(0);
      return { set: [[code, code]], single: code };
    };
    while (this.peek() !== ']') {
      if (this.peek() === undefined) return undefined;
      const first = atom();
      if (first === undefined) return undefined;
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++;
        const second = atom();
        if (second === undefined) return undefined;
        if (first.single !== undefined && second.single !== undefined) {
          if (first.single > second.single) return undefined;
          parts.push([[first.single, second.single]]);
        } else {
          // Annex B: a class escape next to '-' makes no range; all three are members.
          parts.push(first.set, [[0x2d, 0x2d]], second.set);
        }
      } else {
        parts.push(first.set);
      }
    }
    this.i++; // ]
    return this.finish(unionSets(...parts), negate);
  }
}

class GiveUp extends Error {}

/** The number of capturing groups, and whether one is named (which makes `\k` a backreference). */
function countGroups(source: string): { groups: number; named: boolean } {
  let groups = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') groups++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        groups++;
        named = true;
      }
    }
  }
  return { groups, named };
}

/**
 * The tree of a pattern JavaScript accepted with these flags (i, m, s; never u), or undefined
 * when this parser cannot read it. Character sets are exact: `.` as `s` makes it, and under `i`
 * every character JavaScript equates with a member.
 */
export function parseRegex(source: string, flags: string): RegexNode | undefined {
  try {
    return new Parser(source, flags).parse();
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

/** The largest count RE2 allows in `{n,m}`. */
const RE2_MAX_REPEAT = 1000;

function hex(code: number): string {
  return `\\x{${code.toString(16)}}`;
}

function classItem(code: number): string {
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return String.fromCharCode(code);
  return hex(code);
}

/** A set in RE2 syntax. A set holding every surrogate also takes the characters beyond U+FFFF, which JavaScript reads as two surrogates. */
function setSource(set: CharRanges): string {
  if (set.length === 0) return '[^\\x{0}-\\x{10ffff}]';
  const surrogates = overlapsAll(set, 0xd800, 0xdfff);
  const parts: string[] = [];
  for (const [lo, hi] of set) {
    // RE2 has no surrogate code points: leave them out.
    const pieces: [number, number][] = [];
    if (lo < 0xd800) pieces.push([lo, Math.min(hi, 0xd7ff)]);
    if (hi > 0xdfff) pieces.push([Math.max(lo, 0xe000), hi]);
    for (const [a, b] of pieces) parts.push(a === b ? classItem(a) : `${classItem(a)}-${classItem(b)}`);
  }
  if (surrogates) parts.push('\\x{10000}-\\x{10ffff}');
  if (parts.length === 0) return '[^\\x{0}-\\x{10ffff}]';
  return `[${parts.join('')}]`;
}

function overlapsAll(set: CharRanges, lo: number, hi: number): boolean {
  return set.some(([a, b]) => a <= lo && b >= hi);
}

/**
 * The pattern in RE2 syntax, for a boolean search, case-sensitive (the sets are already
 * folded); undefined when RE2 cannot express it (a lookahead, a backreference, a count above
 * 1000). Lookbehinds are kept (the linear engine runs them with its LOOKBEHINDS option).
 * Groups become non-capturing.
 */
export function toLinearSource(node: RegexNode, multiline: boolean): string | undefined {
  const write = (n: RegexNode): string | undefined => {
    switch (n.kind) {
      case 'empty':
        return '(?:)';
      case 'char':
        return setSource(n.set);
      case 'assert':
        if (n.what === 'word') return '\\b';
        if (n.what === 'nonword') return '\\B';
        if (n.what === 'start') return multiline ? '(?m:^)' : '\\A';
        return multiline ? '(?m:$)' : '\\z';
      case 'seq': {
        let out = '';
        for (const item of n.items) {
          const part = write(item);
          if (part === undefined) return undefined;
          out += part;
        }
        return `(?:${out})`;
      }
      case 'alt': {
        const parts: string[] = [];
        for (const branch of n.branches) {
          const part = write(branch);
          if (part === undefined) return undefined;
          parts.push(part);
        }
        return `(?:${parts.join('|')})`;
      }
      case 'group': {
        const body = write(n.body);
        return body === undefined ? undefined : `(?:${body})`;
      }
      case 'look': {
        if (!n.behind) return undefined;
        const body = write(n.body);
        return body === undefined ? undefined : `(?<${n.negate ? '!' : '='}${body})`;
      }
      case 'repeat': {
        if (n.min > RE2_MAX_REPEAT || (n.max !== Infinity && n.max > RE2_MAX_REPEAT)) return undefined;
        const body = write(n.body);
        if (body === undefined) return undefined;
        const count = n.max === Infinity
          ? n.min === 0 ? '*' : n.min === 1 ? '+' : `{${n.min},}`
          : n.min === n.max ? `{${n.min}}` : n.min === 0 && n.max === 1 ? '?' : `{${n.min},${n.max}}`;
        return `(?:${body})${count}`;
      }
      case 'backref':
        return undefined;
    }
  };
  return write(node);
}
