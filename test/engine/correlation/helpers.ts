import { loadRuleText } from '../../../src/sigma/load.ts';
import { parseCorrelationDocument } from '../../../src/sigma/correlation.ts';
import type { CorrelationRule } from '../../../src/sigma/correlation.ts';
import { compileFilterDocument } from '../../../src/sigma/filter.ts';
import type { CompiledFilter } from '../../../src/sigma/filter.ts';
import type { CompiledDetectionRule, PlaceholderValues } from '../../../src/sigma/types.ts';
import type { LocatedError } from '../../../src/core/errors.ts';
import { resolveCorrelations } from '../../../src/engine/correlation/resolve.ts';
import { resolveFilterTargets } from '../../../src/engine/match/filters.ts';
import { Detector } from '../../../src/engine/detector.ts';
import type { DetectorOptions } from '../../../src/engine/detector.ts';
import type { Alert } from '../../../src/core/alert.ts';
import type { Envelope, LogRecord } from '../../../src/core/envelope.ts';

export interface TestRuleSet {
  rules: CompiledDetectionRule[];
  correlations: CorrelationRule[];
  filters: CompiledFilter[];
  errors: LocatedError[];
}

/** Rules, correlations and filters from one multi-document YAML text, as a rule set loads them. */
export function loadSet(yaml: string, options: { vars?: PlaceholderValues; now?: Date; file?: string } = {}): TestRuleSet {
  const file = options.file ?? 'test.yml';
  const loaded = loadRuleText(yaml, file, options.vars === undefined ? {} : { vars: options.vars });
  const errors = [...loaded.errors];
  const parsed: CorrelationRule[] = [];
  const filters: CompiledFilter[] = [];
  for (const document of loaded.otherDocuments) {
    if (document.kind === 'correlation') {
      const result = parseCorrelationDocument(document);
      errors.push(...result.errors);
      if (result.rule) parsed.push(result.rule);
    } else {
      const result = compileFilterDocument(document, { ...(options.vars ? { vars: options.vars } : {}), ...(options.now ? { now: options.now } : {}) });
      errors.push(...result.errors);
      if (result.filter) filters.push(result.filter);
    }
  }
  const resolved = resolveCorrelations(loaded.rules, parsed);
  errors.push(...resolved.errors);
  const correlations = resolved.resolved.map((item) => item.rule);
  errors.push(...resolveFilterTargets(filters, loaded.rules, correlations).errors);
  return { rules: loaded.rules, correlations, filters, errors };
}

export const BASE_TIME = Date.parse('2026-03-01T10:00:00Z');

let sequence = 0;

/** A CloudTrail-like record `offsetMs` after BASE_TIME, with a fresh eventID. */
export function event(offsetMs: number, fields: LogRecord = {}): LogRecord {
  sequence += 1;
  return {
    eventVersion: '1.08',
    eventTime: new Date(BASE_TIME + offsetMs).toISOString().replace(/\.000Z$/, 'Z'),
    eventID: `evt-${String(sequence).padStart(8, '0')}`,
    ...fields,
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export function envelopeOf(record: LogRecord, index = 0, uri = 'test.json'): Envelope {
  const time = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
  return { source: 'cloudtrail', time, record, origin: { uri, index } };
}

/** Runs records in the given order through a detector for the set, then flushes. */
export function run(set: TestRuleSet, records: readonly LogRecord[], options: Partial<DetectorOptions> = {}): Alert[] {
  const detector = new Detector({ rules: set.rules, correlations: set.correlations, filters: set.filters, includeEvents: false, ...options });
  const alerts: Alert[] = [];
  records.forEach((record, index) => detector.process(envelopeOf(record, index), alerts));
  detector.flush(alerts);
  return alerts;
}

export function alertsOf(alerts: readonly Alert[], ruleId: string): Alert[] {
  return alerts.filter((alert) => alert.rule.id === ruleId);
}
