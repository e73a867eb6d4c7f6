/**
 * One alert (`/alerts/:id`): the rule (title, level, description, ATT&CK linked to
 * attack.mitre.org, its detection logic), what matched (correlation group and window, threat-intel
 * match and feed, GuardDuty finding, flow summary), the raw events as escaped pretty JSON, the
 * history timeline, notes, and the triage actions (`POST /alerts/:id/triage`, at the version shown:
 * a stale one is refused and the page says so).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLOSE_REASONS, StoreError, type CloseReason, type DeliveryState, type HistoryEntry, type StoredAlert, type TriageChange } from '../../store/alert-store.ts';
import { actorOf, alertOr404 } from '../api/alerts.ts';
import { roleAllows } from '../auth.ts';
import type { ServeContext } from '../context.ts';
import { html, prettyJson, raw, url, type HtmlValue, type SafeHtml } from '../html.ts';
import { badRequest, HttpError } from '../http-error.ts';
import { field, formBody, formSchema, seeOther } from './forms.ts';
import { actorLink, csrfField, layout, levelBadge, plural, statusBadge, tacticLink, techniqueLink, timeText } from './layout.ts';

function facts(rows: readonly (readonly [string, HtmlValue])[]): SafeHtml {
  return html`<dl class="facts">${rows.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>`;
}

/** A link from a rule's references: only http(s) URLs become links. */
function referenceLink(reference: string): SafeHtml {
  return /^https?:\/\/[^\s]+$/i.test(reference) ? html`<a href="${reference}" rel="noopener noreferrer" target="_blank">${reference}</a>` : html`${reference}`;
}

function ruleSection(context: ServeContext, alert: StoredAlert): SafeHtml {
  const rule = context.catalog.find(alert.rule.id) ?? (alert.rule.name === null ? undefined : context.catalog.find(alert.rule.name));
  return html`<section aria-labelledby="h-rule"><h2 id="h-rule">Rule</h2>
${facts([
  ['Title', alert.rule.title],
  ['Name', alert.rule.name ?? undefined],
  ['Id', alert.rule.id],
  ['Level', levelBadge(alert.rule.level)],
  ['Tuning', alert.rule.tuning?.join('; ')],
  ['Description', rule?.description ?? undefined],
  ['ATT&CK techniques', alert.attack.techniques.length === 0 ? undefined : alert.attack.techniques.map((id, i) => html`${i === 0 ? '' : ', '}${techniqueLink(id)}`)],
  ['Tactics', alert.attack.tactics.length === 0 ? undefined : alert.attack.tactics.map((slug, i) => html`${i === 0 ? '' : ', '}${tacticLink(slug)}`)],
  ['False positives', rule === undefined || rule.falsepositives.length === 0 ? undefined : rule.falsepositives.join('; ')],
  ['References', rule === undefined || rule.references.length === 0 ? undefined : rule.references.map((reference) => html`${referenceLink(reference)}<br>`)],
])}
${rule === undefined ? html`<p class="muted">This rule is not among the rules serve loaded (--rules).</p>` : ''}
${rule?.logic === null || rule?.logic === undefined ? '' : html`<details><summary>What the rule matches</summary><pre>${rule.logic}</pre></details>`}
</section>`;
}

function matchSection(alert: StoredAlert): SafeHtml {
  const parts: SafeHtml[] = [];
  const correlation = alert.correlation;
  if (correlation !== undefined) {
    parts.push(html`<h3>Correlation</h3>${facts([
      ['Type', correlation.type],
      ['Group', Object.entries(correlation.group).map(([key, value]) => html`${key} = ${value ?? 'null'}<br>`)],
      ['Window', html`${timeText(correlation.window.start)} → ${timeText(correlation.window.end)}`],
      ['Value', correlation.value],
      ['Distinct values', correlation.value_count],
      ['Values', correlation.values?.join(', ')],
      ['Baseline', correlation.baseline === undefined ? undefined : `${correlation.baseline.novel_count} new, ${correlation.baseline.usual_count} usual; new: ${correlation.baseline.novel_values.join(', ')}`],
      ['Member events', alert.event_ids.length],
    ])}`);
  }
  const cti = alert.cti;
  if (cti !== undefined) {
    parts.push(html`<h3>Threat-intel match</h3>${facts([
      ['Indicator', cti.indicator],
      ['Matched value', cti.matched],
      ['Field', cti.field],
      ['Feed', cti.feed],
      ['Other feeds', cti.feeds?.join(', ')],
      ['Direction', cti.direction],
      ['Where in the feed', cti.provenance],
      ['Confidence', cti.confidence],
      ['Bucket', cti.window === undefined ? undefined : html`${timeText(cti.window.start)} → ${timeText(cti.window.end)}`],
    ])}`);
  }
  const guardDuty = alert.guardduty;
  if (guardDuty !== undefined) {
    parts.push(html`<h3>GuardDuty finding</h3>${facts([
      ['Finding id', guardDuty.id],
      ['Type', guardDuty.type],
      ['Severity', guardDuty.severity],
      ['Count (service.count)', guardDuty.count],
      ['Updated at', timeText(guardDuty.updated_at)],
      ['Resource', guardDuty.resource_type === undefined ? undefined : `${guardDuty.resource_type ?? '?'} ${guardDuty.resource_id ?? ''}`],
      ['Archived', guardDuty.archived === undefined ? undefined : String(guardDuty.archived)],
      ['Versions seen', `${alert.hits} (first ${alert.first_seen}, last ${alert.last_seen})`],
    ])}`);
  }
  const flow = alert.flow;
  if (flow !== undefined) {
    parts.push(html`<h3>Flow records</h3>${facts([
      ['Interface', flow.interface_id],
      ['Accepted / rejected', `${flow.accepted} / ${flow.rejected}`],
      ['Bytes / packets', `${flow.bytes} / ${flow.packets}`],
      ['Bytes to the indicator', flow.bytes_to_indicator],
      ['Destination ports', flow.dstports.join(', ')],
      ['Protocols', flow.protocols.join(', ')],
      ['Local addresses', flow.local_addresses.join(', ')],
    ])}`);
  }
  return html`<section aria-labelledby="h-match"><h2 id="h-match">What matched</h2>
${facts([
  ['Event time', timeText(alert.time)],
  ['Source', alert.source],
  ['Account', alert.account ?? undefined],
  ['Region', alert.region ?? undefined],
  ['Actor', actorLink(alert.actor)],
  ['Source IP', alert.source_ip ?? undefined],
  ['Events', alert.count],
  ['Event ids', alert.event_ids.join(', ')],
])}
${parts}
</section>`;
}

function eventsSection(alert: StoredAlert): SafeHtml {
  const events = alert.events ?? [];
  return html`<section aria-labelledby="h-events"><h2 id="h-events">Raw events ${events.length === 0 ? '' : html`<span class="muted">(${events.length} of ${alert.count})</span>`}</h2>
${events.length === 0 ? html`<p class="muted">The alert was stored without its events (--no-events).</p>` : events.map((event, i) => html`<details${i === 0 ? raw(' open') : ''}><summary>Event ${i + 1}</summary><pre>${prettyJson(event)}</pre></details>`)}
</section>`;
}

const ACTION_WORDS: Readonly<Record<string, string>> = {
  created: 'detected',
  seen_again: 'seen again',
  status: 'status',
  reason: 'reason',
  assignee: 'assignee',
  tag_added: 'tag added',
  tag_removed: 'tag removed',
  note_added: 'note',
  note_removed: 'note removed',
  closed_by_suppression: 'closed by suppression',
};

function historySection(history: readonly HistoryEntry[]): SafeHtml {
  return html`<section aria-labelledby="h-history"><h2 id="h-history">History</h2><ol class="timeline">${history.map(
    (entry) => html`<li>${timeText(entry.at)} <span class="who">${entry.actor}</span> ${ACTION_WORDS[entry.action] ?? entry.action}${
      entry.from === null && entry.to === null ? '' : html`: ${entry.from === null ? '' : html`<span class="muted">${entry.from}</span> → `}${entry.to ?? '—'}`
    }</li>`,
  )}</ol></section>`;
}

function deliverySection(deliveries: readonly DeliveryState[] | undefined): SafeHtml {
  const rows =
    deliveries === undefined || deliveries.length === 0
      ? html`<p class="muted">No sink delivers from this store (alerts stored by <code>scan --store</code>, or a store without an outbox).</p>`
      : html`<ul>${deliveries.map((item) => html`<li><span class="who">${item.sink}</span>: ${item.state === 'done' ? 'done (delivered, dead-lettered or below its level)' : 'pending'} <span class="muted">· sink last moved ${timeText(item.updated_at)}</span></li>`)}</ul>`;
  return html`<section aria-labelledby="h-delivery"><h2 id="h-delivery">Delivery</h2>${rows}</section>`;
}

function actionForm(alert: StoredAlert, request: FastifyRequest, op: string, content: HtmlValue): SafeHtml {
  return html`<form method="post" action="/alerts/${encodeURIComponent(alert.id)}/triage">${csrfField(request.principal)}<input type="hidden" name="version" value="${alert.version}"><input type="hidden" name="op" value="${op}">${content}</form>`;
}

function actionsSection(alert: StoredAlert, request: FastifyRequest): SafeHtml {
  const canTriage = request.principal !== undefined && roleAllows(request.principal.role, 'triager');
  const notes = html`<h3>Notes</h3>${
    alert.notes.length === 0
      ? html`<p class="muted">No notes.</p>`
      : html`<ul>${alert.notes.map(
          (note) => html`<li><span class="muted">${note.author}, ${timeText(note.at)}:</span> <span class="break">${note.text}</span>${
            canTriage ? actionForm(alert, request, 'note_remove', html`<input type="hidden" name="note_id" value="${note.id}"><button type="submit" class="secondary">Remove note</button>`) : ''
          }</li>`,
        )}</ul>`
  }`;
  if (!canTriage) return html`<section aria-labelledby="h-actions"><h2 id="h-actions">Triage</h2><p class="muted">Your token is read-only.</p>${notes}</section>`;
  const id = encodeURIComponent(alert.id);
  return html`<section class="actions" aria-labelledby="h-actions"><h2 id="h-actions">Triage</h2>
${alert.status === 'open' ? actionForm(alert, request, 'acknowledge', html`<button type="submit" id="acknowledge">Acknowledge</button>`) : ''}
${
  alert.status === 'closed'
    ? actionForm(alert, request, 'reopen', html`<button type="submit" id="reopen">Reopen</button>`)
    : actionForm(
        alert,
        request,
        'close',
        html`<div class="row"><div><label for="close-reason">Close as</label><select id="close-reason" name="reason" required>${CLOSE_REASONS.map((reason) => html`<option value="${reason}">${reason.replace(/_/g, ' ')}</option>`)}</select></div>
<div><label for="close-note">Note (optional)</label><input type="text" id="close-note" name="note"></div><button type="submit" id="close">Close</button></div>`,
      )
}
${actionForm(alert, request, 'assign', html`<div class="row"><div><label for="assignee">Assignee</label><input type="text" id="assignee" name="value" value="${alert.assignee ?? ''}"></div><button type="submit" class="secondary">Assign</button></div>`)}
${actionForm(alert, request, 'tag_add', html`<div class="row"><div><label for="tag">Add a tag</label><input type="text" id="tag" name="value"></div><button type="submit" class="secondary">Add tag</button></div>`)}
${alert.tags.map((tag) => actionForm(alert, request, 'tag_remove', html`<input type="hidden" name="value" value="${tag}"><span class="tag">${tag}</span> <button type="submit" class="secondary">Remove tag</button>`))}
${actionForm(alert, request, 'note', html`<label for="note">Add a note</label><textarea id="note" name="note" required></textarea><button type="submit" class="secondary">Add note</button>`)}
<p><a class="button secondary" href="/alerts/${id}/suppress">Suppress from this alert…</a></p>
${notes}
</section>`;
}

export async function detailPage(context: ServeContext, request: FastifyRequest, alert: StoredAlert, messages: { flash?: string; error?: string } = {}): Promise<string> {
  const history = await context.store.history(alert.id);
  const deliveries = await context.store.deliveries?.(alert.id);
  const body = html`<p><a href="/">« Alerts</a></p>
<h1>${alert.rule.title}</h1>
<p>${levelBadge(alert.rule.level)} ${statusBadge(alert.status, alert.reason)} ${alert.assignee === null ? '' : html`· assigned to <strong>${alert.assignee}</strong>`} ${alert.tags.map((tag) => html`<span class="tag">${tag}</span>`)}
<span class="muted">· ${plural(alert.hits, 'sighting')} · version ${alert.version} · <a href="${url(`/api/v1/alerts/${encodeURIComponent(alert.id)}`)}" hx-boost="false">JSON</a></span></p>
<div class="columns"><div>${matchSection(alert)}${ruleSection(context, alert)}${eventsSection(alert)}</div>
<div>${actionsSection(alert, request)}${historySection(history)}${deliverySection(deliveries)}</div></div>`;
  return layout({ title: alert.rule.title, principal: request.principal, nav: 'alerts', flash: messages.flash, error: messages.error, body });
}

/** The change a detail-page form asks for. */
function changeOfOp(body: ReturnType<typeof formBody>): TriageChange {
  const op = field(body, 'op');
  const value = field(body, 'value');
  const note = field(body, 'note');
  const withNote = note === '' ? {} : { note };
  switch (op) {
    case 'acknowledge':
      return { status: 'acknowledged', ...withNote };
    case 'close': {
      const reason = field(body, 'reason');
      if (!(CLOSE_REASONS as readonly string[]).includes(reason)) throw badRequest(`closing needs a reason: one of ${CLOSE_REASONS.join(', ')}`);
      return { status: 'closed', reason: reason as CloseReason, ...withNote };
    }
    case 'reopen':
      return { status: 'open', ...withNote };
    case 'assign':
      return { assignee: value === '' ? null : value };
    case 'tag_add':
      if (value === '') throw badRequest('type the tag to add');
      return { tags_add: [value] };
    case 'tag_remove':
      return { tags_remove: [value] };
    case 'note':
      if (note === '') throw badRequest('type the note to add');
      return { note };
    case 'note_remove': {
      const id = Number(field(body, 'note_id'));
      if (!Number.isSafeInteger(id) || id < 1) throw badRequest('note_id is a note id');
      return { notes_remove: [id] };
    }
    default:
      throw badRequest('op must be one of acknowledge, close, reopen, assign, tag_add, tag_remove, note, note_remove');
  }
}

async function sendDetail(context: ServeContext, request: FastifyRequest, reply: FastifyReply, alert: StoredAlert, status: number, messages: { flash?: string; error?: string }): Promise<FastifyReply> {
  return reply.code(status).type('text/html; charset=utf-8').send(await detailPage(context, request, alert, messages));
}

export function registerDetailPage(app: FastifyInstance, context: ServeContext): void {
  app.get('/alerts/:id', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } },
    config: { access: 'reader', page: true, docs: { summary: 'One alert: rule, what matched, raw events, history, triage actions', tags: ['ui'] } },
    handler: async (request, reply) => {
      const alert = await alertOr404(context.store, (request.params as { id: string }).id);
      const saved = (request.query as Record<string, unknown>).saved === '1';
      return sendDetail(context, request, reply, alert, 200, saved ? { flash: 'Saved.' } : {});
    },
  });

  app.post('/alerts/:id/triage', {
    schema: {
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
      body: formSchema({ version: 20, op: 20, reason: 40, note: 10_000, value: 200, note_id: 20 }, ['version', 'op']),
    },
    config: { access: 'triager', page: true, docs: { summary: 'Triage from the detail page (acknowledge, close, reopen, assign, tags, notes) at a version', tags: ['ui'] } },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      const alert = await alertOr404(context.store, id);
      const body = formBody(request);
      const version = Number(field(body, 'version'));
      try {
        await context.store.update(id, version, changeOfOp(body), actorOf(request));
      } catch (error) {
        if (error instanceof StoreError && error.code === 'TH_STORE_CONFLICT') {
          return sendDetail(context, request, reply, alert, 409, { error: 'Someone changed this alert since you opened it: here it is as it is now. Check it, then make your change again.' });
        }
        if ((error instanceof StoreError || error instanceof HttpError) && error.status === 400) return sendDetail(context, request, reply, alert, 400, { error: `${error.code}: ${error.message}` });
        throw error;
      }
      return seeOther(request, reply, `/alerts/${encodeURIComponent(id)}?saved=1`);
    },
  });
}
