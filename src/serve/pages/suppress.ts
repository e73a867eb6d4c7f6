/**
 * "Suppress from this alert" (`/alerts/:id/suppress`): a form prefilled from the alert (rule +
 * principal / account / IP, GuardDuty finding type, matched indicator), requiring a reason and an
 * expiry; the first post previews the Sigma filter document and how many open alerts of the rule
 * it matches, the confirmation writes it (suppression.ts) and, when asked, closes those alerts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StoredAlert } from '../../store/alert-store.ts';
import { actorOf, alertOr404 } from '../api/alerts.ts';
import type { ServeContext } from '../context.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import { HttpError } from '../http-error.ts';
import { StoreError } from '../../store/alert-store.ts';
import { SUPPRESS_KEYS, suppressFromAlert, suppressOptions, type SuppressKey, type SuppressPlan } from '../suppression.ts';
import { field, fields, formBody, formSchema, seeOther, type FormBody } from './forms.ts';
import { csrfField, layout, plural } from './layout.ts';

function defaultExpiry(now: Date): string {
  return new Date(now.getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
}

function suppressForm(context: ServeContext, request: FastifyRequest, alert: StoredAlert, body: FormBody | undefined, plan: SuppressPlan | undefined, error?: string): string {
  const options = suppressOptions(alert);
  const chosen = body === undefined ? ['principal'] : fields(body, 'keys');
  const reason = body === undefined ? '' : field(body, 'reason');
  const expires = body === undefined ? defaultExpiry(context.now()) : field(body, 'expires');
  const close = body === undefined ? true : field(body, 'close_matching') === '1';
  const id = encodeURIComponent(alert.id);
  const preview: SafeHtml =
    plan === undefined
      ? raw('')
      : html`<div class="panel"><h2>Preview</h2>
<p>File: <code class="break">${plan.file}</code></p>
<pre id="filter-document">${plan.document}</pre>
<p>It matches <strong id="matching-count">${plural(plan.matching.length, 'open alert')}</strong> of this rule${close ? ', which will be closed as benign positive' : ' (left as they are)'}.</p>
<form method="post" action="/alerts/${id}/suppress">${csrfField(request.principal)}
${chosen.map((key) => html`<input type="hidden" name="keys" value="${key}">`)}
<input type="hidden" name="reason" value="${reason}"><input type="hidden" name="expires" value="${expires}"><input type="hidden" name="close_matching" value="${close ? '1' : '0'}"><input type="hidden" name="confirm" value="1">
<button type="submit" id="confirm-suppress">Write this suppression${close && plan.matching.length > 0 ? html` and close ${plural(plan.matching.length, 'alert')}` : ''}</button></form></div>`;
  const body2 = html`<p><a href="/alerts/${id}">« Back to the alert</a></p>
<h1>Suppress from this alert</h1>
<p>Writes a Sigma filter (an allowlist) for rule <strong>${alert.rule.name ?? alert.rule.id}</strong> into <code class="break">${context.filtersDir}</code>, which <code>trailhound scan --filters</code> and <code>watch</code> load. Matches it keeps out are counted, never silently dropped. Closing an alert alone suppresses nothing.</p>
<form method="post" action="/alerts/${id}/suppress" class="panel">${csrfField(request.principal)}
<fieldset><legend>Suppress when the event has</legend>
${options.length === 0 ? html`<p class="error">This alert has nothing to key a suppression on.</p>` : ''}
${options.map(
  (option) => html`<label><input type="checkbox" name="keys" value="${option.key}"${chosen.includes(option.key) ? raw(' checked') : ''}> ${option.label}: <code class="break">${option.field}</code> = <strong class="break">${option.value}</strong></label><br>`,
)}
</fieldset>
<div class="field"><label for="s-reason">Reason (required)</label><input type="text" id="s-reason" name="reason" value="${reason}" required maxlength="1000"></div>
<div class="field"><label for="s-expires">Expires (required, through that day UTC)</label><input type="date" id="s-expires" name="expires" value="${expires}" required></div>
<p><label><input type="checkbox" name="close_matching" value="1"${close ? raw(' checked') : ''}> Close the open alerts of this rule that it matches (benign positive)</label></p>
<button type="submit" id="preview-suppress">Preview</button>
</form>
${preview}`;
  return layout({ title: 'Suppress from this alert', principal: request.principal, nav: 'alerts', error, body: body2 });
}

export function registerSuppressPage(app: FastifyInstance, context: ServeContext): void {
  const params = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } };
  app.get('/alerts/:id/suppress', {
    schema: { params },
    config: { access: 'triager', page: true, docs: { summary: 'The "Suppress from this alert" form, prefilled from the alert', tags: ['ui'] } },
    handler: async (request, reply) => {
      const alert = await alertOr404(context.store, (request.params as { id: string }).id);
      return reply.type('text/html; charset=utf-8').send(suppressForm(context, request, alert, undefined, undefined));
    },
  });
  app.post('/alerts/:id/suppress', {
    schema: { params, body: formSchema({ keys: 20, reason: 1000, expires: 20, close_matching: 1, confirm: 1 }) },
    config: { access: 'triager', page: true, docs: { summary: 'Preview, then write, a suppression from the alert', tags: ['ui'] } },
    handler: async (request, reply) => {
      const alert = await alertOr404(context.store, (request.params as { id: string }).id);
      const body = formBody(request);
      const keys = fields(body, 'keys').filter((key): key is SuppressKey => (SUPPRESS_KEYS as readonly string[]).includes(key));
      const confirm = field(body, 'confirm') === '1';
      try {
        const result = await suppressFromAlert(context, alert, { keys, reason: field(body, 'reason'), expires: field(body, 'expires'), closeMatching: field(body, 'close_matching') === '1', owner: actorOf(request) }, !confirm);
        if (!confirm) return reply.type('text/html; charset=utf-8').send(suppressForm(context, request, alert, body, result.plan));
        return seeOther(request, reply, `/suppressions?written=${encodeURIComponent(result.plan.id)}&closed=${result.closed}`);
      } catch (error) {
        if ((error instanceof HttpError || error instanceof StoreError) && error.status === 400) {
          return reply.code(400).type('text/html; charset=utf-8').send(suppressForm(context, request, alert, body, undefined, `${error.code}: ${error.message}`));
        }
        throw error;
      }
    },
  });
}
