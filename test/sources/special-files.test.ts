/**
 * What the file source refuses (src/sources/files.ts): FIFOs, sockets and devices, inside a
 * folder or named explicitly, are one TH_INPUT_SPECIAL each and never opened (a FIFO without a
 * writer would block forever); symbolic links leaving the scanned folder are not followed
 * (TH_INPUT_SPECIAL) unless followSymlinks says so, loops are guarded either way; and no error
 * message carries a byte of a file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LocatedError } from '../../src/core/errors.ts';
import type { InputUnit } from '../../src/core/input-unit.ts';
import { decodeUnit } from '../../src/formats/index.ts';
import { expandInputs } from '../../src/sources/index.ts';
import type { SourceOptions } from '../../src/sources/index.ts';
import type { FileSourceOptions } from '../../src/sources/files.ts';

const RECORD = '{"eventVersion":"1.09","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"e1"}';
const SECRET = 'root:$6$TOPSECRET-MARKER-7f3a$hash:19000:0:99999:7:::';
const canMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let root = '';
let logs = '';
let outside = '';
let server: Server | undefined;

/** Expands with a deadline: a FIFO that was opened would block past it. */
async function expand(paths: string[], options: SourceOptions & FileSourceOptions = {}): Promise<{ units: InputUnit[]; errors: LocatedError[] }> {
  const units: InputUnit[] = [];
  const errors: LocatedError[] = [];
  const run = (async () => {
    for await (const unit of expandInputs(paths, (e) => errors.push(e), options)) units.push(unit);
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('expanding the inputs blocked')), 5000);
  });
  try {
    await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
  return { units, errors };
}

/** Every unit decoded; what the decoder and the expansion reported, as `code relative-location`. */
async function scanAll(paths: string[], options: SourceOptions & FileSourceOptions = {}): Promise<{ records: number; errors: LocatedError[] }> {
  const { units, errors } = await expand(paths, options);
  let records = 0;
  for (const unit of units) {
    for await (const batch of decodeUnit(unit, { stats: { records: 0, skipped: 0, errors: 0 }, onError: (e) => errors.push(e) })) records += batch.length;
  }
  return { records, errors };
}

function rel(errors: readonly LocatedError[]): string[] {
  return errors.map((e) => `${e.code} ${e.location.startsWith(root) ? e.location.slice(root.length + 1) : e.location}`);
}

before(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'trailhound-special-')));
  logs = join(root, 'logs');
  outside = join(root, 'outside');
  mkdirSync(join(logs, 'sub'), { recursive: true });
  mkdirSync(join(outside, 'deep'), { recursive: true });
  writeFileSync(join(logs, 'a.json'), RECORD + '\n');
  writeFileSync(join(logs, 'sub', 'b.json'), RECORD + '\n');
  writeFileSync(join(outside, 'shadow'), `${SECRET}\n`);
  writeFileSync(join(outside, 'deep', 'secret.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00]), Buffer.from(SECRET)]));
  writeFileSync(join(outside, 'deep', 'c.json'), RECORD + '\n');
  symlinkSync(outside, join(logs, 'to-outside'));
  symlinkSync('../outside/shadow', join(logs, 'to-shadow'));
  symlinkSync('sub', join(logs, 'in-tree'));
  symlinkSync('..', join(logs, 'sub', 'to-parent'));
  symlinkSync('loop-b', join(logs, 'loop-a'));
  symlinkSync('loop-a', join(logs, 'loop-b'));
  if (canMkfifo) {
    execFileSync('mkfifo', [join(logs, 'pipe'), join(root, 'named-pipe')]);
    symlinkSync('pipe', join(logs, 'to-pipe'));
  }
  server = createServer();
  await new Promise<void>((resolve) => server?.listen(join(logs, 'socket'), resolve));
});

after(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

describe('special files', () => {
  it('a FIFO named on the command line is refused without being opened, the other paths go on', { skip: !canMkfifo && 'no mkfifo' }, async () => {
    const { units, errors } = await expand([join(root, 'named-pipe'), join(logs, 'a.json')]);
    assert.deepEqual(units.map((u) => u.uri), [join(logs, 'a.json')]);
    assert.deepEqual(rel(errors), ['TH_INPUT_SPECIAL named-pipe']);
    assert.match(errors[0]?.message ?? '', /is a FIFO \(named pipe\): not read/);
  });

  it('a device named on the command line is refused (/dev/null, /dev/zero)', async () => {
    const { units, errors } = await expand(['/dev/null', '/dev/zero']);
    assert.deepEqual(units, []);
    assert.deepEqual(rel(errors), ['TH_INPUT_SPECIAL /dev/null', 'TH_INPUT_SPECIAL /dev/zero']);
    assert.match(errors[0]?.message ?? '', /character device/);
  });

  it('inside a folder: FIFOs, sockets, links to FIFOs and links out of the tree are one error each; every regular file is read', async () => {
    const { records, errors } = await scanAll([logs]);
    assert.equal(records, 2); // a.json and sub/b.json (through in-tree first, then sub is the same folder)
    const expected = [
      'TH_INPUT_READ logs/loop-a',
      'TH_INPUT_READ logs/loop-b',
      ...(canMkfifo ? ['TH_INPUT_SPECIAL logs/pipe'] : []),
      'TH_INPUT_SPECIAL logs/socket',
      'TH_INPUT_SPECIAL logs/to-outside',
      ...(canMkfifo ? ['TH_INPUT_SPECIAL logs/to-pipe'] : []),
      'TH_INPUT_SPECIAL logs/to-shadow',
    ];
    assert.deepEqual(rel(errors), expected);
    assert.match(errors.find((e) => e.location.endsWith('to-outside'))?.message ?? '', new RegExp(`symbolic link to a folder outside the scanned folder ${logs}: not followed.*--follow-symlinks`));
    assert.match(errors.find((e) => e.location.endsWith('to-shadow'))?.message ?? '', /symbolic link to a file outside/);
    assert.match(errors.find((e) => e.location.endsWith('loop-a'))?.message ?? '', /too many levels of symbolic links/);
  });

  it('followSymlinks follows links out of the tree, each real folder once (no loop), special files still refused', async () => {
    const { records, errors } = await scanAll([logs], { followSymlinks: true });
    assert.equal(records, 3); // + outside/deep/c.json
    const codes = rel(errors);
    assert.ok(!codes.includes('TH_INPUT_SPECIAL logs/to-outside'), codes.join(', '));
    assert.ok(codes.includes('TH_INPUT_SPECIAL logs/socket'));
    // The files outside are read as inputs: what they are is said, never what they hold.
    for (const error of errors) {
      assert.doesNotMatch(error.message, /TOPSECRET|root:|89 50 4e 47/, `${error.location}: ${error.message}`);
    }
    assert.ok(codes.includes('TH_INPUT_FORMAT logs/to-shadow'), codes.join(', '));
  });

  it('a folder named through a link is walked: its links stay inside the link target', async () => {
    const alias = join(root, 'alias');
    symlinkSync(logs, alias);
    try {
      const { units, errors } = await expand([alias]);
      assert.deepEqual(units.map((u) => u.uri.slice(alias.length + 1)), ['a.json', 'in-tree/b.json']);
      assert.ok(rel(errors).includes('TH_INPUT_SPECIAL alias/to-outside'));
    } finally {
      unlinkSync(alias);
    }
  });

  it('a file replaced by a FIFO after the walk is refused when opened, never blocks', { skip: !canMkfifo && 'no mkfifo' }, async () => {
    const path = join(root, 'swapped.json');
    writeFileSync(path, RECORD + '\n');
    const { units } = await expand([path]);
    unlinkSync(path);
    execFileSync('mkfifo', [path]);
    const errors: LocatedError[] = [];
    let records = 0;
    const decoding = (async () => {
      for await (const batch of decodeUnit(units[0] as InputUnit, { stats: { records: 0, skipped: 0, errors: 0 }, onError: (e) => errors.push(e) })) records += batch.length;
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([decoding, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('blocked on a FIFO')), 5000)))]);
    clearTimeout(timer);
    assert.equal(records, 0);
    assert.deepEqual(errors.map((e) => `${e.code} ${e.location}`), [`TH_INPUT_SPECIAL ${path}`]);
    // Its whole-file read is refused the same way.
    await assert.rejects(async () => units[0]?.readAll?.(), /FIFO/);
  });
});
