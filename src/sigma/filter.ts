/**
 * Sigma filter documents (sigma-filters-specification.md): tuning kept apart from the rules it
 * tunes. The `filter:` section holds `rules` (names or ids, or `any`) plus selections and a
 * condition, compiled exactly like a detection section (`|expand` placeholders included).
 *
 * Semantics follow pySigma, the reference implementation: a filtered rule matches when its own
 * condition AND the filter's condition hold, so an allowlist is written `condition: not
 * selection`. (The specification's example writes `condition: selection`, which under these
 * semantics keeps only the selected events; docs/correlation.md warns about it.)
 *
 * trailhound additions for auditable allowlists: optional `owner`, `reason` and `expires`
 * (YYYY-MM-DD, valid through that day, UTC). An expired filter no longer applies.
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { LogRecord } from '../core/envelope.ts';
import { compileDetectionSection } from './compile.ts';
import { readLogSource } from './meta.ts';
import { formatPosition, mapEntry, plainToNode } from './parse.ts';
import type { PlaceholderValues, RawSigmaDocument, SigmaLogSource, SigmaMapNode, SourcePosition } from './types.ts';

export interface CompiledFilter {
  kind: 'filter';
  /** The filter's id, else its name, else its title: how messages name it. */
  label: string;
  id?: string;
  name?: string;
  title: string;
  description?: string;
  logsource: SigmaLogSource;
  /** Referenced rules (names or ids) as written, or 'any' for every rule of the log source. */
  rules: string[] | 'any';
  rulePositions: SourcePosition[];
  /** The filter's condition: true keeps the event for the filtered rules, false drops it. */
  match: (record: LogRecord) => boolean;
  owner?: string;
  reason?: string;
  /** YYYY-MM-DD; the filter applies through that day (UTC). */
  expires?: string;
  expired: boolean;
  position: SourcePosition;
}

export interface FilterCompileOptions {
  vars?: PlaceholderValues;
  /** The clock for `expires`; defaults to now. */
  now?: Date;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (match === null) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Whether a filter that `expires` on this date (inclusive) has expired at `now`. */
export function isExpired(expires: string, now: Date): boolean {
  return now.toISOString().slice(0, 10) > expires;
}

function optionalString(tree: SigmaMapNode, key: string, errors: LocatedError[]): string | undefined {
  const entry = mapEntry(tree, key);
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null)) return undefined;
  if (entry.value.kind !== 'scalar') {
    errors.push(located('TH_RULE_SCHEMA', `'${key}' must be a string`, formatPosition(entry.value.position)));
    return undefined;
  }
  return String(entry.value.value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Check and compile a filter document. Errors are located at the offending key or value. */
export function compileFilterDocument(document: RawSigmaDocument, options: FilterCompileOptions = {}): { filter?: CompiledFilter; errors: LocatedError[] } {
  const errors: LocatedError[] = [];
  const tree = document.tree ?? plainToNode(document.body, document.position);
  const file = document.position.file;
  if (tree.kind !== 'map') {
    return { errors: [located('TH_RULE_SCHEMA', 'a filter document must be a mapping', formatPosition(tree.position))] };
  }
  const fail = (position: SourcePosition, message: string): void => {
    errors.push(located('TH_RULE_SCHEMA', message, formatPosition(position)));
  };

  const title = optionalString(tree, 'title', errors);
  if (title === undefined || title.trim() === '') fail(tree.position, "the filter has no 'title'");
  const id = optionalString(tree, 'id', errors);
  if (id !== undefined && !UUID.test(id)) fail(mapEntry(tree, 'id')?.value.position ?? tree.position, "'id' must be a UUID");
  const name = optionalString(tree, 'name', errors);
  const description = optionalString(tree, 'description', errors);
  const owner = optionalString(tree, 'owner', errors);
  const reason = optionalString(tree, 'reason', errors);
  const expires = optionalString(tree, 'expires', errors);
  if (expires !== undefined && !isCalendarDate(expires)) {
    fail(mapEntry(tree, 'expires')?.value.position ?? tree.position, `'expires' must be a date written YYYY-MM-DD, not ${JSON.stringify(expires)}`);
  }
  const logsource = readLogSource(tree, errors);

  const sectionEntry = mapEntry(tree, 'filter');
  let rules: string[] | 'any' | undefined;
  const rulePositions: SourcePosition[] = [];
  let match: ((record: LogRecord) => boolean) | undefined;
  if (sectionEntry === undefined || sectionEntry.value.kind !== 'map') {
    fail(sectionEntry?.value.position ?? tree.position, "'filter' must be a mapping with rules, selections and a condition");
  } else {
    const section = sectionEntry.value;
    const rulesEntry = mapEntry(section, 'rules');
    if (rulesEntry === undefined) {
      fail(section.position, "'filter.rules' is required: the names or ids of the rules to filter (or 'any')");
    } else if (rulesEntry.value.kind === 'scalar' && typeof rulesEntry.value.value === 'string') {
      const text = rulesEntry.value.value;
      if (text === 'any' || text === 'all') rules = 'any';
      else {
        rules = [text];
        rulePositions.push(rulesEntry.value.position);
      }
    } else if (rulesEntry.value.kind === 'seq') {
      const list: string[] = [];
      for (const item of rulesEntry.value.items) {
        if (item.kind !== 'scalar' || item.value === null || item.value === '') fail(item.position, "'filter.rules' must list rule names or ids");
        else {
          list.push(String(item.value));
          rulePositions.push(item.position);
        }
      }
      rules = list.length === 0 ? 'any' : list;
    } else {
      fail(rulesEntry.value.position, "'filter.rules' must be a list of rule names or ids, or 'any'");
    }
    const compiled = compileDetectionSection(section, file, { ...(options.vars === undefined ? {} : { vars: options.vars }), reservedKeys: ['rules'] });
    if (Array.isArray(compiled)) errors.push(...compiled);
    else match = compiled.match;
  }
  if (errors.length > 0 || title === undefined || logsource === undefined || rules === undefined || match === undefined) return { errors };

  const filter: CompiledFilter = {
    kind: 'filter',
    label: id ?? name ?? title,
    title,
    logsource,
    rules,
    rulePositions,
    match,
    expired: expires !== undefined && isExpired(expires, options.now ?? new Date()),
    position: document.position,
  };
  if (id !== undefined) filter.id = id;
  if (name !== undefined) filter.name = name;
  if (description !== undefined) filter.description = description;
  if (owner !== undefined) filter.owner = owner;
  if (reason !== undefined) filter.reason = reason;
  if (expires !== undefined) filter.expires = expires;
  return { filter, errors };
}
