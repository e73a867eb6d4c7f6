/**
 * `trailhound serve --metrics-port`: Prometheus metrics (prom-client) on a port of their own,
 * loopback and without auth, never on the app's port: `http_request_duration_seconds` by method,
 * route pattern and status code, and the default process metrics. Without the option nothing
 * is recorded or served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAlertStore } from '../../src/store/sqlite-alert-store.ts';
import { DEFAULT_RULES_DIR } from '../../src/pack/rule-set.ts';
import { startServe, type RunningServe } from '../../src/serve/start.ts';
import { bearer, xssAlert, XSS_ID } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'trailhound-serve-metrics-'));
let store: SqliteAlertStore;
let running: RunningServe;
let token: string;
const written: string[] = [];

before(async () => {
  store = SqliteAlertStore.open(join(dir, 'alerts.db'));
  await store.putAlerts([xssAlert()], 'scan');
  token = (await store.createToken('prometheus-reader', 'reader')).token;
  running = await startServe({
    store,
    storeFile: join(dir, 'alerts.db'),
    host: '127.0.0.1',
    port: 0,
    ruleRequest: { paths: [DEFAULT_RULES_DIR] },
    behindProxy: false,
    write: (line) => written.push(line),
    logLevel: 'silent',
    metrics: { host: '127.0.0.1', port: 0 },
  });
});

after(async () => {
  await running?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The samples of one metric family: labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1] as string] = label[2] as string;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

test('request durations by method, route pattern and status code, and process metrics, on the metrics port only', async () => {
  assert.ok(running.metricsOrigin !== undefined, 'the metrics endpoint is up');
  assert.match(running.metricsOrigin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(running.metricsOrigin, running.origin);
  assert.ok(written.some((line) => line === `metrics: ${running.metricsOrigin}/metrics (no auth)`), written.join('\n'));

  assert.equal((await fetch(`${running.origin}/healthz`)).status, 200);
  assert.equal((await fetch(`${running.origin}/api/v1/alerts`, { headers: bearer(token) })).status, 200);
  assert.equal((await fetch(`${running.origin}/api/v1/alerts/${XSS_ID}`, { headers: bearer(token) })).status, 200);
  assert.equal((await fetch(`${running.origin}/api/v1/alerts/no-such-alert`, { headers: bearer(token) })).status, 404);
  assert.equal((await fetch(`${running.origin}/api/v1/alerts`)).status, 401);
  const onApp = await fetch(`${running.origin}/metrics`, { headers: bearer(token) });
  assert.equal(onApp.status, 404, 'the app itself serves no /metrics');

  const response = await fetch(`${running.metricsOrigin}/metrics`);
  assert.equal(response.status, 200, 'no token needed on the metrics port');
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await response.text();
  assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
  const counts = samples(text, 'http_request_duration_seconds_count');
  const count = (method: string, route: string, status: string): number => counts.find((s) => s.labels.method === method && s.labels.route === route && s.labels.status_code === status)?.value ?? 0;
  assert.equal(count('GET', '/healthz', '200'), 1);
  assert.equal(count('GET', '/api/v1/alerts', '200'), 1);
  assert.equal(count('GET', '/api/v1/alerts/:id', '200'), 1, 'the route pattern, not the URL');
  assert.equal(count('GET', '/api/v1/alerts/:id', '404'), 1);
  assert.equal(count('GET', '/api/v1/alerts', '401'), 1);
  assert.equal(count('GET', 'unmatched', '404'), 1, 'a path of no route has one label value');
  assert.ok(!text.includes(XSS_ID) && !text.includes('no-such-alert') && !text.includes(token), 'no URL, id or token in the labels');
  const buckets = samples(text, 'http_request_duration_seconds_bucket').filter((s) => s.labels.route === '/healthz');
  assert.deepEqual(
    buckets.map((s) => s.labels.le),
    ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'],
  );
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} (default metrics)`);
  }
  assert.equal((await fetch(`${running.metricsOrigin}/healthz`)).status, 200);
});

test('without --metrics-port there is no metrics endpoint', async () => {
  const other = await startServe({ store, storeFile: join(dir, 'alerts.db'), host: '127.0.0.1', port: 0, ruleRequest: { paths: [DEFAULT_RULES_DIR] }, behindProxy: false, write: () => undefined, logLevel: 'silent' });
  try {
    assert.equal(other.metricsOrigin, undefined);
    assert.equal((await fetch(`${other.origin}/metrics`, { headers: bearer(token) })).status, 404);
  } finally {
    await other.app.close();
  }
});
