/**
 * Reading a YAML configuration with located errors: every value read through a ConfigReader
 * knows its `file:line:col`, and every problem (wrong type, unknown key, missing key) is
 * collected as a TH_CONFIG error there, so that `config check` reports all of them at once.
 */
import { located } from '../core/errors.ts';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { LocatedError } from '../core/errors.ts';

export class ConfigReader {
  readonly file: string;
  readonly errors: LocatedError[] = [];
  private readonly lines: LineCounter;
  private readonly env: NodeJS.ProcessEnv;

  constructor(file: string, lines: LineCounter, env: NodeJS.ProcessEnv) {
    this.file = file;
    this.lines = lines;
    this.env = env;
  }

  /** Parses the text; YAML syntax errors are collected. Returns the root node. */
  static parse(text: string, file: string, env: NodeJS.ProcessEnv): { reader: ConfigReader; root: YamlNode | null } {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const reader = new ConfigReader(file, lines, env);
    for (const error of document.errors) {
      reader.errors.push(located('TH_CONFIG', `invalid YAML: ${error.message.split('\n')[0] ?? ''}`, reader.at(error.pos[0])));
    }
    return { reader, root: document.errors.length > 0 ? null : (document.contents as YamlNode | null) };
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
  mapping(node: YamlNode | null | undefined, what: string, allowed: readonly string[] | 'any'): Map<string, YamlNode | null> | undefined {
    if (!isMap(node)) {
      this.error(node, `${what} must be a mapping (key: value)`);
      return undefined;
    }
    const entries = new Map<string, YamlNode | null>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) {
        this.error(keyNode, `${what}: keys must be plain names`);
        continue;
      }
      if (allowed !== 'any' && !allowed.includes(key)) {
        const close = allowed.find((candidate) => similar(candidate, key));
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

  sequence(node: YamlNode | null | undefined, what: string): (YamlNode | null)[] | undefined {
    if (!isSeq(node)) {
      this.error(node, `${what} must be a list`);
      return undefined;
    }
    return node.items as (YamlNode | null)[];
  }

  /** A string value, with `${NAME}` and `${NAME:-default}` taken from the environment. */
  string(node: YamlNode | null | undefined, what: string): string | undefined {
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

  strings(node: YamlNode | null | undefined, what: string): string[] | undefined {
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

  boolean(node: YamlNode | null | undefined, what: string): boolean | undefined {
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.error(node, `${what} must be true or false`);
      return undefined;
    }
    return node.value;
  }

  integer(node: YamlNode | null | undefined, what: string, min: number, max: number): number | undefined {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value) || node.value < min || node.value > max) {
      this.error(node, `${what} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return node.value;
  }

  /** A duration: `90s`, `15m`, `2h`, `7d`, or a number of seconds. Returns ms. */
  duration(node: YamlNode | null | undefined, what: string, minMs: number, maxMs: number): number | undefined {
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

/** Close enough to be a typo: one edit apart, or the same letters ignoring case, '-' and '_'. */
function similar(a: string, b: string): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  if (norm(a) === norm(b)) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1);
}
