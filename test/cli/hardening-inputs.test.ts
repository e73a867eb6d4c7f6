/**
 * Hostile inputs through the CLI, in a subprocess with a deadline and its peak RSS measured
 * (process.resourceUsage().maxRSS, written at exit by a preloaded module): gzip bombs,
 * gzip with trailing bytes, junk records, FIFOs, links out of the tree, missing paths. Each
 * run must end in time, hold memory bounded, report located errors with their codes, count
 * them truthfully, still alert on the good inputs, and exit 3.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { REPO_DIR, alertLines } from './run-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/trailhound.js', import.meta.url));
const MIB = 1024 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set of the whole process (worker threads included), in MiB. */
  rssMiB: number;
  ms: number;
}

let dir = '';
let preload = '';

/** `trailhound ARGS` in a subprocess, killed (and the test failed) past `timeoutMs`. */
function runBounded(args: string[], options: { timeoutMs?: number; stdin?: Buffer } = {}): Promise<Run> {
  const rssFile = join(dir, `rss-${process.hrtime.bigint()}`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', preload, BIN, ...args], {
      cwd: REPO_DIR,
      env: { ...process.env, TH_TEST_RSS_FILE: rssFile },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trailhound ${args.join(' ')} did not end within ${options.timeoutMs ?? 60000} ms (it hangs)`));
    }, options.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let rssMiB = Number.NaN;
      try {
        rssMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
      } catch {
        // no exit handler ran (killed)
      }
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), rssMiB, ms: Date.now() - started });
    });
    child.stdin.end(options.stdin ?? Buffer.alloc(0));
  });
}

/** Error lines on stderr as `CODE location` (location made relative to the test folder). */
function errorCodes(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('error: '))
    .map((line) => {
      const match = /^error: (.*?): (TH_[A-Z_]+) /.exec(line);
      return match === null ? line : `${match[2]} ${(match[1] as string).replace(`${dir}/`, '')}`;
    });
}

const trail = (name: string, id: string): string =>
  JSON.stringify({
    eventVersion: '1.09',
    eventTime: '2026-11-03T10:00:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333' },
    eventID: id,
  });

/** Writes `total` bytes of `chunk` repeated, gzip-compressed as a stream, to `path`; then `tail`. */
async function gzipBomb(path: string, chunk: Buffer, total: number, tail = ''): Promise<void> {
  const gzip = createGzip({ level: 9 });
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('close', resolve);
    out.on('error', reject);
    gzip.pipe(out);
  });
  for (let written = 0; written < total; written += chunk.length) {
    if (!gzip.write(written + chunk.length > total ? chunk.subarray(0, total - written) : chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end(tail);
  await done;
}

function eventIds(stdout: string): string[] {
  return alertLines(stdout).flatMap((alert) => alert.event_ids).sort();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trailhound-hardening-'));
  preload = join(dir, 'rss.cjs');
  writeFileSync(preload, "const { isMainThread } = require('node:worker_threads');\n" +
    "if (isMainThread) process.on('exit', () => require('node:fs').writeFileSync(process.env.TH_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
  // Two good files beside the bombs: their alerts must come out whatever the bombs do.
  mkdirSync(join(dir, 'bombs'));
  writeFileSync(join(dir, 'bombs', 'good-a.json'), JSON.stringify({ Records: [JSON.parse(trail('StopLogging', 'good-a')) as unknown] }));
  writeFileSync(join(dir, 'bombs', 'good-b.json.gz'), gzipSync(`${trail('DeleteTrail', 'good-b')}\n`));
  // 1 GiB of zeros in about 1 MB, twice: the format sniff rejects them after 64 KiB.
  await gzipBomb(join(dir, 'bombs', 'zeros-1.json.gz'), Buffer.alloc(MIB), 1024 * MIB);
  await gzipBomb(join(dir, 'bombs', 'zeros-2.json.gz'), Buffer.alloc(MIB), 1024 * MIB);
  // The same, its trailer lying (announcing 1000 bytes): the whole-unit gunzip is tried, and bounded.
  const lying = readFileSync(join(dir, 'bombs', 'zeros-2.json.gz'));
  lying.writeUInt32LE(1000, lying.length - 4);
  writeFileSync(join(dir, 'bombs', 'zeros-lying.json.gz'), lying);
  // 512 MiB of white space, then a record: the decoder reads through it, holding nothing.
  await gzipBomb(join(dir, 'bombs', 'blank.json.gz'), Buffer.alloc(MIB, 0x20), 512 * MIB, `\n${trail('StopLogging', 'after-blank')}\n`);
  // 256 MiB of valid records (which raise nothing), the first one alerting.
  mkdirSync(join(dir, 'records'));
  const quiet = Buffer.from(`${trail('DescribeInstances', 'quiet')}\n`.repeat(4096));
  writeFileSync(join(dir, 'records', 'first.jsonl'), `${trail('StopLogging', 'first-line')}\n`);
  await gzipBomb(join(dir, 'records', 'records.jsonl.gz'), quiet, 256 * MIB);
  writeFileSync(join(dir, 'records', 'good.json'), JSON.stringify({ Records: [JSON.parse(trail('StopLogging', 'records-good')) as unknown] }));
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('gzip bombs', () => {
  for (const workers of ['1', '2']) {
    it(`--workers ${workers}: three 1 GiB bombs and a 512 MiB one in bounded memory and time; the good files alert; exit 3`, async (t) => {
      const run = await runBounded(['scan', '--workers', workers, join(dir, 'bombs')], { timeoutMs: 120000 });
      t.diagnostic(`peak RSS ${run.rssMiB.toFixed(0)} MiB, ${run.ms} ms`);
      assert.equal(run.code, 3, run.stderr);
      assert.deepEqual(eventIds(run.stdout), ['after-blank', 'good-a', 'good-b']);
      assert.deepEqual(errorCodes(run.stderr), ['TH_INPUT_FORMAT bombs/zeros-1.json.gz', 'TH_INPUT_FORMAT bombs/zeros-2.json.gz', 'TH_INPUT_FORMAT bombs/zeros-lying.json.gz']);
      assert.match(run.stderr, /from 6 inputs .* 3 input errors in 3 inputs/);
      // Before: 2.2 GB for one bomb, 4.3 GB for two over two workers.
      assert.ok(run.rssMiB < 512, `peak RSS ${run.rssMiB.toFixed(0)} MiB`);
    });
  }

  for (const workers of ['1', '2']) {
    it(`--workers ${workers} --max-decompressed 48MiB: TH_INPUT_LIMIT names the file and the limit; the records before it count and alert`, async (t) => {
      const run = await runBounded(['scan', '--workers', workers, '--max-decompressed', '48MiB', join(dir, 'records')], { timeoutMs: 120000 });
      t.diagnostic(`peak RSS ${run.rssMiB.toFixed(0)} MiB, ${run.ms} ms`);
      assert.equal(run.code, 3, run.stderr);
      assert.deepEqual(eventIds(run.stdout), ['first-line', 'records-good']);
      assert.deepEqual(errorCodes(run.stderr), ['TH_INPUT_LIMIT records/records.jsonl.gz']);
      assert.match(run.stderr, /decompresses to more than 48 MiB \(the --max-decompressed limit\)/);
      const lineBytes = trail('DescribeInstances', 'quiet').length + 1;
      const records = Number(/([\d,]+) records from 3 inputs/.exec(run.stderr)?.[1]?.replace(/,/g, ''));
      assert.equal(records, Math.floor((48 * MIB) / lineBytes) + 2);
      assert.ok(run.rssMiB < 400, `peak RSS ${run.rssMiB.toFixed(0)} MiB`);
    });
  }

  it('--max-decompressed must be a size: TH_CONFIG, exit 2; unlimited is one', async () => {
    for (const bad of ['lots', '0', '-5MiB', '12XB']) {
      const run = await runBounded(['scan', '--max-decompressed', bad, join(dir, 'records', 'good.json')]);
      assert.equal(run.code, 2, bad);
      assert.match(run.stderr, /--max-decompressed: TH_CONFIG/);
    }
    const ok = await runBounded(['scan', '--max-decompressed', 'unlimited', join(dir, 'records', 'good.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(eventIds(ok.stdout), ['records-good']);
  });
});

describe('gzip with trailing bytes', () => {
  const a = gzipSync(`${trail('StopLogging', 'member-1')}\n`);
  const b = gzipSync(`${trail('DeleteTrail', 'member-2')}\n`);
  const cases: Record<string, Buffer> = {
    'garbage': Buffer.concat([a, b, Buffer.from('GARBAGE\n')]),
    'a fake gzip header': Buffer.concat([a, b, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff])]),
  };
  for (const [kind, bytes] of Object.entries(cases)) {
    it(`two members then ${kind}: both members alert, one TH_INPUT_GZIP saying where and what was kept (file, 1 and 2 workers, stdin)`, async () => {
      const path = join(dir, `trailing-${kind.replace(/ /g, '-')}.json.gz`);
      writeFileSync(path, bytes);
      for (const args of [['--workers', '1', path], ['--workers', '2', path], ['-']]) {
        const run = await runBounded(['scan', ...args], { stdin: bytes });
        assert.equal(run.code, 3, run.stderr);
        assert.deepEqual(eventIds(run.stdout), ['member-1', 'member-2'], args.join(' '));
        const gzipErrors = run.stderr.split('\n').filter((line) => line.includes('TH_INPUT_GZIP'));
        assert.equal(gzipErrors.length, 1, run.stderr);
        assert.match(gzipErrors[0] as string, kind === 'garbage' ? new RegExp(`ends at byte ${a.length + b.length}: 2 complete gzip members`) : new RegExp(`member 3 \\(from byte ${a.length + b.length}\\).*Read: 2 complete gzip members`));
      }
    });
  }
});

describe('junk records', () => {
  it('junk first, in the middle, last: every valid record alerts, each junk element is located (1 and 2 workers)', async () => {
    const stop = JSON.parse(trail('StopLogging', 'x')) as Record<string, unknown>;
    const files: Record<string, unknown[]> = {
      'empty-object-first.json': [{}, { ...stop, eventID: 'j1' }],
      'number-middle.json': [{ ...stop, eventID: 'j2' }, 42, { ...stop, eventID: 'j3' }],
      'null-last.json': [{ ...stop, eventID: 'j4' }, null],
      'string-first.json': ['text', { ...stop, eventID: 'j5' }],
    };
    mkdirSync(join(dir, 'junk'));
    for (const [name, list] of Object.entries(files)) writeFileSync(join(dir, 'junk', name), JSON.stringify({ Records: list }));
    writeFileSync(join(dir, 'junk', 'array-first.json'), JSON.stringify([{}, { ...stop, eventID: 'j6' }]));
    writeFileSync(join(dir, 'junk', 'lines.jsonl'), `42\n${JSON.stringify({ ...stop, eventID: 'j7' })}\n`);
    for (const workers of ['1', '2']) {
      const run = await runBounded(['scan', '--workers', workers, join(dir, 'junk')]);
      assert.equal(run.code, 3, run.stderr);
      assert.deepEqual(eventIds(run.stdout), ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7']);
      assert.deepEqual(errorCodes(run.stderr), [
        'TH_INPUT_RECORD junk/array-first.json#0[0]',
        'TH_INPUT_RECORD junk/empty-object-first.json#0.Records[0]',
        'TH_INPUT_RECORD junk/lines.jsonl:1',
        'TH_INPUT_RECORD junk/null-last.json#0.Records[1]',
        'TH_INPUT_RECORD junk/number-middle.json#0.Records[1]',
        'TH_INPUT_RECORD junk/string-first.json#0.Records[0]',
      ]);
    }
  });
});

describe('special files and links out of the tree', () => {
  const canMkfifo = (() => {
    try {
      execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it('a FIFO named on the command line does not block the scan: TH_INPUT_SPECIAL, the other file alerts, exit 3', { skip: !canMkfifo && 'no mkfifo' }, async () => {
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    for (const workers of ['1', '2']) {
      const run = await runBounded(['scan', '--workers', workers, fifo, join(dir, 'records', 'good.json')], { timeoutMs: 20000 });
      assert.equal(run.code, 3, run.stderr);
      assert.deepEqual(eventIds(run.stdout), ['records-good']);
      assert.deepEqual(errorCodes(run.stderr), ['TH_INPUT_SPECIAL a-fifo']);
      assert.match(run.stderr, /from 2 inputs .* 1 input error in 1 input/);
    }
  });

  it('a link to a folder outside the scanned one is not followed (nothing of it read or printed); --follow-symlinks follows it', async () => {
    const secret = 'root:$6$SECRET-HASH-MARKER$abcdef:19000:0:99999:7:::';
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'shadow'), `${secret}\n`);
    writeFileSync(join(dir, 'etc', 'blob'), Buffer.concat([Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), Buffer.from(secret)]));
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'good.json'), JSON.stringify({ Records: [JSON.parse(trail('StopLogging', 'tree-good')) as unknown] }));
    symlinkSync(join(dir, 'etc'), join(dir, 'tree', 'etc-link'));
    symlinkSync(join(dir, 'etc', 'shadow'), join(dir, 'tree', 'shadow-link'));
    const run = await runBounded(['scan', join(dir, 'tree')]);
    assert.equal(run.code, 3, run.stderr);
    assert.deepEqual(eventIds(run.stdout), ['tree-good']);
    assert.deepEqual(errorCodes(run.stderr), ['TH_INPUT_SPECIAL tree/etc-link', 'TH_INPUT_SPECIAL tree/shadow-link']);
    assert.match(run.stderr, /from 3 inputs .* 2 input errors in 2 inputs/);

    const followed = await runBounded(['scan', '--follow-symlinks', join(dir, 'tree')]);
    assert.equal(followed.code, 3, followed.stderr);
    assert.deepEqual(errorCodes(followed.stderr), ['TH_INPUT_FORMAT tree/etc-link/blob', 'TH_INPUT_FORMAT tree/etc-link/shadow', 'TH_INPUT_FORMAT tree/shadow-link']);
    // What the files are is said; never a byte of what they hold.
    for (const text of [run.stderr, followed.stderr]) {
      assert.doesNotMatch(text, /SECRET-HASH-MARKER|root:|de ad be ef|dead/);
    }
    assert.match(followed.stderr, /binary content/);
  });
});

describe('inputs are counted truthfully', () => {
  it('missing paths are inputs with an error: "N input errors in N inputs", never "in 0 inputs"', async () => {
    const alone = await runBounded(['scan', join(dir, 'missing.json')]);
    assert.equal(alone.code, 3);
    assert.match(alone.stderr, /0 records from 1 input .* 1 input error in 1 input \(see above\)/);
    const mixed = await runBounded(['scan', join(dir, 'missing-1.json'), join(dir, 'records', 'good.json'), join(dir, 'missing-dir')]);
    assert.equal(mixed.code, 3);
    assert.deepEqual(eventIds(mixed.stdout), ['records-good']);
    assert.match(mixed.stderr, /1 record from 3 inputs .* 2 input errors in 2 inputs \(see above\)/);
  });
});
