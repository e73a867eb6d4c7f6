/**
 * The service's metrics on prom-client: one Registry per instance (not prom-client's global one,
 * so that several services, or tests, live in one process), with the default process metrics
 * (`process_*`, `nodejs_*`), counters, gauges computed when scraped, and histograms. Rendered in
 * the Prometheus text format (version 0.0.4) by prom-client; served on /metrics by
 * metrics-server.ts.
 *
 * This class only keeps the names the call sites use (`inc('trailhound_errors_total', ...)`),
 * refuses an undeclared one, and remembers counter values for `value()` (prom-client reads them
 * asynchronously only).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Labels = Record<string, string>;

export interface MetricsOptions {
  /** Register prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key] ?? ''}`)
    .join('\u0000');
}

/** The labels with their names sorted: prom-client writes them in this order, as the old exposition did. */
function sorted(labels: Labels): Labels {
  const keys = Object.keys(labels);
  if (keys.length < 2) return labels;
  const out: Labels = {};
  for (const key of keys.sort()) out[key] = labels[key] ?? '';
  return out;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly tallies = new Map<string, Map<string, number>>();

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of `render()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Declares a counter (names end in _total by convention) with the label names it takes. */
  counter(name: string, help: string, labelNames: readonly string[] = []): void {
    if (this.counters.has(name)) return;
    this.counters.set(name, new Counter({ name, help, labelNames, registers: [this.registry] }));
    this.tallies.set(name, new Map());
  }

  /** Declares a gauge whose samples are computed at each scrape (none: the gauge has no sample). */
  gauge(name: string, help: string, labelNames: readonly string[], collect: () => { labels: Labels; value: number }[]): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const samples = collect();
        if (samples.length === 0 && labelNames.length === 0) this.remove();
        for (const sample of samples) this.set(sorted(sample.labels), sample.value);
      },
    });
  }

  /** Declares a histogram (seconds: prom-client's default buckets, 5 ms to 10 s, unless told). */
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: number[]): void {
    if (this.histograms.has(name)) return;
    this.histograms.set(name, new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets === undefined ? {} : { buckets }) }));
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const counter = this.counters.get(name);
    if (counter === undefined) throw new Error(`metric ${name} is not declared`);
    counter.inc(sorted(labels), by);
    const tally = this.tallies.get(name);
    const key = labelKey(labels);
    tally?.set(key, (tally.get(key) ?? 0) + by);
  }

  observe(name: string, labels: Labels, value: number): void {
    const histogram = this.histograms.get(name);
    if (histogram === undefined) throw new Error(`metric ${name} is not declared`);
    histogram.observe(sorted(labels), value);
  }

  /** A counter's current value (tests, logs). */
  value(name: string, labels: Labels = {}): number {
    return this.tallies.get(name)?.get(labelKey(labels)) ?? 0;
  }

  /** Every metric of the registry, in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
