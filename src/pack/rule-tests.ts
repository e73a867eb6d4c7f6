import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import type { Envelope, LogRecord, LogSourceName } from '../core/envelope.ts';
import type { Alert } from '../core/alert.ts';
import { Detector } from '../engine/detector.ts';
import { sourcesOfRule } from '../sigma/log-sources.ts';
import { resolveCorrelations } from '../engine/correlation/resolve.ts';
import type { CorrelationRule } from '../sigma/correlation.ts';
import type { CompiledFilter } from '../sigma/filter.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import { fileTooLarge, formatPosition, MAX_RULE_FILE_BYTES, nodeToPlain, parseYamlFile, readTextFile } from '../sigma/parse.ts';
import { isJsonObject } from '../core/json-object.ts';

export type Expectation = 'match' | 'no-match';

/** One case of a `<name>.tests.yml` file. */
export interface RuleTestCase {
  description: string;
  expect: Expectation;
  /** One event, or several for a correlation. */
  events: LogRecord[];
  /** The rule name or id the case targets when the rule file holds several rules. */
  rule?: string;
  location: string;
}

/** What a tests file can test: a detection rule, or a correlation (run with the rules it references). */
export type TestableRule = CompiledDetectionRule | CorrelationRule;

export interface RuleTestOutcome {
  testCase: RuleTestCase;
  rule: TestableRule;
  passed: boolean;
  alerts: Alert[];
}

export interface RuleTestFileResult {
  testsFile: string;
  outcomes: RuleTestOutcome[];
  errors: LocatedError[];
}

/** `rules/aws/cloudtrail/x.yml` → `rules/aws/cloudtrail/x.tests.yml`. */
export function testsFileOf(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/, '') + '.tests.yml';
}

/**
 * Parses a tests file into cases, each with its `file:line:col`; malformed cases become errors.
 * The YAML is read as rule files are (src/sigma/parse.ts): aliases resolve (`event: *base`
 * reuses an anchored event), within the same limits (TH_RULE_LIMIT).
 */
export function parseRuleTests(text: string, file: string): { cases: RuleTestCase[]; errors: LocatedError[] } {
  const parsed = parseYamlFile(text, file);
  const errors: LocatedError[] = parsed.errors.map((error) => (error.code === 'TH_RULE_YAML' ? { ...error, code: 'TH_RULE_TEST' } : error));
  if (errors.length > 0) return { cases: [], errors };
  const documents = parsed.documents.filter((document) => document.tree !== null);
  const root = documents[0]?.tree ?? null;
  if (documents.length > 1) {
    errors.push(located('TH_RULE_TEST', 'a tests file is one YAML list of cases, not several documents', formatPosition(documents[1]?.position ?? { file, line: 1, col: 1 })));
    return { cases: [], errors };
  }
  if (root === null || root.kind !== 'seq') {
    errors.push(located('TH_RULE_TEST', 'a tests file is a YAML list of cases', root === null ? `${file}:1:1` : formatPosition(root.position)));
    return { cases: [], errors };
  }
  const cases: RuleTestCase[] = [];
  root.items.forEach((item, position) => {
    const location = formatPosition(item.position);
    const value: unknown = item.kind === 'map' ? nodeToPlain(item) : undefined;
    if (!isJsonObject(value)) {
      errors.push(located('TH_RULE_TEST', `case ${position + 1} is not a mapping`, location));
      return;
    }
    const expect = value.expect;
    if (expect !== 'match' && expect !== 'no-match') {
      errors.push(located('TH_RULE_TEST', `case ${position + 1}: expect must be match or no-match`, location));
      return;
    }
    const events = value.events !== undefined ? value.events : value.event !== undefined ? [value.event] : undefined;
    if (!Array.isArray(events) || events.length === 0 || !events.every(isJsonObject)) {
      errors.push(located('TH_RULE_TEST', `case ${position + 1}: needs an event (a mapping) or events (a list of mappings)`, location));
      return;
    }
    cases.push({
      description: typeof value.description === 'string' ? value.description : `case ${position + 1}`,
      expect,
      events,
      ...(typeof value.rule === 'string' ? { rule: value.rule } : {}),
      location,
    });
  });
  return { cases, errors };
}

/**
 * Reads and parses a tests file (at most MAX_RULE_FILE_BYTES: a larger one is TH_RULE_LIMIT,
 * one that is not a regular file TH_RULE_TEST); undefined when there is none.
 */
export async function readRuleTests(file: string): Promise<{ cases: RuleTestCase[]; errors: LocatedError[] } | undefined> {
  let read;
  try {
    read = await readTextFile(file, MAX_RULE_FILE_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { cases: [], errors: [located('TH_RULE_TEST', `cannot read the tests file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, file)] };
  }
  if (!read.ok) {
    return { cases: [], errors: [read.reason === 'too-large' ? fileTooLarge(file, read.size, MAX_RULE_FILE_BYTES, 'the tests file') : located('TH_RULE_TEST', 'cannot read the tests file: not a regular file', file)] };
  }
  return parseRuleTests(read.text, file);
}

function eventTimeOf(record: LogRecord): number {
  for (const key of ['eventTime', 'updatedAt', 'time']) {
    const value = record[key];
    if (typeof value === 'string') return Date.parse(value);
  }
  const start = record.start;
  return typeof start === 'number' ? start * 1000 : Number.NaN;
}

/** Runs a case's events through a detector holding only the rule: index, match and alert, as a scan would. */
export function runRuleTestCase(rule: CompiledDetectionRule, testCase: RuleTestCase): RuleTestOutcome {
  const detector = new Detector({ rules: [rule], includeEvents: false });
  const source: LogSourceName = sourcesOfRule(rule)[0] ?? 'cloudtrail';
  const alerts: Alert[] = [];
  testCase.events.forEach((record, index) => {
    const envelope: Envelope = { source, time: eventTimeOf(record), record, origin: { uri: testCase.location, index } };
    detector.process(envelope, alerts);
  });
  detector.flush(alerts);
  const fired = alerts.some((alert) => alert.rule.id === rule.id);
  return { testCase, rule, passed: fired === (testCase.expect === 'match'), alerts };
}

/** The rules, correlations and filters of the run: what a correlation's test needs beside it. */
export interface RuleTestContext {
  rules: readonly CompiledDetectionRule[];
  correlations?: readonly CorrelationRule[];
  filters?: readonly CompiledFilter[];
}

/**
 * Runs a correlation's case: its events, in the order written, through a detector holding the
 * correlation and every rule and correlation it references (transitively), plus the run's
 * filters, with unbounded lateness; then the end of input. Passes when the correlation alerted
 * as expected.
 */
export function runCorrelationTestCase(correlation: CorrelationRule, testCase: RuleTestCase, context: RuleTestContext): RuleTestOutcome {
  const { resolved } = resolveCorrelations(context.rules, context.correlations ?? []);
  const byRule = new Map(resolved.map((item) => [item.rule, item]));
  const rules = new Set<CompiledDetectionRule>();
  const correlations = new Set<CorrelationRule>();
  const visit = (rule: CorrelationRule): void => {
    if (correlations.has(rule)) return;
    correlations.add(rule);
    for (const input of byRule.get(rule)?.inputs ?? []) {
      if (input.kind === 'detection') rules.add(input.rule);
      else visit(input.rule);
    }
  };
  visit(correlation);
  const ruleList = [...rules];
  const detector = new Detector({
    rules: ruleList,
    correlations: resolved.filter((item) => correlations.has(item.rule)).map((item) => item.rule),
    ...(context.filters === undefined ? {} : { filters: context.filters }),
    includeEvents: false,
  });
  const source: LogSourceName = ruleList.map((rule) => sourcesOfRule(rule)[0]).find((found) => found !== undefined) ?? 'cloudtrail';
  const alerts: Alert[] = [];
  testCase.events.forEach((record, index) => {
    const envelope: Envelope = { source, time: eventTimeOf(record), record, origin: { uri: testCase.location, index } };
    detector.process(envelope, alerts);
  });
  detector.flush(alerts);
  const fired = alerts.some((alert) => alert.rule.id === correlation.id);
  const resolvable = byRule.has(correlation);
  return { testCase, rule: correlation, passed: resolvable && fired === (testCase.expect === 'match'), alerts };
}

/**
 * Runs the tests file beside each rule file. Rules without one are the caller's to report.
 * Correlations (in `context`) are tested with the rules they reference, from the same set.
 */
export async function runRuleTests(rules: readonly CompiledDetectionRule[], context?: Omit<RuleTestContext, 'rules'>): Promise<RuleTestFileResult[]> {
  const byFile = new Map<string, TestableRule[]>();
  const testable: TestableRule[] = [...rules, ...(context?.correlations ?? [])];
  for (const rule of testable) {
    const list = byFile.get(rule.position.file) ?? [];
    list.push(rule);
    byFile.set(rule.position.file, list);
  }
  const fullContext: RuleTestContext = { ...context, rules };
  const results: RuleTestFileResult[] = [];
  for (const [ruleFile, fileRules] of byFile) {
    const testsFile = testsFileOf(ruleFile);
    const parsed = await readRuleTests(testsFile);
    if (parsed === undefined) continue;
    const { cases, errors } = parsed;
    const outcomes: RuleTestOutcome[] = [];
    for (const testCase of cases) {
      const rule =
        testCase.rule === undefined
          ? fileRules.length === 1
            ? fileRules[0]
            : undefined
          : fileRules.find((candidate) => candidate.name === testCase.rule || candidate.id === testCase.rule);
      if (rule === undefined) {
        errors.push(located('TH_RULE_TEST', testCase.rule === undefined ? `${ruleFile} holds several rules: name the rule the case tests (rule: <name>)` : `no rule named ${testCase.rule} in ${ruleFile}`, testCase.location));
        continue;
      }
      outcomes.push(rule.kind === 'correlation' ? runCorrelationTestCase(rule, testCase, fullContext) : runRuleTestCase(rule, testCase));
    }
    results.push({ testsFile, outcomes, errors });
  }
  return results;
}
