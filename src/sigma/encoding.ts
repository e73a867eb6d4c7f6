/**
 * The transforming string modifiers, applied in the order the rule gives them (as pySigma does):
 * `windash`, `base64`, `base64offset`, `utf16le`/`wide`, `utf16be`, `utf16`.
 *
 * - `windash` marks every `-`, `/`, en dash, em dash and horizontal bar as "any of these five"
 *   (all permutations, without enumerating them); an encoding after it enumerates them.
 * - `utf16*` turn the text into bytes (one character per byte, wildcards kept); `utf16` prepends
 *   the little-endian byte order mark FF FE.
 * - `base64` encodes the bytes (UTF-8 of the text, or the utf16 bytes); wildcards cannot be encoded.
 * - `base64offset` gives the three encodings of the value shifted by 0, 1 and 2 bytes, trimmed
 *   of the characters that depend on the unknown neighbouring bytes, exactly as pySigma does.
 */
import { Buffer } from 'node:buffer';
import { SigmaProblem } from './problem.ts';
import { DASH, normalizeTokens, WINDASH_CHARACTERS } from './wildcard.ts';
import type { PatternToken, SigmaPattern } from './wildcard.ts';

/** At most this many windash permutations are enumerated before an encoding. */
export const MAX_EXPANSIONS = 4096;

export function windash(pattern: SigmaPattern): SigmaPattern {
  const tokens: PatternToken[] = [];
  for (const token of pattern.tokens) {
    if (token.kind !== 'literal') {
      tokens.push(token);
      continue;
    }
    let text = '';
    for (const c of token.text) {
      if (WINDASH_CHARACTERS.includes(c)) {
        if (text.length > 0) tokens.push({ kind: 'literal', text });
        text = '';
        tokens.push(DASH);
      } else {
        text += c;
      }
    }
    if (text.length > 0) tokens.push({ kind: 'literal', text });
  }
  return { tokens: normalizeTokens(tokens), bytes: pattern.bytes };
}

/** Enumerate the windash classes of a pattern into concrete patterns. */
export function enumerateDashes(pattern: SigmaPattern): SigmaPattern[] {
  let results: PatternToken[][] = [[]];
  for (const token of pattern.tokens) {
    if (token.kind === 'dash') {
      if (results.length * WINDASH_CHARACTERS.length > MAX_EXPANSIONS) {
        throw new SigmaProblem('TH_RULE_VALUE', `windash gives more than ${MAX_EXPANSIONS} variants to encode; shorten the value`);
      }
      const next: PatternToken[][] = [];
      for (const prefix of results) for (const c of WINDASH_CHARACTERS) next.push([...prefix, { kind: 'literal', text: c }]);
      results = next;
    } else {
      for (const prefix of results) prefix.push(token);
    }
  }
  return results.map((tokens) => ({ tokens: normalizeTokens(tokens), bytes: pattern.bytes }));
}

function plainBytes(pattern: SigmaPattern, modifier: string): Buffer {
  let text = '';
  for (const token of pattern.tokens) {
    if (token.kind === 'literal') text += token.text;
    else if (token.kind === 'any' || token.kind === 'one') {
      throw new SigmaProblem('TH_RULE_VALUE', `${modifier} cannot encode the wildcard '${token.kind === 'any' ? '*' : '?'}': escape it (\\${token.kind === 'any' ? '*' : '?'}) or put contains/startswith/endswith after ${modifier}`);
    } else {
      throw new SigmaProblem('TH_RULE_VALUE', `${modifier} cannot encode this value`);
    }
  }
  return Buffer.from(text, pattern.bytes ? 'latin1' : 'utf8');
}

export function base64(pattern: SigmaPattern): SigmaPattern[] {
  return enumerateDashes(pattern).map((concrete) => ({
    tokens: normalizeTokens([{ kind: 'literal', text: plainBytes(concrete, 'base64').toString('base64') }]),
    bytes: false,
  }));
}

const OFFSET_STARTS = [0, 2, 3] as const;
const OFFSET_ENDS = [0, -3, -2] as const;

export function base64offset(pattern: SigmaPattern): SigmaPattern[] {
  const out: SigmaPattern[] = [];
  for (const concrete of enumerateDashes(pattern)) {
    const bytes = plainBytes(concrete, 'base64offset');
    for (let shift = 0; shift < 3; shift++) {
      const encoded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]).toString('base64');
      const end = OFFSET_ENDS[(bytes.length + shift) % 3] as number;
      const text = encoded.slice(OFFSET_STARTS[shift], end === 0 ? undefined : end);
      out.push({ tokens: normalizeTokens([{ kind: 'literal', text }]), bytes: false });
    }
  }
  return out;
}

export type Utf16Variant = 'utf16le' | 'utf16be' | 'utf16';

function encodeUtf16(text: string, bigEndian: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const low = String.fromCharCode(unit & 0xff);
    const high = String.fromCharCode(unit >> 8);
    out += bigEndian ? high + low : low + high;
  }
  return out;
}

export function utf16(pattern: SigmaPattern, variant: Utf16Variant): SigmaPattern[] {
  return enumerateDashes(pattern).map((concrete) => {
    const tokens: PatternToken[] = variant === 'utf16' ? [{ kind: 'literal', text: '\u00ff\u00fe' }] : [];
    for (const token of concrete.tokens) {
      tokens.push(token.kind === 'literal' ? { kind: 'literal', text: encodeUtf16(token.text, variant === 'utf16be') } : token);
    }
    return { tokens: normalizeTokens(tokens), bytes: true };
  });
}

/** `contains`, `startswith`, `endswith`: wrap in `*` where not already there. */
export function wrapWildcards(pattern: SigmaPattern, start: boolean, end: boolean): SigmaPattern {
  const tokens = pattern.tokens.slice();
  if (start && tokens[0]?.kind !== 'any') tokens.unshift({ kind: 'any' });
  if (end && tokens[tokens.length - 1]?.kind !== 'any') tokens.push({ kind: 'any' });
  return { tokens: normalizeTokens(tokens), bytes: pattern.bytes };
}
