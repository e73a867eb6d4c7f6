/**
 * Reading a YAML configuration with located errors: every value read through a ConfigReader
 * knows its `file:line:col`, and every problem (wrong type, unknown key, missing key) is
 * collected as a TH_CONFIG error there, so that `config check` reports all of them at once.
 *
 * The configuration is hostile input like a rule file, with the same bounds (src/sigma/parse.ts):
 * at most MAX_CONFIG_FILE_BYTES, aliases (`sources: *shared`) resolved but expanding to at most
 * MAX_YAML_ALIAS_NODES nodes over the file, the first MAX_YAML_ERRORS_PER_DOCUMENT YAML
 * errors; all TH_CONFIG. Duplicate keys are found by `mapping` (not by the `yaml` library, whose
 * check is quadratic in the size of a mapping).
 */
import { located } from '../core/errors.ts';
import { isTypoOf } from '../core/did-you-mean.ts';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { LocatedError } from '../core/errors.ts';
import { MAX_YAML_ALIAS_NODES, MAX_YAML_ERRORS_PER_DOCUMENT, withPlainEnv } from '../sigma/parse.ts';

/** The largest watch configuration read (bytes). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Each alias of a document and the node it names (the last anchor of that name before it). */
function resolveAliases(document: Document.Parsed): Map<YamlNode, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<YamlNode, YamlNode>();
  visit(document, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (typeof node.anchor === 'string' && node.anchor !== '') {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

export class ConfigReader {
  readonly file: string;
  readonly errors: LocatedError[] = [];
  private readonly lines: LineCounter;
  private readonly env: NodeJS.ProcessEnv;
  private aliases = new Map<YamlNode, YamlNode>();
  private readonly sizes = new Map<YamlNode, number>();
  private aliasNodes = 0;
  private aliasLimitReported = false;

  constructor(file: string, lines: LineCounter, env: NodeJS.ProcessEnv) {
    this.file = file;
    this.lines = lines;
    this.env = env;
  }

  /** Parses the text; YAML syntax errors are collected. Returns the root node. */
  static parse(text: string, file: string, env: NodeJS.ProcessEnv): { reader: ConfigReader; root: YamlNode | null } {
    const lines = new LineCounter();
    const reader = new ConfigReader(file, lines, env);
    if (text.length > MAX_CONFIG_FILE_BYTES) {
      reader.errors.push(located('TH_CONFIG', `the configuration is ${text.length} characters, more than the limit of ${MAX_CONFIG_FILE_BYTES} bytes: it is not read`, file));
      return { reader, root: null };
    }
    const document = withPlainEnv(() => parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false }));
    for (const error of document.errors.slice(0, MAX_YAML_ERRORS_PER_DOCUMENT)) {
      reader.errors.push(located('TH_CONFIG', `invalid YAML: ${error.message.split('\n')[0] ?? ''}`, reader.at(error.pos[0])));
    }
    if (document.errors.length > MAX_YAML_ERRORS_PER_DOCUMENT) {
      reader.errors.push(located('TH_CONFIG', `invalid YAML: ${document.errors.length - MAX_YAML_ERRORS_PER_DOCUMENT} more errors`, file));
    }
    if (document.errors.length > 0) return { reader, root: null };
    reader.aliases = resolveAliases(document);
    return { reader, root: reader.deref(document.contents as YamlNode | null) ?? null };
  }

  /** Nodes under `node`, its aliases expanded (an alias inside the node it names counts as one). */
  private sizeOf(node: YamlNode | null | undefined, open: Set<YamlNode> = new Set()): number {
    if (node === null || node === undefined) return 1;
    const target = isAlias(node) ? this.aliases.get(node) : node;
    if (target === undefined || open.has(target)) return 1;
    const known = this.sizes.get(target);
    if (known !== undefined) return known;
    open.add(target);
    let size = 1;
    if (isMap(target)) for (const pair of target.items) size += this.sizeOf(pair.key as YamlNode | null, open) + this.sizeOf(pair.value as YamlNode | null, open);
    else if (isSeq(target)) for (const item of target.items) size += this.sizeOf(item as YamlNode | null, open);
    open.delete(target);
    this.sizes.set(target, size);
    return size;
  }

  /**
   * The node an alias names (the node itself otherwise). Every use of an alias counts the nodes
   * it stands for; past MAX_YAML_ALIAS_NODES over the file, aliases read as nothing and one
   * TH_CONFIG error says why.
   */
  private deref(node: YamlNode | null | undefined): YamlNode | null | undefined {
    if (node === null || node === undefined || !isAlias(node)) return node;
    const target = this.aliases.get(node);
    if (target === undefined) return node;
    this.aliasNodes += this.sizeOf(target);
    if (this.aliasNodes > MAX_YAML_ALIAS_NODES) {
      if (!this.aliasLimitReported) {
        this.aliasLimitReported = true;
        this.error(node, `YAML aliases in this file expand to more than ${MAX_YAML_ALIAS_NODES} nodes (an alias bomb?): use fewer aliases`);
      }
      return null;
    }
    return target;
  }

  at(offset: number | undefined): string {
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  locate(node: YamlNode | null | undefined): string {
    return this.at(node?.range?.[0]);
  }

  error(node: YamlNode | null | undefined, message: string): void {
    this.errors.push(located('TH_CONFIG', message, this.locate(node)));
  }

  /** The entries of a mapping, checking keys against `allowed` ('any': free keys); undefined (and an error) when not a mapping. */
  mapping(aliasOrNode: YamlNode | null | undefined, what: string, allowed: readonly string[] | 'any'): Map<string, YamlNode | null> | undefined {
    const node = this.deref(aliasOrNode);
    if (!isMap(node)) {
      this.error(node, `${what} must be a mapping (key: value)`);
      return undefined;
    }
    const entries = new Map<string, YamlNode | null>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = this.deref(pair.key as YamlNode | null);
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) {
        this.error(keyNode, `${what}: keys must be plain names`);
        continue;
      }
      if (allowed !== 'any' && !allowed.includes(key)) {
        const close = allowed.find((candidate) => isTypoOf(candidate, key));
        this.error(keyNode, `${what}: unknown key '${key}'${close === undefined ? `; expected one of: ${allowed.join(', ')}` : ` (did you mean '${close}'?)`}`);
        continue;
      }
      if (entries.has(key)) {
        this.error(keyNode, `${what}: '${key}' is given twice`);
        continue;
      }
      entries.set(key, (pair.value as YamlNode | null) ?? null);
    }
    return entries;
  }

  sequence(aliasOrNode: YamlNode | null | undefined, what: string): (YamlNode | null)[] | undefined {
    const node = this.deref(aliasOrNode);
    if (!isSeq(node)) {
      this.error(node, `${what} must be a list`);
      return undefined;
    }
    return node.items as (YamlNode | null)[];
  }

  /** A string value, with `${NAME}` and `${NAME:-default}` taken from the environment. */
  string(aliasOrNode: YamlNode | null | undefined, what: string): string | undefined {
    const node = this.deref(aliasOrNode);
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number') || (typeof node.value === 'string' && node.value === '')) {
      this.error(node, `${what} must be a non-empty string`);
      return undefined;
    }
    let missing: string | undefined;
    const value = String(node.value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
      const found = this.env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      missing ??= name;
      return '';
    });
    if (missing !== undefined) {
      this.error(node, `${what}: the environment variable ${missing} is not set`);
      return undefined;
    }
    return value;
  }

  strings(aliasOrNode: YamlNode | null | undefined, what: string): string[] | undefined {
    const node = this.deref(aliasOrNode);
    if (isScalar(node)) {
      const one = this.string(node, what);
      return one === undefined ? undefined : [one];
    }
    const items = this.sequence(node, what);
    if (items === undefined) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const value = this.string(item, `${what} entries`);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  boolean(aliasOrNode: YamlNode | null | undefined, what: string): boolean | undefined {
    const node = this.deref(aliasOrNode);
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.error(node, `${what} must be true or false`);
      return undefined;
    }
    return node.value;
  }

  integer(aliasOrNode: YamlNode | null | undefined, what: string, min: number, max: number): number | undefined {
    const node = this.deref(aliasOrNode);
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value) || node.value < min || node.value > max) {
      this.error(node, `${what} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return node.value;
  }

  /** A duration: `90s`, `15m`, `2h`, `7d`, or a number of seconds. Returns ms. */
  duration(aliasOrNode: YamlNode | null | undefined, what: string, minMs: number, maxMs: number): number | undefined {
    const node = this.deref(aliasOrNode);
    let ms: number | undefined;
    if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value)) ms = node.value * 1000;
    if (isScalar(node) && typeof node.value === 'string') {
      const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(node.value.trim());
      if (match !== null) ms = Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const)[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    }
    if (ms === undefined || ms < minMs || ms > maxMs) {
      this.error(node, `${what} must be a duration from ${formatMs(minMs)} to ${formatMs(maxMs)} (e.g. 30s, 15m, 2h, 7d)`);
      return undefined;
    }
    return ms;
  }
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

