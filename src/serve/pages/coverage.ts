/** ATT&CK coverage (`/coverage?since=&until=`): techniques the loaded rules cover and their alerts in the period; per-rule false-positive share. */
import type { FastifyInstance } from 'fastify';
import { periodOf } from '../api/coverage.ts';
import { PERIOD_QUERY } from '../api/schemas.ts';
import type { ServeContext } from '../context.ts';
import { coverageOf, ruleOutcomesOf } from '../coverage.ts';
import { html, url } from '../html.ts';
import { layout, techniqueLink } from './layout.ts';

export function registerCoveragePage(app: FastifyInstance, context: ServeContext): void {
  app.get('/coverage', {
    schema: { querystring: PERIOD_QUERY },
    config: { access: 'reader', page: true, docs: { summary: 'ATT&CK coverage of the loaded rules vs the techniques that alerted; false-positive share per rule', tags: ['ui'] } },
    handler: async (request, reply) => {
      const query = request.query as { since?: string; until?: string };
      const period = periodOf(query, context.now());
      const coverage = await coverageOf(context.store, context.catalog, period);
      const outcomes = (await ruleOutcomesOf(context.store, context.catalog)).filter((row) => row.closed > 0).sort((a, b) => (b.false_positive_share ?? 0) - (a.false_positive_share ?? 0));
      const max = Math.max(1, ...coverage.techniques.map((technique) => technique.alerts));
      const alertLink = (technique: string, count: number): ReturnType<typeof html> =>
        count === 0 ? html`<span class="muted">0</span>` : html`<a href="${url('/', { technique, status: 'all', since: query.since, until: query.until })}">${count}</a>`;
      const body = html`<h1>ATT&amp;CK coverage</h1>
<form method="get" action="/coverage" class="filters panel"><div><label for="c-since">Since</label><input type="text" id="c-since" name="since" value="${query.since ?? ''}" placeholder="30d"></div><div><label for="c-until">Until</label><input type="text" id="c-until" name="until" value="${query.until ?? ''}"></div><div><button type="submit">Show</button></div></form>
<p>${coverage.rules} rules loaded cover <strong>${coverage.covered}</strong> techniques; <strong>${coverage.alerted}</strong> of them alerted ${query.since === undefined && query.until === undefined ? 'ever' : 'in the period'}.</p>
<div class="columns"><div><h2>Techniques</h2>
<table><thead><tr><th scope="col">Technique</th><th scope="col">Name</th><th scope="col">Rules</th><th scope="col">Alerts</th><th scope="col"><span class="sr-only">Share</span></th></tr></thead><tbody>${coverage.techniques.map(
        (technique) => html`<tr><td>${techniqueLink(technique.id)}</td><td>${technique.name ?? ''}</td><td class="wrap">${technique.rules.length} <span class="muted">${technique.rules
          .slice(0, 3)
          .map((rule) => rule.name ?? rule.title)
          .join(', ')}${technique.rules.length > 3 ? '…' : ''}</span></td><td>${alertLink(technique.id, technique.alerts)}</td><td><span class="bar w${Math.round((technique.alerts / max) * 10)}"></span></td></tr>`,
      )}</tbody></table></div>
<div><h2>False-positive share per rule</h2>
${
  outcomes.length === 0
    ? html`<p class="muted">No closed alerts yet.</p>`
    : html`<table><thead><tr><th scope="col">Rule</th><th scope="col">Closed</th><th scope="col">False positives</th><th scope="col">Share</th></tr></thead><tbody>${outcomes.map(
        (row) => html`<tr><td class="wrap"><a href="${url('/', { rule: row.rule_id, status: 'closed' })}">${row.title ?? row.rule_name ?? row.rule_id}</a></td><td>${row.closed}</td><td>${row.false_positive}</td><td>${Math.round((row.false_positive_share ?? 0) * 100)}% <span class="bar w${Math.round((row.false_positive_share ?? 0) * 10)}"></span></td></tr>`,
      )}</tbody></table>`
}</div></div>`;
      return reply.type('text/html; charset=utf-8').send(layout({ title: 'ATT&CK coverage', principal: request.principal, nav: 'coverage', body }));
    },
  });
}
