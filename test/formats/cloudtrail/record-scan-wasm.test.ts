/**
 * The WebAssembly record scan (src/formats/cloudtrail/record-scan.wasm.ts, wasm/record-scan.ts) against the
 * reference scan of worker-prefilter.ts: the same spans and decisions on every input, well-formed
 * or damaged; and the committed binary is what its source builds to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { scanRecordsFast, wasmScanAvailable } from '../../../src/formats/cloudtrail/record-scan-wasm.ts';
import { scanRecords } from '../../../src/formats/cloudtrail/record-scan.ts';
import { planPrefilter } from '../../../src/engine/prefilter/cloudtrail.ts';
import type { PrefilterLiteral, RawPrefilter } from '../../../src/formats/cloudtrail/record-scan.ts';
import { corpusPath, corpusSkip } from '../../corpus.ts';
import { fakeRule } from '../../engine/fake-rule.ts';
import { random } from '../../random.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function prefilter(rules: Array<{ values?: Record<string, string[]>; literals?: Record<string, PrefilterLiteral[]> }>): RawPrefilter {
  const plan = planPrefilter(rules.map((rule, i) => fakeRule({ id: `r${i}`, service: 'cloudtrail', requiredValues: rule.values ?? {}, requiredSubstrings: rule.literals ?? {}, match: () => true })));
  if (plan.prefilter === undefined) throw new Error(plan.reason);
  return plan.prefilter;
}

const FILTERS: RawPrefilter[] = [
  prefilter([{ values: { eventName: ['stoplogging', 'deletetrail', 'describeinstances'] } }]),
  prefilter([{ values: { 'userIdentity.type': ['root'] } }, { values: { eventSource: ['iam.amazonaws.com'] } }]),
  prefilter([{ values: { eventName: ['getobject'] } }, { literals: { 'userIdentity.arn': [{ text: ':assumed-role/aws:', caseSensitive: true }] } }]),
  prefilter([{ literals: { sourceIPAddress: [{ text: 'internal', caseSensitive: false }, { text: '203.0.113.', caseSensitive: true }] } }]),
  // Values of every length bucket, the last one (63 bytes or more) shared by different lengths.
  prefilter([{ values: { eventName: ['a'.repeat(62), 'b'.repeat(63), 'c'.repeat(64), 'd'.repeat(90), 'x', ''] } }]),
  // A key of 32 bytes or more: every key is looked up.
  prefilter([{ values: { 'requestParameters.aVeryLongParameterNameIndeed1234': ['x'] } }]),
];

function assertSame(text: Buffer | string, label: string): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (const [i, filter] of FILTERS.entries()) {
    const expected = scanRecords(buf, filter);
    const actual = scanRecordsFast(buf, filter);
    assert.deepEqual(actual === undefined ? undefined : [...actual], expected === undefined ? undefined : [...expected], `${label} (filter ${i})`);
  }
}

const KEYS = ['eventName', 'eventSource', 'type', 'arn', 'userIdentity', 'userIdentity.type', 'sourceIPAddress', 'requestParameters', 'aVeryLongParameterNameIndeed1234', 'x'];
const STRINGS = ['StopLogging', 'stoplogging', 'DescribeInstances', 'Root', 'ROOT', 'IAMUser', 'iam.amazonaws.com', 'arn:aws:sts::1:assumed-role/aws:ec2/i-1', 'arn:aws:sts::1:Assumed-Role/AWS:x', 'AWS Internal', '203.0.113.9', 'Ünïcode', 'a "quoted" \\ value', 'GetObject', ''];

function value(next: () => number, depth: number): unknown {
  const r = next();
  if (depth < 3 && r < 0.15) return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [KEYS[Math.floor(next() * KEYS.length)] as string, value(next, depth + 1)]));
  if (depth < 3 && r < 0.22) return Array.from({ length: Math.floor(next() * 3) }, () => value(next, depth + 1));
  if (r < 0.3) return Math.floor(next() * 1e6) / 100;
  if (r < 0.34) return next() < 0.5 ? null : next() < 0.5;
  return STRINGS[Math.floor(next() * STRINGS.length)];
}

function document(next: () => number): string {
  const records = Array.from({ length: 1 + Math.floor(next() * 6) }, () => value(next, 0)).map((record) => (typeof record === 'object' && record !== null && !Array.isArray(record) ? record : { eventName: record }));
  const spaced = next() < 0.3;
  return JSON.stringify({ Records: records }, null, spaced ? 1 : undefined);
}

test('WebAssembly with SIMD runs the scan here', () => {
  assert.equal(wasmScanAvailable(), true);
});

test('the same spans as the reference scan: hand-written cases', () => {
  for (const text of [
    '{"Records":[]}',
    '{"Records":[ ]}\n',
    '{"Records":[{"eventVersion":"1.09","eventName":"StopLogging"},{"eventName":"DescribeInstances","x":{"eventName":"nested"}}, {"eventName" : "deletetrail"}]}\n',
    '{"Records":[{"eventName":["StopLogging"]},{"eventName":{"a":1}},{"eventName":12},{"eventName":null},{"a":"x\\"y"},{"eventName":"Stop\\u004cogging"},{"eventName":"Ünïcode"}]}',
    '{"Records":[{"userIdentity":{"type":"Root","arn":"arn:aws:sts::1:assumed-role/aws:x/y"}},{"userIdentity.type":"ROOT"},{"resources":[{"type":"root"}]}]}',
    `{"Records":[${['', 'x', 'X', 'y', 'a'.repeat(62), 'A'.repeat(62), 'a'.repeat(63), 'b'.repeat(62), 'b'.repeat(63), 'B'.repeat(63), 'b'.repeat(64), 'c'.repeat(64), 'c'.repeat(63), 'd'.repeat(90), 'd'.repeat(91)].map((name) => `{"eventName":"${name}"}`).join(',')}]}`,
    '{"Records":[{"sourceIPAddress":"AWS Internal"},{"sourceIPAddress":"aws internal"},{"sourceIPAddress":"203.0.113.7"},{"sourceIPAddress":"198.51.100.1"}]}',
    // Damaged or not a Records document: both give up.
    '{"Records":[{"a":1}',
    '{"Records":[{"a":1}]',
    '{"Records":[{"a":1}]}{"Records":[]}',
    '{"Records":[{"a":"unterminated}]}',
    '{"Records":[{"a":"ends in a backslash\\',
    '{"Records":[{"a":[1}]}',
    '{"Records":[{"a":1},2]}',
    '{"Records":[{"a":@}]}',
    '[{"eventName":"StopLogging"}]',
    `{"Records":[${'['.repeat(600)}]}`,
  ]) {
    assertSame(text, text.slice(0, 60));
  }
});

test('the same spans as the reference scan: random documents, whole and damaged', () => {
  const next = random(20261126);
  for (let round = 0; round < 1500; round++) {
    const text = Buffer.from(document(next), 'utf8');
    assertSame(text, `document ${round}`);
    // Damage: a byte changed, removed, or the end cut off.
    const at = Math.floor(next() * text.length);
    const changed = Buffer.from(text);
    changed[at] = '"{}[],:\\x 0'.charCodeAt(Math.floor(next() * 11));
    assertSame(changed, `document ${round}, byte ${at} changed`);
    assertSame(Buffer.concat([text.subarray(0, at), text.subarray(at + 1)]), `document ${round}, byte ${at} removed`);
    assertSame(text.subarray(0, at), `document ${round}, cut at ${at}`);
  }
});

test('more records than the first output buffer holds', () => {
  const records = Array.from({ length: 20000 }, (_, i) => ({ eventName: i % 997 === 0 ? 'StopLogging' : 'ListBuckets', n: i }));
  assertSame(JSON.stringify({ Records: records }), '20,000 records');
});

test('the same spans as the reference scan on the shared corpus', corpusSkip(), () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.json(\.gz)?$/.test(name)) files.push(path);
    }
  };
  walk(corpusPath('cloudtrail'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const raw = readFileSync(file);
    assertSame(file.endsWith('.gz') ? gunzipSync(raw) : raw, file);
  }
});

test('the committed record-scan.wasm is what wasm/record-scan.ts builds to', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = scripts['build:wasm'];
  assert.ok(command !== undefined, 'package.json has a build:wasm script');
  const args = command.split(/\s+/).slice(1);
  const out = args.indexOf('--outFile');
  assert.ok(out > 0);
  const dir = mkdtempSync(join(tmpdir(), 'th-wasm-'));
  try {
    args[out + 1] = join(dir, 'record-scan.wasm');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/assemblyscript/bin/asc.js'), ...args], { cwd: ROOT, stdio: 'pipe' });
    assert.deepEqual(readFileSync(join(dir, 'record-scan.wasm')), readFileSync(join(ROOT, 'src/formats/cloudtrail/record-scan.wasm')), 'run npm run build:wasm and commit src/formats/cloudtrail/record-scan.wasm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
