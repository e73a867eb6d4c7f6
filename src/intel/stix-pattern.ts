/**
 * The subset of STIX 2.1 patterning that describes network indicators, parsed into address
 * "terms" a flow or an event can match on its own.
 *
 * Supported, after a full parse of the pattern grammar:
 * - `[ipv4-addr:value = '1.2.3.4']`, `[ipv4-addr:value ISSUBSET '198.51.100.0/24']`,
 *   `[ipv6-addr:value = ...]`, `[domain-name:value = ...]`, `IN ('a', 'b')`;
 * - MISP forms: `[network-traffic:dst_ref.type = 'ipv4-addr' AND
 *   network-traffic:dst_ref.value = '5.6.7.8']`, `src_ref`, `AND network-traffic:dst_port = '5678'`;
 * - OR between comparisons and between observations (each alternative is a term);
 *   `START t'..' STOP t'..'` (narrows validity) and `WITHIN` (irrelevant to one observation).
 *
 * Unsupported (reported, never guessed): other object types (url, file hashes...), AND or
 * FOLLOWEDBY between observations, REPEATS, NOT, and operators other than = / ISSUBSET / IN,
 * and conjunctions with more than one address or with constraints we cannot check.
 *
 * Invalid (an error, never a crash or a hang): syntax errors, START/STOP that are not STIX
 * timestamps or not in order, WITHIN/REPEATS not positive, and patterns beyond the bounds
 * below (length, nesting, alternatives). Work is linear in the pattern's length.
 */

export interface StixTerm {
  kind: 'ipv4' | 'ipv6' | 'domain';
  /** The address, CIDR or domain as written in the pattern (normalised by the caller). */
  value: string;
  side: 'src' | 'dst' | 'any';
  port?: number;
}

export type StixPatternResult =
  | { ok: true; terms: StixTerm[]; unsupported: string[]; start?: number; stop?: number }
  | { ok: false; error: string };

/**
 * Bounds on the work one pattern may cost (a feed is attacker-controlled): its length, how
 * deep brackets and parentheses nest (the parser recurses once per level), how many
 * alternatives it expands to, and how many conjunctions an AND of ORs multiplies out to.
 */
export const MAX_PATTERN_LENGTH = 65_536;
export const MAX_PATTERN_DEPTH = 32;
export const MAX_PATTERN_TERMS = 4096;
const MAX_CONJUNCTIONS = 256;
const MAX_CONJUNCTION_LENGTH = 64;

type Value = { type: 'string' | 'int' | 'float' | 'bool' | 'timestamp' | 'binary'; text: string };

type Comparison = { path: string; op: string; negated: boolean; values: Value[] };
/** AND and OR are n-ary: a long chain is one node, not a chain as deep as it is long. */
type CmpExpr = { t: 'cmp'; c: Comparison } | { t: 'and' | 'or'; items: CmpExpr[] };
type ObsExpr =
  | { t: 'obs'; expr: CmpExpr; qualifiers: Qualifier[] }
  | { t: 'and' | 'or' | 'followedby'; items: ObsExpr[]; qualifiers: Qualifier[] };
type Qualifier = { kind: 'within' | 'repeats' | 'startstop'; start?: number; stop?: number };

type Token =
  | { k: 'punct'; v: string }
  | { k: 'op'; v: string }
  | { k: 'word'; v: string }
  | { k: 'path'; v: string }
  | { k: 'value'; v: Value }
  | { k: 'end'; v: '' };

const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'IN', 'EXISTS',
  'WITHIN', 'SECONDS', 'REPEATS', 'TIMES', 'START', 'STOP', 'true', 'false',
]);

class PatternError extends Error {}

// Sticky: each matches at lastIndex only, so tokenizing never copies the rest of the pattern.
const NUMBER = /[-+]?\d+(\.\d+)?/y;
const PATH = /[a-z0-9_-]+:(?:[A-Za-z0-9_.\-*[\]]|'(?:[^'\\]|\\.)*')+/y;
const WORD = /[A-Za-z]+/y;

function stickyMatch(re: RegExp, src: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(src);
}

/** Shown in messages: a short, escaped excerpt of feed text. */
function excerpt(text: string, max = 20): string {
  return JSON.stringify(text.slice(0, max));
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  const quoted = (from: number): [string, number] => {
    // from points just past the opening quote
    let s = '';
    let j = from;
    while (j < n) {
      const c = src[j] as string;
      if (c === '\\') {
        const next = src[j + 1];
        if (next !== "'" && next !== '\\') throw new PatternError(`bad escape ${excerpt(`\\${next ?? ''}`)} in string`);
        s += next;
        j += 2;
        continue;
      }
      if (c === "'") return [s, j + 1];
      s += c;
      j++;
    }
    throw new PatternError('unterminated string');
  };
  while (i < n) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('[]()'.includes(c) || c === ',') {
      out.push({ k: 'punct', v: c });
      i++;
      continue;
    }
    if (c === "'") {
      const [s, j] = quoted(i + 1);
      out.push({ k: 'value', v: { type: 'string', text: s } });
      i = j;
      continue;
    }
    if ((c === 't' || c === 'h' || c === 'b') && src[i + 1] === "'") {
      const [s, j] = quoted(i + 2);
      out.push({ k: 'value', v: { type: c === 't' ? 'timestamp' : 'binary', text: s } });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=') {
      out.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ k: 'op', v: c });
      i++;
      continue;
    }
    const num = stickyMatch(NUMBER, src, i);
    if (num && !/[a-z_:]/i.test(src[i + num[0].length] ?? '')) {
      out.push({ k: 'value', v: { type: num[1] === undefined ? 'int' : 'float', text: num[0] } });
      i += num[0].length;
      continue;
    }
    const path = stickyMatch(PATH, src, i);
    if (path) {
      out.push({ k: 'path', v: path[0] });
      i += path[0].length;
      continue;
    }
    const word = stickyMatch(WORD, src, i);
    if (word && KEYWORDS.has(word[0])) {
      if (word[0] === 'true' || word[0] === 'false') out.push({ k: 'value', v: { type: 'bool', text: word[0] } });
      else out.push({ k: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw new PatternError(`unexpected ${excerpt(src.slice(i))}`);
  }
  out.push({ k: 'end', v: '' });
  return out;
}

/** A STIX timestamp (`t'2024-01-01T00:00:00Z'`) in epoch ms. */
function timestamp(text: string, what: string): number {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(t)) throw new PatternError(`${what} t${excerpt(text, 40)} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SSZ)`);
  return t;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    return this.tokens[this.pos++] as Token;
  }

  private isWord(v: string): boolean {
    const t = this.peek();
    return t.k === 'word' && t.v === v;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.k === 'punct' && t.v === v;
  }

  private expectPunct(v: string): void {
    const t = this.next();
    if (t.k !== 'punct' || t.v !== v) throw new PatternError(`expected "${v}"`);
  }

  /** One level deeper (a bracket or a parenthesis); refused past MAX_PATTERN_DEPTH. */
  private enter(): void {
    if (++this.depth > MAX_PATTERN_DEPTH) throw new PatternError(`brackets and parentheses nest deeper than ${MAX_PATTERN_DEPTH} levels`);
  }

  private leave(): void {
    this.depth--;
  }

  parse(): ObsExpr {
    const e = this.followedBy();
    if (this.peek().k !== 'end') throw new PatternError('unexpected text after the pattern');
    return e;
  }

  // Precedence (STIX 2.1 §9.5): AND binds tighter than OR, OR tighter than FOLLOWEDBY.
  private followedBy(): ObsExpr {
    const first = this.obsOr();
    if (!this.isWord('FOLLOWEDBY')) return first;
    const items = [first];
    while (this.isWord('FOLLOWEDBY')) {
      this.next();
      items.push(this.obsOr());
    }
    return { t: 'followedby', items, qualifiers: [] };
  }

  private obsOr(): ObsExpr {
    const first = this.obsAnd();
    if (!this.isWord('OR')) return first;
    const items = [first];
    while (this.isWord('OR')) {
      this.next();
      items.push(this.obsAnd());
    }
    return { t: 'or', items, qualifiers: [] };
  }

  private obsAnd(): ObsExpr {
    const first = this.obsUnit();
    if (!this.isWord('AND')) return first;
    const items = [first];
    while (this.isWord('AND')) {
      this.next();
      items.push(this.obsUnit());
    }
    return { t: 'and', items, qualifiers: [] };
  }

  private obsUnit(): ObsExpr {
    let e: ObsExpr;
    if (this.isPunct('[')) {
      this.next();
      this.enter();
      const expr = this.cmpOr();
      this.expectPunct(']');
      this.leave();
      e = { t: 'obs', expr, qualifiers: [] };
    } else if (this.isPunct('(')) {
      this.next();
      this.enter();
      e = this.followedBy();
      this.expectPunct(')');
      this.leave();
    } else {
      throw new PatternError('expected "[" to open an observation');
    }
    for (;;) {
      if (this.isWord('WITHIN')) {
        this.next();
        const v = this.next();
        if (v.k !== 'value' || (v.v.type !== 'int' && v.v.type !== 'float') || !(Number(v.v.text) > 0)) throw new PatternError('WITHIN needs a positive number');
        if (!this.isWord('SECONDS')) throw new PatternError('expected SECONDS');
        this.next();
        e.qualifiers.push({ kind: 'within' });
      } else if (this.isWord('REPEATS')) {
        this.next();
        const v = this.next();
        if (v.k !== 'value' || v.v.type !== 'int' || !(Number(v.v.text) > 0)) throw new PatternError('REPEATS needs a positive integer');
        if (!this.isWord('TIMES')) throw new PatternError('expected TIMES');
        this.next();
        e.qualifiers.push({ kind: 'repeats' });
      } else if (this.isWord('START')) {
        this.next();
        const a = this.next();
        if (!this.isWord('STOP')) throw new PatternError('expected STOP');
        this.next();
        const b = this.next();
        if (a.k !== 'value' || a.v.type !== 'timestamp' || b.k !== 'value' || b.v.type !== 'timestamp') {
          throw new PatternError("START and STOP need t'...' timestamps");
        }
        const start = timestamp(a.v.text, 'START');
        const stop = timestamp(b.v.text, 'STOP');
        if (stop <= start) throw new PatternError('STOP is not after START');
        e.qualifiers.push({ kind: 'startstop', start, stop });
      } else {
        return e;
      }
    }
  }

  private cmpOr(): CmpExpr {
    const first = this.cmpAnd();
    if (!this.isWord('OR')) return first;
    const items = [first];
    while (this.isWord('OR')) {
      this.next();
      items.push(this.cmpAnd());
    }
    return { t: 'or', items };
  }

  private cmpAnd(): CmpExpr {
    const first = this.cmpUnit();
    if (!this.isWord('AND')) return first;
    const items = [first];
    while (this.isWord('AND')) {
      this.next();
      items.push(this.cmpUnit());
    }
    return { t: 'and', items };
  }

  private cmpUnit(): CmpExpr {
    if (this.isPunct('(')) {
      this.next();
      this.enter();
      const e = this.cmpOr();
      this.expectPunct(')');
      this.leave();
      return e;
    }
    if (this.isWord('EXISTS')) {
      this.next();
      const p = this.next();
      if (p.k !== 'path') throw new PatternError('EXISTS needs an object path');
      return { t: 'cmp', c: { path: p.v, op: 'EXISTS', negated: false, values: [] } };
    }
    const p = this.next();
    if (p.k !== 'path') throw new PatternError('expected an object path such as ipv4-addr:value');
    let negated = false;
    if (this.isWord('NOT')) {
      this.next();
      negated = true;
    }
    const o = this.next();
    let op: string;
    if (o.k === 'op') op = o.v;
    else if (o.k === 'word' && ['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'IN'].includes(o.v)) op = o.v;
    else throw new PatternError(`expected a comparison operator after ${excerpt(p.v, 60)}`);
    const values: Value[] = [];
    if (op === 'IN') {
      this.expectPunct('(');
      for (;;) {
        const v = this.next();
        if (v.k !== 'value') throw new PatternError('IN needs a list of values');
        values.push(v.v);
        if (this.isPunct(',')) {
          this.next();
          continue;
        }
        this.expectPunct(')');
        break;
      }
    } else {
      const v = this.next();
      if (v.k !== 'value') throw new PatternError(`expected a value after ${op}`);
      values.push(v.v);
    }
    return { t: 'cmp', c: { path: p.v, op, negated, values } };
  }
}

/** Comparison expression in disjunctive normal form: alternatives of conjunctions. IN becomes OR. */
function dnf(e: CmpExpr): Comparison[][] {
  if (e.t === 'cmp') {
    if (e.c.op === 'IN' && !e.c.negated) {
      if (e.c.values.length > MAX_PATTERN_TERMS) throw new PatternError(`IN lists more than ${MAX_PATTERN_TERMS} values`);
      return e.c.values.map((v) => [{ ...e.c, op: '=', values: [v] }]);
    }
    return [[e.c]];
  }
  if (e.t === 'or') {
    const out: Comparison[][] = [];
    for (const item of e.items) {
      for (const conj of dnf(item)) out.push(conj);
      if (out.length > MAX_PATTERN_TERMS) throw new PatternError(`pattern has more than ${MAX_PATTERN_TERMS} alternatives`);
    }
    return out;
  }
  let acc: Comparison[][] = [[]];
  for (const item of e.items) {
    const r = dnf(item);
    if (acc.length * r.length > MAX_CONJUNCTIONS) throw new PatternError('pattern has too many alternatives');
    const next: Comparison[][] = [];
    for (const a of acc) {
      for (const b of r) {
        if (a.length + b.length > MAX_CONJUNCTION_LENGTH) throw new PatternError(`pattern ANDs more than ${MAX_CONJUNCTION_LENGTH} comparisons in one observation`);
        next.push([...a, ...b]);
      }
    }
    acc = next;
  }
  return acc;
}

const ADDRESS_PATHS: Record<string, { kind?: StixTerm['kind']; side: StixTerm['side'] }> = {
  'ipv4-addr:value': { kind: 'ipv4', side: 'any' },
  'ipv6-addr:value': { kind: 'ipv6', side: 'any' },
  'domain-name:value': { kind: 'domain', side: 'any' },
  'network-traffic:dst_ref.value': { side: 'dst' },
  'network-traffic:src_ref.value': { side: 'src' },
};
const REF_TYPES: Record<string, StixTerm['kind']> = { 'ipv4-addr': 'ipv4', 'ipv6-addr': 'ipv6', 'domain-name': 'domain' };

function kindOfValue(text: string): StixTerm['kind'] {
  if (text.includes(':')) return 'ipv6';
  if (/^[\d./]+$/.test(text)) return 'ipv4';
  return 'domain';
}

function describe(c: Comparison): string {
  return `${c.path}${c.negated ? ' NOT' : ''} ${c.op}`;
}

/** One conjunction to one term, or the reason it cannot be matched on its own. */
function termOf(conj: Comparison[]): StixTerm | string {
  let address: { c: Comparison; side: StixTerm['side']; kind?: StixTerm['kind'] } | undefined;
  const refTypes: Record<string, StixTerm['kind']> = {};
  const ports: Record<string, number> = {};
  for (const c of conj) {
    if (c.negated) return `negated comparison ${describe(c)}`;
    const addr = ADDRESS_PATHS[c.path];
    if (addr) {
      if (c.op !== '=' && c.op !== 'ISSUBSET') return `operator ${c.op} on ${c.path}`;
      if (c.values[0]?.type !== 'string') return `${c.path} needs a quoted value`;
      if (address) return 'more than one address in one observation';
      address = { c, side: addr.side, ...(addr.kind === undefined ? {} : { kind: addr.kind }) };
      continue;
    }
    const ref = /^network-traffic:(src|dst)_ref\.type$/.exec(c.path);
    if (ref?.[1] !== undefined && c.op === '=' && c.values[0]?.type === 'string') {
      const kind = REF_TYPES[c.values[0].text];
      if (kind === undefined) return `network-traffic ${ref[1]}_ref of type ${c.values[0].text}`;
      refTypes[ref[1]] = kind;
      continue;
    }
    const port = /^network-traffic:(src|dst)_port$/.exec(c.path);
    if (port?.[1] !== undefined && c.op === '=') {
      const v = Number(c.values[0]?.text);
      if (!Number.isInteger(v) || v < 0 || v > 65535) return `bad port in ${c.path}`;
      if (ports[port[1]] !== undefined && ports[port[1]] !== v) return 'two different ports on one side';
      ports[port[1]] = v;
      continue;
    }
    return `comparison ${describe(c)}`;
  }
  if (!address) return 'no IP address or domain comparison';
  const text = address.c.values[0]?.text ?? '';
  let kind = address.kind;
  if (address.side !== 'any') {
    const declared = refTypes[address.side];
    const guessed = kindOfValue(text);
    if (declared !== undefined && declared !== guessed) return `${address.side}_ref.type ${declared} does not fit value "${text}"`;
    kind = declared ?? guessed;
  }
  for (const side of Object.keys(refTypes)) {
    if (side !== address.side) return `${side}_ref.type without a ${side}_ref.value`;
  }
  if (kind === undefined) return 'unknown address kind';
  if (address.c.op === 'ISSUBSET' && kind === 'domain') return 'ISSUBSET on a domain';
  const term: StixTerm = { kind, value: text, side: address.side };
  const port = address.side === 'src' ? (ports.src ?? ports.dst) : (ports.dst ?? ports.src);
  if (port !== undefined) term.port = port;
  return term;
}

interface Collected {
  terms: StixTerm[];
  unsupported: string[];
  start?: number;
  stop?: number;
}

function collect(e: ObsExpr, out: Collected): void {
  for (const q of e.qualifiers) {
    if (q.kind === 'repeats') {
      out.unsupported.push('REPEATS qualifier (needs several sightings)');
      return;
    }
    if (q.kind === 'startstop') {
      if (q.start !== undefined) out.start = Math.max(out.start ?? -Infinity, q.start);
      if (q.stop !== undefined) out.stop = Math.min(out.stop ?? Infinity, q.stop);
    }
  }
  if (e.t === 'obs') {
    for (const conj of dnf(e.expr)) {
      const term = termOf(conj);
      if (typeof term === 'string') out.unsupported.push(term);
      else out.terms.push(term);
      if (out.terms.length + out.unsupported.length > MAX_PATTERN_TERMS) throw new PatternError(`pattern has more than ${MAX_PATTERN_TERMS} alternatives`);
    }
    return;
  }
  if (e.t === 'or') {
    for (const item of e.items) collect(item, out);
    return;
  }
  out.unsupported.push(`${e.t === 'and' ? 'AND' : 'FOLLOWEDBY'} between observations (needs several events)`);
}

/** Parses a STIX 2.1 pattern into the terms it can be matched by on single events. */
export function parseStixPattern(pattern: string): StixPatternResult {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, error: `STIX pattern of ${pattern.length} characters is longer than ${MAX_PATTERN_LENGTH}` };
  let ast: ObsExpr;
  try {
    ast = new Parser(tokenize(pattern)).parse();
  } catch (err) {
    if (err instanceof PatternError) return { ok: false, error: `invalid STIX pattern: ${err.message}` };
    throw err;
  }
  const out: Collected = { terms: [], unsupported: [] };
  try {
    collect(ast, out);
  } catch (err) {
    if (err instanceof PatternError) return { ok: false, error: `invalid STIX pattern: ${err.message}` };
    throw err;
  }
  return { ok: true, ...out };
}
