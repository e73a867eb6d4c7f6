/**
 * `watch` reads feeds too: they are held to the same limits (TH_INTEL_TOO_BROAD stops the
 * start, as any feed error does), and `feed_max_prefix` in trailhound.yml is `--cti-max-prefix`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWatchConfig } from '../../src/service/config.ts';
import { setUpEngine } from '../../src/service/engine-setup.ts';

const dir = mkdtempSync(join(tmpdir(), 'trailhound-feed-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'trailhound.yml');
writeFileSync(join(dir, 'feed.txt'), '198.51.100.7\n0.0.0.0/0\n::/0\n');

const yaml = (extra: string): string =>
  ['state_dir: ./state', 'rules:', '  default_rules: false', 'feeds:', '  - ./feed.txt', extra, 'sources:', '  - type: folder', '    path: ./logs', 'sinks:', '  - type: stdout', ''].join('\n');

test('feed_max_prefix: parsed as v4=/N,v6=/M; a bad value is a located TH_CONFIG', () => {
  const plain = parseWatchConfig(yaml(''), file);
  assert.deepEqual(plain.errors, []);
  assert.deepEqual(plain.config?.feeds, [{ path: join(dir, 'feed.txt') }]);
  const set = parseWatchConfig(yaml('feed_max_prefix: v4=/0,v6=/16'), file);
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.config?.feeds, [{ path: join(dir, 'feed.txt'), limits: { v4: 0, v6: 16 } }]);
  for (const bad of ['v4=/40', 'everything', "''", '[8]']) {
    const parsed = parseWatchConfig(yaml(`feed_max_prefix: ${bad}`), file);
    assert.equal(parsed.config, undefined, bad);
    assert.equal(parsed.errors[0]?.code, 'TH_CONFIG', bad);
    assert.match(parsed.errors[0]?.location ?? '', /trailhound\.yml:6:/, bad);
  }
});

test('watch: a too-broad indicator is an error of the setup (the service does not start); feed_max_prefix allows it', async () => {
  const strict = parseWatchConfig(yaml(''), file).config;
  assert.ok(strict !== undefined);
  const refused = await setUpEngine(strict);
  assert.deepEqual(
    refused.errors.map((error) => [error.code, error.location]),
    [
      ['TH_INTEL_TOO_BROAD', `${join(dir, 'feed.txt')}:2`],
      ['TH_INTEL_TOO_BROAD', `${join(dir, 'feed.txt')}:3`],
    ],
  );
  const open = parseWatchConfig(yaml('feed_max_prefix: v4=/0,v6=/0'), file).config;
  assert.ok(open !== undefined);
  assert.deepEqual((await setUpEngine(open)).errors, []);
});
