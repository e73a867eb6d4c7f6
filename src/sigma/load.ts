/**
 * Loading rule files: every YAML document of a file is a detection rule (`detection:`), a
 * correlation (`correlation:`) or a filter (`filter:`). Detection rules are compiled here;
 * correlations and filters are handed on as located raw documents. A document that fails gives
 * located errors and every other document still loads. Nothing here throws.
 */
import { located } from '../core/errors.ts';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocatedError } from '../core/errors.ts';
import { compileDetectionSection } from './compile.ts';
import { readDocumentMeta, readLogSource, readStringList } from './meta.ts';
import { fileTooLarge, formatPosition, mapEntry, MAX_RULE_FILE_BYTES, parseYamlFile, readTextFile } from './parse.ts';
import type { CompileOptions, CompiledDetectionRule, RawSigmaDocument, RuleLoadResult, SigmaMapNode } from './types.ts';

function compileRuleDocument(tree: SigmaMapNode, value: Readonly<Record<string, unknown>>, file: string, options: CompileOptions, errors: LocatedError[]): CompiledDetectionRule | undefined {
  const own: LocatedError[] = [];
  const meta = readDocumentMeta(tree, own);
  const logsource = readLogSource(tree, own);
  const fields = readStringList(tree, 'fields', own);
  const detection = mapEntry(tree, 'detection');
  const compiled = detection === undefined ? undefined : compileDetectionSection(detection.value, file, options);
  if (Array.isArray(compiled)) own.push(...compiled);
  if (own.length > 0 || meta === undefined || logsource === undefined || compiled === undefined || Array.isArray(compiled)) {
    errors.push(...own);
    return undefined;
  }
  return {
    ...meta,
    kind: 'detection',
    logsource,
    match: compiled.match,
    requiredValues: compiled.requiredValues,
    requiredSubstrings: compiled.requiredSubstrings,
    requiredCidrs: compiled.requiredCidrs,
    fields,
    source: value,
  };
}

/** Load every document of one rule file's text. Never throws. */
export function loadRuleText(text: string, file: string, options: CompileOptions = {}): RuleLoadResult {
  const result: RuleLoadResult = { rules: [], otherDocuments: [], errors: [] };
  let parsed;
  try {
    parsed = parseYamlFile(text, file);
  } catch (error) {
    result.errors.push(located('TH_RULE_YAML', `cannot parse YAML: ${String(error)}`, `${file}:1:1`));
    return result;
  }
  result.errors.push(...parsed.errors);
  for (const document of parsed.documents) {
    const tree = document.tree;
    if (tree === null) continue;
    try {
      if (tree.kind !== 'map') {
        result.errors.push(located('TH_RULE_SCHEMA', 'a Sigma document must be a mapping (title, id, logsource, detection...)', formatPosition(tree.position)));
        continue;
      }
      const value = document.value as Readonly<Record<string, unknown>>;
      if (mapEntry(tree, 'action') !== undefined) {
        const entry = mapEntry(tree, 'action');
        result.errors.push(located('TH_RULE_UNSUPPORTED', "Sigma 1.0 rule collections ('action: global', 'reset', 'repeat') are not supported: write each rule as a complete document", formatPosition(entry ? entry.keyPosition : tree.position)));
        continue;
      }
      const kind = mapEntry(tree, 'correlation') !== undefined ? 'correlation' : mapEntry(tree, 'filter') !== undefined ? 'filter' : undefined;
      if (kind !== undefined) {
        const raw: RawSigmaDocument = { kind, body: value, position: tree.position, tree };
        result.otherDocuments.push(raw);
        continue;
      }
      if (mapEntry(tree, 'detection') === undefined) {
        result.errors.push(located('TH_RULE_SCHEMA', "the document has no 'detection', 'correlation' or 'filter' section", formatPosition(tree.position)));
        continue;
      }
      const rule = compileRuleDocument(tree, value, file, options, result.errors);
      if (rule !== undefined) result.rules.push(rule);
    } catch (error) {
      // A bug must not take the other documents down with it.
      result.errors.push(located('TH_RULE_SCHEMA', `internal error while compiling this document: ${error instanceof Error ? error.message : String(error)}`, formatPosition(tree.position)));
    }
  }
  return result;
}

function isRuleFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return (lower.endsWith('.yml') || lower.endsWith('.yaml')) && !lower.endsWith('.tests.yml') && !lower.endsWith('.tests.yaml');
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readError(error: unknown, what: string, location: string): LocatedError {
  return located('TH_RULE_READ', `cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, location);
}

async function collectFiles(path: string, files: string[], errors: LocatedError[], visited: Set<string>, named: boolean): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    errors.push(readError(error, 'rule path', path));
    return;
  }
  if (!info.isDirectory()) {
    const name = path.split(/[\\/]/).pop() ?? path;
    if (named ? !/\.tests\.ya?ml$/i.test(name) : isRuleFileName(name)) files.push(path);
    return;
  }
  const identity = `${info.dev}:${info.ino}`;
  if (visited.has(identity)) return;
  visited.add(identity);
  let names: string[];
  try {
    names = (await readdir(path)).sort(byCodeUnits);
  } catch (error) {
    errors.push(readError(error, 'rule folder', path));
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue; // .git and other hidden folders hold no rules
    await collectFiles(join(path, name), files, errors, visited, false);
  }
}

/**
 * Load rule files and folders (recursively; `.yml`/`.yaml`, never `*.tests.yml`, which hold
 * rule tests). Folders are read in sorted order, so the result is deterministic. A file named
 * directly is loaded whatever its extension. A file over MAX_RULE_FILE_BYTES is refused
 * (TH_RULE_LIMIT), one that is not a regular file is not read (TH_RULE_READ). Never rejects.
 */
/** Rule files read ahead of the one being compiled. */
const READ_AHEAD = 16;

/** The rule files as one load read them, in load order: another load (a scan worker) compiles the same texts without reading. */
export type RuleTexts = readonly (readonly [file: string, text: string])[];

export interface RuleReadOptions {
  /** Told of each rule file's text as it is read (in load order). */
  onText?: (file: string, text: string) => void;
  /** The files and texts to compile instead of reading `paths` (their load errors were reported by whoever read them). */
  texts?: RuleTexts;
}

export async function loadRulePaths(paths: string[], options: CompileOptions = {}, via: RuleReadOptions = {}): Promise<RuleLoadResult> {
  const result: RuleLoadResult = { rules: [], otherDocuments: [], errors: [] };
  if (via.texts !== undefined) {
    // Compiled and reported once already: regular expressions wait for their first test.
    const deferred = { ...options, deferRegex: true };
    for (const [file, text] of via.texts) {
      const loaded = loadRuleText(text, file, deferred);
      result.rules.push(...loaded.rules);
      result.otherDocuments.push(...loaded.otherDocuments);
      result.errors.push(...loaded.errors);
    }
    return result;
  }
  const files: string[] = [];
  const visited = new Set<string>();
  for (const path of paths) await collectFiles(path, files, result.errors, visited, true);
  // Read ahead, a bounded number of files at a time (each read is four round trips to the file
  // system's thread pool: one after the other, a pack of small files waits more than it works);
  // compiled in order, so errors and rules come out as before.
  const reads = new Map<number, ReturnType<typeof readTextFile>>();
  let started = 0;
  const readAhead = (upTo: number): void => {
    for (; started < Math.min(files.length, upTo); started++) {
      const pending = readTextFile(files[started] as string, MAX_RULE_FILE_BYTES);
      pending.catch(() => undefined);
      reads.set(started, pending);
    }
  };
  for (let index = 0; index < files.length; index++) {
    const file = files[index] as string;
    readAhead(index + READ_AHEAD);
    const reading = reads.get(index) as ReturnType<typeof readTextFile>;
    reads.delete(index);
    let text: string;
    try {
      const read = await reading;
      if (!read.ok) {
        result.errors.push(read.reason === 'too-large'
          ? fileTooLarge(file, read.size, MAX_RULE_FILE_BYTES, 'the rule file')
          : located('TH_RULE_READ', 'cannot read rule file: not a regular file (a FIFO, socket or device is not read)', file));
        continue;
      }
      text = read.text;
    } catch (error) {
      result.errors.push(readError(error, 'rule file', file));
      continue;
    }
    via.onText?.(file, text);
    const loaded = loadRuleText(text, file, options);
    result.rules.push(...loaded.rules);
    result.otherDocuments.push(...loaded.otherDocuments);
    result.errors.push(...loaded.errors);
  }
  return result;
}
