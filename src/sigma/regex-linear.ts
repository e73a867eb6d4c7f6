/**
 * The linear-time engine for `|re` patterns the backtracking RegExp must not run: RE2, as the
 * pure-JavaScript `re2js` package (a lazy DFA with an NFA fallback; no WebAssembly, nothing
 * native). It is loaded on first use, so a rule set without such a pattern never loads it.
 *
 * It is given the pattern in RE2 syntax as src/sigma/regex-syntax.ts writes it: every set spelled
 * out as JavaScript reads it (`.`, `\s`, and case folding under `i` included), so RE2 runs
 * case-sensitive; it searches (`test`), like RegExp#test.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

type Re2Module = { RE2JS: typeof RE2JS };

let loaded: Re2Module | undefined;

function re2(): Re2Module {
  loaded ??= createRequire(import.meta.url)('re2js') as Re2Module;
  return loaded;
}

export interface LinearRegex {
  test(text: string): boolean;
}

/** Compile RE2 syntax (case-sensitive); throws (an Error with RE2's message) when RE2 refuses it. */
export function compileLinearRegex(source: string, lookbehinds: boolean): LinearRegex {
  const { RE2JS: engine } = re2();
  const flags = lookbehinds ? engine.LOOKBEHINDS : 0;
  const compiled = engine.compile(source, flags);
  return { test: (text) => compiled.test(text) };
}
