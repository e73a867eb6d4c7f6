/**
 * YAML text -> located Sigma documents. Every node keeps the `file:line:col` it came from, so
 * that any later error can point at the key or value that is wrong.
 *
 * Every YAML file trailhound reads (rules, filters, rule tests, --vars; the watch configuration
 * through src/service/config-reader.ts) is hostile input, bounded here:
 * - its size (MAX_RULE_FILE_BYTES, checked when reading: readTextFile; a file that is not a
 *   regular file, such as a FIFO or a device, is not read at all);
 * - the nodes its aliases expand to, over the whole file (MAX_YAML_ALIAS_NODES): an alias is
 *   resolved once and its subtree shared, but every use counts the nodes it stands for, so an
 *   alias bomb ("billion laughs") stops after that many nodes, with TH_RULE_LIMIT at the alias;
 * - its nesting (MAX_YAML_DEPTH levels, aliases expanded), TH_RULE_LIMIT;
 * - the YAML errors reported per document (the first MAX_YAML_ERRORS_PER_DOCUMENT).
 * Duplicate keys are found here with a set (the `yaml` library's own check is quadratic in
 * the size of a mapping), and documents are composed one at a time, so that the memory of a
 * large pack is one document's YAML model at a time. The plain YAML rule packs are written
 * in skips the library altogether (src/sigma/yaml-fast.ts: no aliases there, nor errors).
 */
import { located } from '../core/errors.ts';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ErrorCode, LocatedError } from '../core/errors.ts';
import type { SigmaMapNode, SigmaNode, SigmaScalarNode, SourcePosition } from './types.ts';
import { readPlainYamlDocument, splitYamlDocuments } from './yaml-fast.ts';

/** The largest rule, filter, tests or vars file read (bytes). */
export const MAX_RULE_FILE_BYTES = 32 * 1024 * 1024;
/** The most nodes the aliases of one YAML file may expand to. */
export const MAX_YAML_ALIAS_NODES = 100_000;
/** The deepest nesting of a YAML document (aliases expanded). */
export const MAX_YAML_DEPTH = 200;
/** YAML syntax errors reported per document; the rest are counted. */
export const MAX_YAML_ERRORS_PER_DOCUMENT = 10;

/** One YAML document of a file: its located tree (null for an empty document) and its plain value. */
export interface ParsedYamlDocument {
  tree: SigmaNode | null;
  value: unknown;
  position: SourcePosition;
}

export interface ParsedYamlFile {
  documents: ParsedYamlDocument[];
  /** TH_RULE_YAML errors (TH_RULE_LIMIT for a limit); a document with an error is left out of `documents`. */
  errors: LocatedError[];
}

/** `file:line:col`, the location format of every rule error. */
export function formatPosition(position: SourcePosition): string {
  return `${position.file}:${position.line}:${position.col}`;
}

/** The position `offset` characters into a scalar's content, when the source allows it; else the scalar's own position. */
export function positionWithin(node: SigmaNode, offset: number): SourcePosition {
  if (node.kind === 'scalar' && node.contentStart !== undefined) {
    return { ...node.contentStart, col: node.contentStart.col + offset };
  }
  return node.position;
}

/** The text of a file, or why it was not read. */
export type TextFileRead =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: 'too-large'; readonly size: number }
  | { readonly ok: false; readonly reason: 'not-a-file' };

/**
 * Read a regular file as UTF-8, at most `maxBytes` of it. A FIFO, socket or device is refused
 * without blocking on it (opened non-blocking, checked on the open descriptor); a file larger
 * than the limit is refused without being read. Rejects (ENOENT, EACCES...) like readFile.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<TextFileRead> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { ok: false, reason: 'not-a-file' };
    if (info.size > maxBytes) return { ok: false, reason: 'too-large', size: info.size };
    // Read to the end, in case the file grew since stat, but never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(Math.max(info.size - total, 0) + 1, maxBytes + 1 - total, 1 << 20) || 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) return { ok: false, reason: 'too-large', size: total };
      chunks.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
    }
    return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
  } finally {
    await handle.close();
  }
}

/** The TH_RULE_LIMIT (or `code`) error for a file over its size limit. */
export function fileTooLarge(file: string, size: number, maxBytes: number, what: string, code: ErrorCode = 'TH_RULE_LIMIT'): LocatedError {
  return located(code, `${what} is ${mebibytes(size)}, more than the limit of ${mebibytes(maxBytes)}: it is not read (split it into several files)`, file);
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** A limit of this module was reached: TH_RULE_LIMIT at `position`. */
class YamlLimit extends Error {
  constructor(message: string, readonly position: SourcePosition) {
    super(message);
  }
}

interface Converted {
  node: SigmaNode;
  /** Nodes in the tree with every alias expanded. */
  size: number;
  /** Levels below the node (0 for a scalar), aliases expanded. */
  height: number;
}

/** Alias expansion budget of one file. */
interface Budget {
  aliasNodes: number;
}

/**
 * One document's YAML nodes -> the located tree. Anchors are recorded as the walk meets them
 * (document order: an alias names the last anchor before it), each anchored subtree is
 * converted once, and an alias shares it.
 */
class Converter {
  private readonly anchors = new Map<string, YamlNode>();
  private readonly done = new Map<YamlNode, Converted>();

  constructor(
    private readonly text: string,
    private readonly at: (offset: number) => SourcePosition,
    private readonly budget: Budget,
  ) {}

  convert(node: YamlNode | null | undefined, depth: number): Converted {
    if (node === null || node === undefined) return { node: { kind: 'scalar', value: null, position: this.at(0) }, size: 1, height: 0 };
    const position = node.range ? this.at(node.range[0]) : this.at(0);
    if (depth > MAX_YAML_DEPTH) throw new YamlLimit(`the document is nested more than ${MAX_YAML_DEPTH} levels deep`, position);
    if (isAlias(node)) return this.alias(node, position, depth);
    if (node.anchor !== undefined && node.anchor !== null) this.anchors.set(node.anchor, node);
    const converted = this.convertNode(node, position, depth);
    if (node.anchor !== undefined && node.anchor !== null) this.done.set(node, converted);
    return converted;
  }

  private alias(node: YamlNode & { source: string }, position: SourcePosition, depth: number): Converted {
    const target = this.anchors.get(node.source);
    if (target === undefined) throw new Error(`the alias *${node.source} names no anchor before it`);
    const converted = this.done.get(target);
    if (converted === undefined) throw new Error(`the alias *${node.source} is inside the node it names`);
    this.budget.aliasNodes += converted.size;
    if (this.budget.aliasNodes > MAX_YAML_ALIAS_NODES) {
      throw new YamlLimit(`YAML aliases in this file expand to more than ${MAX_YAML_ALIAS_NODES} nodes (an alias bomb?): the document is not loaded; use fewer aliases`, position);
    }
    if (depth + converted.height > MAX_YAML_DEPTH) throw new YamlLimit(`the document is nested more than ${MAX_YAML_DEPTH} levels deep (aliases expanded)`, position);
    return { ...converted, node: { ...converted.node, position } };
  }

  private key(keyNode: YamlNode | null | undefined): YamlNode | null | undefined {
    if (keyNode === null || keyNode === undefined || !isAlias(keyNode)) return keyNode;
    const target = this.anchors.get(keyNode.source);
    return target !== undefined && isScalar(target) ? target : keyNode;
  }

  private convertNode(node: YamlNode, position: SourcePosition, depth: number): Converted {
    if (isMap(node)) {
      const map: SigmaMapNode = { kind: 'map', entries: [], position };
      const seen = new Set<string>();
      let size = 1;
      let height = 0;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = this.key(pair.key as YamlNode | null);
        let key: string;
        let keyPosition = position;
        if (keyNode !== null && keyNode !== undefined && isScalar(keyNode)) {
          key = keyNode.value === null ? '' : String(keyNode.value);
          if (keyNode === pair.key && keyNode.anchor !== undefined && keyNode.anchor !== null) {
            this.anchors.set(keyNode.anchor, keyNode);
            this.done.set(keyNode, this.convertNode(keyNode, this.at(keyNode.range?.[0] ?? 0), depth + 1));
          }
          if ((pair.key as YamlNode).range) keyPosition = this.at((pair.key as YamlNode).range?.[0] ?? 0);
        } else if (keyNode === null || keyNode === undefined) {
          key = '';
        } else {
          throw new Error('a mapping key must be a plain value, not a list or a mapping');
        }
        if (seen.has(key)) throw new DuplicateKey(keyPosition);
        seen.add(key);
        const valueNode = pair.value as YamlNode | null;
        const value = valueNode === null || valueNode === undefined
          ? { node: { kind: 'scalar', value: null, position: keyPosition } satisfies SigmaScalarNode, size: 1, height: 0 }
          : this.convert(valueNode, depth + 1);
        map.entries.push({ key, keyPosition, value: value.node });
        size += value.size + 1;
        if (value.height + 1 > height) height = value.height + 1;
      }
      return { node: map, size, height };
    }
    if (isSeq(node)) {
      const items: SigmaNode[] = [];
      let size = 1;
      let height = 0;
      for (const item of node.items) {
        const converted = this.convert(item as YamlNode, depth + 1);
        items.push(converted.node);
        size += converted.size;
        if (converted.height + 1 > height) height = converted.height + 1;
      }
      return { node: { kind: 'seq', items, position }, size, height };
    }
    if (isScalar(node)) {
      const raw = node.value;
      let value: string | number | boolean | null;
      if (raw === null || raw === undefined) value = null;
      else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') value = raw;
      else if (typeof raw === 'bigint') value = raw.toString();
      else value = String(raw);
      if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && node.range) {
        // Values compare by their string form: keep every digit of a large integer.
        const source = this.text.slice(node.range[0], node.range[1]);
        if (/^-?\d+$/.test(source)) value = source;
      }
      const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
      if (typeof value === 'string' && node.range) {
        const source = this.text.slice(node.range[0], node.range[1]);
        if (!source.includes('\n')) {
          if (node.type === 'PLAIN' && source === value) scalar.contentStart = position;
          else if ((node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') && source.slice(1, -1) === value) {
            scalar.contentStart = { ...position, col: position.col + 1 };
          }
        }
      }
      return { node: scalar, size: 1, height: 0 };
    }
    throw new Error('unsupported YAML node');
  }
}

/** A key given twice in one mapping (the YAML error the library reports with uniqueKeys). */
class DuplicateKey extends Error {
  constructor(readonly position: SourcePosition) {
    super('Map keys must be unique');
  }
}

/** The plain JavaScript value of a located tree (every alias expanded: bounded by the budget). */
export function nodeToPlain(node: SigmaNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(nodeToPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) {
        const value = nodeToPlain(entry.value);
        if (entry.key === '__proto__') Object.defineProperty(out, entry.key, { value, enumerable: true, writable: true, configurable: true });
        else out[entry.key] = value;
      }
      return out;
    }
  }
}

/**
 * Parse every document of a YAML file (`---` separated), within the limits above. Never throws.
 * Documents in the plain YAML of rule packs are read by src/sigma/yaml-fast.ts; any other by
 * the `yaml` library (the same tree either way).
 */
export function parseYamlFile(text: string, file: string): ParsedYamlFile {
  const errors: LocatedError[] = [];
  const documents: ParsedYamlDocument[] = [];
  if (text.length > MAX_RULE_FILE_BYTES) {
    errors.push(fileTooLarge(formatPosition({ file, line: 1, col: 1 }), text.length, MAX_RULE_FILE_BYTES, 'the file'));
    return { documents, errors };
  }
  const budget: Budget = { aliasNodes: 0 };
  const spans = splitYamlDocuments(text);
  if (spans === undefined) {
    parseWithYaml(text, file, 0, budget, documents, errors);
    return { documents, errors };
  }
  for (const span of spans) {
    const tree = readPlainYamlDocument(text, span.start, span.end, span.firstLine, file, MAX_YAML_DEPTH);
    if (tree === null) continue;
    if (tree !== undefined) documents.push({ tree, value: nodeToPlain(tree), position: tree.position });
    else parseWithYaml(text.slice(span.start, span.end), file, span.firstLine - 1, budget, documents, errors);
  }
  return { documents, errors };
}

/** parseYamlFile, every document through the `yaml` library: what the tests compare the fast reader with. */
export function parseYamlFileWithLibrary(text: string, file: string): ParsedYamlFile {
  const result: ParsedYamlFile = { documents: [], errors: [] };
  parseWithYaml(text, file, 0, { aliasNodes: 0 }, result.documents, result.errors);
  return result;
}

/** The documents of `text` (lines counted from `lineOffset` + 1) through the `yaml` library. */
function parseWithYaml(text: string, file: string, lineOffset: number, budget: Budget, documents: ParsedYamlDocument[], errors: LocatedError[]): void {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line: line + lineOffset, col };
  };
  const onDocument = (doc: Document.Parsed): void => {
    const start = at(doc.range[0]);
    if (doc.errors.length > 0) {
      for (const error of doc.errors.slice(0, MAX_YAML_ERRORS_PER_DOCUMENT)) {
        const position = at(error.pos[0]);
        const message = error.message.split('\n')[0] ?? error.message;
        errors.push(error.code === 'RESOURCE_EXHAUSTION'
          ? located('TH_RULE_LIMIT', `the document is too large or nested too deeply for the YAML parser: ${message}`, formatPosition(position))
          : located('TH_RULE_YAML', `invalid YAML: ${message}`, formatPosition(position)));
      }
      const more = doc.errors.length - MAX_YAML_ERRORS_PER_DOCUMENT;
      if (more > 0) errors.push(located('TH_RULE_YAML', `invalid YAML: ${more} more errors in this document`, formatPosition(start)));
      return;
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null && contents.range[0] === contents.range[1])) {
      documents.push({ tree: null, value: null, position: start });
      return;
    }
    try {
      const { node: tree } = new Converter(text, at, budget).convert(contents, 0);
      documents.push({ tree, value: nodeToPlain(tree), position: tree.position });
    } catch (error) {
      if (error instanceof YamlLimit) errors.push(located('TH_RULE_LIMIT', error.message, formatPosition(error.position)));
      else if (error instanceof DuplicateKey) errors.push(located('TH_RULE_YAML', `invalid YAML: ${error.message}`, formatPosition(error.position)));
      else errors.push(located('TH_RULE_YAML', `invalid YAML: ${error instanceof Error ? error.message : String(error)}`, formatPosition(start)));
    }
  };
  try {
    withPlainEnv(() => {
      // One document at a time: each is converted, then its YAML model can go.
      const parser = new Parser(lineCounter.addNewLine);
      const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
      for (const doc of composer.compose(parser.parse(text))) onDocument(doc);
    });
  } catch (error) {
    errors.push(located('TH_RULE_YAML', `cannot parse YAML: ${String(error)}`, formatPosition({ file, line: lineOffset + 1, col: 1 })));
  }
}

/**
 * Run `work` (synchronous) with `process.env` replaced by a plain copy of it, restored after.
 * The `yaml` parser reads `process.env.LOG_TOKENS` for every token, and Node's real
 * `process.env` answers each read through the C library: a third of the parse time of a large
 * pack. Nothing else runs meanwhile (the work is synchronous), and the copy has the same values.
 */
export function withPlainEnv<T>(work: () => T): T {
  const real = process.env;
  try {
    process.env = { ...real };
  } catch {
    return work();
  }
  try {
    return work();
  } finally {
    process.env = real;
  }
}

/** The entry of a mapping node with the given key. */
export function mapEntry(map: SigmaMapNode, key: string): SigmaMapNode['entries'][number] | undefined {
  return map.entries.find((entry) => entry.key === key);
}

/**
 * A located tree for a plain JavaScript value (all nodes at `position`), for callers that only
 * hold the parsed value.
 */
export function plainToNode(value: unknown, position: SourcePosition, depth = 0): SigmaNode {
  if (depth > MAX_YAML_DEPTH) return { kind: 'scalar', value: null, position };
  if (Array.isArray(value)) return { kind: 'seq', items: value.map((item: unknown) => plainToNode(item, position, depth + 1)), position };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'map',
      entries: Object.entries(value as Record<string, unknown>).map(([key, item]) => ({ key, keyPosition: position, value: plainToNode(item, position, depth + 1) })),
      position,
    };
  }
  if (value === undefined || value === null) return { kind: 'scalar', value: null, position };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', value, position };
  return { kind: 'scalar', value: String(value), position };
}

/** True for a node built by this module (or shaped like one). */
export function isSigmaNode(value: unknown): value is SigmaNode {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as { kind?: unknown; position?: unknown };
  return (candidate.kind === 'map' || candidate.kind === 'seq' || candidate.kind === 'scalar')
    && typeof candidate.position === 'object' && candidate.position !== null;
}
