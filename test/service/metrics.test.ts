/**
 * The service's metrics (prom-client, a Registry per service) and logs (pino): /metrics of a
 * running `watch` parsed as the Prometheus text format, every metric docs/service.md lists
 * present with its type, the object-latency histogram and the default process metrics; two
 * services in one process keep their own counts; the log line's shape.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Metrics } from '../../src/service/metrics.ts';
import { JsonLogger } from '../../src/service/logger.ts';
import { serviceMetrics } from '../../src/service/service-metrics.ts';
import { WatchService } from '../../src/service/watch.ts';
import { stableAlertId } from '../../src/engine/alerts/build.ts';
import { stopLogging } from './cloudtrail-fixtures.ts';
import { validWatchConfig } from './config-fixtures.ts';
import { captureLogger, eventually, idsInFile } from './harness.ts';
import { removeDir, tempDir } from './files.ts';

const root = tempDir('metrics');
after(() => removeDir(root));

interface Family {
  type?: string;
  help?: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** A strict reader of the Prometheus text format (0.0.4): every line is a comment or a sample. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let found = families.get(name);
    if (found === undefined) families.set(name, (found = { samples: [] }));
    return found;
  };
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, line);
        family(name).type = rest;
      } else family(name).help = rest;
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const match of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value) || valueText === 'NaN', `not a value: ${line}`);
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    family(base).samples.push({ name, labels, value });
  }
  return families;
}

/** The metric names of the table in docs/service.md ("Logs and metrics"). */
async function documentedMetrics(): Promise<string[]> {
  const doc = await readFile(new URL('../../docs/service.md', import.meta.url), 'utf8');
  const names = [...doc.matchAll(/^\| `(trailhound_[a-z_]+)` \|/gm)].map((match) => match[1] as string);
  assert.ok(names.length >= 12, `docs/service.md lists the metrics (found ${names.length})`);
  return names;
}

test('counters, scrape-time gauges and histograms render in the Prometheus text format, labels escaped', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.counter('x_total', 'Things.', ['rule', 'level']);
  metrics.inc('x_total', { rule: 'a"b\\c', level: 'high' });
  metrics.inc('x_total', { level: 'high', rule: 'a"b\\c' }, 2);
  metrics.gauge('lag_seconds', 'Lag.', [], () => [{ labels: {}, value: 1.5 }]);
  metrics.gauge('absent_seconds', 'No reading yet.', [], () => []);
  metrics.histogram('work_seconds', 'Work.', ['outcome']);
  metrics.observe('work_seconds', { outcome: 'ok' }, 0.2);
  const text = await metrics.render();
  assert.match(text, /^x_total\{level="high",rule="a\\"b\\\\c"\} 3$/m, 'labels sorted by name');
  assert.match(text, /^lag_seconds 1\.5$/m);
  assert.doesNotMatch(text, /^absent_seconds /m, 'a gauge without a reading has no sample (not a misleading 0)');
  assert.match(text, /^work_seconds_bucket\{le="0\.25",outcome="ok"\} 1$/m);
  assert.match(text, /^work_seconds_bucket\{le="0\.1",outcome="ok"\} 0$/m);
  assert.match(text, /^work_seconds_count\{outcome="ok"\} 1$/m);
  assert.equal(metrics.value('x_total', { rule: 'a"b\\c', level: 'high' }), 3);
  assert.throws(() => metrics.inc('undeclared_total'), /not declared/);
  assert.throws(() => metrics.observe('undeclared_seconds', {}, 1), /not declared/);
  assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  parseExposition(text);
});

test('two services in one process count apart (a Registry each, not the global one)', async () => {
  const readings = { newestEventTime: () => undefined, lastNotificationAge: () => undefined, outboxPending: () => [], correlationGroups: () => 0, inFlightMessages: () => 0 };
  const one = serviceMetrics(readings);
  const two = serviceMetrics(readings);
  one.inc('trailhound_errors_total', { stage: 'fetch' });
  assert.equal(one.value('trailhound_errors_total', { stage: 'fetch' }), 1);
  assert.equal(two.value('trailhound_errors_total', { stage: 'fetch' }), 0);
  assert.match(await one.render(), /^trailhound_errors_total\{stage="fetch"\} 1$/m);
  assert.doesNotMatch(await two.render(), /^trailhound_errors_total\{/m);
  assert.match(await two.render(), /^# TYPE process_cpu_user_seconds_total counter$/m);
});

test('watch /metrics: every documented metric, the object latency histogram and the process metrics', { timeout: 30_000 }, async () => {
  const dir = join(root, 'watch');
  const folder = join(dir, 'in');
  await mkdir(folder, { recursive: true });
  const alerts = join(dir, 'alerts.jsonl');
  const yaml = ['state_dir: state', 'rules:', '  default_rules: true', 'sources:', '  - type: folder', `    path: ${folder}`, '    poll_interval: 100ms', 'sinks:', '  - type: file', `    path: ${alerts}`, 'metrics:', '  port: 0', ''].join('\n');
  const config = validWatchConfig(yaml, join(dir, 'trailhound.yml'));
  const service = await WatchService.start(config, { logger: captureLogger().logger });
  try {
    assert.ok(service.metricsPort !== undefined && service.metricsPort > 0);
    await writeFile(join(folder, 'trail.json'), JSON.stringify({ Records: [stopLogging('ev-metrics-1', '2026-11-05T10:00:00Z')] }));
    const rule = await readFile(new URL('../../rules/aws/cloudtrail/aws-ct-cloudtrail-stopped-or-deleted.yml', import.meta.url), 'utf8');
    const id = stableAlertId(/^id: (\S+)/m.exec(rule)?.[1] ?? '', ['ev-metrics-1']);
    await eventually('the alert is delivered', async () => (await idsInFile(alerts)).includes(id));

    const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(await response.text());

    for (const name of await documentedMetrics()) {
      const family = families.get(name);
      assert.ok(family !== undefined && family.type !== undefined, `${name} (docs/service.md) is exposed`);
      assert.ok((family.help ?? '') !== '', `${name} has a HELP line`);
      if (name.endsWith('_total')) assert.equal(family.type, 'counter', name);
    }
    const source = `folder:${folder}`;
    const objects = families.get('trailhound_objects_total')?.samples ?? [];
    assert.deepEqual(
      objects.filter((s) => s.labels.outcome === 'processed').map((s) => [s.labels.source, s.value]),
      [[source, 1]],
    );
    assert.equal(families.get('trailhound_alerts_total')?.samples.find((s) => s.labels.rule === 'aws-ct-cloudtrail-stopped-or-deleted')?.value, 1);
    assert.ok((families.get('trailhound_lag_seconds')?.samples[0]?.value ?? -1) > 0, 'the lag is known once an event was processed');

    const latency = families.get('trailhound_object_duration_seconds');
    assert.equal(latency?.type, 'histogram');
    const buckets = (latency?.samples ?? []).filter((s) => s.name.endsWith('_bucket') && s.labels.outcome === 'processed' && s.labels.source === source);
    assert.deepEqual(
      buckets.map((s) => s.labels.le),
      ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'],
      'the standard buckets, in seconds',
    );
    assert.equal(buckets.at(-1)?.value, 1);
    assert.equal(latency?.samples.find((s) => s.name.endsWith('_count') && s.labels.outcome === 'processed')?.value, 1);
    assert.ok((latency?.samples.find((s) => s.name.endsWith('_sum') && s.labels.outcome === 'processed')?.value ?? 0) > 0);

    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info']) {
      assert.ok(families.get(name)?.type !== undefined, `${name} (prom-client default metrics) is exposed`);
    }
    assert.equal((await fetch(`http://127.0.0.1:${service.metricsPort}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${service.metricsPort}/nope`)).status, 404);
  } finally {
    await service.stop();
  }
});

test('the logger (pino) writes one JSON object per line: level, time, the fields, msg; below the level nothing', () => {
  const stream = new PassThrough();
  const logger = new JsonLogger({ level: 'info', stream });
  logger.debug('hidden');
  logger.located('warn', { code: 'TH_SQS_ACK', message: 'cannot delete', location: 'https://sqs/q' }, { source: 's', msg: 'not overridden', level: 'not overridden', time: 'not overridden' });
  logger.info('watching', { sources: 2, state_dir: '/var/lib/trailhound', list: ['a', 'b'], none: undefined });
  logger.error('sneaky \u009b[31m\u202e \u2028 \u007f end');
  const text = String(stream.read());
  assert.ok(text.endsWith('\n'));
  const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 3);
  assert.deepEqual(Object.keys(lines[0] ?? {}), ['level', 'time', 'code', 'location', 'source', 'msg']);
  assert.equal(lines[0]?.msg, 'cannot delete');
  assert.equal(lines[0]?.level, 'warn');
  assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(lines[1], { level: 'info', time: lines[1]?.time, sources: 2, state_dir: '/var/lib/trailhound', list: ['a', 'b'], msg: 'watching' });
  assert.equal(lines[2]?.msg, 'sneaky \u009b[31m\u202e \u2028 \u007f end', 'the parsed message is the same');
  assert.doesNotMatch(text, /[\u007f-\u009f\u202e\u2028]/, 'terminal controls are written as \\u escapes');
});
