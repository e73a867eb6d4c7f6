/**
 * The alert list (`/`): the filter lives in the URL (shareable), tabs with counts by status and
 * level, sortable columns, cursor paging, and bulk actions on the selection or on the whole
 * current filter, previewed (how many alerts will change) before they are applied (pages/bulk.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SIGMA_LEVELS } from '../../core/levels.ts';
import { CLOSE_REASONS, StoreError, TRIAGE_STATUSES, type AlertPage, type AlertSort, type StoredAlert } from '../../store/alert-store.ts';
import { roleAllows } from '../auth.ts';
import type { ServeContext } from '../context.ts';
import { filterSearch, parseListQuery, SOURCES, statusesOf, type FilterParams, type ParsedListQuery, type QueryInput } from '../filters-from-query.ts';
import { html, raw, url, type SafeHtml } from '../html.ts';
import { actorLink, csrfField, layout, levelBadge, plural, statusBadge, timeText } from './layout.ts';

function search(params: FilterParams, extra: Readonly<Record<string, string | readonly string[] | undefined>> = {}): string {
  const query = filterSearch(params, extra).toString();
  return query === '' ? '/' : `/?${query}`;
}

function input(name: string, label: string, value: string | undefined, placeholder = '', wide = false): SafeHtml {
  return html`<div${wide ? raw(' class="wide"') : ''}><label for="f-${name}">${label}</label><input type="text" id="f-${name}" name="${name}" value="${value ?? ''}" placeholder="${placeholder}"></div>`;
}

function joined(values: readonly string[] | undefined): string | undefined {
  return values === undefined ? undefined : values.join(',');
}

function filterForm(params: FilterParams, sort: AlertSort): SafeHtml {
  const statuses = params.status ?? ['open', 'acknowledged'];
  const all = statuses.includes('all');
  return html`<form class="filters panel" method="get" action="/" role="search" aria-label="Filter alerts">
<fieldset class="choices status-choices"><legend>Status</legend>${TRIAGE_STATUSES.map(
    (status) => html`<label><input type="checkbox" name="status" value="${status}"${all || statuses.includes(status) ? raw(' checked') : ''}> ${status}</label>`,
  )}</fieldset>
<fieldset class="choices level-choices"><legend>Level</legend>${SIGMA_LEVELS.map(
    (level) => html`<label><input type="checkbox" name="level" value="${level}"${params.level?.includes(level) === true ? raw(' checked') : ''}> ${level}</label>`,
  )}</fieldset>
${input('rule', 'Rule (name or id)', joined(params.rule))}
${input('technique', 'ATT&CK technique', joined(params.technique), 'T1098')}
${input('tactic', 'Tactic', joined(params.tactic), 'persistence')}
<div><label for="f-source">Source</label><select id="f-source" name="source"><option value="">any</option>${SOURCES.map(
    (source) => html`<option value="${source}"${params.source?.length === 1 && params.source[0] === source ? raw(' selected') : ''}>${source}</option>`,
  )}</select></div>
${input('account', 'Account', joined(params.account))}
${input('region', 'Region', joined(params.region))}
${input('actor', 'Actor (principal)', params.actor, '', true)}
${input('source_ip', 'Source IP', params.source_ip)}
${input('assignee', 'Assignee', params.assignee)}
${input('tag', 'Tag', params.tag)}
${input('job', 'Scan job', params.job, 'scan --job NAME')}
${input('since', 'Since', params.since, '7d or 2026-11-01')}
${input('until', 'Until', params.until, 'ISO time')}
${input('q', 'Free text', params.q, 'rule, actor, IP, event id', true)}
<input type="hidden" name="sort" value="${sort}">
<div><button type="submit">Apply filter</button> <a class="button secondary" href="/">Reset</a></div>
</form>`;
}

function tabs(params: FilterParams, page: AlertPage): SafeHtml {
  const statuses = params.status;
  const current = (value: string[] | undefined): boolean => JSON.stringify(statuses ?? null) === JSON.stringify(value ?? null);
  const statusTab = (label: string, value: string[] | undefined, count: number): SafeHtml =>
    html`<a href="${search(params, { status: value, cursor: undefined })}"${current(value) ? raw(' aria-current="true"') : ''}>${label} <span class="muted">${count.toLocaleString('en-US')}</span></a>`;
  const counts = page.counts.status;
  const levelTab = (level: string, count: number): SafeHtml => {
    const active = params.level?.length === 1 && params.level[0] === level;
    return html`<a href="${search(params, { level: active ? [] : [level] })}"${active ? raw(' aria-current="true"') : ''}>${levelBadge(level)} <span class="muted">${count.toLocaleString('en-US')}</span></a>`;
  };
  return html`<nav class="tabs" aria-label="Status">${statusTab('open + acknowledged', undefined, counts.open + counts.acknowledged)}${TRIAGE_STATUSES.map((status) => statusTab(status, [status], counts[status]))}${statusTab('all', ['all'], counts.open + counts.acknowledged + counts.closed)}</nav>
<nav class="tabs" aria-label="Level">${SIGMA_LEVELS.slice()
    .reverse()
    .map((level) => levelTab(level, page.counts.level[level]))}${params.level === undefined ? '' : html`<a href="${search(params, { level: [] })}">any level</a>`}</nav>`;
}

function sortHeader(params: FilterParams, sort: AlertSort, key: 'time' | 'level' | 'hits' | 'last_seen', label: string): SafeHtml {
  const active = sort.replace(/^-/, '') === key;
  const descending = sort.startsWith('-');
  const next = active && descending ? key : `-${key}`;
  const ariaSort = active ? (descending ? 'descending' : 'ascending') : 'none';
  return html`<th scope="col" aria-sort="${ariaSort}"><a href="${search(params, { sort: next })}">${label}${active ? (descending ? ' ▼' : ' ▲') : ''}</a></th>`;
}

function row(alert: StoredAlert, canTriage: boolean): SafeHtml {
  const detail = `/alerts/${encodeURIComponent(alert.id)}`;
  return html`<tr data-alert="${alert.id}">
${canTriage ? html`<td><input type="checkbox" name="ids" value="${alert.id}" aria-label="Select alert ${alert.rule.title}"></td>` : ''}
<td class="time">${timeText(alert.time)}</td>
<td>${levelBadge(alert.rule.level)}</td>
<td class="wrap rule"><span class="clamp"><a class="open" href="${detail}">${alert.rule.title}</a></span><span class="muted clamp">${alert.rule.name ?? alert.rule.id}</span></td>
<td class="wrap actor"><span class="clamp">${actorLink(alert.actor)}</span></td>
<td class="wrap ip">${alert.source_ip ?? '—'}</td>
<td class="wrap account">${alert.account ?? '—'}<br><span class="muted">${alert.region ?? ''}</span></td>
<td>${alert.source}</td>
<td>${statusBadge(alert.status, alert.reason)}${alert.assignee === null ? '' : html`<br><span class="muted">${alert.assignee}</span>`}${alert.tags.map((tag) => html` <span class="tag">${tag}</span>`)}</td>
<td>${alert.hits}</td>
<td class="time">${timeText(alert.last_seen)}</td>
</tr>`;
}

/** What an empty store shows instead of an empty table: how alerts get into it. */
function emptyStorePanel(): SafeHtml {
  return html`<section class="panel empty" aria-labelledby="h-empty"><h2 id="h-empty">No alerts yet</h2>
<p>This store holds no alerts. Scan logs into it (the same store this server was started with), then reload this page:</p>
<pre class="command">trailhound scan LOGS --store FILE</pre>
<p class="muted">LOGS is a file or folder of CloudTrail, VPC flow or GuardDuty logs (try <code>samples/</code> from the repository); FILE is the <code>--store</code> given to <code>trailhound serve</code>.</p>
</section>`;
}

export function bulkControls(): SafeHtml {
  return html`<div class="field"><label for="b-action">Action</label><select id="b-action" name="action">
<option value="acknowledge">Acknowledge</option><option value="close">Close</option><option value="reopen">Reopen</option><option value="assign">Assign</option><option value="tag">Add tag</option></select></div>
<div class="field"><label for="b-reason">Close reason</label><select id="b-reason" name="reason"><option value="">—</option>${CLOSE_REASONS.map((reason) => html`<option value="${reason}">${reason.replace(/_/g, ' ')}</option>`)}</select></div>
<div class="field"><label for="b-assignee">Assignee / tag</label><input type="text" id="b-assignee" name="value"></div>
<div class="field"><label for="b-note">Note</label><input type="text" id="b-note" name="note"></div>`;
}

export function listPage(context: ServeContext, request: FastifyRequest, parsed: ParsedListQuery | undefined, page: AlertPage | undefined, error?: string): string {
  const principal = request.principal;
  const canTriage = principal !== undefined && roleAllows(principal.role, 'triager');
  const params = parsed?.params ?? {};
  const sort = parsed?.sort ?? '-time';
  const query = request.query as Record<string, unknown>;
  const changed = typeof query.changed === 'string' && /^\d{1,9}$/.test(query.changed) ? `${plural(Number(query.changed), 'alert')} changed.` : undefined;
  const filterText = filterSearch(params).toString();
  const statuses = parsed === undefined ? [] : statusesOf(parsed.request.filter);
  // The status counts are over the filter without its status part: with no other filter, all zero means an empty store.
  const emptyStore = page !== undefined && filterText === '' && page.counts.status.open + page.counts.status.acknowledged + page.counts.status.closed === 0;
  const body = html`<h1>Alerts ${page === undefined ? '' : html`<span class="muted">${plural(page.total, 'alert')} · ${statuses.join(' + ')}</span>`}</h1>
${filterForm(params, sort)}
${page === undefined ? '' : tabs(params, page)}
${
  page === undefined
    ? ''
    : emptyStore
      ? emptyStorePanel()
      : html`<form method="post" action="/bulk" id="bulk-form">
${csrfField(principal)}
<input type="hidden" name="filter" value="${filterText}">
${
  canTriage
    ? html`<div class="panel bulk" aria-label="Bulk actions">
<fieldset class="field scope"><legend class="sr-only">Apply to</legend>
<label><input type="radio" name="scope" value="selected" checked> the selected alerts</label><br>
<label><input type="radio" name="scope" value="filter"> all ${plural(page.total, 'alert')} of the current filter</label></fieldset>
${bulkControls()}
<button type="submit">Preview…</button>
</div>`
    : ''
}
<table>
<caption class="sr-only">Alerts, sorted by ${sort}</caption>
<thead><tr>${canTriage ? html`<th scope="col"><input type="checkbox" id="select-all" aria-label="Select every alert on this page"></th>` : ''}${sortHeader(params, sort, 'time', 'Time')}${sortHeader(params, sort, 'level', 'Level')}<th scope="col">Rule</th><th scope="col">Actor</th><th scope="col">Source IP</th><th scope="col">Account</th><th scope="col">Source</th><th scope="col">Status</th>${sortHeader(params, sort, 'hits', 'Hits')}${sortHeader(params, sort, 'last_seen', 'Last seen')}</tr></thead>
<tbody>${page.alerts.length === 0 ? html`<tr><td colspan="11" class="muted">No alert matches this filter. <a href="${search(params, { status: ['all'] })}">Show every status</a> · <a href="/">Reset the filter</a></td></tr>` : page.alerts.map((alert) => row(alert, canTriage))}</tbody>
</table>
</form>
<div class="pager">${typeof query.cursor === 'string' && query.cursor !== '' ? html`<a href="${search(params, { sort })}">« First page</a>` : ''}${
        page.next_cursor === null ? '' : html`<a href="${search(params, { sort, cursor: page.next_cursor })}" rel="next">Next page »</a>`
      }
<span class="muted">Export this filter: <a href="${url('/api/v1/export', filterSearch(params, { format: 'jsonl' }))}" hx-boost="false">JSONL</a> · <a href="${url('/api/v1/export', filterSearch(params, { format: 'ocsf' }))}" hx-boost="false">OCSF</a></span>
<span class="kbd-help">Keys: j / k move, o opens, x selects.</span></div>`
}`;
  return layout({ title: 'Alerts', principal, nav: 'alerts', flash: changed, error, body });
}

export function registerListPage(app: FastifyInstance, context: ServeContext): void {
  app.get('/', {
    config: { access: 'reader', page: true, docs: { summary: 'The alert list (filters as query parameters, like GET /api/v1/alerts)', tags: ['ui'] } },
    handler: async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      let parsed: ParsedListQuery;
      try {
        parsed = parseListQuery(request.query as QueryInput, context.now());
        return listPage(context, request, parsed, await context.store.list(parsed.request));
      } catch (error) {
        if (!(error instanceof StoreError) || error.status !== 400) throw error;
        reply.code(400);
        return listPage(context, request, undefined, undefined, `${error.code}: ${error.message}`);
      }
    },
  });
}
