import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, inTempDir, REPO_ROOT } from './files.ts';
import { parseWatchConfig } from '../../src/service/config.ts';

const EXAMPLE = new URL('../fixtures/service/trailhound.yml', import.meta.url).pathname;
const env = { SIEM_TOKEN: 's3cr3t', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/XXX' };

test('the example configuration of docs/service.md is valid', () => {
  const { config, errors } = parseWatchConfig(readFileSync(EXAMPLE, 'utf8'), EXAMPLE, env);
  assert.deepEqual(errors, []);
  assert.ok(config !== undefined);
  assert.equal(config.stateDir, '/var/lib/trailhound');
  assert.equal(config.correlation.latenessMs, 15 * 60_000);
  assert.deepEqual(config.sources.map((source) => source.name), ['sqs:trailhound-cloudtrail', 'folder:/var/log/aws-exports']);
  const sqs = config.sources[0];
  assert.ok(sqs?.type === 'sqs');
  assert.equal(sqs.visibilityTimeoutS, 300);
  assert.equal(sqs.waitTimeS, 20);
  assert.equal(sqs.aws.region, 'us-east-1');
  assert.deepEqual(config.sinks.map((sink) => [sink.type, sink.name, sink.minLevel]), [['file', 'file:/var/log/trailhound/alerts.jsonl', undefined], ['webhook', 'siem', 'medium'], ['slack', 'slack', 'high']]);
  const siem = config.sinks[1];
  assert.ok(siem?.type === 'webhook');
  assert.deepEqual(siem.headers, { Authorization: 'Bearer s3cr3t' });
  assert.equal(siem.deadLetter, '/var/lib/trailhound/dead-letter-siem.jsonl');
  assert.equal(config.sinks[2]?.type === 'slack' ? config.sinks[2].url : '', env.SLACK_WEBHOOK_URL);
  assert.deepEqual(config.metrics, { port: 9464, host: '127.0.0.1' });
  assert.ok(config.rules.paths[0]?.endsWith('/test/fixtures/service/rules'), 'relative paths are relative to the file');
});

test('every mistake is reported at its file:line:col, all at once', () => {
  const text = [
    'state_dir: ./state',
    'sources:',
    '  - type: sqs',
    '    queue_url: not-a-url',
    '    visibilty_timeout: 30s',
    '    max_messages: 11',
    '  - type: kafka',
    'sinks:',
    '  - type: webhook',
    '    url: ${MISSING_VAR}',
    '  - type: file',
    '    min_level: urgent',
    'correlation: {lateness: soon}',
  ].join('\n');
  const { config, errors } = parseWatchConfig(text, 'trailhound.yml', {});
  assert.equal(config, undefined);
  const found = errors.map((error) => `${error.location} ${error.message}`);
  const expect = (location: string, pattern: RegExp): void => {
    assert.ok(found.some((line) => line.startsWith(`${location} `) && pattern.test(line)), `expected ${location} ${pattern}; got:\n${found.join('\n')}`);
  };
  expect('trailhound.yml:4:16', /queue_url must look like/);
  expect('trailhound.yml:5:5', /unknown key 'visibilty_timeout' \(did you mean 'visibility_timeout'\?\)/);
  expect('trailhound.yml:6:19', /max_messages must be a whole number from 1 to 10/);
  expect('trailhound.yml:7:11', /unknown source type 'kafka'/);
  expect('trailhound.yml:10:10', /environment variable MISSING_VAR is not set/);
  expect('trailhound.yml:11:5', /a file sink needs path/);
  expect('trailhound.yml:12:16', /min_level must be one of/);
  expect('trailhound.yml:13:25', /correlation.lateness must be a duration/);
  assert.ok(errors.every((error) => error.code === 'TH_CONFIG'));
});

test('missing sections, invalid YAML and an empty file are located errors too', () => {
  assert.match(parseWatchConfig('sinks: [{type: stdout}]', 'a.yml', {}).errors.map((error) => error.message).join('\n'), /state_dir is required[\s\S]*sources is required/);
  const yaml = parseWatchConfig('state_dir: [unclosed', 'b.yml', {});
  assert.equal(yaml.errors[0]?.code, 'TH_CONFIG');
  assert.match(yaml.errors[0]?.location ?? '', /^b\.yml:\d+:\d+$/);
  assert.match(parseWatchConfig('', 'c.yml', {}).errors[0]?.message ?? '', /empty/);
  assert.match(parseWatchConfig('- a\n- b', 'd.yml', {}).errors[0]?.message ?? '', /must be a mapping/);
});

test('trailhound config check: exit 0 and a summary for a valid file, exit 2 with located errors otherwise', async () => {
  await inTempDir('config', async (dir) => {
    const folderToSinks = 'state_dir: ./state\nsources:\n  - {type: folder, path: ./logs}\nsinks:\n';
    const good = join(dir, 'good.yml');
    writeFileSync(good, `${folderToSinks}  - {type: stdout}\n`);
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, `${folderToSinks}  - {type: stdout, colour: true}\nrules:\n  paths: [./no-such-rules]\n`);
    const run = (file: string): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [CLI, 'config', 'check', file], { cwd: REPO_ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
        });
      });
    const ok = await run(good);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /good\.yml: ok \(1 sources: folder:.*logs; 1 sinks: stdout; \d+ rules/);
    const ko = await run(bad);
    assert.equal(ko.code, 2);
    assert.match(ko.stderr, /bad\.yml:5:20: TH_CONFIG a sink: unknown key 'colour'/);
  });
});

test('store: takes a postgres:// URL (from the environment too) and refuses anything else, located', () => {
  const base = `state_dir: ./state\nsources:\n  - type: folder\n    path: ./in\nsinks:\n  - type: stdout\n`;
  const shared = parseWatchConfig(`${base}store: \${PG_URL}\n`, '/etc/trailhound/trailhound.yml', { PG_URL: 'postgres://th:secret@db.internal/th' });
  assert.deepEqual(shared.errors, []);
  assert.equal(shared.config?.store, 'postgres://th:secret@db.internal/th');
  assert.equal(parseWatchConfig(base, '/etc/trailhound/trailhound.yml').config?.store, undefined, 'no store: the SQLite state');
  const file = parseWatchConfig(`${base}store: alerts.db\n`, '/etc/trailhound/trailhound.yml');
  assert.equal(file.config, undefined);
  assert.equal(file.errors.length, 1);
  assert.match(file.errors[0]?.location ?? '', /trailhound\.yml:7:\d+$/);
  assert.match(file.errors[0]?.message ?? '', /store must be a postgres:\/\/ URL/);
});
