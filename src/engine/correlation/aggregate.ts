import type { ConditionTerm, CorrelationRule } from '../../sigma/correlation.ts';
import type { CorrelationEntry } from './entry.ts';

/**
 * The aggregate of one window, kept incrementally while the window slides forward: entries are
 * added at the window's end and removed from its start, in time order.
 */
export interface WindowAggregate {
  add(entry: CorrelationEntry): void;
  remove(entry: CorrelationEntry): void;
  clear(): void;
  /** The number the condition compares: a count, a sum, an average, a percentile... NaN when undefined (no numeric value). */
  value(): number;
  /** value_count: the distinct values, for the alert. */
  distinct?(): string[];
}

/** True when every term holds (one term, or two for a range). NaN never satisfies a condition. */
export function conditionHolds(terms: readonly ConditionTerm[], value: number): boolean {
  if (Number.isNaN(value)) return false;
  for (const term of terms) {
    const t = term.threshold;
    switch (term.operator) {
      case 'gt':
        if (!(value > t)) return false;
        break;
      case 'gte':
        if (!(value >= t)) return false;
        break;
      case 'lt':
        if (!(value < t)) return false;
        break;
      case 'lte':
        if (!(value <= t)) return false;
        break;
      case 'eq':
        if (value !== t) return false;
        break;
      case 'neq':
        if (value === t) return false;
        break;
    }
  }
  return true;
}

class EventCount implements WindowAggregate {
  private n = 0;
  add(): void {
    this.n += 1;
  }
  remove(): void {
    this.n -= 1;
  }
  clear(): void {
    this.n = 0;
  }
  value(): number {
    return this.n;
  }
}

class ValueCount implements WindowAggregate {
  private readonly counts = new Map<string, number>();
  add(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'string') return;
    this.counts.set(entry.value, (this.counts.get(entry.value) ?? 0) + 1);
  }
  remove(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'string') return;
    const n = (this.counts.get(entry.value) ?? 0) - 1;
    if (n <= 0) this.counts.delete(entry.value);
    else this.counts.set(entry.value, n);
  }
  clear(): void {
    this.counts.clear();
  }
  value(): number {
    return this.counts.size;
  }
  distinct(): string[] {
    return [...this.counts.keys()].sort();
  }
}

class ValueSum implements WindowAggregate {
  private sum = 0;
  private n = 0;
  constructor(private readonly average: boolean) {}
  add(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'number') return;
    this.sum += entry.value;
    this.n += 1;
  }
  remove(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'number') return;
    this.sum -= entry.value;
    this.n -= 1;
    if (this.n === 0) this.sum = 0;
  }
  clear(): void {
    this.sum = 0;
    this.n = 0;
  }
  value(): number {
    if (this.n === 0) return Number.NaN;
    return this.average ? this.sum / this.n : this.sum;
  }
}

/** Percentile by linear interpolation between closest ranks (numpy's default); median = 50. */
class ValuePercentile implements WindowAggregate {
  private readonly sorted: number[] = [];
  constructor(private readonly percentile: number) {}
  private position(value: number): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.sorted[mid] as number) < value) low = mid + 1;
      else high = mid;
    }
    return low;
  }
  add(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'number') return;
    this.sorted.splice(this.position(entry.value), 0, entry.value);
  }
  remove(entry: CorrelationEntry): void {
    if (typeof entry.value !== 'number') return;
    const index = this.position(entry.value);
    if (this.sorted[index] === entry.value) this.sorted.splice(index, 1);
  }
  clear(): void {
    this.sorted.length = 0;
  }
  value(): number {
    const n = this.sorted.length;
    if (n === 0) return Number.NaN;
    const rank = (this.percentile / 100) * (n - 1);
    const low = Math.floor(rank);
    const high = Math.ceil(rank);
    const a = this.sorted[low] as number;
    const b = this.sorted[high] as number;
    return a + (b - a) * (rank - low);
  }
}

/** temporal: how many of the referenced rules have an event in the window. */
class Temporal implements WindowAggregate {
  private readonly counts: number[];
  private present = 0;
  constructor(inputs: number) {
    this.counts = new Array<number>(inputs).fill(0);
  }
  add(entry: CorrelationEntry): void {
    const n = this.counts[entry.input] as number;
    if (n === 0) this.present += 1;
    this.counts[entry.input] = n + 1;
  }
  remove(entry: CorrelationEntry): void {
    const n = (this.counts[entry.input] as number) - 1;
    if (n === 0) this.present -= 1;
    this.counts[entry.input] = n;
  }
  clear(): void {
    this.counts.fill(0);
    this.present = 0;
  }
  value(): number {
    return this.present;
  }
}

/**
 * temporal_ordered: the length of the longest prefix of `rules` whose events occur in that
 * order within the window (rule 1, then rule 2 at the same time or later, ...). Equal
 * timestamps count as in order: CloudTrail times have a one-second resolution.
 */
class TemporalOrdered implements WindowAggregate {
  private window: CorrelationEntry[] = [];
  private start = 0;
  constructor(private readonly inputs: number) {}
  add(entry: CorrelationEntry): void {
    this.window.push(entry);
  }
  remove(): void {
    this.start += 1;
    if (this.start > 1024 && this.start * 2 > this.window.length) {
      this.window = this.window.slice(this.start);
      this.start = 0;
    }
  }
  clear(): void {
    this.window = [];
    this.start = 0;
  }
  value(): number {
    let matched = 0;
    let previousTime = Number.NEGATIVE_INFINITY;
    while (matched < this.inputs) {
      let found: CorrelationEntry | undefined;
      for (let i = this.start; i < this.window.length; i++) {
        const entry = this.window[i] as CorrelationEntry;
        if (entry.input === matched && entry.time >= previousTime) {
          found = entry;
          break;
        }
      }
      if (found === undefined) break;
      previousTime = found.time;
      matched += 1;
    }
    return matched;
  }
}

export function createAggregate(rule: CorrelationRule): WindowAggregate {
  switch (rule.type) {
    case 'event_count':
      return new EventCount();
    case 'value_count':
      return new ValueCount();
    case 'value_sum':
      return new ValueSum(false);
    case 'value_avg':
      return new ValueSum(true);
    case 'value_percentile':
    case 'value_median':
      return new ValuePercentile(rule.condition.percentile ?? 50);
    case 'temporal':
      return new Temporal(rule.rules.length);
    case 'temporal_ordered':
      return new TemporalOrdered(rule.rules.length);
  }
}

/**
 * True when the condition can only become true, never false again, as events are added to a
 * window: only gt/gte terms over an aggregate that never decreases (counts, distinct values,
 * rules seen, sums of non-negative amounts). Such correlations use sliding windows (every event
 * starts one), which finds a matching interval wherever it lies. The others (upper bounds, eq,
 * neq, averages, percentiles) use consecutive windows, each starting at the first event after
 * the previous one: a sliding sub-window of a 500-event day has 150 events, which must not
 * satisfy "gt 100, lte 200 per day".
 */
export function isMonotone(rule: CorrelationRule): boolean {
  if (rule.type === 'value_avg' || rule.type === 'value_percentile' || rule.type === 'value_median') return false;
  return rule.condition.terms.every((term) => term.operator === 'gt' || term.operator === 'gte');
}
