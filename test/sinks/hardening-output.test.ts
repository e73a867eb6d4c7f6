/**
 * Output safe for its medium: the table escapes every cell (escape sequences, forged rows,
 * bidi), JSON lines stay byte-identical to JSON.stringify, and an alert whose record is nested
 * too deep for JSON.stringify is written truncated with a located TH_INPUT_LIMIT, never a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Alert } from '../../src/core/alert.ts';
import { testAlert } from './alert-fixture.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { MAX_JSON_DEPTH, TRUNCATED_MARKER } from '../../src/core/json-depth.ts';
import { alertJson, singleEventAlert } from '../../src/engine/alerts/build.ts';
import { JsonLinesSink } from '../../src/sinks/jsonl.ts';
import { TableSink } from '../../src/sinks/table.ts';
import { sinkAlert, sinkAlertReporting } from '../../src/sinks/sink.ts';
import { HOSTILE_SEQUENCES, RAW_MARKERS } from '../core/hostile-text.ts';

function alert(overrides: Partial<Alert> = {}): Alert {
  return testAlert({
    time: '2026-11-02T10:00:00.000Z',
    rule: { id: 'r-1', name: 'aws-ct-test', title: 'Test', level: 'high' },
    attack: { techniques: ['T1098'], tactics: ['persistence'] },
    actor: 'arn:aws:iam::111122223333:user/ops',
    source_ip: '198.51.100.10',
    ...overrides,
  });
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function table(alerts: readonly Alert[], colour = false): Promise<string> {
  const out = capture();
  const sink = new TableSink(out.stream, { colour });
  await sink.deliver(alerts.map(sinkAlert));
  await sink.close();
  return out.text();
}

test('the table escapes every cell: no escape sequence, forged row or bidi override reaches the terminal', async () => {
  for (const [label, sequence] of Object.entries(HOSTILE_SEQUENCES)) {
    const hostile = [
      alert({ actor: `arn:aws:iam::111122223333:user/${sequence}` }),
      alert({ actor: sequence }),
      alert({ source_ip: sequence }),
      alert({ account: sequence }),
      alert({ rule: { id: 'r', name: `rule-${sequence}`, title: 't', level: 'critical' } }),
      alert({ rule: { id: 'r', name: null, title: `title ${sequence}`, level: 'low' } }),
      alert({ time: `2026${sequence}` }),
      alert({ attack: { techniques: [sequence], tactics: [] } }),
    ];
    for (const colour of [false, true]) {
      const text = await table(hostile, colour);
      const lines = text.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 1 + hostile.length, `${label}: one line per alert, no forged row`);
      // Colour adds our own SGR codes around LEVEL only; strip exactly those before looking.
      const data = text.replace(new RegExp(`${'\u001b'}\\[[0-9;]*m`, 'g'), '');
      for (const marker of RAW_MARKERS) assert.ok(!data.includes(marker), `${label}: raw U+${marker.codePointAt(0)?.toString(16)} reached the table`);
      for (const char of data) {
        const code = char.codePointAt(0) as number;
        assert.ok(!(code >= 0x202a && code <= 0x202e) && !(code >= 0x2066 && code <= 0x2069) && code !== 0x2028 && code !== 0x2029, `${label}: U+${code.toString(16)}`);
      }
    }
  }
  const shown = await table([alert({ actor: 'arn:aws:iam::111122223333:user/\u001b]0;owned\u0007' })]);
  assert.match(shown, /user\/\\x1b\]0;owned\\x07/);
});

test('the table of normal alerts is unchanged', async () => {
  const text = await table([alert()]);
  assert.equal(
    text,
    'TIME                 LEVEL    RULE                                         ATT&CK       ACCOUNT      ACTOR                                      SOURCE IP       N\n' +
      '2026-11-02T10:00:00Z HIGH     aws-ct-test                                  T1098        111122223333 user/ops                                   198.51.100.10   1\n',
  );
});

test('JSON lines are byte-identical to JSON.stringify, hostile text included', async () => {
  const alerts = [alert(), ...Object.values(HOSTILE_SEQUENCES).map((sequence, i) => alert({ id: `id-${i}`, actor: sequence, source_ip: sequence, rule: { id: 'r', name: sequence, title: sequence, level: 'medium' }, events: [{ [sequence]: sequence }] }))];
  const out = capture();
  const sink = new JsonLinesSink(out.stream);
  await sink.deliver(alerts.map(sinkAlert));
  await sink.close();
  assert.equal(out.text(), alerts.map((item) => `${JSON.stringify(item)}\n`).join(''));
});

/** A record nested `depth` levels under requestParameters, in one of several shapes. */
function deepRecord(shape: 'arrays' | 'objects' | 'mixed', depth: number): Record<string, unknown> {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const array = shape === 'arrays' || (shape === 'mixed' && level % 2 === 1);
    open += array ? '[' : '{"a":';
    close = (array ? ']' : '}') + close;
  }
  return JSON.parse(`{"eventName":"CreateKeyPair","userAgent":"aws-cli","requestParameters":{"keyName":"k","deep":${open}"x"${close}},"eventID":"e-deep"}`) as Record<string, unknown>;
}

test('an alert whose record is too deep for JSON.stringify is written truncated, with a located TH_INPUT_LIMIT, never a crash', () => {
  for (const shape of ['arrays', 'objects', 'mixed'] as const) {
    for (const depth of [8_000, 50_000]) {
      const record = deepRecord(shape, depth);
      assert.throws(() => JSON.stringify(record), RangeError, 'the record really overflows JSON.stringify');
      const built = singleEventAlert({ id: 'r-1', name: 'aws-ct-test', title: 'Test', level: 'high', attack: { techniques: [], tactics: [] } }, { source: 'cloudtrail', time: Date.parse('2026-11-02T10:00:00Z'), record, origin: { uri: `/logs/${shape}.json`, index: 3 } }, { includeEvents: true });
      const errors: LocatedError[] = [];
      const item = sinkAlertReporting(built, (error) => errors.push(error));
      const parsed = JSON.parse(item.body) as Alert & { events: Record<string, unknown>[] };
      assert.equal(parsed.id, built.id);
      assert.equal(parsed.rule.name, 'aws-ct-test');
      const event = parsed.events[0] as { eventName: string; userAgent: string; requestParameters: { keyName: string } };
      assert.equal(event.eventName, 'CreateKeyPair', 'what is not too deep is kept');
      assert.equal(event.userAgent, 'aws-cli');
      assert.equal(event.requestParameters.keyName, 'k');
      assert.ok(item.body.includes(JSON.stringify(TRUNCATED_MARKER)));
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.code, 'TH_INPUT_LIMIT');
      assert.equal(errors[0]?.location, `/logs/${shape}.json#3`);
      assert.match(errors[0]?.message ?? '', new RegExp(`deeper than ${MAX_JSON_DEPTH} levels`));
      // The same record in another alert: written the same way, reported once.
      const again = alertJson({ ...built, id: 'other' }, (error) => errors.push(error));
      assert.ok(again.includes(JSON.stringify(TRUNCATED_MARKER)));
      assert.equal(errors.length, 1);
    }
  }
  // A record deeper than MAX_JSON_DEPTH but not too deep for JSON.stringify is written whole.
  const moderate = alert({ events: [deepRecord('mixed', 200)] });
  assert.equal(alertJson(moderate, () => assert.fail('not reported')), JSON.stringify(moderate));
  // Without an origin (a correlation's records): located by the alert id.
  const errors: LocatedError[] = [];
  alertJson(alert({ id: 'corr-1', events: [deepRecord('arrays', 8_000)] }), (error) => errors.push(error));
  assert.equal(errors[0]?.location, 'alert:corr-1');
});
