/** The actor view (`/actor?actor=...`): every alert of one principal over time (every status), by day, with its rules. */
import type { FastifyInstance } from 'fastify';
import type { StoredAlert } from '../../store/alert-store.ts';
import type { ServeContext } from '../context.ts';
import { html, url } from '../html.ts';
import { badRequest } from '../http-error.ts';
import { layout, levelBadge, plural, statusBadge, timeText } from './layout.ts';

const MAX_SHOWN = 1000;

export function registerActorPage(app: FastifyInstance, context: ServeContext): void {
  app.get('/actor', {
    schema: { querystring: { type: 'object', additionalProperties: false, required: ['actor'], properties: { actor: { type: 'string', minLength: 1, maxLength: 500 } } } },
    config: { access: 'reader', page: true, docs: { summary: 'Every alert of one principal over time', tags: ['ui'] } },
    handler: async (request, reply) => {
      const actor = (request.query as { actor: string }).actor.trim();
      if (actor === '') throw badRequest('actor is the principal to show');
      const alerts: StoredAlert[] = [];
      let cursor: string | undefined;
      let total: number;
      do {
        const page = await context.store.list({ filter: { actor, status: [] }, sort: '-time', limit: 500, ...(cursor === undefined ? {} : { cursor }) });
        total = page.total;
        alerts.push(...page.alerts);
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined && alerts.length < MAX_SHOWN);
      const byDay = new Map<string, StoredAlert[]>();
      for (const alert of alerts) {
        const day = alert.time?.slice(0, 10) ?? 'no time';
        byDay.set(day, [...(byDay.get(day) ?? []), alert]);
      }
      const rules = new Map<string, number>();
      for (const alert of alerts) rules.set(alert.rule.title, (rules.get(alert.rule.title) ?? 0) + 1);
      const body = html`<p><a href="/">« Alerts</a></p>
<h1>Actor <span class="break">${actor}</span></h1>
<p>${plural(total, 'alert')} over every status${alerts.length < total ? html` (the newest ${alerts.length} shown)` : ''} · <a href="${url('/', { actor, status: 'all' })}">open in the list (filter, bulk actions)</a></p>
<h2>Rules</h2><ul>${[...rules].sort((a, b) => b[1] - a[1]).map(([title, count]) => html`<li>${title} <span class="muted">× ${count}</span></li>`)}</ul>
<h2>Timeline</h2>
${[...byDay].map(
  ([day, list]) => html`<h3>${day} <span class="muted">${plural(list.length, 'alert')}</span></h3><table><tbody>${list.map(
    (alert) => html`<tr data-alert="${alert.id}"><td class="time">${timeText(alert.time)}</td><td>${levelBadge(alert.rule.level)}</td><td class="wrap"><a class="open" href="/alerts/${encodeURIComponent(alert.id)}">${alert.rule.title}</a></td><td class="wrap">${alert.source_ip ?? ''}</td><td>${alert.account ?? ''} ${alert.region ?? ''}</td><td>${statusBadge(alert.status, alert.reason)}</td></tr>`,
  )}</tbody></table>`,
)}`;
      return reply.type('text/html; charset=utf-8').send(layout({ title: `Actor ${actor}`, principal: request.principal, nav: 'actor', body }));
    },
  });
}
