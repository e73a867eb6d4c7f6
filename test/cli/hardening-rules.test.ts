/**
 * Hardening, end to end: rule files, tests files, vars files and watch configurations are
 * hostile input. Each case runs the CLI in a subprocess with a time limit (hangs fail the test
 * instead of hanging it) and, where memory is the risk, a heap cap; it checks the located error
 * and its code, that everything else still loaded and alerted, and the exit code. The hostile
 * inputs are generated, several variants per class.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertLines, REPO_DIR } from './run-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/trailhound.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** `trailhound ARGS` in a subprocess, killed after `timeoutMs`, its heap capped at `heapMb`. */
function run(args: string[], { timeoutMs = 60_000, heapMb = 256 }: { timeoutMs?: number; heapMb?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, BIN, ...args], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), ms: performance.now() - started, timedOut });
    });
  });
}

function assertFinished(result: Run, what: string): void {
  assert.equal(result.timedOut, false, `${what} did not finish in time (stderr: ${result.stderr.slice(0, 2000)})`);
  assert.doesNotMatch(result.stderr, /heap out of memory|Allocation failed|Maximum call stack/i, `${what} ran out of memory or stack`);
}

let dir: string;
let seq = 0;
const uuid = (): string => `aaaaaaaa-bbbb-4ccc-8ddd-${String(++seq).padStart(12, '0')}`;

function rule(name: string, detection: string, extra = ''): string {
  return `title: ${name}\nid: ${uuid()}\nname: ${name}\nlevel: high\ntags: [attack.t1078]\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n${detection}\n${extra}`;
}

function record(id: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { eventVersion: '1.08', eventTime: '2024-05-01T10:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', awsRegion: 'us-east-1', eventID: id, userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/x' }, ...fields };
}

/** Billion-laughs shapes: `levels` anchors, each `width` uses of the previous one. */
function bombs(levels = 9, width = 9): Record<string, string> {
  const flowSeq = [`  l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(',')}]`];
  const blockMap = ['  m0: &m0\n    k: lol'];
  const mixed = ['  x0: &x0 {a: lol, b: [lol, lol]}'];
  for (let i = 1; i < levels; i++) {
    flowSeq.push(`  l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(',')}]`);
    blockMap.push(`  m${i}: &m${i}\n${Array.from({ length: width }, (_, j) => `    k${j}: *m${i - 1}`).join('\n')}`);
    mixed.push(`  x${i}: &x${i}\n${Array.from({ length: width }, (_, j) => (j % 2 === 0 ? `    - *x${i - 1}` : `    - {k: *x${i - 1}}`)).join('\n')}`);
  }
  return {
    'sequences': flowSeq.join('\n'),
    'mappings': blockMap.join('\n'),
    // A sequence of maps of sequences: every level multiplies.
    'mixed': mixed.join('\n'),
  };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'th-hardening-rules-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('catastrophic regular expressions', () => {
  test('scan: unsafe patterns run on the linear engine or are refused, hostile events do not hang it, the rest alerts', { timeout: 120_000 }, async () => {
    const rules = join(dir, 'regex-rules');
    mkdirSync(rules, { recursive: true });
    const unsafe = ['(a+)+$', '(\\w+\\s?)+$', '(a|a)*$', '(.*a){20}', '(?:[a-z]+)+!', '^(\\d+)+x$'];
    unsafe.forEach((pattern, i) => writeFileSync(join(rules, `unsafe-${i}.yml`), rule(`unsafe-${i}`, `  sel:\n    eventName: CreateUser\n    userAgent|re: '${pattern}'\n  condition: sel`)));
    writeFileSync(join(rules, 'refused.yml'), rule('refused', `  sel:\n    eventName: CreateUser\n    userAgent|re: '(a+)+(?=b)'\n  condition: sel`));
    writeFileSync(join(rules, 'plain.yml'), rule('plain', `  sel:\n    eventName: CreateUser\n    userAgent|contains: 'canary'\n  condition: sel`));
    // Hostile texts for each shape, at several lengths, and one event each rule must match.
    const records: Record<string, unknown>[] = [];
    for (const n of [25, 31, 64, 1000, 20_000]) {
      for (const text of ['a'.repeat(n) + '!', 'ab '.repeat(n) + '!', '7'.repeat(n) + '!', 'a'.repeat(n) + 'b'.repeat(2)]) records.push(record(`hostile-${records.length}`, { userAgent: text }));
    }
    records.push(record('match-a', { userAgent: 'aaaa' }), record('match-d', { userAgent: '123x' }), record('canary', { userAgent: 'x canary x' }));
    const input = join(dir, 'regex-events.json');
    writeFileSync(input, JSON.stringify({ Records: records }));

    const result = await run(['scan', '--no-default-rules', '--rules', rules, '--workers', '1', input], { timeoutMs: 90_000 });
    assertFinished(result, 'the scan');
    assert.match(result.stderr, new RegExp(`${join(rules, 'refused.yml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:10:19: TH_RULE_REGEX_UNSAFE `));
    assert.equal(result.code, 2, 'a refused rule is a rule error (exit 2), and the scan still ran');
    const alerts = alertLines(result.stdout);
    const by = (name: string): string[] => alerts.filter((alert) => alert.rule.name === name).flatMap((alert) => alert.event_ids).sort();
    assert.deepEqual(by('plain'), ['canary']);
    for (let i = 0; i < unsafe.length; i++) {
      const pattern = new RegExp(unsafe[i] as string);
      // What RegExp would say, on the events it can answer (the short matching ones).
      for (const id of ['match-a', 'match-d']) {
        const text = (records.find((item) => item.eventID === id) as { userAgent: string }).userAgent;
        assert.equal(by(`unsafe-${i}`).includes(id), pattern.test(text), `unsafe-${i} (${unsafe[i]}) on ${id}`);
      }
    }
    assert.equal(alerts.some((alert) => alert.rule.name === 'refused'), false);
  });

  test('rules lint reports a refused pattern with its location', { timeout: 60_000 }, async () => {
    const rules = join(dir, 'lint-rules');
    mkdirSync(rules, { recursive: true });
    writeFileSync(join(rules, 'r.yml'), rule('lint-refused', `  sel:\n    eventName:\n      - CreateUser\n    userAgent|re:\n      - 'ok'\n      - '(\\w+\\s?)+(?!z)'\n  condition: sel`));
    const result = await run(['rules', 'lint', rules]);
    assertFinished(result, 'rules lint');
    assert.match(result.stderr, /r\.yml:13:9: TH_RULE_REGEX_UNSAFE .*backtrack catastrophically/);
    assert.equal(result.code, 2);
  });
});

describe('YAML alias bombs and oversized files', () => {
  test('rule files: every bomb shape is refused at its alias with TH_RULE_LIMIT, in bounded time and memory; the other rules alert', { timeout: 180_000 }, async () => {
    for (const [shape, body] of Object.entries(bombs())) {
      const rules = join(dir, `bomb-${shape}`);
      mkdirSync(rules, { recursive: true });
      writeFileSync(join(rules, 'bomb.yml'), rule(`bomb-${shape}`, `  sel:\n    eventName: CreateUser\n  condition: sel`, `x-bomb:\n${body}\n`));
      writeFileSync(join(rules, 'good.yml'), rule(`good-${shape}`, `  sel:\n    eventName: CreateUser\n  condition: sel`));
      const input = join(dir, 'one.json');
      writeFileSync(input, JSON.stringify({ Records: [record('e1', {})] }));
      const result = await run(['scan', '--no-default-rules', '--rules', rules, '--workers', '1', input], { timeoutMs: 60_000, heapMb: 200 });
      assertFinished(result, `the ${shape} bomb`);
      assert.match(result.stderr, /bomb\.yml:\d+:\d+: TH_RULE_LIMIT YAML aliases in this file expand to more than 100000 nodes/, shape);
      assert.equal(result.code, 2, shape);
      assert.deepEqual(alertLines(result.stdout).map((alert) => alert.rule.name), [`good-${shape}`], shape);
    }
  });

  test('a bomb in the detection itself, and nesting past the limit', { timeout: 60_000 }, async () => {
    const rules = join(dir, 'bomb-detection');
    mkdirSync(rules, { recursive: true });
    const lists = ['  v0: &v0 [a, b, c, d, e, f, g, h, i, j]', ...Array.from({ length: 7 }, (_, i) => `  v${i + 1}: &v${i + 1} [${Array.from({ length: 10 }, () => `*v${i}`).join(', ')}]`)];
    writeFileSync(join(rules, 'detection.yml'), rule('bomb-detection', `${lists.join('\n')}\n  sel:\n    eventName|contains: *v7\n  condition: sel`));
    const deep = `title: deep\nid: ${uuid()}\nlogsource: {product: aws}\ndetection:\n  sel:\n    f: ${'['.repeat(300)}x${']'.repeat(300)}\n  condition: sel\n`;
    writeFileSync(join(rules, 'deep.yml'), deep);
    const result = await run(['rules', 'lint', rules], { heapMb: 200 });
    assertFinished(result, 'rules lint');
    assert.match(result.stderr, /detection\.yml:\d+:\d+: TH_RULE_LIMIT YAML aliases/);
    assert.match(result.stderr, /deep\.yml:\d+:\d+: TH_RULE_LIMIT .*nested more than 200 levels/);
    assert.equal(result.code, 2);
  });

  test('tests files: a bomb is refused, the other tests file still runs', { timeout: 60_000 }, async () => {
    const rules = join(dir, 'bomb-tests');
    mkdirSync(rules, { recursive: true });
    writeFileSync(join(rules, 'a.yml'), rule('tests-a', `  sel:\n    eventName: CreateUser\n  condition: sel`));
    writeFileSync(join(rules, 'b.yml'), rule('tests-b', `  sel:\n    eventName: CreateUser\n  condition: sel`));
    const anchors = [`- description: anchors\n  expect: match\n  x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]`, ...Array.from({ length: 7 }, (_, i) => `  x${i + 1}: &x${i + 1} [${Array.from({ length: 10 }, () => `*x${i}`).join(',')}]`)];
    writeFileSync(join(rules, 'a.tests.yml'), `${anchors.join('\n')}\n  event: {eventName: CreateUser, junk: *x7}\n`);
    writeFileSync(join(rules, 'b.tests.yml'), '- description: base\n  expect: match\n  event: &ev {eventName: CreateUser}\n- description: again\n  expect: match\n  event: *ev\n- description: other\n  expect: no-match\n  event: {<<: *ev, eventName: DeleteUser}\n');
    const result = await run(['rules', 'test', rules], { heapMb: 200 });
    assertFinished(result, 'rules test');
    assert.match(result.stderr, /a\.tests\.yml:\d+:\d+: TH_RULE_LIMIT YAML aliases/);
    assert.match(result.stdout, /ok {4}tests-b: base/);
    assert.match(result.stdout, /ok {4}tests-b: again/);
    assert.match(result.stdout, /ok {4}tests-b: other/);
    assert.match(result.stdout, /rules: 3 passed, 0 failed/);
    assert.equal(result.code, 2);
  });

  test('--vars: a bomb is refused with TH_RULE_LIMIT; rules without placeholders still alert', { timeout: 60_000 }, async () => {
    const rules = join(dir, 'bomb-vars-rules');
    mkdirSync(rules, { recursive: true });
    writeFileSync(join(rules, 'plain.yml'), rule('vars-plain', `  sel:\n    eventName: CreateUser\n  condition: sel`));
    const vars = join(dir, 'bomb-vars.yml');
    const lines = ['v0: &v0 [a, b, c, d, e, f, g, h, i, j]', ...Array.from({ length: 7 }, (_, i) => `v${i + 1}: &v${i + 1} [${Array.from({ length: 10 }, () => `*v${i}`).join(', ')}]`)];
    writeFileSync(vars, `${lines.join('\n')}\n`);
    const input = join(dir, 'one.json');
    writeFileSync(input, JSON.stringify({ Records: [record('e1', {})] }));
    const result = await run(['scan', '--no-default-rules', '--rules', rules, '--vars', vars, '--workers', '1', input], { heapMb: 200 });
    assertFinished(result, 'scan --vars');
    assert.match(result.stderr, /bomb-vars\.yml:\d+:\d+: TH_RULE_LIMIT YAML aliases/);
    assert.deepEqual(alertLines(result.stdout).map((alert) => alert.rule.name), ['vars-plain']);
    assert.equal(result.code, 2);
  });

  test('watch configuration: a bomb is refused with TH_CONFIG; aliases within the limit work', { timeout: 60_000 }, async () => {
    for (const [shape, body] of Object.entries(bombs(8, 10))) {
      const file = join(dir, `config-${shape}.yml`);
      const names = body.match(/&(\w+)/g) ?? [];
      const last = (names[names.length - 1] as string).slice(1);
      writeFileSync(file, `state_dir: ${join(dir, 'state')}\nsources: *${last}\nsinks:\n  - type: stdout\n`.replace('sources:', `${body.replace(/^ {2}/gm, '').replace(/^(\w+): &/gm, 'x-$1: &')}\nsources:`));
      const result = await run(['config', 'check', file], { heapMb: 200 });
      assertFinished(result, `config check (${shape})`);
      assert.match(result.stderr, new RegExp(`config-${shape}\\.yml:\\d+:\\d+: TH_CONFIG YAML aliases in this file expand to more than 100000 nodes`), shape);
      assert.equal(result.code, 2, shape);
    }
    const folder = join(dir, 'watched');
    mkdirSync(folder, { recursive: true });
    const ok = join(dir, 'config-ok.yml');
    writeFileSync(ok, `state_dir: ${join(dir, 'state')}\nsources: &sources\n  - type: folder\n    path: ${folder}\nsinks:\n  - type: stdout\n    min_level: &level high\n  - type: file\n    path: ${join(dir, 'alerts.jsonl')}\n    min_level: *level\n`);
    const result = await run(['config', 'check', ok]);
    assertFinished(result, 'config check');
    assert.equal(result.code, 0, result.stderr);
  });

  test('files over the size limit, and paths that are not regular files, are not read', { timeout: 60_000 }, async () => {
    const rules = join(dir, 'size-rules');
    mkdirSync(rules, { recursive: true });
    const big = join(rules, 'big.yml');
    writeFileSync(big, '');
    truncateSync(big, 40 * 1024 * 1024); // sparse: nothing is written, and nothing must be read
    writeFileSync(join(rules, 'good.yml'), rule('size-good', `  sel:\n    eventName: CreateUser\n  condition: sel`));
    const paths = [rules];
    const fifo = join(dir, 'rules.fifo.yml');
    if (spawnSync('mkfifo', [fifo]).status === 0) paths.push(fifo);
    const input = join(dir, 'one.json');
    writeFileSync(input, JSON.stringify({ Records: [record('e1', {})] }));
    const result = await run(['scan', '--no-default-rules', ...paths.flatMap((path) => ['--rules', path]), '--workers', '1', input], { heapMb: 200, timeoutMs: 30_000 });
    assertFinished(result, 'the scan');
    assert.match(result.stderr, /big\.yml: TH_RULE_LIMIT the rule file is 40\.0 MiB, more than the limit of 32\.0 MiB/);
    if (paths.length > 1) assert.match(result.stderr, /rules\.fifo\.yml: TH_RULE_READ .*not a regular file/);
    assert.deepEqual(alertLines(result.stdout).map((alert) => alert.rule.name), ['size-good']);
    assert.equal(result.code, 2);
    const config = join(dir, 'big-config.yml');
    writeFileSync(config, '');
    truncateSync(config, 2 * 1024 * 1024);
    const checked = await run(['config', 'check', config]);
    assert.match(checked.stderr, /big-config\.yml: TH_CONFIG the configuration is 2\.0 MiB, more than the limit of 1\.0 MiB/);
    assert.equal(checked.code, 2);
  });
});
