/**
 * JSON schemas of the API's inputs (fastify validates them; additional properties are refused,
 * not dropped) and of its outputs for the OpenAPI document. Enum values that may come comma-
 * separated in a query (status=open,closed) are checked by filters-from-query.ts instead.
 */
import { SIGMA_LEVELS } from '../../core/levels.ts';
import { ALERT_SORTS, CLOSE_REASONS, TOKEN_ROLES, TRIAGE_STATUSES } from '../../store/alert-store.ts';
import { LIST_FILTER_PARAMS, MAX_LIMIT, SOURCES } from '../filters-from-query.ts';
import { SUPPRESS_KEYS } from '../suppression.ts';

type Schema = Record<string, unknown>;

const text = (maxLength = 500, description?: string): Schema => ({ type: 'string', maxLength, ...(description === undefined ? {} : { description }) });
const list = (description: string): Schema => ({ type: 'array', items: { type: 'string', maxLength: 500 }, maxItems: 100, description });

const FILTER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  status: `Triage status: ${TRIAGE_STATUSES.join(', ')} or all (default open,acknowledged). Repeat or separate with commas.`,
  level: `Rule level: ${SIGMA_LEVELS.join(', ')}.`,
  rule: 'Rule names or ids.',
  technique: 'ATT&CK technique ids (T1098 matches its sub-techniques).',
  tactic: 'ATT&CK tactics (persistence, TA0003).',
  source: `Log source: ${SOURCES.join(', ')}.`,
  account: 'AWS account ids.',
  region: 'AWS regions.',
  actor: 'The principal (exact).',
  source_ip: 'The source IP (exact).',
  assignee: 'The assignee (exact).',
  tag: 'A tag.',
  since: 'ISO 8601 time, or a duration back from now (24h, 7d), on event time.',
  until: 'ISO 8601 time, or a duration back from now.',
  q: 'Free text over rule name and title, actor, source IP, account and event ids.',
};

const MULTI = new Set(['status', 'level', 'rule', 'technique', 'tactic', 'source', 'account', 'region']);

/** The filter's query parameters (a list parameter takes repeats or commas). */
export const FILTER_QUERY_PROPERTIES: Schema = Object.fromEntries(
  LIST_FILTER_PARAMS.map((name) => [name, MULTI.has(name) ? list(FILTER_DESCRIPTIONS[name] as string) : text(500, FILTER_DESCRIPTIONS[name])]),
);

export const LIST_QUERY: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...FILTER_QUERY_PROPERTIES,
    sort: { type: 'string', enum: [...ALERT_SORTS], description: 'Default -time (newest first).' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `Page size, 1-${MAX_LIMIT} (default 50).` },
    cursor: text(2000, "The previous page's next_cursor."),
  },
};

export const EXPORT_QUERY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  properties: { ...FILTER_QUERY_PROPERTIES, format: { type: 'string', enum: ['jsonl', 'ocsf'] }, sort: { type: 'string', enum: [...ALERT_SORTS] } },
};

export const PERIOD_QUERY: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { since: text(100, FILTER_DESCRIPTIONS.since), until: text(100, FILTER_DESCRIPTIONS.until) },
};

export const ID_PARAMS: Schema = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } };
export const NAME_PARAMS: Schema = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } };

const tags: Schema = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 50 };

/** A triage change (TriageChange), without the version. */
export const CHANGE_PROPERTIES: Schema = {
  status: { type: 'string', enum: [...TRIAGE_STATUSES] },
  reason: { type: 'string', enum: [...CLOSE_REASONS], description: 'Required when closing.' },
  note: { type: 'string', minLength: 1, maxLength: 10_000, description: 'Added as a note with the change.' },
  assignee: { type: ['string', 'null'], maxLength: 200, description: 'null unassigns.' },
  tags_add: tags,
  tags_remove: tags,
};

export const PATCH_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    ...CHANGE_PROPERTIES,
    notes_remove: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 100 },
    version: { type: 'integer', minimum: 1, description: 'The version the change was made against (409 when stale).' },
  },
};

/** A filter in a JSON body: the query parameters' names, each a string (commas allowed) or a list. */
export const FILTER_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(LIST_FILTER_PARAMS.map((name) => [name, { anyOf: [text(500), { type: 'array', items: text(500), maxItems: 100 }] }])),
};

export const BULK_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['change'],
  properties: {
    ids: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, minItems: 1, maxItems: 10_000 },
    filter: FILTER_BODY,
    change: { type: 'object', additionalProperties: false, minProperties: 1, properties: CHANGE_PROPERTIES },
    dry_run: { type: 'boolean', description: 'Count the alerts that would change, change nothing.' },
  },
};

export const SUPPRESSION_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['alert_id', 'reason', 'expires'],
  properties: {
    alert_id: { type: 'string', minLength: 1, maxLength: 200 },
    keys: { type: 'array', items: { type: 'string', enum: [...SUPPRESS_KEYS] }, minItems: 1, maxItems: SUPPRESS_KEYS.length, description: 'What to key on (default: principal).' },
    reason: { type: 'string', minLength: 1, maxLength: 1000 },
    expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, through that day (UTC); required.' },
    close_matching: { type: 'boolean', description: "Close the rule's open alerts the filter matches (benign_positive)." },
    dry_run: { type: 'boolean', description: 'Show the document and the matching alerts, write nothing.' },
  },
};

export const TOKEN_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, role: { type: 'string', enum: [...TOKEN_ROLES] } },
};

// Outputs, for the OpenAPI document (not used to serialize: alerts carry every field they have).
export const ERROR_SCHEMA: Schema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', pattern: '^TH_' }, message: { type: 'string' } } } },
};

export const STORED_ALERT_SCHEMA: Schema = {
  type: 'object',
  description: "The alert JSON (README, Alert) plus its triage state and sightings.",
  required: ['id', 'rule', 'status', 'version', 'first_seen', 'last_seen', 'hits'],
  properties: {
    id: { type: 'string' },
    time: { type: ['string', 'null'] },
    rule: { type: 'object', properties: { id: { type: 'string' }, name: { type: ['string', 'null'] }, title: { type: 'string' }, level: { type: 'string', enum: [...SIGMA_LEVELS] } } },
    status: { type: 'string', enum: [...TRIAGE_STATUSES] },
    reason: { type: ['string', 'null'], enum: [...CLOSE_REASONS, null] },
    assignee: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' } },
    notes: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, at: { type: 'string' }, author: { type: 'string' }, text: { type: 'string' } } } },
    version: { type: 'integer' },
    first_seen: { type: 'string' },
    last_seen: { type: 'string' },
    hits: { type: 'integer' },
  },
  additionalProperties: true,
};

export const ALERT_PAGE_SCHEMA: Schema = {
  type: 'object',
  required: ['alerts', 'next_cursor', 'total', 'counts'],
  properties: {
    alerts: { type: 'array', items: STORED_ALERT_SCHEMA },
    next_cursor: { type: ['string', 'null'] },
    total: { type: 'integer' },
    counts: { type: 'object', properties: { status: { type: 'object', additionalProperties: { type: 'integer' } }, level: { type: 'object', additionalProperties: { type: 'integer' } } } },
  },
};

export const HISTORY_SCHEMA: Schema = {
  type: 'object',
  properties: {
    history: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'integer' }, alert_id: { type: 'string' }, at: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] } } },
    },
  },
};

export const SUPPRESSION_SCHEMA: Schema = {
  type: 'object',
  properties: { id: { type: 'string' }, rule: { type: 'string' }, file: { type: 'string' }, created_at: { type: 'string' }, created_by: { type: 'string' }, reason: { type: 'string' }, expires: { type: 'string' }, suppressed: { type: 'integer' } },
};
