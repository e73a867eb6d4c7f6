/** The HTTP API through fastify.inject(): every endpoint, role and error. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { loadRuleSet, DEFAULT_RULES_DIR } from '../../src/pack/rule-set.ts';
import type { StoredAlert } from '../../src/store/alert-store.ts';
import { bearer, login, testServe, XSS_ID, type TestServe } from './helpers.ts';

let serve: TestServe;
const registered: { method: string; url: string }[] = [];

before(async () => {
  serve = await testServe({
    beforeReady: (app) =>
      app.addHook('onRoute', (route: RouteOptions) => {
        for (const method of Array.isArray(route.method) ? route.method : [route.method]) if (method !== 'HEAD') registered.push({ method, url: route.url });
      }),
  });
});
after(async () => serve.close());

const app = (): FastifyInstance => serve.app;
const get = async (url: string, token = serve.tokens.reader) => app().inject({ method: 'GET', url, headers: bearer(token) });
const json = <T = Record<string, unknown>>(response: { body: string }): T => JSON.parse(response.body) as T;
const errorCode = (response: { body: string }): string => json<{ error: { code: string } }>(response).error.code;

async function firstAlert(query = ''): Promise<StoredAlert> {
  const page = json<{ alerts: StoredAlert[] }>(await get(`/api/v1/alerts?limit=1${query}`));
  assert.ok(page.alerts[0]);
  return page.alerts[0];
}

test('/healthz needs no token', async () => {
  const response = await app().inject({ method: 'GET', url: '/healthz' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(json(response), { status: 'ok' });
});

test('no token, a wrong token or a malformed header: 401 TH_AUTH, JSON, with the security headers', async () => {
  for (const headers of [{}, bearer('th_wrong'), { authorization: 'Basic abc' }, bearer(`${serve.tokens.reader}x`)]) {
    const response = await app().inject({ method: 'GET', url: '/api/v1/alerts', headers });
    assert.equal(response.statusCode, 401);
    assert.equal(errorCode(response), 'TH_AUTH');
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(response.headers['cache-control'], 'no-store');
  }
});

test('every API response carries the security headers', async () => {
  for (const url of ['/api/v1/alerts', '/api/v1/nope', '/healthz', '/api/openapi.json']) {
    const response = await get(url);
    assert.equal(response.headers['content-security-policy'], "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.equal(response.headers['cache-control'], 'no-store');
  }
});

test('GET /api/v1/alerts: default open + acknowledged, total, counts, filters, paging', async () => {
  const all = json<{ alerts: StoredAlert[]; total: number; next_cursor: string | null; counts: { status: Record<string, number>; level: Record<string, number> } }>(await get('/api/v1/alerts?limit=500'));
  assert.equal(all.total, 19);
  assert.equal(all.alerts.length, 19);
  assert.equal(all.next_cursor, null);
  assert.equal(all.counts.status.open, 19);
  assert.ok(all.alerts.every((alert) => alert.status === 'open' && alert.version === 1 && alert.hits === 1));
  const actor = 'arn:aws:iam::111122223333:user/legacy-backup';
  const byActor = json<{ alerts: StoredAlert[]; total: number }>(await get(`/api/v1/alerts?actor=${encodeURIComponent(actor)}`));
  assert.ok(byActor.total > 3);
  assert.ok(byActor.alerts.every((alert) => alert.actor === actor));
  const levels = json<{ alerts: StoredAlert[] }>(await get('/api/v1/alerts?level=high,critical&source=cloudtrail'));
  assert.ok(levels.alerts.every((alert) => ['high', 'critical'].includes(alert.rule.level) && alert.source === 'cloudtrail'));
  const repeated = json<{ total: number }>(await get('/api/v1/alerts?level=high&level=critical&source=cloudtrail'));
  assert.equal(repeated.total, levels.alerts.length);
  const guardDuty = json<{ total: number }>(await get('/api/v1/alerts?source=guardduty&status=all'));
  assert.equal(guardDuty.total, 4);
  const text = json<{ total: number }>(await get('/api/v1/alerts?q=svc-reporting'));
  assert.ok(text.total >= 3);
  const technique = json<{ alerts: StoredAlert[] }>(await get('/api/v1/alerts?technique=T1562'));
  assert.ok(technique.alerts.length > 0);
  assert.ok(technique.alerts.every((alert) => alert.attack.techniques.some((id) => id.startsWith('T1562'))));
  // Paging: 5 + 5 + ... covers every alert once.
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const page: { alerts: StoredAlert[]; next_cursor: string | null } = json(await get(`/api/v1/alerts?limit=5&sort=level${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`));
    for (const alert of page.alerts) seen.add(alert.id);
    cursor = page.next_cursor;
  } while (cursor !== null);
  assert.equal(seen.size, 19);
  const since = json<{ total: number }>(await get('/api/v1/alerts?since=2000-01-01&until=2100-01-01'));
  assert.equal(since.total, 19);
});

test('GET /api/v1/alerts refuses unknown enum values, parameters, bad limits, times and cursors: 400 TH_STORE_INVALID', async () => {
  for (const query of ['status=bogus', 'level=severe', 'source=s3', 'sort=name', 'limit=501', 'limit=0', 'limit=ten', 'since=yesterday', 'technique=T12', 'cursor=%21%21', 'unknown=1', 'actor=a&actor=b', `q=${'x'.repeat(600)}`, 'since=2026-12-01&until=2026-01-01']) {
    const response = await get(`/api/v1/alerts?${query}`);
    assert.equal(response.statusCode, 400, query);
    assert.equal(errorCode(response), 'TH_STORE_INVALID', query);
  }
});

test('GET /api/v1/alerts/{id}: the alert, or 404 TH_STORE_NOT_FOUND', async () => {
  const alert = await firstAlert();
  const response = await get(`/api/v1/alerts/${encodeURIComponent(alert.id)}`);
  assert.equal(response.statusCode, 200);
  assert.equal(json<StoredAlert>(response).id, alert.id);
  const missing = await get('/api/v1/alerts/no-such-alert');
  assert.equal(missing.statusCode, 404);
  assert.equal(errorCode(missing), 'TH_STORE_NOT_FOUND');
  const history = await get('/api/v1/alerts/no-such-alert/history');
  assert.equal(history.statusCode, 404);
});

test('PATCH /api/v1/alerts/{id}: reader 403 TH_FORBIDDEN; triager changes at a version; stale 409; invalid 400; history names the token', async () => {
  const alert = await firstAlert('&source=cloudtrail');
  const url = `/api/v1/alerts/${encodeURIComponent(alert.id)}`;
  const patch = (token: string, payload: unknown) => app().inject({ method: 'PATCH', url, headers: bearer(token), payload: payload as Record<string, unknown> });
  const denied = await patch(serve.tokens.reader, { version: alert.version, status: 'acknowledged' });
  assert.equal(denied.statusCode, 403);
  assert.equal(errorCode(denied), 'TH_FORBIDDEN');
  const changed = await patch(serve.tokens.triager, { version: alert.version, status: 'acknowledged', note: 'looking', assignee: 'tom', tags_add: ['ir-42'] });
  assert.equal(changed.statusCode, 200, changed.body);
  const body = json<StoredAlert>(changed);
  assert.equal(body.status, 'acknowledged');
  assert.equal(body.assignee, 'tom');
  assert.deepEqual(body.tags, ['ir-42']);
  assert.equal(body.version, alert.version + 1);
  assert.equal(body.notes[0]?.author, 'triager-tom');
  const stale = await patch(serve.tokens.triager, { version: alert.version, status: 'closed', reason: 'false_positive' });
  assert.equal(stale.statusCode, 409);
  assert.equal(errorCode(stale), 'TH_STORE_CONFLICT');
  for (const invalid of [
    { version: body.version, status: 'closed' },
    { version: body.version, status: 'done' },
    { version: body.version, reason: 'meh', status: 'closed' },
    { version: body.version, colour: 'red' },
    { status: 'open' },
    { version: 0, status: 'open' },
    { version: body.version, tags_add: [{ tag: 'x' }] },
  ]) {
    const response = await patch(serve.tokens.triager, invalid);
    assert.equal(response.statusCode, 400, JSON.stringify(invalid));
    assert.equal(errorCode(response), 'TH_STORE_INVALID');
  }
  const notJson = await app().inject({ method: 'PATCH', url, headers: { ...bearer(serve.tokens.triager), 'content-type': 'application/json' }, payload: '{not json' });
  assert.equal(notJson.statusCode, 400);
  const missing = await app().inject({ method: 'PATCH', url: '/api/v1/alerts/nope', headers: bearer(serve.tokens.triager), payload: { version: 1, status: 'acknowledged' } });
  assert.equal(missing.statusCode, 404);
  const history = json<{ history: { actor: string; action: string; to: string | null }[] }>(await get(`${url}/history`));
  assert.ok(history.history.some((entry) => entry.actor === 'triager-tom' && entry.action === 'status' && entry.to === 'acknowledged'));
  assert.equal(history.history[0]?.actor, 'scan');
});

test('cookie sessions: state changes need the CSRF token (header or form field); bearer requests are exempt', async () => {
  const { cookie, csrf } = await login(app(), serve.tokens.triager);
  assert.match(cookie, /^trailhound_session=/);
  assert.ok(csrf.length > 20);
  const alert = await firstAlert('&source=guardduty');
  const url = `/api/v1/alerts/${encodeURIComponent(alert.id)}`;
  const read = await app().inject({ method: 'GET', url, headers: { cookie } });
  assert.equal(read.statusCode, 200);
  for (const headers of [{ cookie }, { cookie, 'x-csrf-token': 'wrong' }, { cookie, 'x-csrf-token': `${csrf}x` }]) {
    const response = await app().inject({ method: 'PATCH', url, headers, payload: { version: alert.version, status: 'acknowledged' } });
    assert.equal(response.statusCode, 403);
    assert.equal(errorCode(response), 'TH_CSRF');
  }
  const ok = await app().inject({ method: 'PATCH', url, headers: { cookie, 'x-csrf-token': csrf }, payload: { version: alert.version, status: 'acknowledged' } });
  assert.equal(ok.statusCode, 200, ok.body);
  const bulk = await app().inject({ method: 'POST', url: '/api/v1/alerts/bulk', headers: { cookie }, payload: { ids: [alert.id], change: { tags_add: ['x'] } } });
  assert.equal(bulk.statusCode, 403);
  assert.equal(errorCode(bulk), 'TH_CSRF');
  const forged = await app().inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie: 'trailhound_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  assert.equal(forged.statusCode, 401);
});

test('POST /api/v1/alerts/bulk: dry run counts, then changes; ids or filter, not both', async () => {
  const actor = 'arn:aws:iam::111122223333:user/svc-reporting';
  const ids = json<{ alerts: StoredAlert[] }>(await get(`/api/v1/alerts?actor=${encodeURIComponent(actor)}&limit=3`)).alerts.map((alert) => alert.id);
  assert.equal(ids.length, 3);
  const bulk = (token: string, payload: Record<string, unknown>) => app().inject({ method: 'POST', url: '/api/v1/alerts/bulk', headers: bearer(token), payload });
  const change = { status: 'closed', reason: 'false_positive', note: 'CI role' };
  assert.equal((await bulk(serve.tokens.reader, { ids, change })).statusCode, 403);
  const preview = await bulk(serve.tokens.triager, { ids, change, dry_run: true });
  assert.deepEqual(json(preview), { dry_run: true, count: 3 });
  const done = await bulk(serve.tokens.triager, { ids, change });
  assert.deepEqual(json(done), { dry_run: false, changed: 3 });
  assert.deepEqual(json(await bulk(serve.tokens.triager, { ids, change, dry_run: true })), { dry_run: true, count: 0 });
  const byFilter = await bulk(serve.tokens.triager, { filter: { source: 'vpcflow' }, change: { tags_add: ['network'] }, dry_run: true });
  assert.deepEqual(json(byFilter), { dry_run: true, count: 1 });
  for (const payload of [{ ids, filter: { source: 'vpcflow' }, change }, { change }, { ids, change: {} }, { ids, change: { status: 'closed' } }, { filter: { status: 'nope' }, change }, { filter: { colour: 'x' }, change }]) {
    const response = await bulk(serve.tokens.triager, payload);
    assert.equal(response.statusCode, 400, JSON.stringify(payload));
    assert.equal(errorCode(response), 'TH_STORE_INVALID');
  }
  const outcomes = json<{ rules: { rule_id: string; closed: number; false_positive: number; false_positive_share: number | null }[] }>(await get('/api/v1/rules/outcomes'));
  assert.ok(outcomes.rules.some((row) => row.false_positive > 0 && row.false_positive_share !== null && row.false_positive_share > 0));
});

test('suppressions: dry run shows the Sigma filter and the matches; create writes it, records it, closes matching alerts', async () => {
  const alert = json<{ alerts: StoredAlert[] }>(await get(`/api/v1/alerts?rule=aws-ct-cloudtrail-stopped-or-deleted`)).alerts[0] as StoredAlert;
  assert.ok(alert);
  const post = (token: string, payload: Record<string, unknown>) => app().inject({ method: 'POST', url: '/api/v1/suppressions', headers: bearer(token), payload });
  const base = { alert_id: alert.id, keys: ['principal'], reason: 'Backup job "legacy" stops trails: SEC-12', expires: '2027-03-31' };
  assert.equal((await post(serve.tokens.reader, base)).statusCode, 403);
  const dry = await post(serve.tokens.triager, { ...base, dry_run: true, close_matching: true });
  assert.equal(dry.statusCode, 200, dry.body);
  const plan = json<{ document: string; file: string; matching_open: number }>(dry);
  assert.equal(plan.matching_open, 1);
  assert.equal(existsSync(plan.file), false);
  const document = parse(plan.document) as { filter: { rules: string[]; selection: Record<string, string>; condition: string }; owner: string; expires: string; logsource: unknown };
  assert.deepEqual(document.filter.rules, ['aws-ct-cloudtrail-stopped-or-deleted']);
  assert.equal(document.filter.condition, 'not selection');
  assert.deepEqual(document.filter.selection, { 'userIdentity.arn|cased': alert.actor });
  assert.equal(document.owner, 'triager-tom');
  assert.equal(document.expires, '2027-03-31');
  const created = await post(serve.tokens.triager, { ...base, close_matching: true });
  assert.equal(created.statusCode, 201, created.body);
  const result = json<{ file: string; closed: number; suppression: { id: string } }>(created);
  assert.equal(result.closed, 1);
  assert.ok(existsSync(result.file));
  // The written file loads as scan loads it, and drops the alert's event.
  const set = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], filterPaths: [result.file] });
  assert.deepEqual(set.errors, []);
  const filter = set.filters.find((candidate) => candidate.id === result.suppression.id);
  assert.ok(filter);
  assert.equal(filter.match(alert.events?.[0] as Record<string, unknown>), false);
  assert.match(readFileSync(result.file, 'utf8'), /reason: "Backup job \\"legacy\\" stops trails: SEC-12"/);
  const closed = json<StoredAlert>(await get(`/api/v1/alerts/${encodeURIComponent(alert.id)}`));
  assert.equal(closed.status, 'closed');
  assert.equal(closed.reason, 'benign_positive');
  const list = json<{ suppressions: { id: string; suppressed: number; created_by: string }[] }>(await get('/api/v1/suppressions'));
  assert.ok(list.suppressions.some((suppression) => suppression.id === result.suppression.id && suppression.created_by === 'triager-tom' && suppression.suppressed === 0));
  for (const payload of [{ ...base, expires: '2020-01-01' }, { ...base, expires: '2099-01-01' }, { ...base, reason: '' }, { alert_id: alert.id, reason: 'x' }, { ...base, keys: ['finding_type'] }, { ...base, keys: ['colour'] }]) {
    const response = await post(serve.tokens.triager, payload);
    assert.equal(response.statusCode, 400, JSON.stringify(payload));
    assert.equal(errorCode(response), 'TH_STORE_INVALID');
  }
  assert.equal((await post(serve.tokens.triager, { ...base, alert_id: 'nope' })).statusCode, 404);
});

test('suppressions of GuardDuty findings key on the finding type; values with wildcards are written literally', async () => {
  const finding = json<{ alerts: StoredAlert[] }>(await get('/api/v1/alerts?source=guardduty&status=all')).alerts[0] as StoredAlert;
  const response = await app().inject({ method: 'POST', url: '/api/v1/suppressions', headers: bearer(serve.tokens.triager), payload: { alert_id: finding.id, keys: ['finding_type', 'account'], reason: 'red team exercise', expires: '2027-01-31', dry_run: true } });
  assert.equal(response.statusCode, 200, response.body);
  const document = parse(json<{ document: string }>(response).document) as { filter: { rules: string[]; selection: Record<string, string> }; logsource: { service: string } };
  assert.deepEqual(document.filter.rules, ['aws-gd-finding-passthrough']);
  assert.equal(document.logsource.service, 'guardduty');
  assert.equal(document.filter.selection['type|cased'], finding.guardduty?.type);
  assert.equal(document.filter.selection['accountId|cased'], finding.account);
});

test('GET /api/v1/export: JSONL and OCSF of the current filter', async () => {
  const total = json<{ total: number }>(await get('/api/v1/alerts?status=all')).total;
  const jsonl = await get('/api/v1/export?format=jsonl&status=all');
  assert.equal(jsonl.statusCode, 200);
  assert.match(String(jsonl.headers['content-type']), /application\/x-ndjson/);
  assert.match(String(jsonl.headers['content-disposition']), /attachment/);
  const lines = jsonl.body.trim().split('\n').map((line) => JSON.parse(line) as StoredAlert);
  assert.equal(lines.length, total);
  assert.ok(lines.every((alert) => typeof alert.status === 'string' && typeof alert.version === 'number'));
  const ocsf = await get('/api/v1/export?format=ocsf&source=guardduty&status=all');
  const findings = ocsf.body.trim().split('\n').map((line) => JSON.parse(line) as { class_uid: number; finding_info: { uid: string }; status_id: number });
  assert.equal(findings.length, 4);
  assert.ok(findings.every((finding) => finding.class_uid === 2004));
  for (const query of ['format=csv', '', 'format=jsonl&status=nope']) assert.equal((await get(`/api/v1/export?${query}`)).statusCode, 400, query);
});

test('GET /api/v1/coverage: techniques of the loaded rules and their alerts in a period', async () => {
  const coverage = json<{ rules: number; covered: number; alerted: number; techniques: { id: string; alerts: number; rules: unknown[] }[] }>(await get('/api/v1/coverage?since=2000-01-01'));
  assert.ok(coverage.rules > 50);
  assert.ok(coverage.covered > 10);
  assert.ok(coverage.alerted > 0 && coverage.alerted <= coverage.covered);
  assert.ok(coverage.techniques.every((technique) => /^T\d{4}/.test(technique.id) && technique.rules.length > 0));
  const future = json<{ alerted: number }>(await get('/api/v1/coverage?since=2099-01-01'));
  assert.equal(future.alerted, 0);
  assert.equal((await get('/api/v1/coverage?since=soon')).statusCode, 400);
  assert.equal((await get('/api/v1/coverage?window=1')).statusCode, 400);
});

test('tokens API is for admins; a revoked token and its sessions stop working at once', async () => {
  assert.equal((await get('/api/v1/tokens', serve.tokens.triager)).statusCode, 403);
  const list = json<{ tokens: { name: string }[] }>(await get('/api/v1/tokens', serve.tokens.admin));
  assert.ok(list.tokens.some((token) => token.name === 'reader-rita'));
  assert.ok(!JSON.stringify(list).includes('th_'));
  const created = await app().inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(serve.tokens.admin), payload: { name: 'temp-bot', role: 'reader' } });
  assert.equal(created.statusCode, 201);
  const token = json<{ token: string }>(created).token;
  const { cookie } = await login(app(), token);
  assert.equal((await app().inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie } })).statusCode, 200);
  assert.equal((await get('/api/v1/alerts', token)).statusCode, 200);
  assert.equal((await app().inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(serve.tokens.admin), payload: { name: 'temp-bot', role: 'superuser' } })).statusCode, 400);
  assert.equal((await app().inject({ method: 'DELETE', url: '/api/v1/tokens/temp-bot', headers: bearer(serve.tokens.admin) })).statusCode, 204);
  assert.equal((await app().inject({ method: 'DELETE', url: '/api/v1/tokens/temp-bot', headers: bearer(serve.tokens.admin) })).statusCode, 404);
  assert.equal((await get('/api/v1/alerts', token)).statusCode, 401);
  assert.equal((await app().inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie } })).statusCode, 401);
});

test('/api/openapi.json describes every registered route, and nothing else', async () => {
  const response = await get('/api/openapi.json');
  assert.equal(response.statusCode, 200);
  const document = json<{ openapi: string; paths: Record<string, Record<string, { responses: unknown; 'x-trailhound-role': string }>> }>(response);
  assert.equal(document.openapi, '3.1.0');
  const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)).sort();
  const routes = registered.map((route) => `${route.method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`).sort();
  assert.deepEqual(documented, routes);
  for (const path of ['/api/v1/alerts', '/api/v1/alerts/{id}', '/api/v1/alerts/{id}/history', '/api/v1/alerts/bulk', '/api/v1/suppressions', '/api/v1/export', '/api/v1/coverage', '/api/v1/rules/outcomes', '/healthz', '/api/openapi.json']) {
    assert.ok(document.paths[path], path);
  }
  assert.equal(document.paths['/api/v1/alerts/{id}']?.patch?.['x-trailhound-role'], 'triager');
});

test('the request log holds neither tokens nor cookies', async () => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logged = await testServe({ log: { stream }, alerts: [] });
  try {
    const { cookie, csrf } = await login(logged.app, logged.tokens.triager);
    await logged.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: bearer(logged.tokens.admin) });
    await logged.app.inject({ method: 'GET', url: '/', headers: { cookie } });
    await logged.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${logged.tokens.reader}` });
    await new Promise((resolve) => setImmediate(resolve));
    const log = chunks.join('');
    assert.match(log, /login\?token=\[redacted\]/);
    for (const secret of [logged.tokens.triager, logged.tokens.admin, logged.tokens.reader, cookie.split('=')[1] as string, csrf]) assert.ok(!log.includes(secret), 'a secret is in the log');
  } finally {
    await logged.close();
  }
});

test('the XSS fixture is returned by the API as data (JSON-escaped, application/json)', async () => {
  const response = await get(`/api/v1/alerts/${XSS_ID}`);
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^application\/json/);
});
