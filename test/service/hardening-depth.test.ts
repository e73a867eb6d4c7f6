/**
 * `watch` and a deeply nested record: rules that read every value (keywords), field paths
 * into the deep part, null/exists, fieldref and correlations grouping by the deep value all run
 * without overflowing the stack; the object is committed (alerts stored with the deep part
 * truncated, the correlation snapshot written), the other objects' alerts are stored too, and
 * every poll keeps working. Also the store path on its own: an alert embedding a record too
 * deep for JSON.stringify is stored truncated, reported (TH_INPUT_LIMIT) and counted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureLogger } from './harness.ts';
import { removeDir, tempDir } from './files.ts';
import { loadSet } from '../engine/correlation/helpers.ts';
import { Detector } from '../../src/engine/detector.ts';
import { EngineHost } from '../../src/service/engine-host.ts';
import { ObjectProcessor } from '../../src/service/object-processor.ts';
import type { WorkObject } from '../../src/service/object-processor.ts';
import { PoisonFile } from '../../src/service/poison-file.ts';
import { serviceMetrics } from '../../src/service/service-metrics.ts';
import { StateStore } from '../../src/store/state-store.ts';
import type { Alert } from '../../src/core/alert.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { TRUNCATED_MARKER } from '../../src/core/json-depth.ts';
import { singleEventAlert } from '../../src/engine/alerts/build.ts';

const root = tempDir('hardening-depth');
after(async () => {
  await removeDir(root);
});

const RULES = `
title: Key pair alert
id: d0000000-0000-4000-8000-000000000006
name: keypair_alert
level: medium
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: CreateKeyPair}
    condition: selection
---
title: Key pair
id: d0000000-0000-4000-8000-000000000001
name: keypair
level: medium
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: CreateKeyPair}
    condition: selection
---
title: Keyword anywhere
id: d0000000-0000-4000-8000-000000000002
name: keyword_anywhere
level: low
logsource: {product: aws, service: cloudtrail}
detection:
    keywords: ['needle-nowhere']
    condition: keywords
---
title: Deep fields
id: d0000000-0000-4000-8000-000000000003
name: deep_fields
level: low
logsource: {product: aws, service: cloudtrail}
detection:
    a: {requestParameters.deep.a.a.a|contains: x}
    b: {requestParameters.deep: null}
    c: {requestParameters.deep|exists: true}
    d: {userAgent|fieldref: requestParameters.deep}
    condition: a or b or (c and d)
---
title: Keys per deep value
id: d0000000-0000-4000-8000-000000000004
name: keys_per_deep_value
level: low
correlation:
    type: event_count
    rules: [keypair]
    group-by: [requestParameters.deep]
    timespan: 30m
    condition: {gte: 2}
---
title: Distinct deep values
id: d0000000-0000-4000-8000-000000000005
name: distinct_deep_values
level: low
correlation:
    type: value_count
    rules: [keypair]
    group-by: [userIdentity.arn]
    timespan: 30m
    condition: {field: requestParameters.deep, gte: 50}
`;

type Shape = 'arrays' | 'objects' | 'mixed';

function deepText(shape: Shape, depth: number): string {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const array = shape === 'arrays' || (shape === 'mixed' && level % 2 === 1);
    open += array ? '[' : '{"a":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}"x"${close}`;
}

/** A CloudTrail record as JSON text: `deep` goes into requestParameters, or beside userAgent. */
function recordText(id: string, minute: number, deep?: { shape: Shape; depth: number; where: 'requestParameters' | 'userAgent' }): string {
  const head = `"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333"},"eventTime":"2026-11-05T10:${String(minute).padStart(2, '0')}:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateKeyPair","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.10","eventID":"${id}","recipientAccountId":"111122223333"`;
  if (deep === undefined) return `{${head},"userAgent":"aws-cli","requestParameters":{"keyName":"k"}}`;
  const value = deepText(deep.shape, deep.depth);
  return deep.where === 'requestParameters'
    ? `{${head},"userAgent":"aws-cli","requestParameters":{"keyName":"k","deep":${value}}}`
    : `{${head},"userAgent":"aws-cli","userAgentDetails":${value},"requestParameters":{"keyName":"k","deep":${value}}}`;
}

function work(path: string): WorkObject {
  return { source: 'test', uri: path, version: '1', open: async () => ({ unit: { uri: path, open: () => createReadStream(path) }, version: '1', size: undefined }) };
}

const metrics = () => serviceMetrics({ newestEventTime: () => undefined, lastNotificationAge: () => undefined, outboxPending: () => [], correlationGroups: () => 0, inFlightMessages: () => 0 });

test('the object processor: deep records in several shapes are committed, the other objects too, and the state survives a restart', { timeout: 120_000 }, async () => {
  const set = loadSet(RULES);
  assert.deepEqual(set.errors, []);
  const dir = join(root, 'run');
  const store = StateStore.open(join(dir, 'state'));
  store.registerSink('out');
  const { logger, lines } = captureLogger();
  const build = (): Detector => new Detector({ rules: set.rules, correlations: set.correlations, includeEvents: true, lateness: 15 * 60_000 });
  const engine = new EngineHost(build, logger);
  const processor = new ObjectProcessor({ store, engine, logger, metrics: metrics(), poison: new PoisonFile(join(dir, 'state')) });
  const files: string[] = [];
  let minute = 0;
  for (const shape of ['arrays', 'objects', 'mixed'] as const) {
    for (const depth of [8_000, 60_000]) {
      for (const where of ['requestParameters', 'userAgent'] as const) {
        const path = join(root, `deep-${shape}-${depth}-${where}.json`);
        minute += 1;
        await writeFile(path, `{"Records":[${recordText(`deep-${shape}-${depth}-${where}`, minute, { shape, depth, where })},${recordText(`beside-${minute}`, minute)}]}`);
        files.push(path);
      }
    }
  }
  const normal = join(root, 'normal.json');
  await writeFile(normal, `{"Records":[${recordText('normal-1', 59)}]}`);
  files.push(normal);

  for (const path of files) {
    if (path === normal) {
      // Before the last object moves event time past the windows: the committed correlation
      // state holds the deep records, truncated.
      const state = store.engineState('correlation') ?? '';
      assert.ok(state.includes('"deep-arrays-60000-userAgent"'), 'the snapshot holds the deep records');
      assert.ok(state.includes(JSON.stringify(TRUNCATED_MARKER)), 'truncated');
    }
    const outcome = await processor.process(work(path), 3, new AbortController().signal);
    assert.equal(outcome.kind, 'processed', `${path}: ${JSON.stringify(outcome)}`);
  }
  assert.ok(!lines.some((line) => /call stack/i.test(JSON.stringify(line))), 'no stack overflow anywhere');
  const stored = store.pendingAlerts('out', 10_000);
  const bodies = stored.map((item) => JSON.parse(item.body) as Alert);
  const ids = new Set(bodies.flatMap((alert) => alert.event_ids));
  for (const path of files) {
    const name = path.slice(root.length + 1, -'.json'.length);
    const own = name === 'normal' ? 'normal-1' : name;
    assert.ok(bodies.some((alert) => alert.rule.name === 'keypair_alert' && alert.event_ids[0] === own), `the record of ${name} alerted`);
  }
  for (let i = 1; i <= minute; i++) assert.ok(ids.has(`beside-${i}`), 'the records beside the deep ones alerted');
  const deepBodies = stored.filter((item) => item.body.includes('"deep-'));
  // keypair_alert for each of the 12 deep records, and the correlations grouping records by
  // their (identical) deep values.
  assert.ok(deepBodies.length >= 12 + 6, `${deepBodies.length} alerts hold a deep record`);
  assert.ok(bodies.some((alert) => alert.rule.name === 'keys_per_deep_value' && alert.count === 2), 'grouped by the deep value');
  for (const item of deepBodies) assert.ok(item.body.includes(JSON.stringify(TRUNCATED_MARKER)), 'stored truncated');
  for (const item of stored.filter((entry) => entry.body.includes('"normal-1"'))) assert.ok(!item.body.includes(TRUNCATED_MARKER), 'normal alerts unchanged');

  // The engine state was committed with every object: a restart reads it back.
  store.close();
  const reopened = StateStore.open(join(dir, 'state'));
  const restarted = new EngineHost(build, logger);
  restarted.restoreFrom(reopened);
  assert.ok(!lines.some((line) => line.code === 'TH_STATE_RESTORE'), JSON.stringify(lines.filter((line) => line.code === 'TH_STATE_RESTORE')));
  assert.ok(reopened.engineState('correlation') !== undefined);
  reopened.close();
});

test('the store on its own: an alert too deep for JSON.stringify is stored truncated, reported and counted', () => {
  const store = StateStore.open(join(root, 'store-only'));
  store.registerSink('out');
  const rule = { id: 'r-1', name: 'keypair', title: 'Key pair', level: 'medium' as const, attack: { techniques: [], tactics: [] } };
  const alerts: Alert[] = [];
  for (const [i, shape] of (['arrays', 'objects', 'mixed'] as const).entries()) {
    const record = JSON.parse(recordText(`s-${i}`, i, { shape, depth: 20_000, where: 'requestParameters' })) as Record<string, unknown>;
    alerts.push(singleEventAlert(rule, { source: 'cloudtrail', time: Date.parse('2026-11-05T10:00:00Z'), record, origin: { uri: 's3://bucket/key.json.gz', index: i } }, { includeEvents: true }));
  }
  const normal = JSON.parse(recordText('n-1', 5)) as Record<string, unknown>;
  alerts.push(singleEventAlert(rule, { source: 'cloudtrail', time: Date.parse('2026-11-05T10:05:00Z'), record: normal, origin: { uri: 's3://bucket/key.json.gz', index: 9 } }, { includeEvents: true }));
  const reported: LocatedError[] = [];
  const inserted = store.commitObject({ uri: 'u', version: '', object: 'u', records: 4, errors: 0, alerts, engineState: new Map(), onLimit: (error) => reported.push(error) });
  assert.equal(inserted.length, 4);
  assert.deepEqual(reported.map((error) => [error.code, error.location]), [
    ['TH_INPUT_LIMIT', 's3://bucket/key.json.gz#0'],
    ['TH_INPUT_LIMIT', 's3://bucket/key.json.gz#1'],
    ['TH_INPUT_LIMIT', 's3://bucket/key.json.gz#2'],
  ]);
  const stored = store.pendingAlerts('out', 10);
  assert.equal(stored.length, 4);
  for (const item of stored.slice(0, 3)) assert.ok(item.body.includes(JSON.stringify(TRUNCATED_MARKER)));
  assert.equal(stored[3]?.body, JSON.stringify(alerts[3]), 'a normal alert is stored byte for byte');
  store.close();
});
