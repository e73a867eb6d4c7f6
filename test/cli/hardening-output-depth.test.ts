/**
 * Deep records through the worker threads, deterministically: the main thread waits for its
 * workers (mainThreadWhileBooting: false), so the workers decode, match and forward the deep
 * records (envelopesJson). With 1 and with 2 workers the alerts are the same, written the same
 * way (truncated, with one located TH_INPUT_LIMIT per deep record), and the scan finishes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Detector } from '../../src/engine/detector.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../../src/pack/rule-set.ts';
import { scan } from '../../src/scan/scan.ts';
import type { MatcherRecipe } from '../../src/scan/worker-recipe.ts';
import type { LocatedError } from '../../src/core/errors.ts';
import { sinkAlertReporting } from '../../src/sinks/sink.ts';
import { TRUNCATED_MARKER } from '../../src/core/json-depth.ts';

const root = mkdtempSync(join(tmpdir(), 'trailhound-depth-workers-'));
after(() => rmSync(root, { recursive: true, force: true }));

function deepText(shape: 'arrays' | 'objects' | 'mixed', depth: number): string {
  let open = '';
  let close = '';
  for (let level = 0; level < depth; level++) {
    const array = shape === 'arrays' || (shape === 'mixed' && level % 2 === 1);
    open += array ? '[' : '{"k":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}"bottom"${close}`;
}

function record(id: string, deep?: string): string {
  return `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333"},"eventTime":"2026-11-02T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateKeyPair","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.10","userAgent":"aws-cli/2.15",${deep === undefined ? '' : `"userAgentDetails":${deep},`}"eventID":"${id}","recipientAccountId":"111122223333","requestParameters":{"keyName":"k"${deep === undefined ? '' : `,"filter":${deep}`}}}`;
}

test('deep records through worker threads: the same alerts and errors with 1 and 2 workers, no crash', { timeout: 180_000 }, async () => {
  const inputs: string[] = [];
  for (const shape of ['arrays', 'objects', 'mixed'] as const) {
    for (const depth of [6_000, 30_000]) {
      const lines = `${record(`deep-${shape}-${depth}`, deepText(shape, depth))}\n${record(`next-${shape}-${depth}`)}\n`;
      const plain = join(root, `${shape}-${depth}.jsonl`);
      writeFileSync(plain, lines);
      // An S3-style CloudTrail file, gzipped: the raw pre-filter path.
      const gz = join(root, `${shape}-${depth}.json.gz`);
      writeFileSync(gz, gzipSync(`{"Records":[${record(`gz-${shape}-${depth}`, deepText(shape, depth))},${record(`gz-next-${shape}-${depth}`)}]}`));
      inputs.push(plain, gz);
    }
  }
  const now = Date.parse('2026-11-20T00:00:00Z');
  const ruleSet = await loadRuleSet({ paths: [DEFAULT_RULES_DIR], now: new Date(now) });
  const recipe: MatcherRecipe = { rulePaths: [DEFAULT_RULES_DIR], now };
  const outcomes: { bodies: string[]; errors: LocatedError[] }[] = [];
  for (const count of [1, 2]) {
    const detector = new Detector({ rules: ruleSet.rules, correlations: ruleSet.correlations, filters: ruleSet.filters, includeEvents: true });
    const bodies: string[] = [];
    const errors: LocatedError[] = [];
    for (const rawPrefilter of [true, false]) {
      await scan({
        inputs,
        detector,
        onAlert: (alert) => {
          bodies.push(sinkAlertReporting(alert, (error) => errors.push(error)).body);
        },
        onError: (error) => errors.push(error),
        workers: { count, recipe, mainThreadWhileBooting: false },
        rawPrefilter,
      });
    }
    outcomes.push({ bodies, errors });
  }
  const [one, two] = outcomes as [{ bodies: string[]; errors: LocatedError[] }, { bodies: string[]; errors: LocatedError[] }];
  assert.deepEqual(two.bodies, one.bodies, 'alerts differ with 2 workers');
  assert.deepEqual(two.errors, one.errors, 'errors differ with 2 workers');
  // Each deep record: its alert written truncated, reported once (per scan) where it came from.
  for (const shape of ['arrays', 'objects', 'mixed']) {
    for (const depth of [6_000, 30_000]) {
      for (const id of [`deep-${shape}-${depth}`, `gz-${shape}-${depth}`]) {
        const body = one.bodies.find((text) => text.includes(`"event_ids":["${id}"]`));
        assert.ok(body !== undefined, `no alert for ${id}`);
        assert.ok(body.includes(JSON.stringify(TRUNCATED_MARKER)));
      }
      for (const id of [`next-${shape}-${depth}`, `gz-next-${shape}-${depth}`]) {
        const body = one.bodies.find((text) => text.includes(`"event_ids":["${id}"]`));
        assert.ok(body !== undefined && !body.includes(TRUNCATED_MARKER), `the record after the deep one: ${id}`);
      }
    }
  }
  const limits = one.errors.filter((error) => error.code === 'TH_INPUT_LIMIT');
  assert.equal(limits.length, 2 * 12, 'one TH_INPUT_LIMIT per deep record and scan');
  for (const error of limits) assert.match(error.location, /\.(jsonl:1|json\.gz#\d+)$/);
  assert.deepEqual(one.errors.filter((error) => error.code !== 'TH_INPUT_LIMIT'), []);
});
