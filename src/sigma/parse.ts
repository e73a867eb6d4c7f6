/**
 * YAML text -> located Sigma documents. Every node keeps the `file:line:col` it came from, so
 * that any later error can point at the key or value that is wrong.
 */
import { located } from '../core/errors.ts';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { LocatedError } from '../core/errors.ts';
import type { SigmaMapNode, SigmaNode, SigmaScalarNode, SourcePosition } from './types.ts';

/** One YAML document of a file: its located tree (null for an empty document) and its plain value. */
export interface ParsedYamlDocument {
  tree: SigmaNode | null;
  value: unknown;
  position: SourcePosition;
}

export interface ParsedYamlFile {
  documents: ParsedYamlDocument[];
  /** TH_RULE_YAML errors; a document with a YAML error is left out of `documents`. */
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

/** Parse every document of a YAML file (`---` separated). Never throws. */
export function parseYamlFile(text: string, file: string): ParsedYamlFile {
  const lineCounter = new LineCounter();
  const errors: LocatedError[] = [];
  const documents: ParsedYamlDocument[] = [];
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    errors.push(located('TH_RULE_YAML', `cannot parse YAML: ${String(error)}`, formatPosition({ file, line: 1, col: 1 })));
    return { documents, errors };
  }
  for (const doc of docs) {
    const start = at(doc.range[0]);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const position = at(error.pos[0]);
        const message = error.message.split('\n')[0] ?? error.message;
        errors.push(located('TH_RULE_YAML', `invalid YAML: ${message}`, formatPosition(position)));
      }
      continue;
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null && contents.range[0] === contents.range[1])) {
      documents.push({ tree: null, value: null, position: start });
      continue;
    }
    try {
      const tree = convert(contents, doc, text, at, 0);
      documents.push({ tree, value: doc.toJS({ maxAliasCount: 1000 }) as unknown, position: tree.position });
    } catch (error) {
      errors.push(located('TH_RULE_YAML', `invalid YAML: ${error instanceof Error ? error.message : String(error)}`, formatPosition(start)));
    }
  }
  return { documents, errors };
}

const MAX_DEPTH = 200;

function convert(node: YamlNode | null | undefined, doc: Document.Parsed, text: string, at: (offset: number) => SourcePosition, depth: number): SigmaNode {
  if (depth > MAX_DEPTH) throw new Error('nesting too deep');
  if (node === null || node === undefined) {
    return { kind: 'scalar', value: null, position: at(0) };
  }
  if (isAlias(node)) {
    const target = node.resolve(doc);
    const converted = convert(target ?? null, doc, text, at, depth + 1);
    const position = node.range ? at(node.range[0]) : converted.position;
    return { ...converted, position };
  }
  const position = node.range ? at(node.range[0]) : at(0);
  if (isMap(node)) {
    const map: SigmaMapNode = { kind: 'map', entries: [], position };
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      let key: string;
      let keyPosition = position;
      if (keyNode !== null && keyNode !== undefined && isScalar(keyNode)) {
        key = keyNode.value === null ? '' : String(keyNode.value);
        if (keyNode.range) keyPosition = at(keyNode.range[0]);
      } else if (keyNode === null || keyNode === undefined) {
        key = '';
      } else {
        throw new Error('a mapping key must be a plain value, not a list or a mapping');
      }
      const valueNode = pair.value as YamlNode | null;
      const value = valueNode === null || valueNode === undefined
        ? ({ kind: 'scalar', value: null, position: keyPosition } satisfies SigmaScalarNode)
        : convert(valueNode, doc, text, at, depth + 1);
      map.entries.push({ key, keyPosition, value });
    }
    return map;
  }
  if (isSeq(node)) {
    return { kind: 'seq', items: node.items.map((item) => convert(item as YamlNode, doc, text, at, depth + 1)), position };
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
      const source = text.slice(node.range[0], node.range[1]);
      if (/^-?\d+$/.test(source)) value = source;
    }
    const scalar: SigmaScalarNode = { kind: 'scalar', value, position };
    if (typeof value === 'string' && node.range) {
      const source = text.slice(node.range[0], node.range[1]);
      if (!source.includes('\n')) {
        if (node.type === 'PLAIN' && source === value) scalar.contentStart = position;
        else if ((node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') && source.slice(1, -1) === value) {
          scalar.contentStart = { ...position, col: position.col + 1 };
        }
      }
    }
    return scalar;
  }
  throw new Error('unsupported YAML node');
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
  if (depth > MAX_DEPTH) return { kind: 'scalar', value: null, position };
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
