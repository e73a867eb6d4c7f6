/**
 * Sigma correlations on event time, with bounded state (docs/correlation.md has the user view).
 *
 * Windows. A window is [t, t + timespan], both ends included, starting at an event of the group.
 * When the condition can only grow true (gt/gte on counts, distinct values, rules, sums) every
 * event starts one: the windows slide, so a burst straddling any clock boundary is found. Other
 * conditions use consecutive windows, each starting at the group's first event after the
 * previous window (see isMonotone). Windows of a group are decided in time order, each once its
 * content is final; a window whose aggregate satisfies the condition is a burst. A burst raises one alert covering every event of
 * the group in its window, and those events are consumed: the group's next window starts after
 * the burst's end. Hence one alert per group per burst, never one per extra event, and a
 * persistent activity alerts at most once per timespan.
 *
 * Event time and lateness. The watermark is the latest event time seen minus the lateness; a
 * window is final once the watermark passes its end (chained correlations wait, in addition,
 * for the timespans of the correlations they read). An event older than the watermark is late:
 * it is counted and not correlated. With the default unbounded lateness nothing is decided
 * before flush(), so the result does not depend on the order of the input at all.
 *
 * Bounded state. Decided entries are dropped and empty groups deleted. Two caps bound memory
 * whatever the lateness: `maxGroups` live groups (all correlations together; beyond it the
 * least recently active group is decided early and closed) and `maxGroupEvents` entries per
 * group (beyond it the group's oldest windows are decided early). Each is counted and warned
 * about: an early decision can miss or split a burst whose events had not all arrived.
 */
import type { Alert, AlertRule } from '../../core/alert.ts';
import { alertContext, eventIdOf } from '../alerts/build.ts';
import { createAggregate, conditionHolds, isMonotone } from './aggregate.ts';
import type { WindowAggregate } from './aggregate.ts';
import { correlationAlert, MAX_ALERT_EVENT_IDS, summarizeBurst } from './alert.ts';
import type { Burst } from './alert.ts';
import type { CorrelationEntry, EntryContext } from './entry.ts';
import { sameContext } from './entry.ts';
import { compileFieldPath, fieldKeys, fieldValue, keyOf, MAX_GROUP_FANOUT, numberOf } from './fields.ts';
import type { FieldPath } from './fields.ts';
import { CorrelationGroup, RecencyList } from './group.ts';
import { MinHeap } from './heap.ts';
import { DEFAULT_BATCH_LATENESS_MS, DEFAULT_MAX_GROUP_EVENTS, DEFAULT_MAX_GROUPS } from './options.ts';
import { ContextTable, fromSnapshotEntry, toSnapshotEntry } from './snapshot.ts';
import type { CorrelationSnapshot, RestoreOutcome, SnapshotGroup } from './snapshot.ts';
import type { ResolvedCorrelation } from './resolve.ts';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import { alertRuleOf } from '../alerts/build.ts';
import type { CorrelationRule } from '../../sigma/correlation.ts';
import type { CompiledDetectionRule } from '../../sigma/types.ts';

export interface CorrelatorOptions {
  /** How far behind the latest event time an event may arrive and still be correlated, ms. Default unbounded. */
  lateness?: number;
  maxGroups?: number;
  maxGroupEvents?: number;
  /** Keep raw records to embed in alerts (`events`). */
  includeEvents?: boolean;
  /**
   * Keep where each event's record is (its origin) instead of the record: a cluster node ships
   * entries without their records, and the node that decides fetches the few an alert embeds
   * (docs/cluster.md). Overrides includeEvents for entries.
   */
  keepOrigins?: boolean;
  /** Filters that target a correlation: false keeps the record out of that correlation. */
  acceptInput?: (correlation: CorrelationRule, record: LogRecord) => boolean;
  /** Called the first time each kind of degradation happens (cap reached, late events...). */
  onWarning?: (message: string) => void;
}

export interface CorrelatorStats {
  liveGroups: number;
  peakGroups: number;
  bufferedEntries: number;
  /** Groups closed early because `maxGroups` was reached. */
  groupsEvicted: number;
  /** Times a group reached `maxGroupEvents` and had its oldest windows decided early. */
  earlyDecisions: number;
  /** Events older than the watermark, not correlated. */
  lateEvents: number;
  /** Events without a usable event time, not correlated. */
  untimedEvents: number;
  /** The same event delivered twice while still buffered: counted once. */
  duplicateEvents: number;
  bursts: number;
}

type Group = CorrelationGroup<Runtime>;

interface Link {
  runtime: Runtime;
  input: number;
}

/** One correlation's compiled plan and live state. */
class Runtime {
  readonly rule: CorrelationRule;
  readonly alertRule: AlertRule;
  readonly timespan: number;
  /** Sliding windows (every event starts one) or consecutive windows: see isMonotone. */
  readonly sliding: boolean;
  readonly groupNames: readonly string[];
  /** [input][group-by index] */
  readonly groupPaths: FieldPath[][];
  /** [input][field index] */
  readonly valuePaths: FieldPath[][];
  readonly groupFields: string[][];
  readonly valueFields: string[][];
  readonly groups = new Map<string, Group>();
  readonly heap = new MinHeap<Group>();
  readonly parents: Link[] = [];
  /** How much longer than the lateness this correlation waits: the timespans of the correlations it reads. */
  delay = 0;
  emits = true;

  constructor(resolved: ResolvedCorrelation) {
    this.rule = resolved.rule;
    this.timespan = resolved.rule.timespanMs;
    this.sliding = isMonotone(resolved.rule);
    this.groupNames = resolved.rule.groupBy;
    this.groupFields = resolved.groupFields;
    this.valueFields = resolved.valueFields;
    this.groupPaths = resolved.groupFields.map((fields) => fields.map(compileFieldPath));
    this.valuePaths = resolved.valueFields.map((fields) => fields.map(compileFieldPath));
    const rule = resolved.rule;
    this.alertRule = alertRuleOf(rule);
  }
}

/** The group-by values of a record: usually one tuple; several when a field holds several values. */
function groupValues(record: LogRecord, paths: readonly FieldPath[]): (string | null)[][] {
  const single: (string | null)[] = [];
  let tuples: (string | null)[][] | undefined;
  for (const path of paths) {
    const keys = fieldKeys(record, path);
    if (tuples === undefined) {
      if (keys.length === 1) {
        single.push(keys[0] as string | null);
        continue;
      }
      tuples = [single];
    }
    if (keys.length === 1) {
      for (const tuple of tuples) tuple.push(keys[0] as string | null);
      continue;
    }
    const next: (string | null)[][] = [];
    for (const tuple of tuples) {
      for (const key of keys) if (next.length < MAX_GROUP_FANOUT) next.push([...tuple, key]);
    }
    tuples = next;
  }
  return tuples ?? [single];
}

/** An unambiguous key for a tuple of group values: each value prefixed with its length, null as '-'. */
function groupKey(values: readonly (string | null)[]): string {
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    key += value === null || value === undefined ? '-;' : `${value.length}:${value};`;
  }
  return key;
}

export class Correlator {
  private readonly runtimes: Runtime[] = [];
  private readonly byDetection = new Map<CompiledDetectionRule, Link[]>();
  private readonly lru = new RecencyList<Runtime>();
  private readonly lateness: number;
  private readonly maxGroups: number;
  private readonly maxGroupEvents: number;
  private readonly includeEvents: boolean;
  private readonly keepOrigins: boolean;
  private readonly acceptInput: CorrelatorOptions['acceptInput'];
  private readonly onWarning: CorrelatorOptions['onWarning'];
  private readonly warned = new Set<string>();
  private maxTime = Number.NEGATIVE_INFINITY;
  private readonly counters = { peakGroups: 0, groupsEvicted: 0, earlyDecisions: 0, lateEvents: 0, untimedEvents: 0, duplicateEvents: 0, bursts: 0 };

  /** `correlations` in dependency order, inner ones first (as resolveCorrelations returns them). */
  constructor(correlations: readonly ResolvedCorrelation[], options: CorrelatorOptions = {}) {
    this.lateness = options.lateness ?? DEFAULT_BATCH_LATENESS_MS;
    this.maxGroups = Math.max(1, options.maxGroups ?? DEFAULT_MAX_GROUPS);
    this.maxGroupEvents = Math.max(2, options.maxGroupEvents ?? DEFAULT_MAX_GROUP_EVENTS);
    this.includeEvents = options.includeEvents ?? false;
    this.keepOrigins = options.keepOrigins ?? false;
    this.acceptInput = options.acceptInput;
    this.onWarning = options.onWarning;
    const byRule = new Map<CorrelationRule, Runtime>();
    for (const resolved of correlations) {
      const runtime = new Runtime(resolved);
      byRule.set(resolved.rule, runtime);
      this.runtimes.push(runtime);
      resolved.inputs.forEach((input, index) => {
        if (input.kind === 'detection') {
          const links = this.byDetection.get(input.rule) ?? [];
          links.push({ runtime, input: index });
          this.byDetection.set(input.rule, links);
          return;
        }
        const inner = byRule.get(input.rule);
        if (inner === undefined) throw new Error(`correlation ${resolved.rule.id} is listed before the correlation it references`);
        inner.parents.push({ runtime, input: index });
        runtime.delay = Math.max(runtime.delay, inner.delay + inner.timespan);
      });
    }
    for (const runtime of this.runtimes) {
      if (runtime.parents.length > 0) runtime.emits = runtime.parents.some((parent) => parent.runtime.rule.generate);
    }
  }

  /** True when matches of this detection rule feed some correlation. */
  feeds(rule: CompiledDetectionRule): boolean {
    return this.byDetection.has(rule);
  }

  /** Correlations that raise alerts of their own (not only feeding another correlation). */
  emitting(): CorrelationRule[] {
    return this.runtimes.filter((runtime) => runtime.emits).map((runtime) => runtime.rule);
  }

  /** Feeds one match of a detection rule; appends the alerts of windows it lets close. */
  observe(rule: CompiledDetectionRule, envelope: Envelope, out: Alert[]): void {
    const links = this.byDetection.get(rule);
    if (links === undefined) return;
    const time = envelope.time;
    if (!Number.isFinite(time)) {
      this.counters.untimedEvents += 1;
      this.warn('untimed', 'some events matched by correlated rules have no event time and were not correlated');
      return;
    }
    let context: EntryContext | undefined;
    let eventId: string | undefined;
    for (const link of links) {
      const runtime = link.runtime;
      if (this.acceptInput !== undefined && !this.acceptInput(runtime.rule, envelope.record)) continue;
      if (time < this.watermark(runtime)) {
        this.counters.lateEvents += 1;
        this.warnLate();
        continue;
      }
      const record = envelope.record;
      context ??= { source: envelope.source, ...alertContext(envelope) };
      eventId ??= eventIdOf(envelope);
      const entry: CorrelationEntry = {
        time,
        key: eventId,
        input: link.input,
        value: this.valueOfRecord(runtime, link.input, record),
        eventIds: eventId,
        count: 1,
        context,
        records: this.includeEvents && !this.keepOrigins ? record : undefined,
        ...(this.keepOrigins ? { origin: envelope.origin } : {}),
      };
      for (const values of groupValues(record, runtime.groupPaths[link.input] as FieldPath[])) this.insert(runtime, values, entry, out);
    }
    if (time > this.maxTime) {
      this.maxTime = time;
      if (this.lateness !== Number.POSITIVE_INFINITY) this.advance(out);
    }
  }

  /**
   * Moves event time forward without an event: a long-running consumer calls it with the time
   * of every record (most feed no correlation), so that windows close as the log stream moves
   * on, not only when the next correlated event comes. Scans never need it.
   */
  advanceTo(time: number, out: Alert[]): void {
    if (!Number.isFinite(time) || time <= this.maxTime) return;
    this.maxTime = time;
    if (this.lateness !== Number.POSITIVE_INFINITY) this.advance(out);
  }

  /** Decides every open window: the end of the input. Alerts come out in time order. */
  flush(out: Alert[]): void {
    const start = out.length;
    for (const runtime of this.runtimes) {
      for (const group of [...runtime.groups.values()]) this.decide(runtime, group, Number.POSITIVE_INFINITY, out);
      runtime.heap.clear();
    }
    const flushed = out.splice(start).sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '') || a.rule.id.localeCompare(b.rule.id) || a.id.localeCompare(b.id));
    for (const alert of flushed) out.push(alert);
  }

  stats(): CorrelatorStats {
    let liveGroups = 0;
    let bufferedEntries = 0;
    for (const runtime of this.runtimes) {
      liveGroups += runtime.groups.size;
      for (const group of runtime.groups.values()) bufferedEntries += group.size;
    }
    return { liveGroups, bufferedEntries, ...this.counters };
  }

  /** The live state as plain JSON (see correlation-snapshot.ts); the correlator is unchanged. */
  snapshot(): CorrelationSnapshot {
    const contexts = new ContextTable();
    const groups: SnapshotGroup[] = [];
    for (const group of this.lru.oldestFirst()) {
      const runtime = group.owner;
      const entries = [];
      for (let i = group.head; i < group.entries.length; i++) entries.push(toSnapshotEntry(group.entries[i] as CorrelationEntry, contexts));
      if (entries.length === 0) continue;
      groups.push({
        correlation: runtime.rule.id,
        groupBy: [...runtime.groupNames],
        key: group.key,
        values: { ...group.values },
        decidedThrough: Number.isFinite(group.decidedThrough) ? group.decidedThrough : null,
        entries,
      });
    }
    return { version: 1, maxTime: Number.isFinite(this.maxTime) ? this.maxTime : null, contexts: contexts.contexts, groups };
  }

  /**
   * Loads a snapshot into a correlator that has seen no event yet. Groups of correlations that
   * are no longer loaded, or whose group-by changed, are left out and counted.
   */
  restore(snapshot: CorrelationSnapshot): RestoreOutcome {
    const outcome: RestoreOutcome = { groups: 0, entries: 0, droppedGroups: 0 };
    for (const [runtime, saved] of this.loadedGroups(snapshot, outcome)) {
      if (runtime.groups.has(saved.key)) {
        outcome.droppedGroups += 1;
        continue;
      }
      const entries: CorrelationEntry[] = [];
      for (const item of saved.entries) {
        const entry = fromSnapshotEntry(item, snapshot.contexts, runtime.groupPaths.length, this.includeEvents);
        if (entry !== undefined) entries.push(entry);
      }
      if (entries.length === 0) {
        outcome.droppedGroups += 1;
        continue;
      }
      const group = new CorrelationGroup(runtime, saved.key, { ...saved.values });
      group.entries = entries;
      group.decidedThrough = saved.decidedThrough ?? Number.NEGATIVE_INFINITY;
      group.lastContext = entries[entries.length - 1]?.context;
      runtime.groups.set(saved.key, group);
      this.lru.touch(group);
      this.schedule(runtime, group);
      outcome.groups += 1;
      outcome.entries += entries.length;
    }
    if (this.lru.size > this.counters.peakGroups) this.counters.peakGroups = this.lru.size;
    if (snapshot.maxTime !== null && snapshot.maxTime > this.maxTime) this.maxTime = snapshot.maxTime;
    return outcome;
  }

  /**
   * The live state taken out (snapshot(), then every group dropped): what a cluster node hands
   * over for one unit, nothing decided (docs/cluster.md). Counters stay.
   */
  drain(): CorrelationSnapshot {
    const snapshot = this.snapshot();
    for (const runtime of this.runtimes) {
      for (const group of [...runtime.groups.values()]) this.remove(runtime, group);
      runtime.heap.clear();
    }
    return snapshot;
  }

  /**
   * Adds another node's entries (a drained snapshot) to the live groups: entries merge into a
   * group of the same correlation and key, an event already buffered counts once, an event more
   * than the lateness behind the newest event seen so far is late (as in observe()). Unlike
   * restore(), any number of snapshots may be absorbed, before or between events.
   */
  absorb(snapshot: CorrelationSnapshot): RestoreOutcome {
    const outcome: RestoreOutcome = { groups: 0, entries: 0, droppedGroups: 0 };
    for (const [runtime, saved] of this.loadedGroups(snapshot, outcome)) {
      let group = runtime.groups.get(saved.key);
      if (group === undefined) {
        group = new CorrelationGroup(runtime, saved.key, { ...saved.values });
        runtime.groups.set(saved.key, group);
        outcome.groups += 1;
      }
      if (saved.decidedThrough !== null && saved.decidedThrough > group.decidedThrough) group.decidedThrough = saved.decidedThrough;
      const watermark = this.watermark(runtime);
      for (const item of saved.entries) {
        // As observe() does: an event more than the lateness behind the newest is not correlated.
        if (item.time < watermark) {
          this.counters.lateEvents += 1;
          this.warnLate();
          continue;
        }
        const entry = fromSnapshotEntry(item, snapshot.contexts, runtime.groupPaths.length, this.includeEvents);
        if (entry === undefined) continue;
        if (group.insert(entry)) outcome.entries += 1;
        else this.counters.duplicateEvents += 1;
      }
      group.lastContext = group.entries[group.entries.length - 1]?.context;
      this.lru.touch(group);
      this.schedule(runtime, group);
    }
    if (this.lru.size > this.counters.peakGroups) this.counters.peakGroups = this.lru.size;
    // With a finite lateness (a service's decider), event time moves on by advanceTo() only,
    // which decides the windows it passes; taking the part's newest time here would skip them.
    if (this.lateness === Number.POSITIVE_INFINITY && snapshot.maxTime !== null && snapshot.maxTime > this.maxTime) this.maxTime = snapshot.maxTime;
    return outcome;
  }

  /** The snapshot's groups whose correlation is loaded with the same group-by; the others (or all, of an unknown version) counted as dropped. */
  private loadedGroups(snapshot: CorrelationSnapshot, outcome: RestoreOutcome): [Runtime, SnapshotGroup][] {
    if (snapshot.version !== 1) {
      outcome.droppedGroups += snapshot.groups.length;
      return [];
    }
    const byId = new Map(this.runtimes.map((runtime) => [runtime.rule.id, runtime]));
    const out: [Runtime, SnapshotGroup][] = [];
    for (const saved of snapshot.groups) {
      const runtime = byId.get(saved.correlation);
      if (runtime === undefined || saved.groupBy.join('\u0000') !== runtime.groupNames.join('\u0000')) outcome.droppedGroups += 1;
      else out.push([runtime, saved]);
    }
    return out;
  }

  /** Whether some correlation reads another's bursts (chaining): its groups cannot be decided apart. */
  get chained(): boolean {
    return this.runtimes.some((runtime) => runtime.parents.length > 0);
  }

  /** What degraded during the run, for the end-of-scan summary on stderr. */
  warnings(): string[] {
    const c = this.counters;
    const out: string[] = [];
    if (c.groupsEvicted > 0) {
      out.push(`correlation: the cap of ${this.maxGroups} live groups (--max-groups) was reached; ${c.groupsEvicted} groups were closed early, so bursts spanning them may be missed or split. Raise --max-groups or scan less at once.`);
    }
    if (c.earlyDecisions > 0) {
      out.push(`correlation: ${c.earlyDecisions} times a group buffered ${this.maxGroupEvents} events and had its oldest windows decided early.`);
    }
    if (c.lateEvents > 0) {
      out.push(`correlation: ${c.lateEvents} events arrived more than ${formatDuration(this.lateness)} behind the newest event and were not correlated. Raise --correlation-lateness (or use 'unbounded').`);
    }
    if (c.untimedEvents > 0) out.push(`correlation: ${c.untimedEvents} events without an event time were not correlated.`);
    return out;
  }

  private watermark(runtime: Runtime): number {
    return this.maxTime - this.lateness - runtime.delay;
  }

  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.onWarning?.(message);
  }

  private warnLate(): void {
    this.warn('late', `correlation: events are arriving more than ${formatDuration(this.lateness)} behind the newest event; they are not correlated (see --correlation-lateness)`);
  }

  private valueOfRecord(runtime: Runtime, input: number, record: LogRecord): string | number | undefined {
    const paths = runtime.valuePaths[input] as FieldPath[];
    if (paths.length === 0) return undefined;
    if (runtime.rule.type !== 'value_count') return numberOf(fieldValue(record, paths[0] as FieldPath));
    if (paths.length === 1) return keyOf(fieldValue(record, paths[0] as FieldPath)) ?? undefined;
    const parts = paths.map((path) => keyOf(fieldValue(record, path)));
    return parts.every((part) => part === null) ? undefined : JSON.stringify(parts);
  }

  private insert(runtime: Runtime, values: readonly (string | null)[], entry: CorrelationEntry, out: Alert[]): void {
    const key = groupKey(values);
    let group = runtime.groups.get(key);
    if (group === undefined) {
      this.makeRoom(out);
      const named: Record<string, string | null> = {};
      for (let i = 0; i < runtime.groupNames.length; i++) named[runtime.groupNames[i] as string] = values[i] ?? null;
      group = new CorrelationGroup(runtime, key, named);
      runtime.groups.set(key, group);
      this.lru.touch(group);
      if (this.lru.size > this.counters.peakGroups) this.counters.peakGroups = this.lru.size;
    } else {
      if (entry.time <= group.decidedThrough) {
        this.counters.lateEvents += 1;
        this.warnLate();
        return;
      }
      this.lru.touch(group);
    }
    const shared = group.lastContext !== undefined && sameContext(group.lastContext, entry.context) ? group.lastContext : entry.context;
    group.lastContext = shared;
    const stored = shared === entry.context ? entry : { ...entry, context: shared };
    if (!group.insert(stored)) {
      this.counters.duplicateEvents += 1;
      return;
    }
    if (group.size > this.maxGroupEvents && !group.busy) {
      this.counters.earlyDecisions += 1;
      this.warn('early', `correlation: a group of ${runtime.rule.name ?? runtime.rule.id} buffered ${this.maxGroupEvents} events; its oldest windows are decided early`);
      this.decide(runtime, group, Number.POSITIVE_INFINITY, out, this.maxGroupEvents >> 1);
      return;
    }
    this.schedule(runtime, group);
  }

  /** Keeps live groups under the cap: the least recently active group is decided now and closed. */
  private makeRoom(out: Alert[]): void {
    while (this.lru.size >= this.maxGroups) {
      const victim = this.lru.oldestWhere((group) => !group.busy);
      if (victim === undefined) return;
      this.counters.groupsEvicted += 1;
      this.warn('cap', `correlation: ${this.maxGroups} live groups reached (--max-groups); the least recently active groups are closed early`);
      this.decide(victim.owner, victim, Number.POSITIVE_INFINITY, out);
      if (!victim.closed) this.remove(victim.owner, victim);
    }
  }

  private remove(runtime: Runtime, group: Group): void {
    group.closed = true;
    runtime.groups.delete(group.key);
    this.lru.remove(group);
  }

  private schedule(runtime: Runtime, group: Group): void {
    if (this.lateness === Number.POSITIVE_INFINITY) return;
    const first = group.first();
    if (first === undefined) return;
    const deadline = first.time + runtime.timespan;
    if (deadline === group.deadline) return;
    group.deadline = deadline;
    runtime.heap.push(deadline, group);
    if (runtime.heap.size > 2 * runtime.groups.size + 1024) {
      runtime.heap.clear();
      for (const live of runtime.groups.values()) {
        if (!Number.isNaN(live.deadline)) runtime.heap.push(live.deadline, live);
      }
    }
  }

  /** Decides the windows the watermark has passed, inner correlations first. */
  private advance(out: Alert[]): void {
    for (const runtime of this.runtimes) {
      const watermark = this.watermark(runtime);
      while (runtime.heap.peekPriority() < watermark) {
        const top = runtime.heap.pop();
        if (top === undefined) break;
        const group = top.item;
        if (group.closed || group.deadline !== top.priority) continue;
        group.deadline = Number.NaN;
        this.decide(runtime, group, watermark, out);
      }
    }
  }

  /**
   * Decides the group's windows, oldest first, while their end is before `limit` (and, when
   * `keep` is given, until at most `keep` entries remain). A window that satisfies the
   * condition is a burst; the group then resumes after the burst's end.
   */
  private decide(runtime: Runtime, group: Group, limit: number, out: Alert[], keep?: number): void {
    if (group.busy) return;
    group.busy = true;
    const span = runtime.timespan;
    const terms = runtime.rule.condition.terms;
    const aggregate = createAggregate(runtime.rule);
    let head = group.head;
    let right = head;
    while (head < group.entries.length) {
      if (keep !== undefined && group.entries.length - head <= keep) break;
      const start = (group.entries[head] as CorrelationEntry).time;
      const end = start + span;
      if (!(end < limit)) break;
      if (right < head) right = head;
      while (right < group.entries.length && (group.entries[right] as CorrelationEntry).time <= end) {
        aggregate.add(group.entries[right] as CorrelationEntry);
        right += 1;
      }
      if (conditionHolds(terms, aggregate.value())) {
        const entries = group.entries.slice(head, right);
        const burst: Burst = { type: runtime.rule.type, group: group.values, start, end, entries, value: aggregate.value() };
        const distinct = aggregate.distinct?.();
        if (distinct !== undefined) burst.distinct = distinct;
        group.head = right;
        group.decidedThrough = end;
        this.emit(runtime, group, burst, out);
        head = right;
        aggregate.clear();
      } else if (runtime.sliding) {
        group.decidedThrough = start;
        while (head < group.entries.length && (group.entries[head] as CorrelationEntry).time === start) {
          aggregate.remove(group.entries[head] as CorrelationEntry);
          head += 1;
        }
      } else {
        group.decidedThrough = end;
        head = right;
        aggregate.clear();
      }
    }
    group.head = head;
    group.compact();
    group.busy = false;
    if (group.closed) return;
    if (group.size === 0) this.remove(runtime, group);
    else this.schedule(runtime, group);
  }

  private emit(runtime: Runtime, group: Group, burst: Burst, out: Alert[]): void {
    this.counters.bursts += 1;
    const summary = summarizeBurst(runtime.rule.id, burst.entries);
    if (runtime.emits) out.push(correlationAlert(runtime.alertRule, burst, summary, this.includeEvents));
    if (runtime.parents.length === 0) return;
    const time = runtime.sliding ? matchTime(runtime.rule, burst.entries) : (burst.entries[burst.entries.length - 1] as CorrelationEntry).time;
    const last = burst.entries[burst.entries.length - 1] as CorrelationEntry;
    for (const parent of runtime.parents) {
      const outer = parent.runtime;
      const groupFields = outer.groupFields[parent.input] as string[];
      const values = groupFields.map((field) => ownValue(group.values, field));
      const valueFields = outer.valueFields[parent.input] as string[];
      let value: string | number | undefined;
      if (valueFields.length > 0) {
        const raw = valueFields.map((field) => ownValue(group.values, field));
        if (outer.rule.type !== 'value_count') value = numberOf(raw[0]);
        else if (raw.length === 1) value = raw[0] ?? undefined;
        else value = raw.every((part) => part === null) ? undefined : JSON.stringify(raw);
      }
      const entry: CorrelationEntry = {
        time,
        key: summary.id,
        input: parent.input,
        value,
        eventIds: summary.eventIds.slice(0, MAX_ALERT_EVENT_IDS),
        count: summary.count,
        context: last.context,
        records: this.includeEvents ? summary.records : undefined,
      };
      // A chained input is never late for the watermark: the outer correlation waits for the
      // inner one's timespan (see Runtime.delay). Only its own group's decided range applies.
      this.insert(outer, values, entry, out);
    }
  }
}

/**
 * When a sliding burst's condition first held: the time of the entry at which the window's
 * prefix satisfied it. A chained correlation sees the burst at that time (a consecutive-window
 * burst: at its last event).
 */
function matchTime(rule: CorrelationRule, entries: readonly CorrelationEntry[]): number {
  const aggregate: WindowAggregate = createAggregate(rule);
  for (const entry of entries) {
    aggregate.add(entry);
    if (conditionHolds(rule.condition.terms, aggregate.value())) return entry.time;
  }
  return (entries[entries.length - 1] as CorrelationEntry).time;
}

function ownValue(values: Readonly<Record<string, string | null>>, field: string): string | null {
  return Object.hasOwn(values, field) ? (values[field] ?? null) : null;
}

function formatDuration(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'unbounded';
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
