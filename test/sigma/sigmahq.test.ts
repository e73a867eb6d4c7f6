/**
 * Compatibility with SigmaHQ's AWS rules (../shared/corpus/sigmahq-aws, beside the clone; the
 * tests skip when it is absent): every supported rule compiles, every Sigma 1.0 aggregation
 * rule is rejected by name, the placeholder rule needs --vars. Then every rule runs over the
 * corpus' CloudTrail records: matching never throws and respects the required values.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadRulePaths, loadRuleText } from '../../src/sigma/load.ts';
import { admitsRecord } from '../../src/sigma/required-values.ts';
import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import { corpusCloudTrailRecords } from '../corpus.ts';

const corpus = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
const sigmahq = join(corpus, 'sigmahq-aws');
const skip = existsSync(sigmahq) ? false : 'corpus absent';

function ymlFiles(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith('.yml')).sort().map((name) => join(folder, name));
}

/** The aggregation each unsupported rule uses, as the error must name it. */
const AGGREGATIONS: Record<string, string> = {
  'aws_ec2_download_userdata.yml': 'count() > 10',
  'aws_enum_backup.yml': 'count() > 5',
  'aws_enum_listing.yml': 'count() > 50',
  'aws_enum_network.yml': 'count() > 5',
  'aws_enum_storage.yml': 'count() > 5',
  'aws_lambda_function_created_or_invoked.yml': 'near selection2',
  'aws_macic_evasion.yml': 'count() by sourceIPAddress > 5',
  'aws_ses_messaging_enabled.yml': 'timeframe: 5m',
};

describe('SigmaHQ AWS rules', { skip }, () => {
  test('all 57 rules load and compile without errors', async () => {
    const result = await loadRulePaths([join(sigmahq, 'rules')]);
    assert.deepEqual(result.errors, []);
    assert.equal(result.rules.length, 57);
    const ids = new Set(result.rules.map((rule) => rule.id));
    assert.equal(ids.size, 57);
    for (const rule of result.rules) {
      assert.equal(rule.logsource.product, 'aws');
      assert.equal(rule.logsource.service, 'cloudtrail');
      assert.ok(rule.title.length > 0);
    }
  });

  test('each of the 8 Sigma 1.0 aggregation rules is rejected, naming its aggregation', () => {
    const files = ymlFiles(join(sigmahq, 'unsupported'));
    assert.equal(files.length, 8);
    for (const file of files) {
      const result = loadRuleText(readFileSync(file, 'utf8'), file);
      assert.equal(result.rules.length, 0, file);
      assert.equal(result.errors.length, 1, file);
      const error = result.errors[0];
      assert.equal(error?.code, 'TH_RULE_DEPRECATED_AGGREGATION', file);
      const name = file.split('/').pop() as string;
      const aggregation = AGGREGATIONS[name];
      assert.ok(aggregation, `unexpected file ${name}`);
      assert.ok(error?.message.includes(aggregation), `${name}: '${error?.message}' should name '${aggregation}'`);
      assert.match(error?.message ?? '', /correlation rule/);
      assert.match(error?.location ?? '', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+$`));
    }
  });

  test('the |expand rule needs --vars: located TH_RULE_PLACEHOLDER without, loads with', () => {
    const [file] = ymlFiles(join(sigmahq, 'placeholder'));
    assert.ok(file);
    const text = readFileSync(file, 'utf8');
    const without = loadRuleText(text, file);
    assert.equal(without.rules.length, 0);
    assert.deepEqual(without.errors.map((e) => e.code), ['TH_RULE_PLACEHOLDER', 'TH_RULE_PLACEHOLDER']);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes("'%Legitimate_Countries%'")) + 1;
    const col = (lines[line - 1] ?? '').indexOf("'%Legitimate_Countries%'") + 1;
    assert.equal(without.errors[0]?.location, `${file}:${line}:${col}`);
    assert.match(without.errors[0]?.message ?? '', /Legitimate_Countries/);

    const vars = new Map<string, string[]>([['Legitimate_Countries', ['FR', 'DE']], ['Legitimate_IP_Ranges', ['203.0.113.*']]]);
    const withVars = loadRuleText(text, file, { vars });
    assert.deepEqual(withVars.errors, []);
    const rule = withVars.rules[0] as CompiledDetectionRule;
    const login = { eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Success' } };
    assert.equal(rule.match({ ...login, src_country: 'US', src_ip: '198.51.100.1' }), true);
    assert.equal(rule.match({ ...login, src_country: 'fr', src_ip: '198.51.100.1' }), false);
    assert.equal(rule.match({ ...login, src_country: 'US', src_ip: '203.0.113.9' }), false);
  });

  test('rules match what they describe', async () => {
    const result = await loadRulePaths([join(sigmahq, 'rules')]);
    const find = (id: string): CompiledDetectionRule => {
      const rule = result.rules.find((candidate) => candidate.id === id);
      assert.ok(rule, id);
      return rule;
    };
    const stop = find('4db60cc0-36fb-42b7-9b58-a5b53019fb74'); // aws_cloudtrail_disable_logging.yml
    assert.equal(stop.match({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }), true);
    assert.equal(stop.match({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'LookupEvents' }), false);
    const imds = find('352a918a-34d8-4882-8470-44830c507aa3'); // aws_cloudtrail_imds_malicious_usage.yml
    assert.equal(imds.match({ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1' }, eventSource: 's3.amazonaws.com', eventName: 'GetObject', sourceIPAddress: '198.51.100.1' }), true);
    assert.equal(imds.match({ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1' }, eventSource: 'ssm.amazonaws.com' }), false);
  });

  test('over the corpus CloudTrail records: no throw, and every match is admitted by the required values', async () => {
    const result = await loadRulePaths([join(sigmahq, 'rules')]);
    const records = corpusCloudTrailRecords();
    assert.ok(records.length > 300, `${records.length} records`);
    let matches = 0;
    for (const rule of result.rules) {
      for (const record of records) {
        if (rule.match(record)) {
          matches++;
          assert.ok(admitsRecord(rule.requiredValues, record), `${rule.title} matched a record its required values exclude`);
        }
      }
    }
    assert.ok(matches > 0, 'some corpus record should match some SigmaHQ rule');
  });
});
