import type { Envelope } from './envelope.ts';
import type { Alert, AlertOptions, AlertRule } from './alert.ts';
import { singleEventAlert } from './alert.ts';
import { RuleIndex } from './rule-index.ts';
import { Correlator } from './correlator.ts';
import type { CorrelatorStats } from './correlator.ts';
import { resolveCorrelations } from './correlation-resolve.ts';
import { FilterSet } from './filters.ts';
import type { CorrelationRule } from '../sigma/correlation.ts';
import type { CompiledFilter } from '../sigma/filter.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import { attackTagsToIds } from '../attack/techniques.ts';

export interface DetectorOptions extends AlertOptions {
  rules: readonly CompiledDetectionRule[];
  /** Correlation rules; their references are resolved against `rules` (unresolvable ones are left out). */
  correlations?: readonly CorrelationRule[];
  /** Filters (allowlists), applied to the rules they name before any alert or correlation count. */
  filters?: readonly CompiledFilter[];
  /** Correlation lateness in ms (default unbounded: see src/engine/correlation-options.ts). */
  lateness?: number;
  /** Cap on live correlation groups. */
  maxGroups?: number;
  /** Cap on events buffered per correlation group. */
  maxGroupEvents?: number;
  /** Told the first time correlation state degrades (cap reached, late events). */
  onWarning?: (message: string) => void;
}

/** The rule's identity as alerts carry it, ATT&CK ids parsed from its Sigma tags once. */
export function alertRuleOf(rule: CompiledDetectionRule): AlertRule {
  return {
    id: rule.id,
    ...(rule.name === undefined ? {} : { name: rule.name }),
    title: rule.title,
    level: rule.level,
    attack: attackTagsToIds(rule.tags),
  };
}

/**
 * Decides what a stream of envelopes means: which rules match each record, what the filters
 * drop, the alerts that follow, and the correlation state (on event time) they feed.
 */
export class Detector {
  readonly index: RuleIndex;
  private readonly alertRules = new Map<CompiledDetectionRule, AlertRule>();
  private readonly alertOptions: AlertOptions;
  private readonly filters: FilterSet | undefined;
  private readonly correlator: Correlator | undefined;

  constructor(options: DetectorOptions) {
    this.index = new RuleIndex(options.rules);
    this.alertOptions = { includeEvents: options.includeEvents };
    const { resolved } = resolveCorrelations(options.rules, options.correlations ?? []);
    const filters = options.filters === undefined || options.filters.length === 0 ? undefined : new FilterSet(options.filters, options.rules, resolved.map((item) => item.rule));
    this.filters = filters === undefined || filters.empty ? undefined : filters;
    if (resolved.length > 0) {
      const correlationFilters = this.filters?.hasCorrelationFilters() === true ? this.filters : undefined;
      this.correlator = new Correlator(resolved, {
        includeEvents: options.includeEvents,
        ...(options.lateness === undefined ? {} : { lateness: options.lateness }),
        ...(options.maxGroups === undefined ? {} : { maxGroups: options.maxGroups }),
        ...(options.maxGroupEvents === undefined ? {} : { maxGroupEvents: options.maxGroupEvents }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
        ...(correlationFilters === undefined ? {} : { acceptInput: (correlation, record) => correlationFilters.passesCorrelation(correlation, record) }),
      });
    }
    // A rule referenced by correlations alerts on its own only if one of them says `generate: true`.
    const generated = new Set<CompiledDetectionRule>();
    const referenced = new Set<CompiledDetectionRule>();
    for (const item of resolved) {
      for (const input of item.inputs) {
        if (input.kind !== 'detection') continue;
        referenced.add(input.rule);
        if (item.rule.generate) generated.add(input.rule);
      }
    }
    for (const rule of options.rules) {
      if (!referenced.has(rule) || generated.has(rule)) this.alertRules.set(rule, alertRuleOf(rule));
    }
  }

  /** Appends the alerts the envelope raises to `out`. */
  process(envelope: Envelope, out: Alert[]): void {
    const matched = this.index.matchingRules(envelope);
    for (const rule of matched) {
      if (this.filters !== undefined && !this.filters.passes(rule, envelope.record)) continue;
      const alertRule = this.alertRules.get(rule);
      if (alertRule !== undefined) out.push(singleEventAlert(alertRule, envelope, this.alertOptions));
      if (this.correlator !== undefined && this.correlator.feeds(rule)) this.correlator.observe(rule, envelope, out);
    }
  }

  /** Alerts that only the end of the input can complete (open correlation windows). */
  flush(out: Alert[]): void {
    this.correlator?.flush(out);
  }

  /** Correlation state counters (undefined without correlations). */
  correlationStats(): CorrelatorStats | undefined {
    return this.correlator?.stats();
  }

  /** What degraded in correlation during the run, for the summary on stderr. */
  correlationWarnings(): string[] {
    return this.correlator?.warnings() ?? [];
  }
}
