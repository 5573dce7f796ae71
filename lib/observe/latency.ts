/** Latency summary of one action (or its async blocks), in scheduler time units (ms, or frames in virtual time). */
export interface LatencySummary {
  /** Samples recorded since the inspector was created. */
  readonly count: number;
  /** Mean over all samples. `0` when there are none. */
  readonly mean: number;
  /** Percentiles and extremes over the most recent `window` samples (nearest-rank). `0` when there are none. */
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * A sliding window of the most recent latency samples, kept in a fixed ring so memory stays
 * bounded however long the stream runs. Percentiles are computed on demand (snapshot time),
 * never on the hot path.
 */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  private count = 0;
  private sum = 0;

  constructor(readonly window: number) {
    this.ring = new Float64Array(window);
  }

  add(sample: number): void {
    this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.window;
    if (this.filled < this.window) this.filled++;
    this.count++;
    this.sum += sample;
  }

  summary(): LatencySummary {
    if (this.filled === 0) return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.ring.slice(0, this.filled).sort();
    const rank = (q: number): number =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
    return {
      count: this.count,
      mean: this.sum / this.count,
      min: sorted[0] as number,
      p50: rank(0.5),
      p90: rank(0.9),
      p99: rank(0.99),
      max: sorted[sorted.length - 1] as number,
    };
  }
}
