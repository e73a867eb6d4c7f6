import type { Envelope, LogRecord } from '../core/envelope.ts';
import type { Alert, AlertOptions, AlertRule } from '../core/alert.ts';
import { alertRuleOf, singleEventAlert } from './alerts/build.ts';
import type { RuleIndex } from './match/rule-index.ts';
import { Matcher } from './match/matcher.ts';
import { BaselineGate } from './correlation/baseline.ts';
import type { BaselineFileData, BaselineOptions } from './correlation/baseline.ts';
import { Correlator } from './correlation/correlator.ts';
import type { CorrelatorStats } from './correlation/correlator.ts';
import { resolveCorrelations } from './correlation/resolve.ts';
import type { CorrelationSnapshot, RestoreOutcome } from './correlation/snapshot.ts';
import { FilterSet } from './match/filters.ts';
import { CLOUDTRAIL_CTI_RULE, GUARDDUTY_CTI_RULE, GUARDDUTY_PASSTHROUGH_RULE, VPCFLOW_CTI_RULE } from './alerts/builtin-rules.ts';
import type { CorrelationRule } from '../sigma/correlation.ts';
import type { CompiledFilter } from '../sigma/filter.ts';
import type { CompiledDetectionRule } from '../sigma/types.ts';
import type { IntelIndex } from '../intel/intel-index.ts';
import { sourcesOfRule } from '../sigma/log-sources.ts';
import { GuardDutyFindings, type GuardDutyFindingsOptions, type GuardDutyFindingsStats } from './guardduty/findings.ts';
import { guardDutyFindingAlert } from './guardduty/alerts.ts';
import { guardDutyCtiAlerts } from './cti/guardduty.ts';
import { FlowCtiMatcher, type FlowCtiOptions } from './cti/flow.ts';
import { CloudTrailCtiMatcher } from './cti/cloudtrail.ts';
import { FlowPrefilter } from './prefilter/flow.ts';
import { FlowTap } from './cti/flow-tap.ts';
import type { TimeRange } from '../core/time-range.ts';
import type { DetectorLiveState, DetectorPartial } from './partial.ts';

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
  /** Threat intelligence matched against flow addresses, CloudTrail sourceIPAddress and GuardDuty remote IPs. */
  intel?: IntelIndex;
  /** Threat-intel time buckets (default 1 hour) and the egress bytes threshold. */
  cti?: Omit<FlowCtiOptions, 'includeEvents'>;
  /**
   * Per-principal baselines of the correlations that ask for one (`baseline:`): `hold` (a scan,
   * the default) decides at flush() from the whole input; `live` (a service) as windows close.
   */
  baseline?: BaselineOptions;
  /** How GuardDuty finding versions are held (guardduty-findings.ts); `passthrough: false` raises no alert per finding. */
  guardDuty?: GuardDutyFindingsOptions & { passthrough?: boolean };
  /**
   * A cluster node (docs/cluster.md): nothing stateful is decided here. Correlation entries,
   * baselines, finding versions and threat-intel buckets are held until drainPartial() hands
   * them over; the node that decides absorbs every unit's part and calls flush(). A service's
   * node (`guardDuty.maxPending: 0`) still emits every finding version as it comes: the store
   * keeps the newest.
   */
  node?: boolean;
  /**
   * With `node`: correlation entries keep their record's origin instead of the record (a
   * cluster scan ships them; the decider fetches the records an alert embeds by origin).
   */
  keepOrigins?: boolean;
}

/** What the built-in detections (GuardDuty passthrough, threat intel) did, for the summary. */
export interface BuiltinDetectionStats {
  guardDuty: GuardDutyFindingsStats;
  /** Flow records checked against the intel, and their address matches. */
  flowRecords: number;
  flowMatches: number;
  cloudTrailMatches: number;
  guardDutyMatches: number;
}

/**
 * The stateful half of detection: decides what a stream of envelopes means — the rules each
 * record matches (through its Matcher), what the filters drop, the alerts that follow, the
 * correlation state (on event time) they feed, GuardDuty finding versions and threat-intel
 * buckets. One per scan or service, fed in input order.
 */
export class Detector {
  /** The stateless half: rule matching, and what may act (scan workers build their own). */
  readonly matcher: Matcher;
  readonly index: RuleIndex;
  private readonly alertRules = new Map<CompiledDetectionRule, AlertRule>();
  private readonly alertOptions: AlertOptions;
  private readonly filters: FilterSet | undefined;
  private readonly correlator: Correlator | undefined;
  private readonly gate: BaselineGate | undefined;
  private readonly findings: GuardDutyFindings;
  private readonly passthrough: boolean;
  private readonly intel: IntelIndex | undefined;
  private readonly flowCti: FlowCtiMatcher | undefined;
  private readonly cloudTrailCti: CloudTrailCtiMatcher | undefined;
  private guardDutyMatches = 0;
  /** Sigma rules that read flow records. */
  private readonly flowRules: CompiledDetectionRule[];
  /** Alerts raised outside process() (the flow tap, closed intel buckets), until collect(). */
  private readonly ready: Alert[] = [];

  constructor(options: DetectorOptions) {
    this.matcher = new Matcher(options.rules, options.intel);
    this.index = this.matcher.index;
    this.alertOptions = { includeEvents: options.includeEvents };
    const { resolved } = resolveCorrelations(options.rules, options.correlations ?? []);
    const filters = options.filters === undefined || options.filters.length === 0 ? undefined : new FilterSet(options.filters, options.rules, resolved.map((item) => item.rule));
    this.filters = filters === undefined || filters.empty ? undefined : filters;
    if (resolved.length > 0) {
      const correlationFilters = this.filters?.hasCorrelationFilters() === true ? this.filters : undefined;
      this.correlator = new Correlator(resolved, {
        includeEvents: options.includeEvents,
        ...(options.keepOrigins === true ? { keepOrigins: true } : {}),
        // A node decides nothing: its groups wait for the decider, which applies the lateness.
        ...(options.lateness === undefined || options.node === true ? {} : { lateness: options.lateness }),
        ...(options.maxGroups === undefined ? {} : { maxGroups: options.maxGroups }),
        ...(options.maxGroupEvents === undefined ? {} : { maxGroupEvents: options.maxGroupEvents }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
        ...(correlationFilters === undefined ? {} : { acceptInput: (correlation, record) => correlationFilters.passesCorrelation(correlation, record) }),
      });
    }
    const gate = resolved.length === 0 ? undefined : new BaselineGate(resolved, options.baseline ?? { mode: 'hold' });
    this.gate = gate === undefined || gate.empty ? undefined : gate;
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
    this.flowRules = options.rules.filter((rule) => sourcesOfRule(rule).includes('vpcflow'));
    this.findings = new GuardDutyFindings(options.node === true && options.guardDuty?.maxPending !== 0 ? { ...options.guardDuty, maxPending: Number.MAX_SAFE_INTEGER } : options.guardDuty);
    this.passthrough = options.guardDuty?.passthrough !== false;
    this.intel = options.intel;
    if (options.intel !== undefined) {
      const ctiOptions = { ...options.cti, includeEvents: options.includeEvents, ...(options.node === true ? { hold: true } : {}) };
      const accept = (ruleId: string): { accept?: (record: LogRecord) => boolean } =>
        this.filters?.filtersBuiltin(ruleId) === true ? { accept: (record) => (this.filters as FilterSet).passesBuiltin(ruleId, record) } : {};
      this.flowCti = new FlowCtiMatcher(options.intel, { ...ctiOptions, ...accept(VPCFLOW_CTI_RULE.id) }, this.ready);
      this.cloudTrailCti = new CloudTrailCtiMatcher(options.intel, { ...ctiOptions, ...accept(CLOUDTRAIL_CTI_RULE.id) }, this.ready);
    }
  }

  /**
   * Appends the alerts the envelope raises to `out`. GuardDuty findings and threat-intel
   * matches may raise theirs later (a newer version of the finding, a time bucket closing):
   * flush() at the end of the input.
   */
  process(envelope: Envelope, out: Alert[], matched?: readonly CompiledDetectionRule[]): void {
    switch (envelope.source) {
      case 'guardduty':
        this.findings.offer(envelope, (alerts) => this.raiseFinding(envelope, alerts, out), out);
        break;
      case 'vpcflow':
        this.runRules(envelope, out, out);
        this.flowCti?.record(envelope);
        break;
      case 'cloudtrail':
        // `matched`: the rules a scan worker already found this record matches (mayAct).
        this.runRules(envelope, out, out, matched);
        this.cloudTrailCti?.record(envelope);
        break;
    }
    this.collect(out);
  }

  /** Sigma rules over one record: rule alerts to `out`, correlation alerts to `correlationOut`. */
  private runRules(envelope: Envelope, out: Alert[], correlationOut: Alert[], known?: readonly CompiledDetectionRule[]): void {
    const matched = known ?? this.index.matchingRules(envelope);
    for (const rule of matched) {
      if (this.filters !== undefined && !this.filters.passes(rule, envelope.record)) continue;
      const alertRule = this.alertRules.get(rule);
      if (alertRule !== undefined) out.push(singleEventAlert(alertRule, envelope, this.alertOptions));
      if (this.correlator !== undefined && this.correlator.feeds(rule)) {
        if (this.gate === undefined) this.correlator.observe(rule, envelope, correlationOut);
        else {
          if (this.gate.learns(rule)) this.gate.observe(rule, envelope);
          const from = correlationOut.length;
          this.correlator.observe(rule, envelope, correlationOut);
          this.gate.intercept(correlationOut, from);
        }
      }
    }
  }

  /** Everything one version of a finding raises: held together, replaced by a newer version. */
  private raiseFinding(envelope: Envelope, alerts: Alert[], correlationOut: Alert[]): void {
    if (this.passthrough && (this.filters === undefined || this.filters.passesBuiltin(GUARDDUTY_PASSTHROUGH_RULE.id, envelope.record))) alerts.push(guardDutyFindingAlert(envelope, this.alertOptions));
    this.runRules(envelope, alerts, correlationOut);
    if (this.intel !== undefined) {
      const matched: Alert[] = [];
      const matches = guardDutyCtiAlerts(envelope, this.intel, this.alertOptions, matched);
      // An allowlist naming the pseudo-rule is asked only when the finding matched an indicator.
      if (matches > 0 && (this.filters === undefined || this.filters.passesBuiltin(GUARDDUTY_CTI_RULE.id, envelope.record))) {
        this.guardDutyMatches += matches;
        for (const alert of matched) alerts.push(alert);
      }
    }
  }

  /**
   * The fast path for text flow logs (DecodeOptions.flowTap): no record built unless a Sigma
   * flow rule may match the line. Undefined when a flow rule could match any line; then flow
   * records are decoded and go through process() like any other.
   */
  flowTap(range?: TimeRange): FlowTap | undefined {
    let prefilter: FlowPrefilter | undefined;
    if (this.flowRules.length > 0) {
      prefilter = FlowPrefilter.compile(this.flowRules);
      if (prefilter === undefined) return undefined;
    }
    return new FlowTap(this.flowCti, prefilter, (envelope) => this.runRules(envelope, this.ready, this.ready), range);
  }

  /** Moves the alerts raised outside process() (by the flow tap) to `out`. */
  collect(out: Alert[]): void {
    if (this.ready.length === 0) return;
    for (const alert of this.ready) out.push(alert);
    this.ready.length = 0;
  }

  /** Alerts that only the end of the input can complete: correlation windows, intel buckets, held findings. */
  flush(out: Alert[]): void {
    const from = out.length;
    this.correlator?.flush(out);
    if (this.gate !== undefined) {
      this.gate.intercept(out, from);
      this.gate.flush(out);
    }
    this.flowCti?.flush();
    this.cloudTrailCti?.flush();
    this.collect(out);
    this.findings.flush(out);
  }

  builtinStats(): BuiltinDetectionStats {
    return {
      guardDuty: { ...this.findings.stats },
      flowRecords: this.flowCti?.stats.records ?? 0,
      flowMatches: this.flowCti?.stats.matches ?? 0,
      cloudTrailMatches: this.cloudTrailCti?.matches ?? 0,
      guardDutyMatches: this.guardDutyMatches,
    };
  }

  /** Matches each allowlist filter kept out, by filter id (or label): suppressed, counted, not lost. */
  suppressedCounts(): ReadonlyMap<string, number> {
    return this.filters?.suppressed ?? new Map();
  }

  /** Bursts the baselines let through and held back as usual for their group (undefined when no correlation has one). */
  baselineStats(): { raised: number; suppressed: number } | undefined {
    return this.gate === undefined ? undefined : { ...this.gate.stats };
  }

  /** What the baselines learned, as a baseline file (undefined when no correlation has one). */
  baselineFile(now: Date): BaselineFileData | undefined {
    return this.gate?.toFile(now);
  }

  /** Correlation state counters (undefined without correlations). */
  correlationStats(): CorrelatorStats | undefined {
    return this.correlator?.stats();
  }

  /**
   * Event time seen by a long-running consumer (any record): closes the correlation windows and
   * the threat-intel buckets it passes. (Such consumers also set `guardDuty.maxPending: 0`, so
   * findings are emitted as they come.)
   */
  advanceEventTime(time: number, out: Alert[]): void {
    const from = out.length;
    this.correlator?.advanceTo(time, out);
    this.gate?.intercept(out, from);
    this.flowCti?.expire(time);
    this.cloudTrailCti?.expire(time);
    this.collect(out);
  }

  /**
   * Everything stateful held so far, taken out undecided (a cluster node, `node: true`, after
   * each unit): see partial.ts. The detector is left as if it had seen nothing (counters stay).
   */
  drainPartial(): DetectorPartial {
    const part: DetectorPartial = { findings: this.findings.drainHeld(), flowCti: this.flowCti?.drainParts() ?? [], cloudTrailCti: this.cloudTrailCti?.drainParts() ?? [] };
    if (this.correlator !== undefined) part.correlation = this.correlator.drain();
    if (this.gate !== undefined) part.baseline = this.gate.drainLearned();
    return part;
  }

  /** Another node's part, merged into the held state; flush() decides it all. Parts in input order. */
  absorbPartial(part: DetectorPartial): void {
    if (part.correlation !== undefined) this.correlator?.absorb(part.correlation);
    if (part.baseline !== undefined) this.gate?.absorb(part.baseline);
    for (const finding of part.findings) this.findings.absorb(finding);
    for (const bucket of part.flowCti) this.flowCti?.absorb(bucket);
    for (const bucket of part.cloudTrailCti) this.cloudTrailCti?.absorb(bucket);
  }

  /**
   * The whole live state of a long-running decider (a watch cluster's, docs/cluster.md), as
   * JSON: correlation windows as a snapshot (decided-through marks included), what the
   * baselines learned and the open threat-intel buckets. Taking it leaves the detector as it was.
   */
  liveState(): DetectorLiveState {
    const held = { findings: [], flowCti: this.flowCti?.drainParts() ?? [], cloudTrailCti: this.cloudTrailCti?.drainParts() ?? [] } as DetectorPartial;
    if (this.gate !== undefined) held.baseline = this.gate.drainLearned();
    this.absorbPartial(held);
    const state: DetectorLiveState = { version: 1, baseline: held.baseline ?? null, flowCti: held.flowCti, cloudTrailCti: held.cloudTrailCti, correlation: this.correlator?.snapshot() ?? null };
    return state;
  }

  /** Loads a liveState() into a fresh detector (before its first record); what no longer applies is dropped and counted. */
  restoreLiveState(state: DetectorLiveState): RestoreOutcome {
    const outcome = state.correlation === null ? { groups: 0, entries: 0, droppedGroups: 0 } : this.restoreCorrelations(state.correlation);
    this.absorbPartial({ findings: [], flowCti: state.flowCti, cloudTrailCti: state.cloudTrailCti, ...(state.baseline === null ? {} : { baseline: state.baseline }) });
    return outcome;
  }

  /** Whether correlation groups depend on each other (chained correlations): then one node decides them all. */
  get correlationsChained(): boolean {
    return this.correlator?.chained === true;
  }

  /** Correlation state to persist across restarts (undefined without correlations). */
  correlationSnapshot(): CorrelationSnapshot | undefined {
    return this.correlator?.snapshot();
  }

  /** Loads persisted correlation state; call before the first process(). */
  restoreCorrelations(snapshot: CorrelationSnapshot): RestoreOutcome {
    return this.correlator?.restore(snapshot) ?? { groups: 0, entries: 0, droppedGroups: snapshot.groups.length };
  }

  /** What degraded in correlation during the run, for the summary on stderr. */
  correlationWarnings(): string[] {
    return this.correlator?.warnings() ?? [];
  }
}
