/**
 * The condition language: tokenizer and recursive-descent parser to an AST.
 *
 * Precedence, least to most binding (sigma-rules-specification.md, "Condition"):
 * `or` < `and` < `not` < `N of` / `all of` < brackets. Operators are case-insensitive.
 * `N of X` (N a positive integer: at least N of the matching identifiers) / `all of X` take a
 * search identifier pattern (`*` matches any run of characters) or `them`. A `|` starts a Sigma 1.0 aggregation (`| count() by x > 5`, `| near ...`),
 * which Sigma 2 replaced with correlation rules: it is reported, never half-evaluated.
 */

export type ConditionNode =
  | { readonly kind: 'identifier'; readonly name: string; readonly offset: number }
  /** `quantifier: 'one'` is `1 of`, `'all'` is `all of`, `'count'` is `N of` with N >= 2 (`count`: N). */
  | { readonly kind: 'of'; readonly quantifier: 'one' | 'all' | 'count'; readonly count?: number; readonly pattern: string; readonly offset: number }
  | { readonly kind: 'not'; readonly operand: ConditionNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly ConditionNode[] };

export type ConditionParseResult =
  | { readonly ok: true; readonly ast: ConditionNode }
  | { readonly ok: false; readonly kind: 'syntax' | 'aggregation'; readonly message: string; readonly offset: number; readonly aggregation?: string };

interface Token {
  readonly kind: 'word' | '(' | ')' | 'end';
  readonly text: string;
  readonly offset: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, offset: i });
      i++;
    } else {
      const start = i;
      while (i < text.length && !/[\s()|]/.test(text[i] as string)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), offset: start });
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

const RESERVED = new Set(['and', 'or', 'not', 'of', 'them']);

class ConditionSyntaxError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

class Parser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.position] ?? { kind: 'end', text: '', offset: 0 };
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private isWord(token: Token | undefined, word: string): boolean {
    return token !== undefined && token.kind === 'word' && token.text.toLowerCase() === word;
  }

  parse(): ConditionNode {
    const first = this.peek();
    if (first.kind === 'end') throw new ConditionSyntaxError('the condition is empty', first.offset);
    const ast = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'end') {
      throw new ConditionSyntaxError(rest.kind === ')' ? "unbalanced ')'" : `unexpected '${rest.text}': expected 'and', 'or' or the end of the condition`, rest.offset);
    }
    return ast;
  }

  private parseOr(): ConditionNode {
    const operands = [this.parseAnd()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? (operands[0] as ConditionNode) : { kind: 'or', operands };
  }

  private parseAnd(): ConditionNode {
    const operands = [this.parseNot()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? (operands[0] as ConditionNode) : { kind: 'and', operands };
  }

  private parseNot(): ConditionNode {
    if (this.isWord(this.peek(), 'not')) {
      this.next();
      return { kind: 'not', operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): ConditionNode {
    const token = this.next();
    if (token.kind === '(') {
      const inner = this.parseOr();
      const close = this.next();
      if (close.kind !== ')') {
        throw new ConditionSyntaxError(close.kind === 'end' ? "missing ')' for the '(' opened here" : `unexpected '${close.text}': expected ')'`, close.kind === 'end' ? token.offset : close.offset);
      }
      return inner;
    }
    if (token.kind === ')') throw new ConditionSyntaxError("unexpected ')'", token.offset);
    if (token.kind === 'end') throw new ConditionSyntaxError('the condition ends where a search identifier was expected', token.offset);
    const lower = token.text.toLowerCase();
    if (this.isWord(this.peek(), 'of')) {
      const count = /^[0-9]+$/.test(lower) ? Number(lower) : undefined;
      if (lower === 'all' || (count !== undefined && count >= 1 && Number.isSafeInteger(count))) {
        this.next();
        const target = this.next();
        if (target.kind !== 'word' || (RESERVED.has(target.text.toLowerCase()) && target.text.toLowerCase() !== 'them')) {
          throw new ConditionSyntaxError(`'${token.text} of' must be followed by a search identifier pattern or 'them'`, target.offset);
        }
        const pattern = target.text.toLowerCase() === 'them' ? 'them' : target.text;
        if (lower === 'all') return { kind: 'of', quantifier: 'all', pattern, offset: token.offset };
        if (count === 1) return { kind: 'of', quantifier: 'one', pattern, offset: token.offset };
        return { kind: 'of', quantifier: 'count', count, pattern, offset: token.offset };
      }
      throw new ConditionSyntaxError(`'${token.text} of' is not Sigma: write 'N of' with N a positive whole number, or 'all of'`, token.offset);
    }
    if (RESERVED.has(lower)) throw new ConditionSyntaxError(`unexpected '${token.text}': expected a search identifier`, token.offset);
    if (token.text.includes('*')) {
      throw new ConditionSyntaxError(`the pattern '${token.text}' needs '1 of', 'N of' or 'all of' in front of it`, token.offset);
    }
    return { kind: 'identifier', name: token.text, offset: token.offset };
  }
}

/** Parse one condition string. */
export function parseCondition(text: string): ConditionParseResult {
  const pipe = text.indexOf('|');
  if (pipe >= 0) {
    const aggregation = text.slice(pipe + 1).trim();
    return { ok: false, kind: 'aggregation', message: aggregation, offset: pipe, aggregation };
  }
  try {
    return { ok: true, ast: new Parser(tokenize(text)).parse() };
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { ok: false, kind: 'syntax', message: error.message, offset: error.offset };
    throw error;
  }
}

/** Every identifier and pattern a condition refers to, in order. */
export function conditionReferences(ast: ConditionNode): ConditionNode[] {
  const out: ConditionNode[] = [];
  const visit = (node: ConditionNode): void => {
    if (node.kind === 'identifier' || node.kind === 'of') out.push(node);
    else if (node.kind === 'not') visit(node.operand);
    else for (const operand of node.operands) visit(operand);
  };
  visit(ast);
  return out;
}
