/**
 * The samples' Flow Logs and GuardDuty story through the CLI (samples/README.md), and the
 * shared corpus of real flow logs and findings scanned without a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusPath, corpusSkip } from '../corpus.ts';
import { alertLines, REPO_DIR, ruleCounts, runCli } from './run-cli.ts';
import { CLOUDTRAIL_STORY } from './sample-story.ts';


/** samples/intel/feed.txt, copied: its undated indicators live 30 days from the file's mtime. */
function sampleFeed(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'trailhound-samples-')), 'feed.txt');
  copyFileSync(join(REPO_DIR, 'samples/intel/feed.txt'), path);
  return path;
}

test('scan samples/: the CloudTrail story, the findings as alerts and the exposed bastion; the feed file is passed over', async () => {
  const result = await runCli(['scan', 'samples/']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(ruleCounts(alertLines(result.stdout)), { ...CLOUDTRAIL_STORY, 'aws-gd-finding-passthrough': 4, 'aws-vpcflow-remote-admin-from-internet': 1 });
  assert.match(result.stderr, /2 skipped \(digests, control messages, sample findings, indicator lists\); no input errors/);
});

test('scan samples/ --cti samples/intel/feed.txt: the mining pool, the scanner and the attacker addresses', async () => {
  const result = await runCli(['scan', 'samples/', '--cti', sampleFeed()]);
  assert.equal(result.code, 0, result.stderr);
  const alerts = alertLines(result.stdout);
  assert.deepEqual(ruleCounts(alerts), {
    ...CLOUDTRAIL_STORY,
    'aws-ct-cti-source-ip-match': 2,
    'aws-gd-cti-remote-ip-match': 4,
    'aws-gd-finding-passthrough': 4,
    'aws-vpcflow-cti-ip-match': 6,
    'aws-vpcflow-remote-admin-from-internet': 1,
  });
  const flows = alerts.filter((alert) => alert.rule.name === 'aws-vpcflow-cti-ip-match');
  assert.deepEqual(flows.map((alert) => `${alert.rule.level} x${alert.count}`).sort(), ['high x20', 'high x20', 'high x20', 'high x20', 'informational x20', 'informational x20']);
  const updated = alerts.find((alert) => alert.rule.name === 'aws-gd-finding-passthrough' && alert.count === 41);
  assert.ok(updated, 'the miner finding is reported once, at its newest version');
});

test('the shared corpus of flow logs and GuardDuty findings scans without a crash, with a feed', corpusSkip(), async () => {
  const feed = join(mkdtempSync(join(tmpdir(), 'trailhound-corpus-')), 'feed.txt');
  copyFileSync(join(REPO_DIR, 'test/fixtures/flow-cti/feed.txt'), feed);
  const result = await runCli(['scan', corpusPath('vpcflow'), corpusPath('guardduty'), '--cti', feed, '--no-events']);
  // Header-less custom formats, Panther's test wrappers, annotated AWS doc examples and
  // SOURCES.tsv are located input errors: exit 3, every other record scanned.
  assert.equal(result.code, 3, result.stderr.slice(-2000));
  for (const line of result.stderr.split('\n').filter((l) => l.startsWith('error: '))) assert.match(line, /^error: \S+: TH_INPUT_[A-Z]+ \S/);
  assert.doesNotMatch(result.stderr, /TypeError|RangeError|at .*\.ts:\d+/);
  const alerts = alertLines(result.stdout);
  assert.ok(alerts.some((alert) => alert.rule.name === 'aws-gd-finding-passthrough'), 'the Elastic finding that is not a sample');
  assert.match(result.stderr, /trailhound: \d+ records from \d+ inputs/);
});
