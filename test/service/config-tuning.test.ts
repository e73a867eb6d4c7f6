/**
 * The watch config's `tuning:` and `baseline:` files (docs/tuning.md, docs/discovery.md): paths
 * relative to the config, and applied by setUpEngine as `scan --tuning` / `--baseline` apply them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWatchConfig } from '../../src/service/config.ts';
import { setUpEngine } from '../../src/service/engine-setup.ts';

const CONFIG = `state_dir: state
tuning: tuning.yml
baseline: baseline.json
sources:
  - type: folder
    path: logs
sinks:
  - type: stdout
`;

test('watch config: tuning and baseline are read relative to the file and applied to the engine', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'th-watch-tuning-'));
  try {
    const file = join(dir, 'trailhound.yml');
    const { config, errors } = parseWatchConfig(CONFIG, file, {});
    assert.deepEqual(errors, []);
    assert.ok(config !== undefined);
    assert.equal(config.rules.tuning, join(dir, 'tuning.yml'));
    assert.equal(config.baseline, join(dir, 'baseline.json'));

    await writeFile(join(dir, 'tuning.yml'), 'rules:\n  aws-ct-ec2-keypair-created-or-imported:\n    disabled: true\n    reason: key rotation tooling\n');
    await writeFile(join(dir, 'baseline.json'), JSON.stringify({ format: 'trailhound-baseline', version: 1, built: '2026-12-01T00:00:00Z', period: { start: null, end: null }, correlations: {} }));
    const setup = await setUpEngine(config);
    assert.deepEqual(setup.errors, []);
    const plain = await setUpEngine({ ...config, rules: { ...config.rules, tuning: undefined } as typeof config.rules, baseline: undefined } as typeof config);
    assert.equal(setup.ruleCount, plain.ruleCount - 1, 'the disabled rule is not loaded');

    await writeFile(join(dir, 'baseline.json'), '{"format": "something else"}');
    const bad = await setUpEngine(config);
    assert.ok(bad.errors.some((error) => error.code === 'TH_CONFIG' && /not a trailhound baseline file/.test(error.message)));
    await writeFile(join(dir, 'tuning.yml'), 'rules:\n  aws-ct-no-such-rule:\n    level: high\n');
    const unknown = await setUpEngine({ ...config, baseline: undefined } as typeof config);
    assert.ok(unknown.errors.some((error) => error.code === 'TH_TUNING' && error.location === `${join(dir, 'tuning.yml')}:2:3`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
