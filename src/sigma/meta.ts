/**
 * Rule metadata (title, id, level, tags...) read from a located document and checked against
 * the Sigma detection-rule schema. Differences from the specification, by design:
 * - `id` is required (the specification makes it optional): trailhound keys alerts, filters
 *   and correlations on it. It must be a UUID.
 * - `level` is optional as in the specification and defaults to `medium`.
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { formatPosition, mapEntry } from './parse.ts';
import { SIGMA_LEVELS } from '../core/levels.ts';
import type { SigmaDocumentMeta, SigmaLogSource, SigmaMapNode, SigmaNode } from './types.ts';
import type { SigmaLevel } from '../core/levels.ts';

export const DEFAULT_LEVEL: SigmaLevel = 'medium';

export const SIGMA_STATUSES: readonly string[] = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function schemaError(errors: LocatedError[], message: string, node: { position: SigmaNode['position'] }): void {
  errors.push(located('TH_RULE_SCHEMA', message, formatPosition(node.position)));
}

/** An optional scalar field as a string (numbers and dates written unquoted are taken as text). */
function optionalText(tree: SigmaMapNode, key: string, errors: LocatedError[]): string | undefined {
  const entry = mapEntry(tree, key);
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null)) return undefined;
  if (entry.value.kind !== 'scalar') {
    schemaError(errors, `'${key}' must be a string`, entry.value);
    return undefined;
  }
  return String(entry.value.value);
}

/** An optional list of strings (absent -> empty). */
export function readStringList(tree: SigmaMapNode, key: string, errors: LocatedError[]): string[] {
  const entry = mapEntry(tree, key);
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null)) return [];
  if (entry.value.kind !== 'seq') {
    schemaError(errors, `'${key}' must be a list of strings`, entry.value);
    return [];
  }
  const out: string[] = [];
  for (const item of entry.value.items) {
    if (item.kind !== 'scalar' || item.value === null) schemaError(errors, `'${key}' must be a list of strings`, item);
    else out.push(String(item.value));
  }
  return out;
}

/** The metadata shared by every Sigma document kind, checked. Undefined when something required is wrong (errors say what). */
export function readDocumentMeta(tree: SigmaMapNode, errors: LocatedError[]): SigmaDocumentMeta | undefined {
  const before = errors.length;
  const titleEntry = mapEntry(tree, 'title');
  let title = '';
  if (titleEntry === undefined) schemaError(errors, "the rule has no 'title'", tree);
  else if (titleEntry.value.kind !== 'scalar' || typeof titleEntry.value.value !== 'string' || titleEntry.value.value.trim() === '') schemaError(errors, "'title' must be a non-empty string", titleEntry.value);
  else title = titleEntry.value.value;

  const idEntry = mapEntry(tree, 'id');
  let id = '';
  if (idEntry === undefined) schemaError(errors, "the rule has no 'id': give it a UUID of its own (e.g. from `uuidgen`)", tree);
  else if (idEntry.value.kind !== 'scalar' || typeof idEntry.value.value !== 'string' || !UUID.test(idEntry.value.value)) schemaError(errors, "'id' must be a UUID such as 929a690e-bef0-4204-a928-ef5e620d6fcc", idEntry.value);
  else id = idEntry.value.value;

  const name = optionalText(tree, 'name', errors);
  const description = optionalText(tree, 'description', errors);
  const author = optionalText(tree, 'author', errors);
  const date = optionalText(tree, 'date', errors);

  const status = optionalText(tree, 'status', errors);
  if (status !== undefined && !SIGMA_STATUSES.includes(status)) {
    const entry = mapEntry(tree, 'status');
    if (entry) schemaError(errors, `'status' must be one of ${SIGMA_STATUSES.join(', ')}`, entry.value);
  }

  let level: SigmaLevel = DEFAULT_LEVEL;
  const levelText = optionalText(tree, 'level', errors);
  if (levelText !== undefined) {
    if ((SIGMA_LEVELS as readonly string[]).includes(levelText)) level = levelText as SigmaLevel;
    else {
      const entry = mapEntry(tree, 'level');
      if (entry) schemaError(errors, `'level' must be one of ${SIGMA_LEVELS.join(', ')}`, entry.value);
    }
  }

  const tags = readStringList(tree, 'tags', errors);
  const falsepositives = readStringList(tree, 'falsepositives', errors);
  const references = readStringList(tree, 'references', errors);
  if (errors.length > before) return undefined;
  const meta: SigmaDocumentMeta = { id, title, level, tags, falsepositives, references, position: tree.position };
  if (name !== undefined) meta.name = name;
  if (description !== undefined) meta.description = description;
  if (status !== undefined) meta.status = status;
  if (author !== undefined) meta.author = author;
  if (date !== undefined) meta.date = date;
  return meta;
}

/** `logsource`: required, a mapping; category, product and service are strings when given. */
export function readLogSource(tree: SigmaMapNode, errors: LocatedError[]): SigmaLogSource | undefined {
  const entry = mapEntry(tree, 'logsource');
  if (entry === undefined) {
    schemaError(errors, "the rule has no 'logsource' (e.g. product: aws, service: cloudtrail)", tree);
    return undefined;
  }
  if (entry.value.kind !== 'map') {
    schemaError(errors, "'logsource' must be a mapping (product, service, category)", entry.value);
    return undefined;
  }
  const logsource: SigmaLogSource = {};
  let ok = true;
  for (const key of ['category', 'product', 'service'] as const) {
    const item = mapEntry(entry.value, key);
    if (item === undefined || (item.value.kind === 'scalar' && item.value.value === null)) continue;
    if (item.value.kind !== 'scalar' || typeof item.value.value !== 'string') {
      schemaError(errors, `'logsource.${key}' must be a string`, item.value);
      ok = false;
      continue;
    }
    logsource[key] = item.value.value;
  }
  return ok ? logsource : undefined;
}
