import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRuleText } from '../../src/sigma/load.ts';
import { CORRELATION_TYPES, parseCorrelationDocument, parseTimespan } from '../../src/sigma/correlation.ts';
import type { CorrelationRule } from '../../src/sigma/correlation.ts';
import type { LocatedError } from '../../src/core/errors.ts';

const ID = '0e95725d-7320-415d-80f7-004da920fc11';

/** Parses the one correlation document of `yaml` (file `c.yml`). */
function parse(yaml: string): { rule?: CorrelationRule; errors: LocatedError[] } {
  const loaded = loadRuleText(yaml, 'c.yml');
  assert.deepEqual(loaded.errors, []);
  const document = loaded.otherDocuments.find((candidate) => candidate.kind === 'correlation');
  assert.ok(document, 'a correlation document');
  return parseCorrelationDocument(document);
}

function correlation(section: string, extra = ''): string {
  return `title: Many failed logins\nid: ${ID}\nname: many_failed\n${extra}correlation:\n${section}`;
}

function errorOf(yaml: string): LocatedError {
  const result = parse(yaml);
  assert.equal(result.rule, undefined, 'the document is rejected');
  assert.ok(result.errors.length > 0);
  return result.errors[0] as LocatedError;
}

test('the specification example (event_count) parses into a typed rule', () => {
  const { rule, errors } = parse(correlation('    type: event_count\n    rules:\n        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n    group-by:\n        - ComputerName\n    timespan: 1h\n    condition:\n        gte: 100\n', 'level: high\n'));
  assert.deepEqual(errors, []);
  assert.ok(rule);
  assert.equal(rule.kind, 'correlation');
  assert.equal(rule.type, 'event_count');
  assert.deepEqual(rule.rules, ['5638f7c0-ac70-491d-8465-2a65075e0d86']);
  assert.deepEqual(rule.groupBy, ['ComputerName']);
  assert.equal(rule.timespanMs, 3_600_000);
  assert.deepEqual(rule.condition.terms, [{ operator: 'gte', threshold: 100 }]);
  assert.equal(rule.generate, false, 'generate defaults to false');
  assert.equal(rule.level, 'high');
  assert.equal(rule.name, 'many_failed');
  assert.deepEqual(rule.rulePositions[0], { file: 'c.yml', line: 8, col: 11 });
});

test('every correlation type of the specification and pySigma parses', () => {
  for (const type of CORRELATION_TYPES) {
    const temporal = type === 'temporal' || type === 'temporal_ordered';
    const condition = temporal ? '' : type === 'event_count' ? '    condition: {gte: 3}\n' : type === 'value_percentile' ? '    condition: {field: bytes, percentile: 95, gt: 10}\n' : '    condition: {field: bytes, gt: 10}\n';
    const { rule, errors } = parse(correlation(`    type: ${type}\n    rules: [a_rule, b_rule]\n    group-by: [User]\n    timespan: 10m\n${condition}`));
    assert.deepEqual(errors, [], type);
    assert.equal(rule?.type, type);
  }
});

test('temporal types default to "all referenced rules" (gte: number of rules); value_median is the 50th percentile', () => {
  const temporal = parse(correlation('    type: temporal_ordered\n    rules: [a, b, c]\n    group-by: [User]\n    timespan: 5m\n')).rule;
  assert.deepEqual(temporal?.condition.terms, [{ operator: 'gte', threshold: 3 }]);
  const median = parse(correlation('    type: value_median\n    rules: [a]\n    group-by: [User]\n    timespan: 5m\n    condition: {field: bytes, gt: 5}\n')).rule;
  assert.equal(median?.condition.percentile, 50);
  assert.deepEqual(median?.condition.fields, ['bytes']);
});

test('a condition may be a range of two comparisons (spec: "101 to 200")', () => {
  const rule = parse(correlation('    type: event_count\n    rules: [a]\n    group-by: [User]\n    timespan: 1d\n    condition:\n        gt: 100\n        lte: 200\n')).rule;
  assert.deepEqual(rule?.condition.terms, [{ operator: 'gt', threshold: 100 }, { operator: 'lte', threshold: 200 }]);
});

test('value_count may count distinct combinations of several fields; group-by may be omitted (one group)', () => {
  const rule = parse(correlation('    type: value_count\n    rules: [a]\n    timespan: 1d\n    condition: {field: [User, Host], gte: 3}\n')).rule;
  assert.deepEqual(rule?.condition.fields, ['User', 'Host']);
  assert.deepEqual(rule?.groupBy, []);
});

test('generate is read at the top level (JSON schema) or inside correlation (pySigma)', () => {
  assert.equal(parse(correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n', 'generate: true\n')).rule?.generate, true);
  assert.equal(parse(correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n    generate: true\n')).rule?.generate, true);
  const conflict = errorOf(correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n    generate: false\n', 'generate: true\n'));
  assert.match(conflict.message, /twice/);
});

test('aliases map a group-by name to a field per rule', () => {
  const rule = parse(correlation('    type: temporal\n    rules: [internal_error, new_network_connection]\n    group-by: [internal_ip]\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n')).rule;
  assert.equal(rule?.aliases.get('internal_ip')?.get('internal_error'), 'destination.ip');
  assert.equal(rule?.aliases.get('internal_ip')?.get('new_network_connection'), 'source.ip');
  assert.equal(rule?.timespanMs, 10_000);
});

test('timespans: one number and one unit s, m, h, d (w too); other forms are rejected with advice', () => {
  assert.equal(parseTimespan('45s'), 45_000);
  assert.equal(parseTimespan('30m'), 1_800_000);
  assert.equal(parseTimespan('2h'), 7_200_000);
  assert.equal(parseTimespan('1d'), 86_400_000);
  assert.equal(parseTimespan('1w'), 604_800_000);
  for (const bad of ['0m', '1h30m', '30', '1M', '1y', '-5m', '5 m', '5min', '']) assert.equal(parseTimespan(bad), undefined, bad);
  const combo = errorOf(correlation('    type: event_count\n    rules: [a]\n    timespan: 1h30m\n    condition: {gte: 1}\n'));
  assert.equal(combo.code, 'TH_RULE_SCHEMA');
  assert.match(combo.message, /90m/);
  assert.equal(combo.location, 'c.yml:7:15');
  assert.match(errorOf(correlation('    type: event_count\n    rules: [a]\n    timespan: 1M\n    condition: {gte: 1}\n')).message, /not fixed durations/);
  assert.match(errorOf(correlation('    type: event_count\n    rules: [a]\n    timespan: 300\n    condition: {gte: 1}\n')).message, /add a unit/);
});

test('schema errors are located at the offending key or value', () => {
  const cases: [string, RegExp, string][] = [
    [correlation('    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n'), /'correlation.type' is required/, 'c.yml:5:5'],
    [correlation('    type: event_counter\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n'), /unknown correlation type "event_counter"/, 'c.yml:5:11'],
    [correlation('    type: event_count\n    timespan: 1m\n    condition: {gte: 1}\n'), /'correlation.rules' is required/, 'c.yml:5:5'],
    [correlation('    type: event_count\n    rules: [a, a]\n    timespan: 1m\n    condition: {gte: 1}\n'), /listed twice/, 'c.yml:6:16'],
    [correlation('    type: temporal\n    rules: [a]\n    group-by: [x]\n    timespan: 1m\n'), /at least two rules/, 'c.yml:6:12'],
    [correlation('    type: event_count\n    rules: [a]\n    condition: {gte: 1}\n'), /'correlation.timespan' is required/, 'c.yml:5:5'],
    [correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n'), /needs a 'condition'/, 'c.yml:5:5'],
    [correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: many}\n'), /must be a number/, 'c.yml:8:22'],
    [correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gt: 1, lt: 9, neq: 5}\n'), /one comparison .* or two for a range; it has 3/, 'c.yml:8:16'],
    [correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {field: User, gte: 1}\n'), /did you mean value_count/, 'c.yml:8:16'],
    [correlation('    type: value_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n'), /needs 'condition.field'/, 'c.yml:8:16'],
    [correlation('    type: value_sum\n    rules: [a]\n    timespan: 1m\n    condition: {field: [a, b], gte: 1}\n'), /one numeric field/, 'c.yml:8:16'],
    [correlation('    type: value_percentile\n    rules: [a]\n    timespan: 1m\n    condition: {field: image, lte: 1}\n'), /needs 'condition.percentile'/, 'c.yml:8:16'],
    [correlation('    type: value_percentile\n    rules: [a]\n    timespan: 1m\n    condition: {field: b, percentile: 101, gt: 1}\n'), /0 to 100/, 'c.yml:8:39'],
    [correlation('    type: value_avg\n    rules: [a]\n    timespan: 1m\n    condition: {field: b, percentile: 90, gt: 1}\n'), /only applies to value_percentile/, 'c.yml:8:16'],
    [correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1, count: 2}\n'), /unknown condition key 'count'/, 'c.yml:8:25'],
    [correlation('    type: event_count\n    rules: [a]\n    groupby: [User]\n    timespan: 1m\n    condition: {gte: 1}\n'), /unknown key 'correlation.groupby'/, 'c.yml:7:5'],
    [correlation('    type: event_count\n    rules: [a]\n    group-by: [User, User]\n    timespan: 1m\n    condition: {gte: 1}\n'), /lists a field twice/, 'c.yml:7:15'],
    [correlation('    type: temporal\n    rules: [a, b]\n    timespan: 1m\n    aliases: {ip: source.ip}\n'), /must map rule names to field names/, 'c.yml:8:19'],
  ];
  for (const [yaml, message, location] of cases) {
    const error = errorOf(yaml);
    assert.equal(error.code, 'TH_RULE_SCHEMA', String(message));
    assert.match(error.message, message);
    assert.equal(error.location, location, `${String(message)} -> ${error.location}`);
  }
});

test('what the engine does not implement is TH_RULE_UNSUPPORTED, not a silent no-match', () => {
  const extended = errorOf(correlation('    type: temporal_extended\n    rules: [a, b]\n    timespan: 1m\n'));
  assert.equal(extended.code, 'TH_RULE_UNSUPPORTED');
  const expression = errorOf(correlation('    type: temporal\n    rules: [a, b]\n    timespan: 1m\n    condition: a and not b\n'));
  assert.equal(expression.code, 'TH_RULE_UNSUPPORTED');
});

test('metadata follows the detection rules: a UUID id is required, level defaults to medium', () => {
  const missingId = parse('title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n');
  assert.equal(missingId.rule, undefined);
  assert.match(missingId.errors[0]?.message ?? '', /no 'id'/);
  assert.equal(parse(correlation('    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1}\n')).rule?.level, 'medium');
});

test('several errors of one document are all reported', () => {
  const { errors } = parse(correlation('    type: value_count\n    rules: [a]\n    timespan: 90\n    condition: {gte: x}\n'));
  assert.ok(errors.length >= 2, JSON.stringify(errors));
});
