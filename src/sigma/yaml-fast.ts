/**
 * A fast reader for the plain YAML that rule packs are written in: block mappings and
 * sequences by indentation, single-line plain and quoted scalars, single-line flow
 * collections (`[a, b]`, `{product: aws}`), comments. It gives the same located tree as
 * src/sigma/parse.ts's reading through the `yaml` library (YAML 1.2 core schema), some ten
 * times faster and with a fraction of the garbage; `yaml` takes a 20 MB pack of 40,000 rules
 * past ten seconds.
 *
 * It gives up (undefined) on anything else, and on anything it is not sure of: anchors,
 * aliases, tags, block scalars (`|`, `>`), multi-line scalars and flow collections, explicit
 * keys, tabs, duplicate keys, directives, any irregular indentation. The caller then reads
 * that document with the `yaml` library, which also reports the errors: this reader never
 * reports one, so what it accepts is exactly what `yaml` accepts, read the same way
 * (test/sigma/hardening-rules-yaml-fast.test.ts compares the two on generated documents).
 */
import type { SigmaMapNode, SigmaNode, SigmaScalarNode } from './types.ts';

class GiveUp extends Error {}
const GIVE_UP = new GiveUp();

interface Line {
  /** 1-based line number in the file. */
  readonly line: number;
  /** Spaces before the content. */
  readonly indent: number;
  /** The line from its indentation on, comments included. */
  readonly text: string;
  /** Offset in the file just after the line (its line feed, or the end of the document). */
  readonly end: number;
}

type Scalar = string | number | boolean | null;

/** YAML 1.2 core schema, as the `yaml` library resolves a plain scalar. */
function resolvePlain(source: string): Scalar {
  const first = source.charCodeAt(0);
  // Only these can start something other than a string.
  if (!(first === 0x7e || first === 0x6e || first === 0x4e || first === 0x74 || first === 0x54 || first === 0x66 || first === 0x46 || first === 0x2e || first === 0x2b || first === 0x2d || (first >= 0x30 && first <= 0x39))) return source;
  if (/^(?:~|[Nn]ull|NULL)$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(source)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(source)) return false;
  let number: number | undefined;
  if (/^0o[0-7]+$/.test(source)) number = parseInt(source.slice(2), 8);
  else if (/^[-+]?[0-9]+$/.test(source)) number = parseInt(source, 10);
  else if (/^0x[0-9a-fA-F]+$/.test(source)) number = parseInt(source.slice(2), 16);
  else if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(source)) number = source.slice(-3).toLowerCase() === 'nan' ? Number.NaN : source[0] === '-' ? -Infinity : Infinity;
  else if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) number = parseFloat(source);
  if (number === undefined) return source;
  // As parse.ts keeps them: every digit of an integer beyond 2^53.
  if (Number.isInteger(number) && !Number.isSafeInteger(number) && /^-?\d+$/.test(source)) return source;
  return number;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};

/** A quoted scalar at `start` of `text`: its value and the index after the closing quote. */
function quoted(text: string, start: number): { value: string; end: number; escaped: boolean } {
  const quote = text[start];
  if (quote === "'") {
    let value = '';
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const close = text.indexOf("'", i);
      if (close < 0) throw GIVE_UP; // continues on the next line
      value += text.slice(i, close);
      if (text[close + 1] === "'") {
        value += "'";
        escaped = true;
        i = close + 2;
        continue;
      }
      return { value, end: close + 1, escaped };
    }
  }
  let value = '';
  let escaped = false;
  let i = start + 1;
  for (;;) {
    const close = text.indexOf('"', i);
    const slash = text.indexOf('\\', i);
    if (close < 0) throw GIVE_UP;
    if (slash < 0 || slash > close) {
      value += text.slice(i, close);
      return { value, end: close + 1, escaped };
    }
    value += text.slice(i, slash);
    escaped = true;
    const c = text[slash + 1];
    if (c === undefined) throw GIVE_UP; // a line continuation
    const simple = ESCAPES[c];
    if (simple !== undefined) {
      value += simple;
      i = slash + 2;
      continue;
    }
    const width = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    const hex = text.slice(slash + 2, slash + 2 + width);
    if (width === 0 || hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) throw GIVE_UP;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) throw GIVE_UP;
    value += String.fromCodePoint(code);
    i = slash + 2 + width;
  }
}

/** True when only spaces, then nothing or a comment (after at least one space), follow `from`. */
function restIsBlank(text: string, from: number): boolean {
  let i = from;
  while (text.charCodeAt(i) === 0x20) i++;
  return i === text.length || (text[i] === '#' && i > from);
}

/** Characters a plain scalar may not start with (YAML c-indicators). */
const INDICATORS = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** True when a plain scalar cannot start at `at`: an indicator, bar `-` followed by something other than a space (`-5`, `-enc`). */
function cannotStartPlain(text: string, at: number): boolean {
  const c = text[at] as string;
  if (!INDICATORS.has(c)) return false;
  if (c !== '-') return true;
  const next = text[at + 1];
  return next === undefined || next === ' ';
}

class DocumentReader {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly lines: Line[],
    private readonly file: string,
    private readonly maxDepth: number,
    private readonly source: string,
    private readonly sourceEnd: number,
  ) {}

  private position(line: Line, offset: number): { file: string; line: number; col: number } {
    return { file: this.file, line: line.line, col: line.indent + offset + 1 };
  }

  read(): SigmaNode | null {
    if (this.lines.length === 0) return null;
    const first = this.lines[0] as Line;
    const node = this.block(first.indent);
    if (this.i !== this.lines.length) throw GIVE_UP;
    return node;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) throw GIVE_UP;
  }

  /** A block node whose first line is the current one, at `indent`. */
  private block(indent: number): SigmaNode {
    const line = this.lines[this.i] as Line;
    if (line.indent !== indent) throw GIVE_UP;
    if (isSequenceItem(line.text)) return this.sequence(indent);
    return this.mapping(indent);
  }

  private sequence(indent: number): SigmaNode {
    this.enter();
    const items: SigmaNode[] = [];
    const start = this.lines[this.i] as Line;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i] as Line;
      if (line.indent < indent) break;
      if (line.indent > indent) throw GIVE_UP;
      if (!isSequenceItem(line.text)) break;
      let offset = 1;
      while (line.text.charCodeAt(offset) === 0x20) offset++;
      if (offset >= line.text.length || line.text[offset] === '#') {
        // `-` alone: the item is the block below it.
        this.i++;
        const next = this.lines[this.i];
        if (next === undefined || next.indent <= indent) throw GIVE_UP; // a null item
        items.push(this.block(next.indent));
        continue;
      }
      const rest = line.text.slice(offset);
      if (isSequenceItem(rest)) throw GIVE_UP; // `- - x`
      if (keyEnd(rest) >= 0) {
        // `- key: value`: a mapping whose lines are indented as its first key.
        this.lines[this.i] = { line: line.line, indent: line.indent + offset, text: rest, end: line.end };
        items.push(this.mapping(line.indent + offset));
        continue;
      }
      if (line.text[offset] === '|' || line.text[offset] === '>') {
        items.push(this.blockScalar(line, offset, indent));
        continue;
      }
      items.push(this.inline(line, offset));
      this.i++;
      this.noContinuation(indent);
    }
    this.depth--;
    return { kind: 'seq', items, position: this.position(start, 0) };
  }

  private mapping(indent: number): SigmaNode {
    this.enter();
    const start = this.lines[this.i] as Line;
    const map: SigmaMapNode = { kind: 'map', entries: [], position: this.position(start, 0) };
    const seen = new Set<string>();
    while (this.i < this.lines.length) {
      const line = this.lines[this.i] as Line;
      if (line.indent < indent) break;
      if (line.indent > indent) throw GIVE_UP;
      if (isSequenceItem(line.text)) throw GIVE_UP;
      const { key, after } = this.key(line);
      if (seen.has(key)) throw GIVE_UP; // the yaml reading reports it
      seen.add(key);
      const keyPosition = this.position(line, 0);
      let offset = after;
      while (line.text.charCodeAt(offset) === 0x20) offset++;
      let value: SigmaNode;
      if (offset >= line.text.length || (line.text[offset] === '#' && offset > after)) {
        this.i++;
        const next = this.lines[this.i];
        if (next !== undefined && next.indent > indent) value = this.block(next.indent);
        else if (next !== undefined && next.indent === indent && isSequenceItem(next.text)) value = this.sequence(indent);
        // An empty value sits where the line goes on after the colon (as the yaml reading places it).
        else value = { kind: 'scalar', value: null, position: this.position(line, offset) };
      } else if (line.text[offset] === '|' || line.text[offset] === '>') {
        value = this.blockScalar(line, offset, indent);
      } else {
        if (line.text[offset] === '#') throw GIVE_UP; // `key:#` is not a comment
        value = this.inline(line, offset);
        this.i++;
        this.noContinuation(indent);
      }
      map.entries.push({ key, keyPosition, value });
    }
    this.depth--;
    return map;
  }

  /**
   * A literal (`|`) or folded (`>`) block scalar whose header is at `offset` of `line`, in a
   * node indented `parent`; its content is read from the raw text (comment-like and blank lines
   * are content there). Moves past its lines.
   */
  private blockScalar(line: Line, offset: number, parent: number): SigmaNode {
    const text = line.text;
    const folded = text[offset] === '>';
    let at = offset + 1;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    if (text[at] === '-' || text[at] === '+') {
      chomp = text[at] === '-' ? 'strip' : 'keep';
      at++;
    }
    if (!restIsBlank(text, at) || (at < text.length && text[at] !== ' ')) throw GIVE_UP; // an indentation digit, or `|x`
    const position = this.position(line, offset);
    // The raw lines after the header.
    const source = this.source;
    let cursor = line.end + 1;
    if (line.end >= this.sourceEnd) throw GIVE_UP;
    const raw: { spaces: number; content: string; end: number }[] = [];
    let indent = -1;
    while (cursor < this.sourceEnd) {
      let stop = source.indexOf('\n', cursor);
      if (stop < 0 || stop > this.sourceEnd) stop = this.sourceEnd;
      let spaces = 0;
      while (source.charCodeAt(cursor + spaces) === 0x20 && cursor + spaces < stop) spaces++;
      const blank = cursor + spaces === stop;
      if (!blank) {
        if (indent < 0) {
          if (spaces <= parent) break;
          indent = spaces;
        } else if (spaces < indent) break;
      }
      if (stop === this.sourceEnd && !blank) throw GIVE_UP; // the last line has no line break
      raw.push({ spaces, content: blank ? '' : source.slice(cursor + indent, stop), end: stop });
      cursor = stop + 1;
    }
    if (indent < 0) throw GIVE_UP; // empty content: leave it to yaml
    // Blank lines with spaces past the indentation are content (or an error): leave those to yaml.
    if (raw.some((item) => item.content === '' && item.spaces > indent)) throw GIVE_UP;
    let last = raw.length - 1;
    while (last >= 0 && (raw[last] as { content: string }).content === '') last--;
    // Line breaks after the last content line: a blank last line without one adds none.
    const trailing = raw.slice(last + 1).filter((item) => item.end < this.sourceEnd).length;
    let value = '';
    let previous: string | undefined;
    let gap = 0;
    for (let k = 0; k <= last; k++) {
      const content = (raw[k] as { content: string }).content;
      if (content === '') {
        gap++;
        continue;
      }
      if (previous === undefined) value = '\n'.repeat(gap) + content;
      else if (!folded || previous.startsWith(' ') || content.startsWith(' ')) value += '\n'.repeat(gap + 1) + content;
      else value += (gap === 0 ? ' ' : '\n'.repeat(gap)) + content;
      previous = content;
      gap = 0;
    }
    if (chomp === 'clip') value += '\n';
    else if (chomp === 'keep') value += '\n'.repeat(trailing + 1);
    // Move past the scalar's lines.
    const endOffset = (raw[raw.length - 1] as { end: number }).end;
    this.i++;
    while (this.i < this.lines.length && (this.lines[this.i] as Line).end <= endOffset) this.i++;
    return { kind: 'scalar', value, position };
  }

  /** A plain scalar below a line would continue it: give up on those. */
  private noContinuation(indent: number): void {
    const next = this.lines[this.i];
    if (next !== undefined && next.indent > indent) throw GIVE_UP;
  }

  /** The key at the start of a mapping line, and the index after its `:`. */
  private key(line: Line): { key: string; after: number } {
    const text = line.text;
    const c = text[0] as string;
    if (c === "'" || c === '"') {
      const { value, end } = quoted(text, 0);
      let i = end;
      while (text.charCodeAt(i) === 0x20) i++;
      if (text[i] !== ':' || (i + 1 < text.length && text[i + 1] !== ' ')) throw GIVE_UP;
      if (end > 1024) throw GIVE_UP;
      return { key: value, after: i + 1 };
    }
    if (cannotStartPlain(text, 0)) throw GIVE_UP;
    const colon = keyEnd(text);
    if (colon < 0 || colon > 1024) throw GIVE_UP;
    const source = text.slice(0, colon).trimEnd();
    if (source.includes(' #')) throw GIVE_UP;
    const value = resolvePlain(source);
    return { key: value === null ? '' : String(value), after: colon + 1 };
  }

  /** A value that starts at `offset` of the line and ends on it. */
  private inline(line: Line, offset: number): SigmaNode {
    const text = line.text;
    const c = text[offset] as string;
    const position = this.position(line, offset);
    if (c === "'" || c === '"') {
      const { value, end, escaped } = quoted(text, offset);
      if (!restIsBlank(text, end)) throw GIVE_UP;
      const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
      if (!escaped) scalar.contentStart = { ...position, col: position.col + 1 };
      return scalar;
    }
    if (c === '[' || c === '{') {
      const flow = new FlowReader(text, offset, (at) => this.position(line, at), this.depth, this.maxDepth);
      const node = flow.node();
      if (!restIsBlank(text, flow.index)) throw GIVE_UP;
      return node;
    }
    if (cannotStartPlain(text, offset)) throw GIVE_UP;
    let end = text.length;
    const comment = text.indexOf(' #', offset);
    if (comment >= 0) end = comment;
    const source = text.slice(offset, end).trimEnd();
    // `a: b: c` is an error, `a: b:` a mapping key: leave both to yaml.
    if (source.includes(': ') || source.endsWith(':')) throw GIVE_UP;
    const value = resolvePlain(source);
    const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
    if (typeof value === 'string') scalar.contentStart = position;
    return scalar;
  }
}

/** `-` followed by a space or the end of the line. */
function isSequenceItem(text: string): boolean {
  return text.charCodeAt(0) === 0x2d && (text.length === 1 || text.charCodeAt(1) === 0x20);
}

/** The index of the `:` that ends a plain key (followed by a space or the end), or -1. */
function keyEnd(text: string): number {
  const c = text[0];
  if (c === '[' || c === '{') return -1; // a flow collection, not a key
  if (c === "'" || c === '"') {
    try {
      const { end } = quoted(text, 0);
      let i = end;
      while (text.charCodeAt(i) === 0x20) i++;
      return text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ') ? i : -1;
    } catch {
      return -1;
    }
  }
  let from = 0;
  for (;;) {
    const colon = text.indexOf(':', from);
    if (colon < 0) return -1;
    if (colon + 1 === text.length || text[colon + 1] === ' ') {
      const hash = text.indexOf(' #');
      return hash >= 0 && hash < colon ? -1 : colon;
    }
    from = colon + 1;
  }
}

/** One single-line flow collection, with nested ones. */
class FlowReader {
  index: number;

  constructor(
    private readonly text: string,
    start: number,
    private readonly position: (offset: number) => { file: string; line: number; col: number },
    private depth: number,
    private readonly maxDepth: number,
  ) {
    this.index = start;
  }

  private spaces(): void {
    while (this.text.charCodeAt(this.index) === 0x20) this.index++;
  }

  node(): SigmaNode {
    if (++this.depth > this.maxDepth) throw GIVE_UP;
    const open = this.text[this.index];
    const position = this.position(this.index);
    this.index++;
    const close = open === '[' ? ']' : '}';
    const items: SigmaNode[] = [];
    const map: SigmaMapNode = { kind: 'map', entries: [], position };
    const seen = new Set<string>();
    this.spaces();
    while (this.text[this.index] !== close) {
      if (this.index >= this.text.length) throw GIVE_UP; // continues on the next line
      if (open === '[') {
        items.push(this.value());
      } else {
        const keyPosition = this.position(this.index);
        const keyNode = this.scalar(true);
        const key = keyNode.value === null ? '' : String(keyNode.value);
        if (seen.has(key)) throw GIVE_UP;
        seen.add(key);
        this.spaces();
        if (this.text[this.index] !== ':' || this.text[this.index + 1] !== ' ') throw GIVE_UP;
        this.index += 2;
        this.spaces();
        if (this.text[this.index] === ',' || this.text[this.index] === '}') throw GIVE_UP; // `{a: }`
        map.entries.push({ key, keyPosition, value: this.value() });
      }
      this.spaces();
      if (this.text[this.index] === ',') {
        this.index++;
        this.spaces();
      } else if (this.text[this.index] !== close) throw GIVE_UP;
    }
    this.index++;
    this.depth--;
    return open === '[' ? { kind: 'seq', items, position } : map;
  }

  private value(): SigmaNode {
    const c = this.text[this.index];
    if (c === '[' || c === '{') return this.node();
    return this.scalar(false);
  }

  /** A flow scalar: quoted, or plain up to `,` `]` `}` (a `:` or `#` in it gives up). */
  private scalar(key: boolean): SigmaScalarNode {
    const position = this.position(this.index);
    const c = this.text[this.index] as string;
    if (c === "'" || c === '"') {
      const { value, end, escaped } = quoted(this.text, this.index);
      this.index = end;
      const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
      if (!escaped) scalar.contentStart = { ...position, col: position.col + 1 };
      return scalar;
    }
    if (INDICATORS.has(c) && (c !== '-' || this.text[this.index + 1] === ' ')) throw GIVE_UP;
    const start = this.index;
    while (this.index < this.text.length) {
      const d = this.text[this.index] as string;
      if (d === ',' || d === ']' || d === '}' || d === '[' || d === '{') break;
      if (d === ':' || d === '#') {
        if (key && d === ':' && this.text[this.index + 1] === ' ') break;
        throw GIVE_UP;
      }
      this.index++;
    }
    const source = this.text.slice(start, this.index).trimEnd();
    if (source === '') throw GIVE_UP;
    const value = resolvePlain(source);
    const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
    if (typeof value === 'string') scalar.contentStart = position;
    return scalar;
  }
}

/**
 * The lines of a document (from `start` to `end` of `text`, beginning on line `firstLine`)
 * without blank and comment-only lines; undefined when a line has a tab or a carriage return.
 */
function documentLines(text: string, start: number, end: number, firstLine: number): Line[] | undefined {
  const lines: Line[] = [];
  let line = firstLine;
  let at = start;
  while (at < end) {
    let stop = text.indexOf('\n', at);
    if (stop < 0 || stop > end) stop = end;
    let indent = 0;
    while (text.charCodeAt(at + indent) === 0x20 && at + indent < stop) indent++;
    const content = text.slice(at + indent, stop);
    if (content.includes('\t') || content.includes('\r')) return undefined;
    if (content.trim() !== '' && content[0] !== '#') lines.push({ line, indent, text: content, end: stop });
    at = stop + 1;
    line++;
  }
  return lines;
}

/**
 * The located tree of one document, read by the fast reader; null for an empty document;
 * undefined when the document needs the `yaml` library.
 */
export function readPlainYamlDocument(text: string, start: number, end: number, firstLine: number, file: string, maxDepth: number): SigmaNode | null | undefined {
  const lines = documentLines(text, start, end, firstLine);
  if (lines === undefined) return undefined;
  try {
    return new DocumentReader(lines, file, maxDepth, text, end).read();
  } catch (error) {
    if (error === GIVE_UP) return undefined;
    throw error;
  }
}

/** One document of a file: where its text starts and ends, and its first line. */
export interface DocumentSpan {
  start: number;
  end: number;
  firstLine: number;
}

/**
 * The documents of a file, split at `---` lines; undefined when the file has anything that
 * makes the split unsure (a directive, a `...` end marker, a `---` line with content, a byte
 * order mark), and the whole file is then read by the `yaml` library.
 */
export function splitYamlDocuments(text: string): DocumentSpan[] | undefined {
  if (text.charCodeAt(0) === 0xfeff) return undefined;
  const spans: DocumentSpan[] = [];
  let start = 0;
  let firstLine = 1;
  let line = 1;
  let at = 0;
  while (at <= text.length) {
    let stop = text.indexOf('\n', at);
    if (stop < 0) stop = text.length;
    const c = text.charCodeAt(at);
    if (c === 0x25) return undefined; // %YAML, %TAG
    if (c === 0x2d || c === 0x2e) {
      const head = text.slice(at, at + 3);
      if (head === '---' || head === '...') {
        const rest = text.slice(at + 3, stop);
        if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\r') {
          // `---x`: an ordinary scalar line.
        } else if (head === '...' || rest.trim() !== '' && !rest.trim().startsWith('#')) {
          return undefined;
        } else {
          spans.push({ start, end: at, firstLine });
          start = stop + 1;
          firstLine = line + 1;
        }
      }
    }
    if (stop === text.length) break;
    at = stop + 1;
    line++;
  }
  spans.push({ start: Math.min(start, text.length), end: text.length, firstLine });
  return spans;
}
