/**
 * The `|re` modifier's regular expressions: PCRE as Sigma writes them, run by JavaScript.
 *
 * - Matching is a search (the pattern may match anywhere in the value), case-sensitive unless
 *   `|re|i`; `|re|m` and `|re|s` set the multiline and dotAll flags.
 * - A leading inline flag group such as `(?i)` becomes the JavaScript flag (only i, m, s);
 *   Python-style named groups `(?P<name>...)` become `(?<name>...)`.
 * - For speed, a leading or trailing `.*`/`.+` (common in Sigma rules, and quadratic in a
 *   backtracking search) is rewritten into an equivalent search: `.*X` finds a match exactly
 *   when `X` does, `.+X` exactly when `(?<=.)X` does, and symmetrically at the end.
 */
import { SigmaProblem } from './problem.ts';

/** Each backslash before `index`: an even count means the character at `index` is not escaped. */
function escapedAt(source: string, index: number): boolean {
  let count = 0;
  for (let i = index - 1; i >= 0 && source[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

/** A source that finds a match exactly when `body` does (for RegExp.test), without leading/trailing `.*`/`.+`. */
export function searchEquivalentSource(body: string): string {
  let out = body;
  const lead = /^\.([*+])\??/.exec(out);
  if (lead && !/^[*+?{]/.test(out.slice(lead[0].length))) {
    out = (lead[1] === '+' ? '(?<=.)' : '') + out.slice(lead[0].length);
  }
  const trail = /\.([*+])\??$/.exec(out);
  if (trail && !escapedAt(out, trail.index) && !(trail.index > 0 && out[trail.index - 1] === '[')) {
    out = out.slice(0, trail.index) + (trail[1] === '+' ? '(?=.)' : '');
  }
  return out;
}

/** Compile a Sigma regular expression; throws a TH_RULE_VALUE problem when it is invalid. */
export function compileSigmaRegExp(source: string, flags: string): RegExp {
  let body = source;
  let all = flags;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (inline) {
    for (const flag of inline[1] as string) {
      if (flag !== 'i' && flag !== 'm' && flag !== 's') throw new SigmaProblem('TH_RULE_VALUE', `invalid regular expression: inline flag '${flag}' is not supported (use i, m or s)`);
      if (!all.includes(flag)) all += flag;
    }
    body = body.slice(inline[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  let regexp: RegExp;
  try {
    regexp = new RegExp(body, all);
  } catch (error) {
    throw new SigmaProblem('TH_RULE_VALUE', `invalid regular expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  const faster = searchEquivalentSource(body);
  if (faster === body) return regexp;
  try {
    return new RegExp(faster, all);
  } catch {
    return regexp;
  }
}
