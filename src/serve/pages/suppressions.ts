/** The suppressions written from alerts (`/suppressions`): rule, owner, reason, expiry, file, and the matches each kept out. */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.ts';
import { html, url } from '../html.ts';
import { layout, timeText } from './layout.ts';

export function registerSuppressionsPage(app: FastifyInstance, context: ServeContext): void {
  app.get('/suppressions', {
    config: { access: 'reader', page: true, docs: { summary: 'Suppressions and the matches they kept out', tags: ['ui'] } },
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const list = await context.store.listSuppressions();
      const today = context.now().toISOString().slice(0, 10);
      const written = typeof query.written === 'string' ? list.find((suppression) => suppression.id === query.written) : undefined;
      const closed = typeof query.closed === 'string' && /^\d{1,9}$/.test(query.closed) ? Number(query.closed) : 0;
      const flash = written === undefined ? undefined : `Suppression written to ${written.file}${closed > 0 ? `; ${closed} alert(s) closed as benign positive` : ''}. Re-scan with --filters ${context.filtersDir} to apply it.`;
      const body = html`<h1>Suppressions</h1>
<p class="muted">Sigma filter documents written from alerts, in <code>${context.filtersDir}</code>. “Kept out” counts the matches scan --store and watch suppressed since.</p>
<table><thead><tr><th scope="col">Rule</th><th scope="col">Reason</th><th scope="col">Owner</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Kept out</th><th scope="col">File</th></tr></thead>
<tbody>${
        list.length === 0
          ? html`<tr><td colspan="7" class="muted">No suppression yet: open an alert and choose “Suppress from this alert”.</td></tr>`
          : list.map(
              (suppression) => html`<tr data-suppression="${suppression.id}"><td><a href="${url('/', { rule: suppression.rule, status: 'all' })}">${suppression.rule}</a></td><td class="wrap">${suppression.reason}</td><td>${suppression.created_by}</td><td class="time">${timeText(suppression.created_at)}</td><td class="time">${suppression.expires.slice(0, 10)}${suppression.expires.slice(0, 10) < today ? html` <span class="status">expired</span>` : ''}</td><td class="suppressed-count">${suppression.suppressed}</td><td class="wrap"><code>${suppression.file}</code></td></tr>`,
            )
      }</tbody></table>`;
      return reply.type('text/html; charset=utf-8').send(layout({ title: 'Suppressions', principal: request.principal, nav: 'suppressions', flash, body }));
    },
  });
}
