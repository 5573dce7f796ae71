/**
 * The benchmark harness: the result format every workload returns, and the shared helpers
 * (alternating timing, GC, heap, percentiles).
 *
 * Ratio convention: `ratio = ours / reference`, always. Whether higher is better depends on
 * the unit: for throughputs (`inputs/s`, `tasks/s`) higher is better; for durations (`ms`,
 * `µs`) and sizes (`MB`) lower is better. `extra.better` says which, per line.
 */
import { performance } from 'node:perf_hooks';

/** One line of `npm run bench` output. */
export interface BenchResult {
  readonly workload: string;
  readonly params: Record<string, unknown>;
  readonly ours: number;
  readonly reference: number;
  /** ours / reference. */
  readonly ratio: number;
  readonly unit: string;
  readonly extra?: Record<string, unknown>;
}

/** What a workload file exports. */
export type Workload = (opts: { readonly quick: boolean }) => Promise<BenchResult[]>;

/**
 * What a workload exports as `processPlan(opts)` to take part in the whole-process mode
 * (`npm run bench:process`): its contestants, each timed alone in a fresh process, and how their
 * median times (ms) become result lines.
 */
export interface ProcessPlan {
  readonly contestants: Record<string, () => Promise<unknown> | unknown>;
  report(medians: Record<string, number>): BenchResult[];
}

/** Builds a result line; `better` goes into `extra` so a reader knows which way the ratio points. */
export function result(
  workload: string,
  params: Record<string, unknown>,
  ours: number,
  reference: number,
  unit: string,
  better: 'higher' | 'lower',
  extra: Record<string, unknown> = {},
): BenchResult {
  return {
    workload,
    params,
    ours: round(ours),
    reference: round(reference),
    ratio: round(ours / reference, 3),
    unit,
    extra: { better, ...extra },
  };
}

/** Rounds to `digits` significant decimals (keeps big numbers whole). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Forces a full GC when node runs with `--expose-gc` (npm run bench does); otherwise a no-op. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

/** Whether GC can be forced (memory figures are only meaningful then). */
export const canGc = typeof (globalThis as { gc?: unknown }).gc === 'function';

/** Heap used after a full GC, in MB. */
export function heapMB(): number {
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

/** Milliseconds since an arbitrary origin (high resolution). */
export const now = (): number => performance.now();

/** Times one async task in ms, after a GC so the previous task's garbage does not land on it. */
export async function time(task: () => Promise<unknown> | unknown): Promise<number> {
  gc();
  const t0 = now();
  await task();
  return now() - t0;
}

/**
 * Times several contestants in the same process, alternating (A B C A B C …) for `rounds`
 * rounds after one untimed warm-up each, and returns each one's median time in ms.
 * Alternation spreads machine noise (other tenants, thermal, GC) evenly over the contestants.
 */
export async function alternate<K extends string>(
  rounds: number,
  contestants: Record<K, () => Promise<unknown> | unknown>,
  warmup = true,
): Promise<Record<K, number>> {
  const names = Object.keys(contestants) as K[];
  const times = {} as Record<K, number[]>;
  for (const name of names) {
    times[name] = [];
    if (warmup) await contestants[name]();
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of names) times[name].push(await time(contestants[name]));
  }
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = median(times[name]);
  return out;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** The p-th percentile (nearest rank) of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A promise that resolves after `ms` real milliseconds (references and I/O stand-ins only). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
