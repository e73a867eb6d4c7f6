/**
 * The static check that decides whether a `|re` pattern may run on JavaScript's backtracking
 * RegExp: a proof that, from any start position, the backtracker explores each state of the
 * pattern at most once per input position, so that one match attempt costs O(pattern × value).
 *
 * The model is the position (Glushkov) automaton of the pattern, with multiplicities: one state
 * per character the pattern consumes, an edge for every way the backtracker can go from one to
 * the next (two quantifiers offering the same step, as in `(a*)*`, give two edges). A failing
 * attempt explores every path of this automaton labelled by a prefix of the input; the pattern
 * is proven safe when no two different paths labelled by the same text ever reach the same
 * state ("no merge"), checked on the pair automaton. That excludes exponential backtracking
 * (`(a+)+$`, `(a|a)*`, `(a|ab)*c`, `(\w+\s?)+$`) and polynomial backtracking (`\d+\d+$`,
 * `(.*a){20}`, `^.*x.*y`), and bounds the work per start by the number of states.
 *
 * Over-approximations, all on the side of "not proven": assertions (`^`, `$`, `\b`) are taken as
 * always passing, a backreference as `[\s\S]*`. Character sets are exact (src/sigma/regex-syntax.ts
 * folds them under `i`). Lookaround bodies are checked on their own
 * (a lookbehind is matched backwards, so reversed), and one that can loop must sit at the top
 * level, after nothing that loops. Patterns above a size budget are not analysed (not proven).
 *
 * A proven pattern still tries every start position: when it can loop and is not anchored at
 * the start (`^` without `m`), one search costs up to O(value²) (`\w+@` on a long run of
 * letters), which src/sigma/regex.ts bounds by sending long values to the linear engine.
 */
import type { CharRanges, RegexNode } from './regex-syntax.ts';
import { ANY, overlaps } from './regex-syntax.ts';

export type RegexVerdict =
  | { readonly safe: true; /** True when a whole search is linear in the value: anchored at the start, or no loop at all. */ readonly linearSearch: boolean }
  | { readonly safe: false; readonly reason: string };

/** Above this many states (after `{n,m}` is unrolled) a pattern is not analysed. */
export const MAX_ANALYSED_STATES = 1000;
/** Work budget of the pair exploration, per automaton. */
const MAX_PAIR_STEPS = 400_000;

class TooLarge extends Error {}

interface Fragment {
  /** Ways to match the empty string (saturated at 2). */
  ways: number;
  first: Map<number, number>;
  last: Map<number, number>;
}

const sat = (n: number): number => (n >= 2 ? 2 : n);

function addInto(target: Map<number, number>, source: ReadonlyMap<number, number>, factor = 1): void {
  if (factor === 0) return;
  for (const [state, count] of source) target.set(state, sat((target.get(state) ?? 0) + count * factor));
}

/** The position automaton of one pattern (or lookaround body). State 0 is the start. */
class Automaton {
  readonly sets: CharRanges[] = [[]];
  readonly edges: Map<number, number>[] = [new Map()];
  hasLoop = false;
  /** Lookaround bodies met, with where they sit. */
  readonly looks: { node: Extract<RegexNode, { kind: 'look' }>; nested: boolean }[] = [];
  private loopDepth = 0;
  private loopedBefore = false;

  private state(set: CharRanges): number {
    if (this.sets.length > MAX_ANALYSED_STATES) throw new TooLarge();
    this.sets.push(set);
    this.edges.push(new Map());
    return this.sets.length - 1;
  }

  private link(from: ReadonlyMap<number, number>, to: ReadonlyMap<number, number>): void {
    for (const [p, a] of from) {
      const out = this.edges[p] as Map<number, number>;
      for (const [q, b] of to) out.set(q, sat((out.get(q) ?? 0) + a * b));
    }
  }

  private loop(fragment: Fragment): void {
    if (fragment.last.size > 0 && fragment.first.size > 0) this.hasLoop = true;
    this.link(fragment.last, fragment.first);
  }

  build(node: RegexNode): Fragment {
    switch (node.kind) {
      case 'empty':
      case 'assert':
        return { ways: 1, first: new Map(), last: new Map() };
      case 'char': {
        const state = this.state(node.set);
        return { ways: 0, first: new Map([[state, 1]]), last: new Map([[state, 1]]) };
      }
      case 'group':
        return this.build(node.body);
      case 'look':
        this.looks.push({ node, nested: this.loopDepth > 0 || this.loopedBefore });
        return { ways: 1, first: new Map(), last: new Map() };
      case 'backref': {
        // As [\s\S]*: it may consume anything, any number of times.
        const state = this.state(ANY);
        const star = { ways: 1, first: new Map([[state, 1]]), last: new Map([[state, 1]]) };
        this.loop(star);
        this.loopedBefore = true;
        return star;
      }
      case 'seq': {
        let out: Fragment = { ways: 1, first: new Map(), last: new Map() };
        for (const item of node.items) out = this.concat(out, this.build(item));
        return out;
      }
      case 'alt': {
        const out: Fragment = { ways: 0, first: new Map(), last: new Map() };
        for (const branch of node.branches) {
          const part = this.build(branch);
          out.ways = sat(out.ways + part.ways);
          addInto(out.first, part.first);
          addInto(out.last, part.last);
        }
        return out;
      }
      case 'repeat':
        return this.repeat(node.body, node.min, node.max);
    }
  }

  private concat(a: Fragment, b: Fragment): Fragment {
    this.link(a.last, b.first);
    const first = new Map(a.first);
    addInto(first, b.first, a.ways);
    const last = new Map(b.last);
    addInto(last, a.last, b.ways);
    return { ways: sat(a.ways * b.ways), first, last };
  }

  private repeat(body: RegexNode, min: number, max: number): Fragment {
    if (max === 0) return { ways: 1, first: new Map(), last: new Map() };
    if (min > MAX_ANALYSED_STATES || (max !== Infinity && max > MAX_ANALYSED_STATES)) throw new TooLarge();
    if (max > 1) this.loopDepth++;
    let out: Fragment = { ways: 1, first: new Map(), last: new Map() };
    const mandatory = max === Infinity ? Math.max(min - 1, 0) : min;
    for (let i = 0; i < mandatory; i++) out = this.concat(out, this.build(body));
    if (max === Infinity) {
      // One more copy that loops on itself: `x{2,}` is `x x+`, `x*` is `x*`.
      // An iteration past the minimum that matches nothing fails (ES RepeatMatcher), so the
      // loop adds no way to match the empty string.
      const looping = this.build(body);
      this.loop(looping);
      out = this.concat(out, { ways: min === 0 ? 1 : looping.ways, first: looping.first, last: looping.last });
      this.loopedBefore = true;
    } else {
      // `x{2,4}` is `x x (x (x)?)?`: the optional copies nested, as the counter runs them.
      let optional: Fragment | undefined;
      for (let i = 0; i < max - min; i++) {
        const copy = this.build(body);
        const inner: Fragment = optional === undefined ? copy : this.concat(copy, optional);
        optional = { ways: 1, first: inner.first, last: inner.last }; // an empty optional iteration fails, as above
      }
      if (optional !== undefined) out = this.concat(out, optional);
    }
    if (max > 1) this.loopDepth--;
    return out;
  }

  /** Finish: edges from the start. */
  start(fragment: Fragment): void {
    addInto(this.edges[0] as Map<number, number>, fragment.first);
  }

  /**
   * True when two different paths labelled by the same text can reach the same state. Throws
   * TooLarge past the budget.
   */
  merges(): boolean {
    const n = this.sets.length;
    const seen = new Set<number>();
    const queue: number[] = [0]; // pair (p, q), p <= q, as p * n + q
    seen.add(0);
    let steps = 0;
    const visit = (p: number, q: number): void => {
      const key = p <= q ? p * n + q : q * n + p;
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(key);
      }
    };
    while (queue.length > 0) {
      const key = queue.pop() as number;
      const p = Math.floor(key / n);
      const q = key % n;
      const outP = this.edges[p] as Map<number, number>;
      if (p === q) {
        const targets = [...outP].filter(([r]) => (this.sets[r] as CharRanges).length > 0);
        for (let i = 0; i < targets.length; i++) {
          const [r, count] = targets[i] as [number, number];
          if (count >= 2) return true;
          visit(r, r);
          for (let j = i + 1; j < targets.length; j++) {
            if (++steps > MAX_PAIR_STEPS) throw new TooLarge();
            const s = (targets[j] as [number, number])[0];
            if (overlaps(this.sets[r] as CharRanges, this.sets[s] as CharRanges)) visit(r, s);
          }
        }
        continue;
      }
      const outQ = this.edges[q] as Map<number, number>;
      for (const r of outP.keys()) {
        const setR = this.sets[r] as CharRanges;
        if (setR.length === 0) continue;
        for (const s of outQ.keys()) {
          if (++steps > MAX_PAIR_STEPS) throw new TooLarge();
          if (!overlaps(setR, this.sets[s] as CharRanges)) continue;
          if (r === s) return true;
          visit(r, s);
        }
      }
    }
    return false;
  }
}

/** The same pattern read right to left (how a lookbehind is matched). Nested lookarounds keep their own direction. */
function reversed(node: RegexNode): RegexNode {
  switch (node.kind) {
    case 'seq':
      return { kind: 'seq', items: node.items.map(reversed).reverse() };
    case 'alt':
      return { kind: 'alt', branches: node.branches.map(reversed) };
    case 'group':
      return { kind: 'group', body: reversed(node.body) };
    case 'repeat':
      return { ...node, body: reversed(node.body) };
    default:
      return node;
  }
}

function anchoredAtStart(node: RegexNode): boolean {
  switch (node.kind) {
    case 'assert':
      return node.what === 'start';
    case 'seq':
      return node.items[0] !== undefined && anchoredAtStart(node.items[0]);
    case 'alt':
      return node.branches.every(anchoredAtStart);
    case 'group':
      return anchoredAtStart(node.body);
    default:
      return false;
  }
}

/** Check one automaton and, recursively, the lookarounds it holds. */
function check(node: RegexNode, topLevel: boolean): { ok: true; loops: boolean } | { ok: false; reason: string } {
  const automaton = new Automaton();
  automaton.start(automaton.build(node));
  if (automaton.merges()) {
    return { ok: false, reason: topLevel ? 'nested or overlapping quantifiers (two ways to match the same text)' : 'a lookaround with nested or overlapping quantifiers' };
  }
  let loops = automaton.hasLoop;
  for (const { node: look, nested } of automaton.looks) {
    const inner = check(look.behind ? reversed(look.body) : look.body, false);
    if (!inner.ok) return inner;
    if (inner.loops && (nested || !topLevel)) return { ok: false, reason: 'a lookaround that can loop, inside or after a quantifier' };
    loops ||= inner.loops;
  }
  return { ok: true, loops };
}

/** The verdict on a pattern parsed with its flags (parseRegex): `m` decides whether `^` anchors the search. */
export function analyseRegex(node: RegexNode, flags: string): RegexVerdict {
  try {
    const result = check(node, true);
    if (!result.ok) return { safe: false, reason: result.reason };
    return { safe: true, linearSearch: !result.loops || (!flags.includes('m') && anchoredAtStart(node)) };
  } catch (error) {
    if (error instanceof TooLarge) return { safe: false, reason: `too large to analyse (more than ${MAX_ANALYSED_STATES} states once counted repetitions are unrolled)` };
    throw error;
  }
}
