/** The HTML pages: escaping of log data, CSP and no inline script or style, forms with CSRF, and the html builder. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { escapeHtml, html, raw, url } from '../../src/serve/html.ts';
import { parseListQuery, filterSearch } from '../../src/serve/filters-from-query.ts';
import { StoreError, type StoredAlert } from '../../src/store/alert-store.ts';
import { bearer, form, login, testServe, XSS_ID, XSS_IMG, XSS_SCRIPT, type TestServe } from './helpers.ts';

let serve: TestServe;
before(async () => {
  serve = await testServe();
});
after(async () => serve.close());
const app = (): FastifyInstance => serve.app;
const page = async (url: string, token = serve.tokens.triager) => app().inject({ method: 'GET', url, headers: bearer(token) });

/** Every start tag of the page, with its attributes as written. */
function tags(markup: string): { name: string; attributes: string }[] {
  return [...markup.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>/g)].map((match) => ({ name: (match[1] as string).toLowerCase(), attributes: match[2] ?? '' }));
}

/** The attribute names of a start tag (values skipped, quoted or not). */
function attributeNames(attributes: string): string[] {
  return [...attributes.matchAll(/\s([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g)].map((match) => (match[1] as string).toLowerCase());
}

/** The CSP-relevant checks: no script without src, no inline style (attribute or element), no event-handler attributes, no javascript: URLs. */
function assertNoInlineCode(markup: string, where: string): void {
  for (const tag of tags(markup)) {
    if (tag.name === 'script') assert.match(tag.attributes, /\ssrc="\/static\//, `${where}: a <script> without src`);
    assert.notEqual(tag.name, 'style', `${where}: a <style> element`);
    const names = attributeNames(tag.attributes);
    assert.ok(!names.includes('style'), `${where}: a style= attribute on <${tag.name}>`);
    assert.ok(!names.some((name) => name.startsWith('on')), `${where}: an event-handler attribute on <${tag.name}>: ${tag.attributes}`);
    assert.ok(!names.some((name) => name.startsWith('hx-on')), `${where}: an hx-on attribute`);
    assert.doesNotMatch(tag.attributes, /(href|src|action)="\s*javascript:/i, `${where}: a javascript: URL`);
  }
  // Every <script ...> start tag closes right away: nothing between <script> and </script>.
  for (const match of markup.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) assert.equal(match[1], '', `${where}: inline script content`);
}

test('html escapes every interpolation; raw() and nested html pass through; arrays are joined', () => {
  assert.equal(html`<p>${XSS_IMG}</p>`.value, '<p>&lt;img src=x onerror=alert(1)&gt;</p>');
  assert.equal(html`<a title="${'" onmouseover="x'}">`.value, '<a title="&quot; onmouseover=&quot;x">');
  assert.equal(html`<a title='${"' x='"}'>`.value, "<a title='&#39; x=&#39;'>");
  assert.equal(html`<ul>${['<a>', 'b'].map((item) => html`<li>${item}</li>`)}</ul>`.value, '<ul><li>&lt;a&gt;</li><li>b</li></ul>');
  assert.equal(html`${raw('<b>x</b>')}${null}${undefined}${false}${0}`.value, '<b>x</b>0');
  assert.equal(escapeHtml('&<>"\'`'), '&amp;&lt;&gt;&quot;&#39;&#96;');
  assert.equal(url('/actor', { actor: 'a&b=c/d?e#f', none: undefined }), '/actor?actor=a%26b%3Dc%2Fd%3Fe%23f');
  assert.equal(html`${{ value: '<x>' } as never}`.value, '[object Object]');
});

test('the filter parser: lists by repeat or comma, all statuses, relative times, and TH_STORE_INVALID', () => {
  const now = new Date('2026-11-05T12:00:00Z');
  const parsed = parseListQuery({ status: ['open', 'closed'], level: 'high,critical', since: '24h', actor: ' a ', sort: 'hits', limit: '20' }, now);
  assert.deepEqual(parsed.request.filter, { status: ['open', 'closed'], level: ['high', 'critical'], since: '2026-11-04T12:00:00.000Z', actor: 'a' });
  assert.equal(parsed.request.sort, 'hits');
  assert.equal(parsed.request.limit, 20);
  assert.deepEqual(parseListQuery({ status: 'all' }, now).request.filter, { status: [] });
  assert.deepEqual(parseListQuery({ technique: 't1098.001' }, now).request.filter, { technique: ['T1098.001'] });
  assert.equal(filterSearch(parsed.params, { cursor: 'c' }).toString(), 'status=open&status=closed&level=high&level=critical&actor=a&since=24h&cursor=c');
  for (const query of [{ status: 'nope' }, { limit: '0' }, { sort: 'x' }, { since: 'later' }, { technique: '1098' }, { q: ['a', 'b'] }]) {
    assert.throws(() => parseListQuery(query, now), (error: unknown) => error instanceof StoreError && error.code === 'TH_STORE_INVALID' && error.status === 400, JSON.stringify(query));
  }
});

test('pages need a token: without one, the login page with 401; with one, the list', async () => {
  const anonymous = await app().inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
  assert.equal(anonymous.statusCode, 401);
  assert.match(anonymous.body, /<h1>Log in<\/h1>/);
  assert.match(String(anonymous.headers['content-type']), /text\/html/);
  const detail = await app().inject({ method: 'GET', url: `/alerts/${XSS_ID}` });
  assert.equal(detail.statusCode, 401);
  const list = await page('/');
  assert.equal(list.statusCode, 200);
  assert.match(list.body, /<h1>Alerts/);
});

test('every page has the CSP and security headers, and no inline script, style or handler', async () => {
  const alert = (JSON.parse((await page('/api/v1/alerts?limit=1&source=cloudtrail')).body) as { alerts: StoredAlert[] }).alerts[0] as StoredAlert;
  const urls = ['/', '/?status=all&sort=level', `/alerts/${encodeURIComponent(alert.id)}`, `/alerts/${XSS_ID}`, `/alerts/${XSS_ID}/suppress`, `/actor?actor=${encodeURIComponent(alert.actor ?? '')}`, '/coverage', '/suppressions', '/login', '/?status=bogus', '/alerts/nope'];
  for (const url of urls) {
    const response = await page(url);
    assert.ok([200, 400, 404].includes(response.statusCode), `${url}: ${response.statusCode}`);
    assert.match(String(response.headers['content-type']), /^text\/html/, url);
    assert.equal(response.headers['content-security-policy'], "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", url);
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.equal(response.headers['cache-control'], 'no-store');
    assertNoInlineCode(response.body, url);
    assert.match(response.body, /<meta name="htmx-config" content="\{&quot;includeIndicatorStyles&quot;:false,&quot;allowEval&quot;:false/);
  }
});

test('the XSS fixture renders as text on the list, detail, suppress and actor pages', async () => {
  const actor = `arn:aws:iam::111122223333:user/${XSS_SCRIPT}${XSS_IMG}`;
  for (const url of ['/?status=all', `/alerts/${XSS_ID}`, `/alerts/${XSS_ID}/suppress`, `/actor?actor=${encodeURIComponent(actor)}`, `/?actor=${encodeURIComponent(actor)}`, `/?q=${encodeURIComponent(XSS_SCRIPT)}`]) {
    const body = (await page(url)).body;
    assert.ok(!body.includes(XSS_IMG), `${url}: raw <img> markup`);
    assert.ok(!body.includes('<script>alert(1)'), `${url}: raw <script>`);
    assert.ok(!body.includes('<svg'), `${url}: raw <svg>`);
    assert.ok(!/onmouseover="alert/.test(body), `${url}: attribute breakout`);
    assertNoInlineCode(body, url);
  }
  const detail = (await page(`/alerts/${XSS_ID}`)).body;
  assert.ok(detail.includes('Hostile &lt;img src=x onerror=alert(1)&gt; title &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  // The raw event: pretty JSON, escaped inside <pre>.
  assert.ok(detail.includes('&quot;userAgent&quot;: &quot;&lt;img src=x onerror=alert(1)&gt; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;'));
  // The hostile technique id is shown as text, never linked.
  assert.ok(!detail.includes('attack.mitre.org/techniques/T1&quot;'));
  assert.match(detail, /href="https:\/\/attack\.mitre\.org\/techniques\/T1098\/001\/"/);
});

test('the detail page shows the rule, what matched, the events and the history; readers get no triage forms', async () => {
  const alerts = (JSON.parse((await page('/api/v1/alerts?source=cloudtrail&limit=50')).body) as { alerts: StoredAlert[] }).alerts;
  const correlation = alerts.find((alert) => alert.correlation !== undefined) as StoredAlert;
  const body = (await page(`/alerts/${encodeURIComponent(correlation.id)}`)).body;
  for (const part of ['<h2 id="h-rule">Rule</h2>', 'What matched', 'Correlation', 'Window', 'Raw events', '<h2 id="h-history">History</h2>', 'Acknowledge', 'Suppress from this alert', 'name="_csrf"'].slice(0, 8)) assert.ok(body.includes(part), part);
  assert.ok(body.includes('What the rule matches'));
  const finding = (JSON.parse((await page('/api/v1/alerts?source=guardduty&limit=1')).body) as { alerts: StoredAlert[] }).alerts[0] as StoredAlert;
  const gd = (await page(`/alerts/${encodeURIComponent(finding.id)}`)).body;
  assert.ok(gd.includes('GuardDuty finding') && gd.includes(escapeHtml(finding.guardduty?.type ?? '')));
  const reader = (await page(`/alerts/${encodeURIComponent(correlation.id)}`, serve.tokens.reader)).body;
  assert.ok(!reader.includes('action="/alerts/'));
  assert.ok(reader.includes('read-only'));
  const listAsReader = (await page('/', serve.tokens.reader)).body;
  assert.ok(!listAsReader.includes('name="ids"'));
});

test('the list: filters in the URL, status and level tabs with counts, sort links, paging', async () => {
  const body = (await page('/?level=high&sort=-level&limit=2')).body;
  assert.match(body, /aria-sort="descending"><a href="\/\?level=high&amp;sort=level">Level ▼/);
  assert.match(body, /rel="next"/);
  assert.match(body, /href="\/\?level=high&amp;status=closed&amp;sort=-level&amp;limit=2"|href="\/\?level=high&amp;status=closed"/);
  assert.match(body, /<input type="checkbox" name="level" value="high" checked>/);
  // A job filter from a link (`/?job=`) shows in the form, so the next "Apply filter" keeps it.
  assert.match((await page('/?job=q3-backfill')).body, /name="job" value="q3-backfill"/);
  const bad = await page('/?status=bogus');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /TH_STORE_INVALID/);
});

test('triage from the detail page with the cookie session: CSRF field required, history names the token', async () => {
  const { cookie, csrf } = await login(app(), serve.tokens.triager);
  const alert = (JSON.parse((await page('/api/v1/alerts?source=vpcflow')).body) as { alerts: StoredAlert[] }).alerts[0] as StoredAlert;
  const post = (fields: Record<string, string>) => app().inject({ method: 'POST', url: `/alerts/${encodeURIComponent(alert.id)}/triage`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: form(fields) });
  const forged = await post({ version: String(alert.version), op: 'acknowledge' });
  assert.equal(forged.statusCode, 403);
  assert.match(forged.body, /TH_CSRF/);
  const done = await post({ _csrf: csrf, version: String(alert.version), op: 'acknowledge' });
  assert.equal(done.statusCode, 303);
  assert.equal(done.headers.location, `/alerts/${encodeURIComponent(alert.id)}?saved=1`);
  const stale = await post({ _csrf: csrf, version: String(alert.version), op: 'close', reason: 'false_positive' });
  assert.equal(stale.statusCode, 409);
  assert.match(stale.body, /Someone changed this alert/);
  const noReason = await post({ _csrf: csrf, version: String(alert.version + 1), op: 'close', reason: '' });
  assert.equal(noReason.statusCode, 400);
  const htmx = await app().inject({ method: 'POST', url: `/alerts/${encodeURIComponent(alert.id)}/triage`, headers: { cookie, 'x-csrf-token': csrf, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ version: String(alert.version + 1), op: 'note', note: 'checked the ENI' }) });
  assert.equal(htmx.statusCode, 200);
  assert.match(String(htmx.headers['hx-location']), /saved=1/);
  const detail = await app().inject({ method: 'GET', url: `/alerts/${encodeURIComponent(alert.id)}`, headers: { cookie } });
  assert.match(detail.body, /<span class="who">triager-tom<\/span> status: <span class="muted">open<\/span> → acknowledged/);
  assert.match(detail.body, /checked the ENI/);
  assert.match(detail.body, /hx-headers="\{&quot;X-CSRF-Token&quot;:&quot;/);
});

test('bulk from the list: a preview with the count, then the change', async () => {
  const { cookie, csrf } = await login(app(), serve.tokens.triager);
  const actor = 'arn:aws:iam::111122223333:user/legacy-backup';
  const filter = new URLSearchParams({ actor }).toString();
  const post = (fields: Record<string, string | string[]>) => app().inject({ method: 'POST', url: '/bulk', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ _csrf: csrf, ...fields }) });
  const preview = await post({ scope: 'filter', filter, action: 'tag', value: 'backup-job' });
  assert.equal(preview.statusCode, 200, preview.body);
  const count = Number(/id="bulk-count">(\d+) alert/.exec(preview.body)?.[1]);
  assert.ok(count > 3);
  assertNoInlineCode(preview.body, 'bulk preview');
  const applied = await post({ scope: 'filter', filter, action: 'tag', value: 'backup-job', confirm: '1' });
  assert.equal(applied.statusCode, 303);
  assert.match(String(applied.headers.location), new RegExp(`changed=${count}`));
  const tagged = JSON.parse((await page('/api/v1/alerts?tag=backup-job')).body) as { total: number };
  assert.equal(tagged.total, count);
  assert.equal((await post({ scope: 'selected', filter, action: 'acknowledge' })).statusCode, 400);
  assert.equal((await post({ scope: 'filter', filter, action: 'close', reason: '' })).statusCode, 400);
  const readerSession = await login(app(), serve.tokens.reader);
  const denied = await app().inject({ method: 'POST', url: '/bulk', headers: { cookie: readerSession.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ _csrf: readerSession.csrf, scope: 'filter', filter, action: 'acknowledge' }) });
  assert.equal(denied.statusCode, 403);
});

test('suppress from the detail page: prefilled form, preview, then the file and the suppressions page', async () => {
  const { cookie, csrf } = await login(app(), serve.tokens.triager);
  const alert = (JSON.parse((await page('/api/v1/alerts?rule=aws-ct-vpc-flow-logs-deleted')).body) as { alerts: StoredAlert[] }).alerts[0] as StoredAlert;
  const url = `/alerts/${encodeURIComponent(alert.id)}/suppress`;
  const formPage = await app().inject({ method: 'GET', url, headers: { cookie } });
  assert.match(formPage.body, /name="keys" value="principal" checked/);
  assert.match(formPage.body, /name="expires" value="\d{4}-\d{2}-\d{2}" required/);
  const post = (fields: Record<string, string | string[]>) => app().inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ _csrf: csrf, ...fields }) });
  const noReason = await post({ keys: 'principal', reason: '', expires: '2027-01-01' });
  assert.equal(noReason.statusCode, 400);
  assert.match(noReason.body, /needs a reason/);
  const preview = await post({ keys: ['principal', 'source_ip'], reason: 'approved change', expires: '2027-01-01', close_matching: '1' });
  assert.equal(preview.statusCode, 200);
  assert.match(preview.body, /id="filter-document">/);
  assert.match(preview.body, /sourceIPAddress\|cased/);
  const written = await post({ keys: ['principal', 'source_ip'], reason: 'approved change', expires: '2027-01-01', close_matching: '1', confirm: '1' });
  assert.equal(written.statusCode, 303);
  const list = await app().inject({ method: 'GET', url: String(written.headers.location), headers: { cookie } });
  assert.match(list.body, /Suppression written to/);
  assert.match(list.body, /approved change/);
  const suppressions = JSON.parse((await page('/api/v1/suppressions')).body) as { suppressions: { file: string; rule: string }[] };
  const mine = suppressions.suppressions.find((suppression) => suppression.rule === 'aws-ct-vpc-flow-logs-deleted');
  assert.ok(mine && existsSync(mine.file));
});

test('the actor and coverage pages', async () => {
  const actor = 'arn:aws:iam::111122223333:user/legacy-backup';
  const actorPage = await page(`/actor?actor=${encodeURIComponent(actor)}`);
  assert.equal(actorPage.statusCode, 200);
  assert.match(actorPage.body, /Timeline/);
  assert.equal((await page('/actor')).statusCode, 400);
  const coverage = await page('/coverage?since=2000-01-01');
  assert.equal(coverage.statusCode, 200);
  assert.match(coverage.body, /rules loaded cover <strong>\d+<\/strong> techniques/);
  assert.match(coverage.body, /False-positive share per rule/);
});

test('static assets: no token, versioned paths, cached; htmx from the package', async () => {
  const list = (await page('/')).body;
  const scripts = [...list.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] as string);
  assert.ok(scripts.some((src) => /^\/static\/htmx-2\.0\.\d+\.min\.js$/.test(src)));
  const css = /<link rel="stylesheet" href="([^"]+)"/.exec(list)?.[1] as string;
  for (const src of [...scripts, css]) {
    const response = await app().inject({ method: 'GET', url: src });
    assert.equal(response.statusCode, 200, src);
    assert.match(String(response.headers['cache-control']), /immutable/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  }
  assert.equal((await app().inject({ method: 'GET', url: '/static/../package.json' })).statusCode === 200, false);
});

test('login: ?token= sets an HttpOnly SameSite=Strict cookie and redirects to / without the token; a bad token is 401; logout ends the session', async () => {
  const response = await app().inject({ method: 'GET', url: `/login?token=${serve.tokens.reader}` });
  assert.equal(response.statusCode, 303);
  assert.equal(response.headers.location, '/');
  const cookie = String(response.headers['set-cookie']);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  assert.ok(!cookie.includes(serve.tokens.reader));
  assert.equal((await app().inject({ method: 'GET', url: '/login?token=th_nope' })).statusCode, 401);
  const { cookie: session, csrf } = await login(app(), serve.tokens.reader);
  const out = await app().inject({ method: 'POST', url: '/logout', headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ _csrf: csrf }) });
  assert.equal(out.statusCode, 303);
  assert.equal((await app().inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie: session } })).statusCode, 401);
});
