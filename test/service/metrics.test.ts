import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/service/metrics.ts';
import { JsonLogger } from '../../src/service/logger.ts';
import { PassThrough } from 'node:stream';

test('counters and scrape-time gauges render in the Prometheus text format, labels sorted and escaped', () => {
  const metrics = new Metrics();
  metrics.counter('x_total', 'Things.');
  metrics.inc('x_total', { rule: 'a"b\\c', level: 'high' });
  metrics.inc('x_total', { level: 'high', rule: 'a"b\\c' }, 2);
  metrics.gauge('lag_seconds', 'Lag.', () => [{ labels: {}, value: 1.5 }]);
  assert.equal(metrics.render(), '# HELP x_total Things.\n# TYPE x_total counter\nx_total{level="high",rule="a\\"b\\\\c"} 3\n# HELP lag_seconds Lag.\n# TYPE lag_seconds gauge\nlag_seconds 1.5\n');
  assert.equal(metrics.value('x_total', { rule: 'a"b\\c', level: 'high' }), 3);
  assert.throws(() => metrics.inc('undeclared_total'), /not declared/);
});

test('the logger writes one JSON object per line: time, level, msg, then the fields; below the level nothing', () => {
  const stream = new PassThrough();
  const logger = new JsonLogger({ level: 'info', stream });
  logger.debug('hidden');
  logger.located('warn', { code: 'TH_SQS_ACK', message: 'cannot delete', location: 'https://sqs/q' }, { source: 's', msg: 'not overridden' });
  const lines = String(stream.read()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  assert.deepEqual(Object.keys(lines[0] ?? {}), ['time', 'level', 'msg', 'code', 'location', 'source']);
  assert.equal(lines[0]?.msg, 'cannot delete');
  assert.equal(lines[0]?.level, 'warn');
});
