/** Percentiles over the most recent latencies: what a sink reports for the health endpoint and the bench. */
export interface LatencySummary {
  /** Median of the window, ms. */
  readonly p50: number;
  /** 99th percentile of the window, ms. */
  readonly p99: number;
  /** Largest latency since start (not only in the window), ms. */
  readonly max: number;
  /** Latencies recorded since start. */
  readonly count: number;
}

export const DEFAULT_LATENCY_WINDOW = 8192;

/**
 * The last `capacity` latencies in a ring buffer (fixed memory, however long the process runs). A
 * percentile q is the sample at index ⌊q·n⌋ of the n samples sorted, a value that was measured (never an
 * interpolation): of 1, 2, …, 100, p50 is 51 and p99 is 100; of [10, 20], p50 is 20. Sorting happens in
 * `summary()`, which the health endpoint calls rarely; `record` is O(1).
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private max = 0;

  constructor(readonly capacity = DEFAULT_LATENCY_WINDOW) {
    this.samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.samples[this.count % this.capacity] = ms;
    this.count += 1;
    if (ms > this.max) this.max = ms;
  }

  summary(): LatencySummary {
    const n = Math.min(this.count, this.capacity);
    const sorted = this.samples.slice(0, n).sort();
    const pick = (q: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0));
    return { p50: pick(0.5), p99: pick(0.99), max: this.max, count: this.count };
  }
}
