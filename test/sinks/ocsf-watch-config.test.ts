import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWatchConfig } from '../../src/service/config.ts';
import { createTarget } from '../../src/service/delivery-targets.ts';
import { testAlert } from './alert-fixture.ts';
import { sinkAlert } from '../../src/sinks/sink.ts';

const config = (sinks: string): string => ['state_dir: /var/lib/trailhound', 'sources:', '  - type: folder', '    path: /var/log/aws', 'sinks:', sinks].join('\n');

test('a watch file sink takes format: jsonl (default) or ocsf', () => {
  const { config: parsed, errors } = parseWatchConfig(config(['  - type: file', '    path: a.jsonl', '  - type: file', '    path: b.ocsf.jsonl', '    format: ocsf', '  - type: file', '    path: c.jsonl', '    format: jsonl'].join('\n')), '/etc/trailhound/trailhound.yml', {});
  assert.deepEqual(errors, []);
  assert.deepEqual(parsed?.sinks.map((sink) => (sink.type === 'file' ? [sink.path, sink.format] : [])), [['/etc/trailhound/a.jsonl', 'jsonl'], ['/etc/trailhound/b.ocsf.jsonl', 'ocsf'], ['/etc/trailhound/c.jsonl', 'jsonl']]);
});

test('a wrong format, or format on another sink, is a located TH_CONFIG error', () => {
  const { errors } = parseWatchConfig(config(['  - type: file', '    path: a.jsonl', '    format: cef', '  - type: webhook', '    url: https://siem.example.com/in', '    format: ocsf', '  - type: stdout', '    format: ocsf'].join('\n')), 'trailhound.yml', {});
  assert.deepEqual(errors.map((error) => [error.code, error.location, error.message]), [
    ['TH_CONFIG', 'trailhound.yml:8:13', 'format must be one of jsonl, ocsf'],
    ['TH_CONFIG', 'trailhound.yml:11:13', "'format' does not apply to a webhook sink"],
    ['TH_CONFIG', 'trailhound.yml:13:13', "'format' does not apply to a stdout sink"],
  ]);
});

test("watch's ocsf file sink writes Detection Findings", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'th-ocsf-watch-'));
  try {
    const path = join(dir, 'findings.ocsf.jsonl');
    const target = createTarget({ type: 'file', name: 'ocsf', path, format: 'ocsf', location: 'test' }, { onDeadLetter: () => undefined });
    await target.start({ cursor: 0, fileOffset: undefined, fileId: undefined });
    const alert = testAlert();
    const report = await target.deliver([{ seq: 1, id: alert.id, level: alert.rule.level, body: sinkAlert(alert).body }]);
    assert.equal(report.delivered, 1);
    await target.close();
    const finding = JSON.parse(await readFile(path, 'utf8')) as { class_uid: number; finding_info: { uid: string } };
    assert.deepEqual([finding.class_uid, finding.finding_info.uid], [2004, alert.id]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
