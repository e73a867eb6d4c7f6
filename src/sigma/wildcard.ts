/**
 * Sigma string values as patterns: literal text, `*` (any run of characters), `?` (exactly one
 * character), the `windash` dash class and, before `|expand` resolves them, `%placeholders%`.
 *
 * Escapes follow the specification (sigma-rules-specification.md, "Escape Character"):
 * `\*` and `\?` are a literal `*` and `?`, `\\` is one backslash, and a backslash before any
 * other character (or at the end) stays a literal backslash. With `|expand`, `\%` is a literal `%`.
 */

export type PatternToken =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' }
  | { readonly kind: 'dash' }
  | { readonly kind: 'placeholder'; readonly name: string };

export interface SigmaPattern {
  readonly tokens: readonly PatternToken[];
  /** True once an encoding modifier turned the text into bytes (one character per byte). */
  readonly bytes: boolean;
}

export const ANY: PatternToken = { kind: 'any' };
export const ONE: PatternToken = { kind: 'one' };
export const DASH: PatternToken = { kind: 'dash' };

/** The characters `|windash` treats as interchangeable: `-`, `/`, en dash, em dash, horizontal bar. */
export const WINDASH_CHARACTERS: readonly string[] = ['-', '/', '\u2013', '\u2014', '\u2015'];

const PLACEHOLDER_NAME = /^[A-Za-z0-9_.-]+$/;

/** Parse a rule value into pattern tokens. `placeholders` is true under `|expand`. */
export function parseSigmaString(raw: string, placeholders = false): PatternToken[] {
  const tokens: PatternToken[] = [];
  let text = '';
  const flush = (): void => {
    if (text.length > 0) tokens.push({ kind: 'literal', text });
    text = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next === '*' || next === '?' || next === '\\' || (placeholders && next === '%')) {
        text += next;
        i++;
      } else {
        text += '\\';
      }
    } else if (c === '*') {
      flush();
      tokens.push(ANY);
    } else if (c === '?') {
      flush();
      tokens.push(ONE);
    } else if (c === '%' && placeholders) {
      const end = raw.indexOf('%', i + 1);
      const name = end > i ? raw.slice(i + 1, end) : '';
      if (name.length > 0 && PLACEHOLDER_NAME.test(name)) {
        flush();
        tokens.push({ kind: 'placeholder', name });
        i = end;
      } else {
        text += c;
      }
    } else {
      text += c;
    }
  }
  flush();
  return normalizeTokens(tokens);
}

/** Merge adjacent literals and collapse runs of `*`. */
export function normalizeTokens(tokens: readonly PatternToken[]): PatternToken[] {
  const out: PatternToken[] = [];
  for (const token of tokens) {
    const last = out[out.length - 1];
    if (token.kind === 'literal') {
      if (token.text.length === 0) continue;
      if (last !== undefined && last.kind === 'literal') out[out.length - 1] = { kind: 'literal', text: last.text + token.text };
      else out.push(token);
    } else if (token.kind === 'any' && last !== undefined && last.kind === 'any') {
      continue;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** The literal text of a pattern without any wildcard or class, else undefined. */
export function literalText(tokens: readonly PatternToken[]): string | undefined {
  let text = '';
  for (const token of tokens) {
    if (token.kind !== 'literal') return undefined;
    text += token.text;
  }
  return text;
}

/** True when the pattern holds `*` or `?`. */
export function hasWildcards(tokens: readonly PatternToken[]): boolean {
  return tokens.some((token) => token.kind === 'any' || token.kind === 'one');
}

/** Sigma-escape a literal text (the inverse of parseSigmaString for a wildcard-free value). */
export function escapeSigmaString(text: string): string {
  return text.replace(/[\\*?]/g, (c) => `\\${c}`);
}

/** Turn a `*`-only identifier pattern (`selection_*`) into an anchored RegExp. */
export function identifierPatternRegExp(pattern: string): RegExp {
  const source = pattern.split('*').map((part) => part.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's');
}
