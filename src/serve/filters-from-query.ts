/**
 * The one parser of the alert filter from URL query parameters, used by the API
 * (`GET /api/v1/alerts`, export, bulk by filter) and by the pages (the list's URL is the
 * filter, so a view can be shared). Lists take repeated parameters or commas
 * (`status=open&status=closed`, `status=open,closed`); `status=all` is every status; `since` and
 * `until` take ISO 8601 or a duration back from now (`24h`, `7d`, `2w`, `30m`). Unknown enum
 * values, malformed techniques, times and limits are a StoreError TH_STORE_INVALID (400).
 */
import { SIGMA_LEVELS, type SigmaLevel } from '../core/levels.ts';
import { ALERT_SORTS, StoreError, TRIAGE_STATUSES, type AlertFilter, type AlertSort, type ListRequest, type TriageStatus } from '../store/alert-store.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, SOURCES, filterStatuses } from '../store/triage-rules.ts';

/** The store's sources and page sizes: the query takes what the store does. */
export { DEFAULT_LIMIT, MAX_LIMIT, SOURCES };
const MAX_VALUE = 500;
const MAX_VALUES = 100;

/** Every query parameter of the filter (and paging): the API's and the list page's. */
export const LIST_FILTER_PARAMS = ['status', 'level', 'rule', 'technique', 'tactic', 'source', 'account', 'region', 'actor', 'source_ip', 'assignee', 'tag', 'since', 'until', 'q', 'job'] as const satisfies readonly (keyof AlertFilter)[];
export const LIST_PAGING_PARAMS = ['sort', 'limit', 'cursor'] as const;
const MULTI = new Set(['status', 'level', 'rule', 'technique', 'tactic', 'source', 'account', 'region']);

/** The filter as query parameters, normalized (the form links are built from): AlertFilter's fields as text (its lists as lists), since/until as written. */
export type FilterParams = { [K in keyof AlertFilter]?: NonNullable<AlertFilter[K]> extends readonly unknown[] ? string[] : string };

export interface ParsedListQuery {
  request: ListRequest;
  /** The filter as given (for links: paging, sorting, tabs keep it). */
  params: FilterParams;
  sort: AlertSort;
  limit: number;
}

export type QueryInput = Readonly<Record<string, unknown>>;

const invalid = (message: string): StoreError => new StoreError('TH_STORE_INVALID', message, 400);

function valuesOf(query: QueryInput, name: string): string[] {
  const value = query[name];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const raw of list) {
    // A schema may have coerced a number already (limit).
    const item: unknown = typeof raw === 'number' ? String(raw) : raw;
    if (typeof item !== 'string') throw invalid(`${name} must be text`);
    if (item.length > MAX_VALUE) throw invalid(`${name} is longer than ${MAX_VALUE} characters`);
    out.push(item);
  }
  return out;
}

function listOf(query: QueryInput, name: string): string[] | undefined {
  const values = valuesOf(query, name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (values.length > MAX_VALUES) throw invalid(`${name} takes at most ${MAX_VALUES} values`);
  return values.length === 0 ? undefined : [...new Set(values)];
}

function singleOf(query: QueryInput, name: string): string | undefined {
  const values = valuesOf(query, name);
  if (values.length > 1) throw invalid(`${name} is given more than once: it takes one value`);
  const value = values[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function enumList<T extends string>(values: string[] | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (values === undefined) return undefined;
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) throw invalid(`${name} ${JSON.stringify(value.slice(0, 60))} is not one of ${allowed.join(', ')}`);
  }
  return values as T[];
}

const DURATION = /^(\d{1,6})(m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `since`/`until` as ISO 8601: a duration back from `now` (`24h`, `7d`), a date, or a time. */
export function timeOfQuery(text: string, name: string, now: Date): string {
  const duration = DURATION.exec(text);
  if (duration !== null) return new Date(now.getTime() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number)).toISOString();
  if (!ISO_LIKE.test(text)) throw invalid(`${name} ${JSON.stringify(text.slice(0, 60))} is neither an ISO 8601 time (2026-11-05T10:00:00Z) nor a duration back from now (24h, 7d)`);
  const time = Date.parse(/T|\s/.test(text) && !/Z|[+-]\d{2}:?\d{2}$/.test(text) ? `${text}Z` : text);
  if (!Number.isFinite(time)) throw invalid(`${name} ${JSON.stringify(text.slice(0, 60))} is not a valid time`);
  return new Date(time).toISOString();
}

/** The filter's parameters from a query (unknown parameters are the caller's business). */
export function filterParamsOf(query: QueryInput): FilterParams {
  const params: FilterParams = {};
  for (const name of LIST_FILTER_PARAMS) {
    if (MULTI.has(name)) {
      const list = listOf(query, name);
      if (list !== undefined) (params as Record<string, string[]>)[name] = list;
    } else {
      const value = singleOf(query, name);
      if (value !== undefined) (params as Record<string, string>)[name] = value;
    }
  }
  return params;
}

/** The store's filter from the normalized parameters; checks every value. */
export function filterOfParams(params: FilterParams, now: Date): AlertFilter {
  const filter: {
    -readonly [K in keyof AlertFilter]: AlertFilter[K];
  } = {};
  if (params.status !== undefined) {
    filter.status = params.status.includes('all') ? [] : enumList(params.status, TRIAGE_STATUSES, 'status');
  }
  const level = enumList<SigmaLevel>(params.level, SIGMA_LEVELS, 'level');
  if (level !== undefined) filter.level = level;
  const source = enumList(params.source, SOURCES, 'source');
  if (source !== undefined) filter.source = source;
  if (params.technique !== undefined) {
    for (const technique of params.technique) {
      if (!/^T\d{4}(\.\d{3})?$/i.test(technique)) throw invalid(`technique ${JSON.stringify(technique.slice(0, 60))} is not an ATT&CK technique id (T1098, T1098.001)`);
    }
    filter.technique = params.technique.map((technique) => technique.toUpperCase());
  }
  for (const name of ['rule', 'tactic', 'account', 'region'] as const) {
    const values = params[name];
    if (values !== undefined) filter[name] = values;
  }
  for (const name of ['actor', 'source_ip', 'assignee', 'tag', 'q', 'job'] as const) {
    const value = params[name];
    if (value !== undefined) filter[name] = value;
  }
  if (params.since !== undefined) filter.since = timeOfQuery(params.since, 'since', now);
  if (params.until !== undefined) filter.until = timeOfQuery(params.until, 'until', now);
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) throw invalid('since is after until');
  return filter;
}

/** The list request (filter, sort, limit, cursor) from a query. */
export function parseListQuery(query: QueryInput, now: Date = new Date()): ParsedListQuery {
  const params = filterParamsOf(query);
  const filter = filterOfParams(params, now);
  const sortText = singleOf(query, 'sort') ?? '-time';
  const [sort] = enumList([sortText], ALERT_SORTS, 'sort') as AlertSort[];
  const limitText = singleOf(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) throw invalid(`limit is a whole number from 1 to ${MAX_LIMIT}`);
    limit = Number(limitText);
  }
  const cursor = singleOf(query, 'cursor');
  const request: ListRequest = { filter, sort: sort as AlertSort, limit, ...(cursor === undefined ? {} : { cursor }) };
  return { request, params, sort: sort as AlertSort, limit };
}

/** The parameters as a query string's pairs (lists repeated), for links and hidden fields. */
export function filterQueryPairs(params: FilterParams): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of LIST_FILTER_PARAMS) {
    const value = params[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) pairs.push([name, item]);
    else pairs.push([name, value as string]);
  }
  return pairs;
}

/** A query string for the filter with some parameters replaced (undefined removes one). */
export function filterSearch(params: FilterParams, extra: Readonly<Record<string, string | readonly string[] | undefined>> = {}): URLSearchParams {
  const search = new URLSearchParams();
  for (const [name, value] of filterQueryPairs(params)) if (!(name in extra)) search.append(name, value);
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value as readonly string[]) search.append(name, item);
    else search.append(name, value as string);
  }
  return search;
}

/** The statuses the filter shows (the default: open and acknowledged). */
export function statusesOf(filter: AlertFilter): readonly TriageStatus[] {
  return filterStatuses(filter);
}
