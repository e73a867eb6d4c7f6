import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { LocatedError } from '../../src/core/errors.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import { expandPath } from '../../src/sources/files.ts';
import { SOURCES, expandInputs, sourceFor } from '../../src/sources/index.ts';
import { stdinUnit } from '../../src/sources/stdin.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { Readable } from 'node:stream';

const RECORD = '{"eventVersion":"1.09","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"e1"}';

let root = '';

async function expand(paths: string[]): Promise<{ units: InputUnit[]; errors: LocatedError[] }> {
  const units: InputUnit[] = [];
  const errors: LocatedError[] = [];
  for await (const unit of expandInputs(paths, (e) => errors.push(e))) units.push(unit);
  return { units, errors };
}

function rel(units: readonly InputUnit[]): string[] {
  return units.map((u) => (u.uri.startsWith(root) ? u.uri.slice(root.length + 1) : u.uri));
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'trailhound-sources-'));
  const a = join(root, 'a');
  mkdirSync(join(a, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(a, 'Upper'));
  writeFileSync(join(a, 'b.json'), `{"Records":[${RECORD}]}`);
  writeFileSync(join(a, '.hidden.json'), RECORD + '\n');
  writeFileSync(join(a, 'README.md'), '# notes beside the logs\n');
  mkdirSync(join(a, '.git'));
  writeFileSync(join(a, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(a, 'Upper', 'u.json'), RECORD);
  writeFileSync(join(a, 'sub', 'c.json.gz'), gzipSync(RECORD + '\n' + RECORD + '\n'));
  writeFileSync(join(a, 'sub', 'deeper', 'd.log'), RECORD);
  symlinkSync(join(a, 'sub'), join(a, 'zz-link-to-sub')); // walked already via sub: once only
  symlinkSync(a, join(a, 'sub', 'loop')); // back to an ancestor: no loop
  symlinkSync(join(a, 'b.json'), join(a, 'sub', 'file-link.json'));
  symlinkSync(join(root, 'nowhere'), join(a, 'broken-link'));
});

after(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

describe('files and folders', () => {
  it('walks a folder recursively in byte order, each real folder once, passing over hidden entries and docs', async () => {
    const { units, errors } = await expand([join(root, 'a')]);
    assert.deepEqual(rel(units), [
      'a/Upper/u.json',
      'a/b.json',
      'a/sub/c.json.gz',
      'a/sub/deeper/d.log',
      'a/sub/file-link.json',
    ]);
    // A broken link is reported, the walk goes on.
    assert.deepEqual(errors.map((e) => `${e.code} ${e.location.slice(root.length + 1)}`), ['TH_INPUT_READ a/broken-link']);
    assert.match(errors[0]?.message ?? '', /no such file or directory/);
    assert.equal(units[1]?.size, Buffer.byteLength(`{"Records":[${RECORD}]}`));
  });

  it('a hidden or documentation file named explicitly is still read', async () => {
    const { units } = await expand([join(root, 'a', '.hidden.json'), join(root, 'a', 'README.md')]);
    assert.deepEqual(rel(units), ['a/.hidden.json', 'a/README.md']);
  });

  it('a missing path is a located TH_INPUT_READ; the other paths go on', async () => {
    const missing = join(root, 'missing.json');
    const { units, errors } = await expand([missing, join(root, 'a', 'b.json')]);
    assert.deepEqual(rel(units), ['a/b.json']);
    assert.deepEqual(errors.map((e) => `${e.code} ${e.location}`), [`TH_INPUT_READ ${missing}`]);
  });

  it('a path given twice is read once', async () => {
    const path = join(root, 'a', 'b.json');
    const { units } = await expand([path, path]);
    assert.equal(units.length, 1);
  });

  it('a folder that cannot be read is TH_INPUT_READ', { skip: process.getuid?.() === 0 ? 'running as root: permissions do not apply' : false }, async () => {
    const locked = join(root, 'locked');
    mkdirSync(join(locked, 'inner'), { recursive: true });
    chmodSync(join(locked, 'inner'), 0o000);
    try {
      const errors: LocatedError[] = [];
      const units: InputUnit[] = [];
      for await (const unit of expandPath(locked, (e) => errors.push(e))) units.push(unit);
      assert.deepEqual(errors.map((e) => `${e.code} ${e.location}`), [`TH_INPUT_READ ${join(locked, 'inner')}`]);
    } finally {
      chmodSync(join(locked, 'inner'), 0o755);
    }
  });

  it('every unit decodes: gzip sniffed by content whatever the name', async () => {
    const { units } = await expand([join(root, 'a')]);
    let records = 0;
    const errors: LocatedError[] = [];
    for (const unit of units) {
      const stats = { records: 0, skipped: 0, errors: 0 };
      for await (const batch of decodeUnit(unit, { stats, onError: (e) => errors.push(e) })) records += batch.length;
    }
    assert.deepEqual(errors, []);
    assert.equal(records, 6); // .hidden.json is passed over inside the folder
  });
});

describe('the sources registry', () => {
  it('lists stdin, s3 and files; files last, claiming any path', () => {
    assert.deepEqual(SOURCES.map((s) => s.name), ['stdin', 's3', 'files']);
    assert.equal(sourceFor('-')?.name, 'stdin');
    assert.equal(sourceFor('s3://bucket/prefix/')?.name, 's3');
    assert.equal(sourceFor('S3://bucket')?.name, 's3');
    assert.equal(sourceFor('./logs')?.name, 'files');
    assert.equal(sourceFor('gs://bucket/x'), undefined);
  });

  // S3 itself is tested against an S3 server in test/sources/s3.test.ts; no network here.
  it('an s3:// URI without a valid bucket is a clear TH_INPUT_READ; the other paths go on', async () => {
    const { units, errors } = await expand(['s3:///AWSLogs/', join(root, 'a', 'b.json')]);
    assert.deepEqual(rel(units), ['a/b.json']);
    assert.deepEqual(errors.map((e) => `${e.code} ${e.location}`), ['TH_INPUT_READ s3:///AWSLogs/']);
    assert.match(errors[0]?.message ?? '', /not a valid S3 URI/);
  });

  it('an unknown scheme is TH_INPUT_READ, not "no such file"', async () => {
    const { errors } = await expand(['gs://bucket/logs']);
    assert.deepEqual(errors.map((e) => `${e.code} ${e.location}`), ['TH_INPUT_READ gs://bucket/logs']);
    assert.match(errors[0]?.message ?? '', /gs:\/\/ inputs are not supported/);
  });

  it('- is standard input, once', async () => {
    const { units, errors } = await expand(['-', '-']);
    assert.deepEqual(errors, []);
    assert.deepEqual(units.map((u) => u.uri), ['-']);
  });

  it('stdin decodes like any input (gzip included)', async () => {
    const unit = stdinUnit(Readable.from([gzipSync(RECORD + '\n' + RECORD)]));
    const stats = { records: 0, skipped: 0, errors: 0 };
    let records = 0;
    for await (const batch of decodeUnit(unit, { stats, onError: (e) => assert.fail(e.message) })) records += batch.length;
    assert.equal(records, 2);
    assert.equal(unit.uri, '-');
  });
});
