/**
 * The outbox across crashes: what a sink already holds is not sent again (file), what failed
 * every retry goes to the dead-letter file (webhook), a failing sink keeps its alerts pending
 * while the others go on, and a sink's min_level is honoured.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLogger, idsInFile, startReceiver } from './harness.ts';
import type { WebhookReceiver } from './harness.ts';
import { readJsonl, removeDir, tempDir } from './files.ts';
import { StateStore } from '../../src/store/state-store.ts';
import { createTarget } from '../../src/service/delivery-targets.ts';
import type { DeliveryTarget } from '../../src/service/delivery-targets.ts';
import { Outbox } from '../../src/service/outbox.ts';
import { serviceMetrics } from '../../src/service/service-metrics.ts';
import type { Alert } from '../../src/core/alert.ts';
import type { FileSinkConfig } from '../../src/service/config.ts';
import type { Logger } from '../../src/service/logger.ts';
import type { SigmaLevel } from '../../src/core/levels.ts';

const root = tempDir('outbox');
let receiver: WebhookReceiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.close();
  await removeDir(root);
});

let n = 0;
const metrics = () => serviceMetrics({ newestEventTime: () => undefined, lastNotificationAge: () => undefined, outboxPending: () => [], correlationGroups: () => 0, inFlightMessages: () => 0 });
const noHooks = { onDeadLetter: () => undefined, httpBaseDelayMs: 2 };

function alert(id: string, level: SigmaLevel = 'high'): Alert {
  return { id, time: null, rule: { id: 'r', name: 'r', title: 'R', level }, attack: { techniques: [], tactics: [] }, source: 'cloudtrail', account: null, region: null, actor: null, source_ip: null, event_ids: [id], count: 1 };
}

/** Records an object scanned, with the alerts it raised. */
function commit(state: StateStore, uri: string, alerts: Alert[]): void {
  state.commitObject({ uri, version: '', object: uri, records: 1, errors: 0, alerts, engineState: new Map() });
}

function store(alerts: Alert[]): StateStore {
  const state = StateStore.open(join(root, `state-${++n}`));
  state.registerSink('file');
  state.registerSink('hook');
  state.registerSink('high-only');
  commit(state, 'u', alerts);
  return state;
}

/** A file sink (the config a test passes to createTarget). */
function fileSink(name: string, path: string, more: Partial<FileSinkConfig> = {}): FileSinkConfig {
  return { type: 'file', name, path, location: 'test', ...more };
}

async function startOutbox(state: StateStore, targets: DeliveryTarget[], logger: Logger = captureLogger().logger, m = metrics()): Promise<Outbox> {
  const outbox = new Outbox(state, targets, logger, m);
  await outbox.start();
  return outbox;
}

test('a crash after the file append and before the cursor moved does not write the alerts twice', async () => {
  const state = store([alert('a1'), alert('a2'), alert('a3')]);
  const path = join(root, `alerts-${n}.jsonl`);
  const config = fileSink('file', path);
  const crashed = createTarget(config, noHooks);
  await crashed.start(state.sinkCursor('file'));
  await crashed.deliver(state.pendingAlerts('file', 2)); // written, never recorded: the process died here
  await crashed.close();
  commit(state, 'u2', [alert('a4')]);

  const outbox = await startOutbox(state, [createTarget(config, noHooks)]);
  assert.equal(await outbox.flush(), true);
  await outbox.close();
  assert.deepEqual(await idsInFile(path), ['a1', 'a2', 'a3', 'a4']);
  assert.equal(state.pendingCount('file'), 0);
  state.close();
});

test('an alert the webhook never accepts goes to the dead-letter file and delivery moves on', async () => {
  const state = store([alert('d1'), alert('d2')]);
  const { logger, lines } = captureLogger();
  const deadLetter = join(root, `dead-${n}.jsonl`);
  receiver.status = () => 503;
  const m = metrics();
  const target = createTarget({ type: 'webhook', name: 'hook', url: receiver.url, headers: {}, maxAttempts: 2, timeoutMs: 2000, deadLetter, location: 'test' }, { onDeadLetter: (error) => logger.located('error', error), httpBaseDelayMs: 2 });
  const outbox = await startOutbox(state, [target], logger, m);
  assert.equal(await outbox.flush(), true);
  receiver.status = () => 200;
  const dead = await readJsonl<{ alert: { id: string }; error: string }>(deadLetter);
  assert.deepEqual(dead.map((item) => item.alert.id), ['d1', 'd2']);
  assert.match(dead[0]?.error ?? '', /HTTP 503/);
  assert.equal(lines.filter((line) => line.code === 'TH_SINK_DEAD_LETTER').length, 2);
  assert.equal(m.value('trailhound_deliveries_total', { sink: 'hook', outcome: 'dead_lettered' }), 2);
  assert.equal(state.pendingCount('hook'), 0);
  state.close();
});

test('a failing sink keeps its alerts pending and is retried; min_level leaves lower alerts out', async () => {
  const state = store([alert('low-1', 'low'), alert('high-1', 'high')]);
  const { logger, lines } = captureLogger();
  const blocker = join(root, `blocker-${n}`);
  writeFileSync(blocker, 'a file where the sink wants a folder');
  const path = join(root, `high-${n}.jsonl`);
  const failing = createTarget(fileSink('file', join(blocker, 'alerts.jsonl')), noHooks);
  const high = createTarget(fileSink('high-only', path, { minLevel: 'high' }), noHooks);
  const outbox = await startOutbox(state, [high, failing], logger);
  assert.equal(await outbox.flush(), false);
  assert.deepEqual(await idsInFile(path), ['high-1']);
  assert.equal(state.pendingCount('file'), 2);
  assert.ok(lines.some((line) => line.code === 'TH_SINK_DELIVERY'));
  rmSync(blocker);
  assert.equal(await outbox.flush(true), true);
  assert.deepEqual(await idsInFile(join(blocker, 'alerts.jsonl')), ['low-1', 'high-1']);
  await outbox.close();
  state.close();
});
