/**
 * Hardening of what `trailhound` prints, through the CLI in a subprocess (time-bounded):
 * - a record nested thousands of levels deep (several shapes, in requestParameters and beside
 *   userAgent) never crashes `scan`, with 1 or 2 workers: its alert is written truncated with a
 *   located TH_INPUT_LIMIT, every other alert is written unchanged, and the exit code is 3;
 * - terminal escapes in log fields, JSON keys, file names, feed lines and rule names never
 *   reach the terminal raw (`--format table`, stderr of scan, `intel check`, `rules lint`);
 * - the progress line is cleared before `No alerts.` and the summary (run under a pty).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertLines, REPO_DIR } from './run-cli.ts';
import { HOSTILE_SEQUENCES, RAW_MARKERS } from '../core/hostile-text.ts';
import { TRUNCATED_MARKER } from '../../src/core/json-depth.ts';

const BIN = fileURLToPath(new URL('../../bin/trailhound.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'trailhound-hardening-output-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Bounded {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `trailhound ARGS` in a subprocess, killed after `timeoutMs` (a hang fails the test, it does not stall it). */
function runBounded(args: string[], timeoutMs = 60_000): Promise<Bounded> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), ms: Date.now() - started }));
  });
}

function assertNoRaw(text: string, what: string): void {
  for (const marker of RAW_MARKERS) assert.ok(!text.includes(marker), `${what}: raw U+${(marker.codePointAt(0) ?? 0).toString(16).padStart(4, '0')} reached the terminal`);
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    assert.ok(!(code >= 0x80 && code <= 0x9f) && !(code >= 0x202a && code <= 0x202e) && !(code >= 0x2066 && code <= 0x2069) && code !== 0x2028, `${what}: U+${code.toString(16)} reached the terminal`);
  }
}

/** A CloudTrail record (JSON text) raising aws-ct-ec2-keypair-created-or-imported; `extra` is spliced in as JSON members. */
function keyPairRecord(id: string, extra = '', arn = 'arn:aws:iam::111122223333:user/ops'): string {
  return `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":${JSON.stringify(arn)},"accountId":"111122223333"},"eventTime":"2026-11-02T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateKeyPair","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.10","userAgent":"aws-cli/2.15","eventID":${JSON.stringify(id)},"recipientAccountId":"111122223333","requestParameters":{"keyName":"build-01"${extra}}}`;
}

type Shape = 'arrays' | 'objects' | 'mixed' | 'arrays-of-objects';

function deepText(shape: Shape, depth: number): string {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const array = shape === 'arrays' || (shape === 'mixed' && level % 2 === 1) || (shape === 'arrays-of-objects' && level % 3 !== 0);
    open += array ? '[' : '{"k":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}"bottom"${close}`;
}

test('a record nested thousands of levels deep: scan writes every alert, the deep one truncated, with TH_INPUT_LIMIT and exit 3 (1 and 2 workers)', { timeout: 240_000 }, async () => {
  const dir = join(root, 'deep');
  mkdirSync(dir);
  const normal: string[] = [];
  // Normal inputs around the deep ones: their alerts must be written, unchanged.
  for (let i = 0; i < 30; i++) {
    const path = join(dir, `a-normal-${String(i).padStart(3, '0')}.jsonl`);
    writeFileSync(path, `${keyPairRecord(`normal-${i}`)}\n`);
    normal.push(path);
  }
  const deep: string[] = [];
  for (const shape of ['arrays', 'objects', 'mixed', 'arrays-of-objects'] as const) {
    for (const depth of [8_000, 40_000]) {
      // In requestParameters, and in a member beside userAgent (a log's own field).
      const inParameters = join(dir, `m-deep-${shape}-${depth}-parameters.jsonl`);
      writeFileSync(inParameters, `${keyPairRecord(`deep-${shape}-${depth}-p`, `,"filter":${deepText(shape, depth)}`)}\n${keyPairRecord(`after-${shape}-${depth}-p`)}\n`);
      const besideAgent = join(dir, `m-deep-${shape}-${depth}-agent.jsonl`);
      writeFileSync(besideAgent, `${keyPairRecord(`deep-${shape}-${depth}-a`).replace('"userAgent":"aws-cli/2.15",', `"userAgent":"aws-cli/2.15","userAgentDetails":${deepText(shape, depth)},`)}\n`);
      deep.push(inParameters, besideAgent);
    }
  }
  const reference = await runBounded(['scan', ...normal, '--workers', '1']);
  assert.equal(reference.code, 0, reference.stderr);
  const referenceLines = reference.stdout.split('\n').filter((line) => line !== '');
  assert.equal(referenceLines.length, 30);

  const outputs: string[] = [];
  for (const workers of ['1', '2']) {
    const result = await runBounded(['scan', dir, '--workers', workers]);
    assert.ok(result.ms < 60_000, `scan took ${result.ms} ms`);
    assert.equal(result.code, 3, `workers ${workers}: ${result.stderr.slice(0, 2000)}`);
    assert.doesNotMatch(result.stderr, /call stack|RangeError|at .*\.ts:\d+/);
    const alerts = alertLines(result.stdout);
    const byEvent = new Map(alerts.map((alert) => [alert.event_ids[0], alert]));
    // Every normal record's alert, byte for byte as in a scan of the normal files alone.
    const lines = result.stdout.split('\n');
    for (const line of referenceLines) assert.ok(lines.includes(line), `workers ${workers}: a normal alert changed or is missing`);
    for (const path of deep) {
      const name = path.slice(dir.length + 1);
      const id = `deep-${name.slice('m-deep-'.length, -'.jsonl'.length).replace(/-parameters$/, '-p').replace(/-agent$/, '-a')}`;
      const alert = byEvent.get(id);
      assert.ok(alert !== undefined, `workers ${workers}: no alert for ${name}`);
      const text = JSON.stringify(alert);
      assert.ok(text.includes(JSON.stringify(TRUNCATED_MARKER)), `${name}: written truncated`);
      assert.ok(text.includes('"keyName":"build-01"') && text.includes('"userAgent":"aws-cli/2.15"'), `${name}: the rest of the record is kept`);
      assert.ok(result.stderr.includes(`error: ${path}:1: TH_INPUT_LIMIT `), `workers ${workers}: no located TH_INPUT_LIMIT for ${name}`);
    }
    for (const id of [...byEvent.keys()].filter((key) => key?.startsWith('after-'))) assert.ok(!JSON.stringify(byEvent.get(id)).includes(TRUNCATED_MARKER));
    assert.equal(alerts.filter((alert) => alert.event_ids[0]?.startsWith('after-')).length, 8, 'the records after a deep one alert');
    assert.equal((result.stderr.match(/^error: .*: TH_INPUT_LIMIT /gm) ?? []).length, deep.length, 'one error per deep record');
    assert.match(result.stderr, new RegExp(`${deep.length} records nested deeper than 64 levels, written truncated`));
    outputs.push(result.stdout);
  }
  assert.equal(outputs[1], outputs[0], 'the same alerts, in the same order, whatever the number of workers');
});

test('--format table: escape sequences, forged rows and bidi overrides in log fields are shown escaped', { timeout: 60_000 }, async () => {
  const dir = join(root, 'table');
  mkdirSync(dir);
  const records: string[] = [];
  for (const [i, sequence] of Object.values(HOSTILE_SEQUENCES).entries()) {
    records.push(keyPairRecord(`t-${i}`, '', `arn:aws:iam::111122223333:user/${sequence}`).replace('"sourceIPAddress":"198.51.100.10"', `"sourceIPAddress":${JSON.stringify(`198.51.100.${i}${sequence}`)}`));
  }
  writeFileSync(join(dir, 'hostile.jsonl'), `${records.join('\n')}\n`);
  const result = await runBounded(['scan', dir, '--format', 'table', '--workers', '1']);
  assert.equal(result.code, 0, result.stderr);
  assertNoRaw(result.stdout, 'table');
  const rows = result.stdout.split('\n').filter((line) => line !== '');
  assert.equal(rows.length, 1 + records.length, 'one row per alert: no row forged by a newline');
  assert.ok(rows.every((row, i) => i === 0 || row.startsWith('2026-11-02T10:00:00Z ')), 'every row starts with its time');
  assert.match(result.stdout, /user\/\\x1b\]0;owned\\x07/);
  assert.match(result.stdout, /\\x1b\[2J\\x1b\[H/);
  // JSON lines of the same input: byte-identical to the alerts as JSON (control characters JSON-escaped).
  const jsonl = await runBounded(['scan', dir, '--workers', '1']);
  for (const line of jsonl.stdout.split('\n').filter((item) => item !== '')) assert.equal(JSON.stringify(JSON.parse(line)), line);
  assert.ok(!jsonl.stdout.includes('\u001b'));
});

test('stderr shows JSON keys, file names, feed lines and rule names escaped', { timeout: 120_000 }, async () => {
  const dir = join(root, 'stderr');
  mkdirSync(dir);
  const sequences = Object.entries(HOSTILE_SEQUENCES).filter(([label]) => label !== 'lone surrogate');
  // JSON keys that make the value unreadable as a log (TH_INPUT_FORMAT names them), and invalid JSON in a file whose name is hostile.
  for (const [i, [, sequence]] of sequences.entries()) {
    writeFileSync(join(dir, `keys-${i}.json`), JSON.stringify({ [`k${sequence}`]: 1, [`${sequence}b`]: 2 }));
    const name = `name-${i}-${sequence.replaceAll('/', '_').replaceAll('\u0000', '_')}.json`;
    writeFileSync(join(dir, name), '{"Records": [ {"eventVersion": ');
  }
  const scan = await runBounded(['scan', dir, '--workers', '1']);
  assert.equal(scan.code, 3);
  assert.ok((scan.stderr.match(/^error: /gm) ?? []).length >= sequences.length * 2, scan.stderr.slice(0, 3000));
  assertNoRaw(scan.stderr, 'scan stderr');
  for (const line of scan.stderr.split('\n').filter((item) => item !== '')) assert.match(line, /^(error: |warning: |trailhound: )/, 'no forged line on stderr');

  // Feed lines (intel check).
  const feed = join(dir, 'feed.txt');
  writeFileSync(feed, ['203.0.113.7', ...sequences.map(([, sequence]) => `not-an-ip${sequence}x`), ...sequences.map(([, sequence]) => `${sequence}198.51.100.1`)].join('\n') + '\n');
  const intel = await runBounded(['intel', 'check', feed]);
  assert.equal(intel.code, 2);
  assert.match(intel.stderr, /TH_INTEL_INDICATOR/);
  assertNoRaw(intel.stderr, 'intel stderr');
  assertNoRaw(intel.stdout, 'intel table');
  const hostileFeed = join(dir, `feed-\u001b]0;owned\u0007-\u202e.txt`);
  writeFileSync(hostileFeed, '203.0.113.7\n');
  const named = await runBounded(['intel', 'check', hostileFeed]);
  assertNoRaw(named.stdout + named.stderr, 'intel feed name');

  // Rule names, titles and tags (rules lint, rules list, rules test).
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  for (const [i, [, sequence]] of sequences.entries()) {
    const yaml = JSON.stringify; // JSON strings are YAML double-quoted scalars
    writeFileSync(
      join(rules, `rule-${i}.yml`),
      `title: ${yaml(`Title ${sequence}`)}\nid: 5d0c2b7e-0000-4000-8000-${String(i).padStart(12, '0')}\nname: ${yaml(`rule-${i}${sequence}`)}\nstatus: test\ndescription: x\nlevel: high\ntags: [${yaml(`attack.t1098${sequence}`)}]\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    selection: {eventName: ${yaml(`X${i}`)}}\n    condition: selection\n`,
    );
  }
  const lint = await runBounded(['rules', 'lint', '--pack-conventions', rules]);
  assert.equal(lint.code, 2);
  assert.ok((lint.stderr.match(/TH_RULE_SCHEMA/g) ?? []).length >= sequences.length, lint.stderr.slice(0, 2000));
  assertNoRaw(lint.stderr, 'rules lint');
  for (const line of lint.stderr.split('\n').filter((item) => item !== '')) assert.match(line, /^(error: |warning: |rules lint: )/, 'no forged line');
  const list = await runBounded(['rules', 'list', rules]);
  assertNoRaw(list.stdout + list.stderr, 'rules list');
  assert.equal(list.stdout.split('\n').filter((item) => item !== '').length, 1 + sequences.length);
});

test('the progress line is cleared before "No alerts." and before the summary (under a pty)', { timeout: 60_000 }, (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('script(1) is not available');
    return;
  }
  const dir = join(root, 'progress');
  mkdirSync(dir);
  writeFileSync(join(dir, 'quiet.jsonl'), `${keyPairRecord('q-1').replace('CreateKeyPair', 'DescribeInstances')}\n`);
  writeFileSync(join(dir, 'alert.jsonl'), `${keyPairRecord('p-1')}\n`);
  for (const [file, expectAlerts] of [['quiet.jsonl', false], ['alert.jsonl', true]] as const) {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} scan ${JSON.stringify(join(dir, file))} --workers 1`;
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: REPO_DIR, encoding: 'utf8', timeout: 50_000 });
    const screen = run.stdout;
    assert.match(screen, /scanning: 1 input/, 'the progress line was drawn (the test can fail)');
    for (const text of [...(expectAlerts ? ['TIME ', '2026-11-02T10:00:00Z'] : ['No alerts.']), 'trailhound: 1 record']) {
      const at = screen.indexOf(text);
      assert.ok(at >= 0, `${text} missing in ${JSON.stringify(screen)}`);
      const before = screen.slice(Math.max(0, at - 4), at);
      assert.ok(at === 0 || before.endsWith('\u001b[2K') || before.endsWith('\n'), `${JSON.stringify(text)} lands on the progress line: ${JSON.stringify(screen)}`);
    }
    assert.doesNotMatch(screen, /errors(No alerts|trailhound)/);
  }
});
