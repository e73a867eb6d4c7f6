import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../../src/pack/rule-set.ts';
import { checkRuleConventions } from '../../src/pack/rule-conventions.ts';
import { runRuleTests } from '../../src/pack/rule-tests.ts';
import { Detector } from '../../src/engine/detector.ts';
import { scan } from '../../src/scan/scan.ts';
import type { Alert } from '../../src/core/alert.ts';
import { formatLocatedError } from '../../src/core/errors.ts';
import { corpusPath, corpusSkip } from '../corpus.ts';

const pack = await loadRuleSet({ paths: [DEFAULT_RULES_DIR] });
const GOODLOG_DIR = fileURLToPath(new URL('../fixtures/goodlog/', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('the built-in pack loads without a single error', () => {
  assert.deepEqual(pack.errors.map(formatLocatedError), []);
  assert.ok(pack.rules.length >= 20, `only ${pack.rules.length} rules loaded`);
});

test('every rule has a UUID id, a unique kebab-case name, a level, ATT&CK tags and tests both ways', async () => {
  const problems: string[] = [];
  for (const rule of [...pack.rules, ...pack.correlations]) {
    if (!UUID.test(rule.id)) problems.push(`${rule.position.file}: id ${rule.id} is not a lowercase UUID`);
    for (const error of await checkRuleConventions(rule)) problems.push(formatLocatedError(error));
  }
  const names = [...pack.rules, ...pack.correlations].map((rule) => rule.name);
  const ids = [...pack.rules, ...pack.correlations].map((rule) => rule.id);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are not unique');
  assert.equal(new Set(names).size, names.length, 'rule names are not unique');
  assert.deepEqual(problems, []);
});

test('rule files are laid out as rules/<product>/<service>/<name>.yml', () => {
  for (const rule of pack.rules) {
    const expected = `/rules/${rule.logsource.product}/${rule.logsource.service}/${rule.name}.yml`;
    assert.ok(rule.position.file.endsWith(expected), `${rule.position.file} should end with ${expected}`);
  }
  for (const correlation of pack.correlations) {
    assert.match(correlation.position.file, new RegExp(`/rules/aws/[a-z]+/${correlation.name}\\.yml$`));
  }
  assert.ok(pack.correlations.length >= 3, 'the discovery correlations are part of the pack');
});

test('every case in every tests file passes', async () => {
  const results = await runRuleTests(pack.rules);
  const failures: string[] = [];
  let cases = 0;
  for (const result of results) {
    for (const error of result.errors) failures.push(formatLocatedError(error));
    for (const outcome of result.outcomes) {
      cases += 1;
      if (!outcome.passed) failures.push(`${outcome.rule.name}: ${outcome.testCase.description} (${outcome.testCase.location}) expected ${outcome.testCase.expect}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(cases >= pack.rules.length * 2, `only ${cases} cases for ${pack.rules.length} rules`);
});

async function alertsOver(paths: string[]): Promise<{ alerts: Alert[]; records: number; errors: string[] }> {
  const alerts: Alert[] = [];
  const errors: string[] = [];
  const summary = await scan({
    inputs: paths,
    detector: new Detector({ rules: pack.rules, correlations: pack.correlations, filters: pack.filters, includeEvents: false }),
    onAlert: (alert) => {
      alerts.push(alert);
    },
    onError: (error) => errors.push(formatLocatedError(error)),
  });
  return { alerts, records: summary.records, errors };
}

test('goodlog: the pack raises nothing on routine activity', async () => {
  const files = readdirSync(GOODLOG_DIR).map((name) => GOODLOG_DIR + name);
  assert.ok(files.length > 0, 'no goodlog files');
  const { alerts, records, errors } = await alertsOver(files);
  assert.deepEqual(errors, []);
  assert.ok(records >= 300, `goodlog holds only ${records} records`);
  assert.deepEqual(alerts.map((alert) => `${alert.rule.name} on ${alert.event_ids.join(',')}`), []);
});

/** Corpus samples of routine activity: none of them is an attack the pack covers. */
const BENIGN_CORPUS_FILES = [
  'cloudtrail/awsdocs/ct-console-signin.00.iam-user-successful-sign-in-without-mfa.json',
  'cloudtrail/awsdocs/ct-console-signin.01.iam-user-successful-sign-in-with-mfa.json',
  'cloudtrail/awsdocs/ct-console-signin.02.iam-user-unsuccessful-sign-in.json',
  'cloudtrail/awsdocs/ct-console-signin.03.iam-user-sign-in-process-checks-for-mfa-single-mfa.json',
  'cloudtrail/awsdocs/ct-console-signin.04.iam-user-sign-in-process-checks-for-mfa-multiple-m.json',
  'cloudtrail/awsdocs/ct-console-signin.06.root-user-successful-sign-in-with-mfa.json',
  'cloudtrail/awsdocs/ct-digest.02.sample-digest-file-contents.json',
  'cloudtrail/awsdocs/ct-digest.03.empty-digest-files.json',
  'cloudtrail/awsdocs/ct-insights-cli.02.looking-up-insights-events.json',
  'cloudtrail/awsdocs/ct-log-file-examples.02.amazon-ec2-log-examples.json',
  'cloudtrail/awsdocs/ct-log-file-examples.03.amazon-ec2-log-examples.json',
  'cloudtrail/awsdocs/ct-log-file-examples.05.iam-log-examples.json',
  'cloudtrail/awsdocs/ct-log-file-examples.06.iam-log-examples.json',
  'cloudtrail/awsdocs/ct-log-file-examples.09.cloudtrail-insights-event-log-example.json',
  'cloudtrail/awsdocs/ct-service-events.00.aws-service-events.json',
  'cloudtrail/elastic-integrations/test-assume-role-aws-service-json.log',
  'cloudtrail/elastic-integrations/test-cloudtrail-digest-json.log',
  'cloudtrail/elastic-integrations/test-console-login-json.log',
  'cloudtrail/elastic-integrations/test-create-detector-json.log',
  'cloudtrail/elastic-integrations/test-user-authentication.log',
];

test('goodlog: the pack raises nothing on the benign samples of the shared corpus', corpusSkip(), async () => {
  const { alerts, records } = await alertsOver(BENIGN_CORPUS_FILES.map(corpusPath));
  assert.ok(records > 10);
  assert.deepEqual(alerts.map((alert) => `${alert.rule.name} on ${alert.event_ids.join(',')}`), []);
});
