/**
 * The per-principal baseline of breadth correlations (`baseline:` in a value_count rule, such
 * as aws-ct-discovery-burst): a burst only counts the values its group has not used outside the
 * burst's own window. Automation that makes the same 30 read calls every hour has a history of
 * them and stays quiet; a principal with no history, or one that suddenly calls APIs (and
 * services) it never called, alerts as before. docs/discovery.md says what it learns and when.
 *
 * Where the history comes from, and what the alert says (`correlation.baseline.source`):
 * - `scan-period`: a one-off scan without a baseline file learns from the scanned period itself;
 *   the decision is made at the end of the input, when the whole period has been seen. A value
 *   is the principal's usual if it was seen more than one timespan before or after the window.
 * - `file`: a baseline file (`trailhound baseline`, built over days of logs) gives each group's
 *   usual values; a scan adds what it sees (`file+scan-period`).
 * - `live`: a running service (watch) decides as windows close, from the file if any, plus what
 *   it saw before the window since it started.
 *
 * Bounded: at most MAX_BASELINE_GROUPS groups per correlation and MAX_BASELINE_VALUES values per
 * group are learned (past the caps new ones are not, so they stay novel: the safe side).
 */
import type { Alert } from '../../core/alert.ts';
import type { Envelope } from '../../core/envelope.ts';
import type { CorrelationRule } from '../../sigma/correlation.ts';
import type { CompiledDetectionRule } from '../../sigma/types.ts';
import { conditionHolds } from './aggregate.ts';
import { compileFieldPath, fieldValue, keyOf } from './fields.ts';
import type { FieldPath } from './fields.ts';
import type { ResolvedCorrelation } from './resolve.ts';

export const MAX_BASELINE_GROUPS = 200_000;
/** New services that let a burst stand on half its threshold in novel values. */
export const DEFAULT_NEW_SERVICES = 2;
export const MAX_BASELINE_VALUES = 1_000;
/** The novel values an alert lists at most. */
const MAX_LISTED = 100;

/** How a baseline decision was informed. */
export type BaselineSource = 'scan-period' | 'file' | 'file+scan-period' | 'live' | 'file+live';

/** First and last time (epoch ms) a value was seen. */
type Span = [number, number];

/** What a baseline file holds: per correlation name, per group key, value -> [first, last]. */
export interface BaselineFileData {
  format: 'trailhound-baseline';
  version: 1;
  built: string;
  /** The event-time span the history covers. */
  period: { start: string | null; end: string | null };
  correlations: Record<string, Record<string, { values: Record<string, Span>; services?: Record<string, Span> }>>;
}

/** What a gate learned over some input, as JSON: DetectorPartial's baseline. */
export interface LearnedBaseline {
  first: number | null;
  last: number | null;
  /** By gated correlation id. */
  correlations: Record<string, { history: Record<string, { values: Record<string, Span>; services: Record<string, Span> }>; links: Record<string, string> }>;
}

interface GroupHistory {
  values: Map<string, Span>;
  services: Map<string, Span>;
}

interface Gated {
  rule: CorrelationRule;
  key: string;
  /** Per input rule: group-by paths and the value path. */
  inputs: Map<CompiledDetectionRule, { group: FieldPath[]; value: FieldPath }>;
  servicesPath: FieldPath | undefined;
  /** `baseline.new_services` (default 2): new services that let half the novel values stand. */
  minNewServices: number;
  /** `baseline.principal`: whose history a group is judged by (the first field present), when not the group itself. */
  principalPaths: FieldPath[];
  /** Group key -> the principal key its events carried (when principalPaths is set). */
  principalOf: Map<string, string>;
  /** By principal key (or group key). */
  history: Map<string, GroupHistory>;
  file: Map<string, GroupHistory> | undefined;
  held: Alert[];
}

/**
 * The `baseline:` section of a correlation document: `true`, or `{ services: <field>, principal:
 * <field or list> }`. `principal` names whose history a group is judged by: for a burst grouped
 * by session ARN, the role behind the sessions (`userIdentity.sessionContext.sessionIssuer.arn`,
 * then `userIdentity.arn` when there is no role), so a pipeline's hundredth run with a fresh
 * session name has the history of the ninety-nine before it. Undefined when absent or off.
 */
export function baselineSpec(rule: CorrelationRule): { services?: string; principal: string[]; newServices: number } | undefined {
  const spec = rule.source['baseline'];
  if (spec === true) return { principal: [], newServices: DEFAULT_NEW_SERVICES };
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    const record = spec as Record<string, unknown>;
    const services = record['services'];
    const principal = record['principal'];
    const principals = typeof principal === 'string' ? [principal] : Array.isArray(principal) ? principal.filter((item): item is string => typeof item === 'string') : [];
    const newServices = record['new_services'];
    return {
      ...(typeof services === 'string' ? { services } : {}),
      principal: principals,
      newServices: typeof newServices === 'number' && Number.isInteger(newServices) && newServices >= 1 ? newServices : DEFAULT_NEW_SERVICES,
    };
  }
  return undefined;
}

/** The smallest count the rule's condition accepts (gte n: n, gt n: n + 1); undefined for other shapes. */
function minimumCount(rule: CorrelationRule): number | undefined {
  let lowest: number | undefined;
  for (const term of rule.condition.terms) {
    const bound = term.operator === 'gte' ? term.threshold : term.operator === 'gt' ? Math.floor(term.threshold) + 1 : undefined;
    if (bound !== undefined) lowest = Math.max(lowest ?? bound, bound);
  }
  return lowest;
}

/** At most this many group -> principal links are kept per correlation. */
const MAX_PRINCIPAL_LINKS = 200_000;

function spanAdd(map: Map<string, Span>, key: string, time: number, cap: number): void {
  const span = map.get(key);
  if (span === undefined) {
    if (map.size < cap) map.set(key, [time, time]);
    return;
  }
  if (time < span[0]) span[0] = time;
  if (time > span[1]) span[1] = time;
}

function groupKeyOf(values: readonly (string | null)[]): string {
  return JSON.stringify(values);
}

function toHistory(entry: { values: Record<string, Span>; services?: Record<string, Span> }): GroupHistory {
  const valid = (span: unknown): span is Span => Array.isArray(span) && span.length === 2 && typeof span[0] === 'number' && typeof span[1] === 'number';
  const values = new Map<string, Span>();
  const services = new Map<string, Span>();
  for (const [key, span] of Object.entries(entry.values ?? {})) if (valid(span) && values.size < MAX_BASELINE_VALUES) values.set(key, [span[0], span[1]]);
  for (const [key, span] of Object.entries(entry.services ?? {})) if (valid(span) && services.size < MAX_BASELINE_VALUES) services.set(key, [span[0], span[1]]);
  return { values, services };
}

export interface BaselineOptions {
  /** `hold`: decide at flush() with the whole input seen (a scan); `live`: decide when the window closes (a service). */
  mode: 'hold' | 'live';
  /** A baseline file's history. */
  file?: BaselineFileData;
}

/** The baseline of every correlation that asks for one. */
export class BaselineGate {
  private readonly gated = new Map<string, Gated>();
  private readonly byInput = new Map<CompiledDetectionRule, Gated[]>();
  private readonly mode: 'hold' | 'live';
  private readonly hasFile: boolean;
  private firstTime = Infinity;
  private lastTime = -Infinity;
  /** Bursts let through and held back, for the summary. */
  readonly stats = { raised: 0, suppressed: 0 };

  constructor(resolved: readonly ResolvedCorrelation[], options: BaselineOptions) {
    this.mode = options.mode;
    this.hasFile = options.file !== undefined;
    for (const item of resolved) {
      const spec = baselineSpec(item.rule);
      if (spec === undefined || item.rule.type !== 'value_count') continue;
      const key = item.rule.name ?? item.rule.id;
      const inputs = new Map<CompiledDetectionRule, { group: FieldPath[]; value: FieldPath }>();
      item.inputs.forEach((input, index) => {
        if (input.kind !== 'detection') return;
        const valueField = item.valueFields[index]?.[0];
        if (valueField === undefined) return;
        inputs.set(input.rule, { group: (item.groupFields[index] ?? []).map(compileFieldPath), value: compileFieldPath(valueField) });
      });
      if (inputs.size === 0) continue;
      const fileGroups = options.file?.correlations[key];
      const gated: Gated = {
        rule: item.rule,
        key,
        inputs,
        servicesPath: spec.services === undefined ? undefined : compileFieldPath(spec.services),
        principalPaths: spec.principal.map(compileFieldPath),
        minNewServices: spec.newServices,
        principalOf: new Map(),
        history: new Map(),
        file: fileGroups === undefined ? (options.file === undefined ? undefined : new Map()) : new Map(Object.entries(fileGroups).map(([group, entry]) => [group, toHistory(entry)])),
        held: [],
      };
      this.gated.set(item.rule.id, gated);
      for (const rule of inputs.keys()) {
        const list = this.byInput.get(rule);
        if (list === undefined) this.byInput.set(rule, [gated]);
        else list.push(gated);
      }
    }
  }

  get empty(): boolean {
    return this.gated.size === 0;
  }

  /** Whether matches of this rule are learned from. */
  learns(rule: CompiledDetectionRule): boolean {
    return this.byInput.has(rule);
  }

  /** Learns one match of a rule that feeds a gated correlation (after filters). */
  observe(rule: CompiledDetectionRule, envelope: Envelope): void {
    const list = this.byInput.get(rule);
    if (list === undefined || !Number.isFinite(envelope.time)) return;
    const time = envelope.time;
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    for (const gated of list) {
      const paths = gated.inputs.get(rule);
      if (paths === undefined) continue;
      const value = keyOf(fieldValue(envelope.record, paths.value));
      if (value === null) continue;
      let group = groupKeyOf(paths.group.map((path) => keyOf(fieldValue(envelope.record, path))));
      if (gated.principalPaths.length > 0) {
        const principal = this.principalKey(gated, envelope);
        if (principal !== undefined) {
          if (gated.principalOf.get(group) !== principal && gated.principalOf.size < MAX_PRINCIPAL_LINKS) gated.principalOf.set(group, principal);
          group = principal;
        }
      }
      let history = gated.history.get(group);
      if (history === undefined) {
        if (gated.history.size >= MAX_BASELINE_GROUPS) continue;
        history = { values: new Map(), services: new Map() };
        gated.history.set(group, history);
      }
      spanAdd(history.values, value, time, MAX_BASELINE_VALUES);
      if (gated.servicesPath !== undefined) {
        const service = keyOf(fieldValue(envelope.record, gated.servicesPath));
        if (service !== null) spanAdd(history.services, service, time, MAX_BASELINE_VALUES);
      }
    }
  }

  /** The first principal field the record carries, as a key apart from group keys (which are JSON arrays). */
  private principalKey(gated: Gated, envelope: Envelope): string | undefined {
    for (const path of gated.principalPaths) {
      const value = keyOf(fieldValue(envelope.record, path));
      if (value !== null) return `principal:${value}`;
    }
    return undefined;
  }

  /**
   * Takes the gated correlation alerts out of out[from..]: held until flush() (hold mode) or
   * decided now (live mode, put back in `out` when they stand).
   */
  intercept(out: Alert[], from: number): void {
    if (this.gated.size === 0 || out.length <= from) return;
    let write = from;
    for (let read = from; read < out.length; read++) {
      const alert = out[read] as Alert;
      const gated = alert.correlation === undefined ? undefined : this.gated.get(alert.rule.id);
      if (gated === undefined) {
        out[write++] = alert;
        continue;
      }
      if (this.mode === 'hold') gated.held.push(alert);
      else if (this.decide(gated, alert)) out[write++] = alert;
    }
    out.length = write;
  }

  /** The held bursts, decided now that the whole input is seen. */
  flush(out: Alert[]): void {
    for (const gated of this.gated.values()) {
      for (const alert of gated.held) if (this.decide(gated, alert)) out.push(alert);
      gated.held.length = 0;
    }
  }

  private source(): BaselineSource {
    if (this.mode === 'hold') return this.hasFile ? 'file+scan-period' : 'scan-period';
    return this.hasFile ? 'file+live' : 'live';
  }

  /** Whether the burst stands on its novel values; annotates the alert with what was used. */
  private decide(gated: Gated, alert: Alert): boolean {
    const correlation = alert.correlation;
    if (correlation === undefined) return true;
    const start = Date.parse(correlation.window.start);
    const end = Date.parse(correlation.window.end);
    const margin = gated.rule.timespanMs;
    const groupKey = groupKeyOf(gated.rule.groupBy.map((name) => correlation.group[name] ?? null));
    const group = gated.principalOf.get(groupKey) ?? groupKey;
    const seen = gated.history.get(group);
    const known = gated.file?.get(group);
    // A value is usual when the baseline file has it, or it was seen well apart from this window:
    // in a scan, before or after it; live, only before it.
    const usual = (span: Span | undefined): boolean => span !== undefined && (span[0] < start - margin || (this.mode === 'hold' && span[1] > end + margin));
    const isUsualValue = (value: string): boolean => known?.values.has(value) === true || usual(seen?.values.get(value));
    const values = correlation.values ?? [];
    const novel = values.filter((value) => !isUsualValue(value));
    let history = known !== undefined && known.values.size > 0;
    if (!history && seen !== undefined) for (const span of seen.values.values()) if (usual(span)) history = true;
    const newServices: string[] = [];
    if (gated.servicesPath !== undefined && seen !== undefined) {
      for (const [service, span] of seen.services) {
        // The services of this window: seen within it; new when never seen apart from it.
        if (span[1] < start || span[0] > end) continue;
        if (known?.services.has(service) === true || usual(span)) continue;
        newServices.push(service);
      }
    }
    newServices.sort();
    // The burst stands on its novel values alone, or, reaching into services the principal never
    // used, on half as many (breadth well beyond the principal's norm either way).
    const lowest = minimumCount(gated.rule);
    const stands =
      conditionHolds(gated.rule.condition.terms, novel.length) ||
      (gated.servicesPath !== undefined && lowest !== undefined && newServices.length >= gated.minNewServices && novel.length >= Math.ceil(lowest / 2));
    correlation.baseline = {
      source: this.source(),
      history,
      ...(group === groupKey ? {} : { principal: group.slice('principal:'.length) }),
      novel_values: novel.slice(0, MAX_LISTED),
      novel_count: novel.length,
      usual_count: values.length - novel.length,
      ...(gated.servicesPath === undefined ? {} : { new_services: newServices.slice(0, MAX_LISTED) }),
    };
    if (stands) this.stats.raised += 1;
    else this.stats.suppressed += 1;
    return stands;
  }

  /**
   * What this gate learned since the last call, taken out (a cluster node's unit): per gated
   * correlation id, the history spans by principal (or group) and the group -> principal links.
   */
  drainLearned(): LearnedBaseline {
    const out: LearnedBaseline = { first: Number.isFinite(this.firstTime) ? this.firstTime : null, last: Number.isFinite(this.lastTime) ? this.lastTime : null, correlations: {} };
    for (const [id, gated] of this.gated) {
      if (gated.history.size === 0 && gated.principalOf.size === 0) continue;
      const history: LearnedBaseline['correlations'][string]['history'] = {};
      for (const [group, seen] of gated.history) history[group] = { values: Object.fromEntries(seen.values), services: Object.fromEntries(seen.services) };
      out.correlations[id] = { history, links: Object.fromEntries(gated.principalOf) };
      gated.history.clear();
      gated.principalOf.clear();
    }
    this.firstTime = Infinity;
    this.lastTime = -Infinity;
    return out;
  }

  /** History another node learned, merged into this gate's (spans widened, caps kept). */
  absorb(learned: LearnedBaseline): void {
    if (learned.first !== null && learned.first < this.firstTime) this.firstTime = learned.first;
    if (learned.last !== null && learned.last > this.lastTime) this.lastTime = learned.last;
    for (const [id, part] of Object.entries(learned.correlations)) {
      const gated = this.gated.get(id);
      if (gated === undefined) continue;
      // As observe() does, the principal a group was last seen with wins: parts come in input order.
      for (const [group, principal] of Object.entries(part.links)) {
        if (gated.principalOf.get(group) !== principal && gated.principalOf.size < MAX_PRINCIPAL_LINKS) gated.principalOf.set(group, principal);
      }
      for (const [group, entry] of Object.entries(part.history)) {
        let history = gated.history.get(group);
        if (history === undefined) {
          if (gated.history.size >= MAX_BASELINE_GROUPS) continue;
          history = { values: new Map(), services: new Map() };
          gated.history.set(group, history);
        }
        for (const [value, span] of Object.entries(entry.values)) {
          spanAdd(history.values, value, span[0], MAX_BASELINE_VALUES);
          spanAdd(history.values, value, span[1], MAX_BASELINE_VALUES);
        }
        for (const [service, span] of Object.entries(entry.services)) {
          spanAdd(history.services, service, span[0], MAX_BASELINE_VALUES);
          spanAdd(history.services, service, span[1], MAX_BASELINE_VALUES);
        }
      }
    }
  }

  /** What was learned, as a baseline file (merged with the file it started from). */
  toFile(now: Date): BaselineFileData {
    const correlations: BaselineFileData['correlations'] = {};
    for (const gated of this.gated.values()) {
      const groups: BaselineFileData['correlations'][string] = {};
      const merge = (target: Record<string, Span>, source: ReadonlyMap<string, Span>): void => {
        for (const [key, span] of source) {
          const old = target[key];
          if (old === undefined) {
            if (Object.keys(target).length < MAX_BASELINE_VALUES) target[key] = [span[0], span[1]];
          } else target[key] = [Math.min(old[0], span[0]), Math.max(old[1], span[1])];
        }
      };
      for (const source of [gated.file, gated.history]) {
        if (source === undefined) continue;
        for (const [group, history] of source) {
          const entry = (groups[group] ??= { values: {}, ...(gated.servicesPath === undefined ? {} : { services: {} }) });
          merge(entry.values, history.values);
          if (entry.services !== undefined) merge(entry.services, history.services);
        }
      }
      correlations[gated.key] = groups;
    }
    const iso = (time: number): string | null => (Number.isFinite(time) ? new Date(time).toISOString() : null);
    return { format: 'trailhound-baseline', version: 1, built: now.toISOString(), period: { start: iso(this.firstTime), end: iso(this.lastTime) }, correlations };
  }
}
