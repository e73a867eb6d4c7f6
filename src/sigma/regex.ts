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
 *
 * Which engine runs a pattern (`compileSigmaRegex`; the rule's author wrote the pattern, an
 * attacker writes the values): a pattern the static check of src/sigma/regex-safety.ts proves
 * free of catastrophic backtracking runs on RegExp, the fast path. When such a pattern can
 * loop and is not anchored with `^`, a search still tries every start position (up to
 * O(length²)), so values longer than LONG_VALUE_CHARS go to the linear-time engine
 * (src/sigma/regex-linear.ts). Any other pattern runs on the linear-time engine only; when that
 * engine cannot express it (a lookahead, a backreference, a count above 1000), the value is
 * refused with TH_RULE_REGEX_UNSAFE and the rule does not load.
 */
import { SigmaProblem } from './problem.ts';
import { compileLinearRegex } from './regex-linear.ts';
import type { LinearRegex } from './regex-linear.ts';
import { analyseRegex } from './regex-safety.ts';
import { parseRegex, toLinearSource } from './regex-syntax.ts';
import type { RegexNode } from './regex-syntax.ts';

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

interface PreparedRegExp {
  /** The pattern without its leading inline flag group, Python named groups made JavaScript's. */
  body: string;
  /** The JavaScript flags (from the modifiers and the inline group). */
  flags: string;
  /** The RegExp that runs it, from `source` (the body, or its faster equivalent). */
  regexp: RegExp;
  source: string;
}

function prepare(source: string, flags: string): PreparedRegExp {
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
  if (faster === body) return { body, flags: all, regexp, source: body };
  try {
    return { body, flags: all, regexp: new RegExp(faster, all), source: faster };
  } catch {
    return { body, flags: all, regexp, source: body };
  }
}

/** Compile a Sigma regular expression into a RegExp; throws a TH_RULE_VALUE problem when it is invalid. Says nothing about its safety: see compileSigmaRegex. */
export function compileSigmaRegExp(source: string, flags: string): RegExp {
  return prepare(source, flags).regexp;
}

/** Values longer than this (UTF-16 code units) go to the linear-time engine when the pattern's backtracking search is not linear. */
export const LONG_VALUE_CHARS = 1024;

/** Which engine runs a pattern: RegExp only, RegExp with long values on the linear engine, or the linear engine only. */
export type RegexEngine = 'backtracking' | 'backtracking+linear' | 'linear';

export interface SigmaRegex {
  /** True when the pattern matches somewhere in the text (RegExp#test). */
  readonly test: (text: string) => boolean;
  readonly engine: RegexEngine;
}

/** What the linear engine cannot run in a pattern, for the message; undefined when it can. */
function inexpressible(node: RegexNode): string | undefined {
  switch (node.kind) {
    case 'backref':
      return 'a backreference';
    case 'look':
      return node.behind ? inexpressible(node.body) : 'a lookahead';
    case 'repeat':
      if (node.min > 1000 || (node.max !== Infinity && node.max > 1000)) return 'a repetition count above 1000';
      return inexpressible(node.body);
    case 'group':
      return inexpressible(node.body);
    case 'seq':
      for (const item of node.items) {
        const found = inexpressible(item);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'alt':
      for (const branch of node.branches) {
        const found = inexpressible(branch);
        if (found !== undefined) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

function hasLookbehind(node: RegexNode): boolean {
  switch (node.kind) {
    case 'look':
      return node.behind || hasLookbehind(node.body);
    case 'repeat':
    case 'group':
      return hasLookbehind(node.body);
    case 'seq':
      return node.items.some(hasLookbehind);
    case 'alt':
      return node.branches.some(hasLookbehind);
    default:
      return false;
  }
}

/** The pattern for the linear engine, or why it cannot have one. */
function linearFor(prepared: PreparedRegExp): { compile: () => LinearRegex } | { reason: string } {
  const node = parseRegex(prepared.body, prepared.flags);
  if (node === undefined) return { reason: 'it uses a syntax the linear-time engine does not read' };
  const missing = inexpressible(node);
  if (missing !== undefined) return { reason: `it uses ${missing}` };
  const source = toLinearSource(node, prepared.flags.includes('m')) as string;
  const lookbehinds = hasLookbehind(node);
  // One compiled engine per pattern, shared by every rule that uses it (it keeps its DFA cache).
  let compiled: LinearRegex | undefined;
  return { compile: () => (compiled ??= compileLinearRegex(source, lookbehinds)) };
}

/**
 * The pattern on the linear-time engine whatever its safety, or why that engine cannot run it:
 * what the tests compare with RegExp.
 */
export function linearSigmaRegex(source: string, flags: string): LinearRegex | string {
  const linear = linearFor(prepare(source, flags));
  return 'compile' in linear ? linear.compile() : linear.reason;
}

interface Plan {
  readonly engine: RegexEngine;
  readonly linear?: () => LinearRegex;
}

/** Plans by flags and body: rule sets repeat patterns, and the analysis is the costly part. */
const plans = new Map<string, Plan | SigmaProblem>();
const MAX_CACHED_PLANS = 10_000;

function planFor(prepared: PreparedRegExp, original: string): Plan {
  const key = `${prepared.flags}/${prepared.source}`;
  const cached = plans.get(key);
  if (cached instanceof SigmaProblem) throw cached;
  if (cached !== undefined) return cached;
  let plan: Plan | SigmaProblem;
  const node = parseRegex(prepared.source, prepared.flags);
  const verdict = node === undefined ? { safe: false as const, reason: 'a syntax the safety check does not read' } : analyseRegex(node, prepared.flags);
  const linear = linearFor(prepared);
  if (verdict.safe && verdict.linearSearch) {
    plan = { engine: 'backtracking' };
  } else if (verdict.safe) {
    plan = 'compile' in linear
      ? { engine: 'backtracking+linear', linear: linear.compile }
      : new SigmaProblem('TH_RULE_REGEX_UNSAFE', `regular expression '${original}' is unsafe: its search time grows with the square of the value's length (a repetition not anchored with '^'), and the linear-time engine cannot run it because ${linear.reason}; anchor it with '^', or rewrite it without lookaheads and backreferences`);
  } else if ('compile' in linear) {
    try {
      linear.compile();
      plan = { engine: 'linear', linear: linear.compile };
    } catch (error) {
      plan = new SigmaProblem('TH_RULE_REGEX_UNSAFE', `regular expression '${original}' could backtrack catastrophically (${verdict.reason}), and the linear-time engine cannot run it: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    plan = new SigmaProblem('TH_RULE_REGEX_UNSAFE', `regular expression '${original}' could backtrack catastrophically (${verdict.reason}), and the linear-time engine cannot run it because ${linear.reason}; rewrite it without nested or overlapping quantifiers, or without lookaheads and backreferences`);
  }
  if (plans.size >= MAX_CACHED_PLANS) plans.clear();
  plans.set(key, plan);
  if (plan instanceof SigmaProblem) throw plan;
  return plan;
}

/**
 * Compile a Sigma regular expression for matching, on the engine its safety allows (see the
 * top of this file). Throws a TH_RULE_VALUE problem when it is invalid, TH_RULE_REGEX_UNSAFE
 * when no engine may run it.
 */
export function compileSigmaRegex(source: string, flags: string): SigmaRegex {
  const prepared = prepare(source, flags);
  const plan = planFor(prepared, source);
  const regexp = prepared.regexp;
  if (plan.engine === 'backtracking') return { engine: plan.engine, test: (text) => regexp.test(text) };
  const make = plan.linear as () => LinearRegex;
  if (plan.engine === 'linear') {
    const linear = make();
    return { engine: plan.engine, test: (text) => linear.test(text) };
  }
  let linear: LinearRegex | undefined;
  let failed = false;
  return {
    engine: plan.engine,
    test: (text) => {
      if (text.length <= LONG_VALUE_CHARS || failed) return regexp.test(text);
      if (linear === undefined) {
        try {
          linear = make();
        } catch {
          // Not expected (the pattern was checked); RegExp still answers.
          failed = true;
          return regexp.test(text);
        }
      }
      return linear.test(text);
    },
  };
}
