/**
 * `/api/v1/alerts`: the list (the filter as query parameters), one alert, its triage change
 * (PATCH at a version: 409 when stale), its history, bulk changes (by ids or by filter, with a
 * dry run that counts), and the export of a filter as JSONL or OCSF.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StoredAlert, TriageChange, BulkTarget, AlertFilter, ListRequest, AlertStore } from '../../store/alert-store.ts';
import { toDetectionFinding } from '../../sinks/ocsf/detection-finding.ts';
import type { ServeContext } from '../context.ts';
import { filterOfParams, filterParamsOf, parseListQuery, type QueryInput } from '../filters-from-query.ts';
import { badRequest, notFound } from '../http-error.ts';
import { ALERT_PAGE_SCHEMA, BULK_BODY, ERROR_SCHEMA, EXPORT_QUERY, HISTORY_SCHEMA, ID_PARAMS, LIST_QUERY, PATCH_BODY, STORED_ALERT_SCHEMA } from './schemas.ts';

/** The actor of a change: the token's name. */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? 'unknown';
}

export async function alertOr404(store: AlertStore, id: string): Promise<StoredAlert> {
  const alert = await store.get(id);
  if (alert === undefined) throw notFound(`no stored alert has the id ${JSON.stringify(id.slice(0, 80))}`);
  return alert;
}

/** The triage change of a body (only the fields given). */
export function changeOf(body: Record<string, unknown>): TriageChange {
  const change: Record<string, unknown> = {};
  for (const name of ['status', 'reason', 'note', 'assignee', 'tags_add', 'tags_remove', 'notes_remove']) if (body[name] !== undefined) change[name] = body[name];
  return change as TriageChange;
}

/** Every alert of a filter, page after page. */
export async function* allAlerts(store: AlertStore, filter: AlertFilter, sort: ListRequest['sort'] = '-time'): AsyncGenerator<StoredAlert> {
  let cursor: string | undefined;
  for (;;) {
    const page = await store.list({ filter, sort, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    yield* page.alerts;
    if (page.next_cursor === null) return;
    cursor = page.next_cursor;
  }
}

const errors = (...statuses: number[]): Record<string, { description: string; schema: Record<string, unknown> }> =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: { 400: 'Invalid input (TH_STORE_INVALID)', 401: 'No valid token (TH_AUTH)', 403: 'Role too low (TH_FORBIDDEN) or CSRF token missing (TH_CSRF)', 404: 'No such alert (TH_STORE_NOT_FOUND)', 409: 'Stale version (TH_STORE_CONFLICT)' }[status] ?? 'Error', schema: ERROR_SCHEMA }]));

export function registerAlertRoutes(app: FastifyInstance, context: ServeContext): void {
  const { store } = context;

  app.get('/api/v1/alerts', {
    schema: { querystring: LIST_QUERY },
    config: { access: 'reader', docs: { summary: 'List alerts matching a filter', tags: ['alerts'], responses: { 200: { description: 'A page of alerts, the total and the counts by status and level', schema: ALERT_PAGE_SCHEMA }, ...errors(400, 401) } } },
    handler: async (request) => store.list(parseListQuery(request.query as QueryInput, context.now()).request),
  });

  app.get('/api/v1/alerts/:id', {
    schema: { params: ID_PARAMS },
    config: { access: 'reader', docs: { summary: 'One alert with its triage state', tags: ['alerts'], responses: { 200: { description: 'The alert', schema: STORED_ALERT_SCHEMA }, ...errors(401, 404) } } },
    handler: async (request) => alertOr404(store, (request.params as { id: string }).id),
  });

  app.patch('/api/v1/alerts/:id', {
    schema: { params: ID_PARAMS, body: PATCH_BODY },
    config: { access: 'triager', docs: { summary: 'Change the triage state of an alert (status, reason, note, assignee, tags) at a version', tags: ['alerts'], responses: { 200: { description: 'The changed alert', schema: STORED_ALERT_SCHEMA }, ...errors(400, 401, 403, 404, 409) } } },
    handler: async (request) => {
      const body = request.body as Record<string, unknown>;
      return store.update((request.params as { id: string }).id, body.version as number, changeOf(body), actorOf(request));
    },
  });

  app.get('/api/v1/alerts/:id/history', {
    schema: { params: ID_PARAMS },
    config: { access: 'reader', docs: { summary: "An alert's history: who changed what, when, from and to", tags: ['alerts'], responses: { 200: { description: 'The history, oldest first', schema: HISTORY_SCHEMA }, ...errors(401, 404) } } },
    handler: async (request) => ({ history: await store.history((request.params as { id: string }).id) }),
  });

  app.post('/api/v1/alerts/bulk', {
    schema: { body: BULK_BODY },
    config: {
      access: 'triager',
      docs: {
        summary: 'Apply one change to many alerts: {ids} or {filter}; dry_run counts them first',
        tags: ['alerts'],
        responses: { 200: { description: '{dry_run: true, count} or {dry_run: false, changed}', schema: { type: 'object', properties: { dry_run: { type: 'boolean' }, count: { type: 'integer' }, changed: { type: 'integer' } } } }, ...errors(400, 401, 403) },
      },
    },
    handler: async (request) => {
      const body = request.body as { ids?: string[]; filter?: QueryInput; change: Record<string, unknown>; dry_run?: boolean };
      if ((body.ids === undefined) === (body.filter === undefined)) throw badRequest('a bulk change names its alerts with either ids or filter (one of the two)');
      const target: BulkTarget = body.ids !== undefined ? { ids: body.ids } : { filter: filterOfParams(filterParamsOf(body.filter as QueryInput), context.now()) };
      const change = changeOf(body.change);
      if (body.dry_run === true) return { dry_run: true, count: await store.bulkPreview(target, change) };
      return { dry_run: false, changed: (await store.bulkUpdate(target, change, actorOf(request))).changed };
    },
  });

  app.get('/api/v1/export', {
    schema: { querystring: EXPORT_QUERY },
    config: {
      access: 'reader',
      docs: {
        summary: 'Export every alert of a filter: JSONL (stored alerts) or OCSF 1.7.0 Detection Findings (one per line)',
        tags: ['alerts'],
        responses: { 200: { description: 'One JSON object per line', contentType: 'application/x-ndjson' }, ...errors(400, 401) },
      },
    },
    handler: async (request, reply) => {
      const query = request.query as QueryInput & { format: 'jsonl' | 'ocsf' };
      const { request: list } = parseListQuery({ ...query, format: undefined }, context.now());
      const format = query.format;
      const lines = async function* (): AsyncGenerator<string> {
        for await (const alert of allAlerts(store, list.filter, list.sort)) {
          const out = format === 'ocsf' ? toDetectionFinding(alert, { status: alert.status, ...(alert.reason === null ? {} : { reason: alert.reason }), productVersion: context.version }) : alert;
          yield `${JSON.stringify(out)}\n`;
        }
      };
      const stamp = context.now().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="trailhound-alerts-${stamp}.${format === 'ocsf' ? 'ocsf.jsonl' : 'jsonl'}"`);
      return reply.send(Readable.from(lines()));
    },
  });
}
