/**
 * `POST /bulk`: a bulk action from the list, on the selected alerts or on the whole current
 * filter. The first post shows how many alerts will change (bulkPreview); the confirmation
 * applies it (bulkUpdate, one history entry per alert, the token's name as actor).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BulkTarget, CloseReason, TriageChange } from '../../store/alert-store.ts';
import { CLOSE_REASONS } from '../../store/alert-store.ts';
import { actorOf } from '../api/alerts.ts';
import type { ServeContext } from '../context.ts';
import { filterOfParams, filterParamsOf, filterSearch } from '../filters-from-query.ts';
import { html } from '../html.ts';
import { badRequest } from '../http-error.ts';
import { field, fields, formBody, formSchema, seeOther, type FormBody } from './forms.ts';
import { csrfField, layout, plural } from './layout.ts';

const ACTIONS = ['acknowledge', 'close', 'reopen', 'assign', 'tag'] as const;
type BulkAction = (typeof ACTIONS)[number];

/** The triage change of a form's action (acknowledge, close with a reason, reopen, assign, tag) and note. */
export function changeOfForm(body: FormBody): { change: TriageChange; words: string } {
  const action = field(body, 'action') as BulkAction;
  if (!(ACTIONS as readonly string[]).includes(action)) throw badRequest(`action must be one of ${ACTIONS.join(', ')}`);
  const value = field(body, 'value');
  const note = field(body, 'note');
  const change: { -readonly [K in keyof TriageChange]: TriageChange[K] } = {};
  let words: string;
  switch (action) {
    case 'acknowledge':
      change.status = 'acknowledged';
      words = 'acknowledge';
      break;
    case 'close': {
      const reason = field(body, 'reason');
      if (!(CLOSE_REASONS as readonly string[]).includes(reason)) throw badRequest(`closing needs a reason: one of ${CLOSE_REASONS.join(', ')}`);
      change.status = 'closed';
      change.reason = reason as CloseReason;
      words = `close as ${reason.replace(/_/g, ' ')}`;
      break;
    }
    case 'reopen':
      change.status = 'open';
      words = 'reopen';
      break;
    case 'assign':
      change.assignee = value === '' ? null : value;
      words = value === '' ? 'unassign' : `assign to ${value}`;
      break;
    case 'tag':
      if (value === '') throw badRequest('type the tag to add');
      change.tags_add = [value];
      words = `tag with ${value}`;
      break;
  }
  if (note !== '') change.note = note;
  return { change, words };
}

function targetOf(context: ServeContext, body: FormBody): { target: BulkTarget; filterText: string; scope: string } {
  const filterText = field(body, 'filter');
  const scope = field(body, 'scope') || 'selected';
  const params = filterParamsOf(Object.fromEntries([...new URLSearchParams(filterText).keys()].map((key) => [key, new URLSearchParams(filterText).getAll(key)])));
  if (scope === 'filter') return { target: { filter: filterOfParams(params, context.now()) }, filterText: filterSearch(params).toString(), scope };
  if (scope !== 'selected') throw badRequest('scope is selected or filter');
  const ids = fields(body, 'ids');
  if (ids.length === 0) throw badRequest('select at least one alert (or apply to the whole current filter)');
  return { target: { ids }, filterText: filterSearch(params).toString(), scope };
}

function confirmPage(request: FastifyRequest, body: FormBody, count: number, words: string, scope: string, filterText: string): string {
  const back = filterText === '' ? '/' : `/?${filterText}`;
  const hidden = Object.entries(body)
    .filter(([name]) => name !== '_csrf' && name !== 'confirm')
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value ?? '']).map((item) => html`<input type="hidden" name="${name}" value="${item}">`));
  return layout({
    title: 'Confirm bulk action',
    principal: request.principal,
    nav: 'alerts',
    body: html`<h1>Confirm: ${words}</h1>
<div class="panel"><p>This will change <strong id="bulk-count">${plural(count, 'alert')}</strong> (${scope === 'filter' ? 'every alert of the current filter' : 'of the selected alerts'}; alerts it would leave as they are are not counted).</p>
<form method="post" action="/bulk">${csrfField(request.principal)}${hidden}<input type="hidden" name="confirm" value="1">
<button type="submit"${count === 0 ? html` disabled` : ''}>Yes, ${words} ${plural(count, 'alert')}</button> <a class="button secondary" href="${back}">Cancel</a></form></div>`,
  });
}

export function registerBulkPage(app: FastifyInstance, context: ServeContext): void {
  app.post('/bulk', {
    schema: { body: formSchema({ filter: 4000, scope: 20, ids: 200, action: 20, reason: 40, value: 200, note: 10_000, confirm: 1 }) },
    config: { access: 'triager', page: true, docs: { summary: 'Bulk action from the list: preview the count, then confirm', tags: ['ui'] } },
    handler: async (request, reply) => {
      const body = formBody(request);
      const { target, filterText, scope } = targetOf(context, body);
      const { change, words } = changeOfForm(body);
      if (field(body, 'confirm') !== '1') {
        const count = await context.store.bulkPreview(target, change);
        return reply.type('text/html; charset=utf-8').send(confirmPage(request, body, count, words, scope, filterText));
      }
      const { changed } = await context.store.bulkUpdate(target, change, actorOf(request));
      const search = new URLSearchParams(filterText);
      search.set('changed', String(changed));
      return seeOther(request, reply, `/?${search.toString()}`);
    },
  });
}
