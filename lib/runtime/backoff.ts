import type { RetryDelay } from '../context/call';
import { optionError } from '../errors';

/** Options of {@link exponentialBackoff}. */
export interface BackoffOptions {
  /** The base delay before the first retry, in ms. @default 100 */
  readonly initial?: number;
  /** Each retry waits `factor` times longer than the previous one. @default 2 */
  readonly factor?: number;
  /** The longest base delay, in ms (before jitter). @default 30_000 */
  readonly max?: number;
  /**
   * `full`: a uniformly random delay in `[0, base]` (AWS's "full jitter", best at spreading a
   * herd of clients); `equal`: `base / 2` plus a random half; `none`: exactly `base`. @default 'full'
   */
  readonly jitter?: 'full' | 'equal' | 'none';
  /** The random source in `[0, 1)`; pass a seeded one for reproducible tests. @default Math.random */
  readonly random?: () => number;
}

/**
 * Exponential backoff with jitter, for `executeAsyncWith({ retries, retryDelay })`: retry `n` waits
 * a delay derived from `min(max, initial * factor^(n-1))`, spread by the chosen jitter. The delay
 * runs on the operator's scheduler (virtual under TestScheduler), and the call gives back its
 * executor slot and budget permit while it waits.
 *
 * @example
 * yield* ctx.executeAsyncWith(
 *   { retries: 5, retryDelay: exponentialBackoff({ initial: 200, max: 10_000 }), retryIf: isRetryable },
 *   callModel, prompt,
 * );
 */
export function exponentialBackoff(options: BackoffOptions = {}): RetryDelay {
  if (typeof options !== 'object' || options === null)
    throw optionError('exponentialBackoff options', 'an object', options);
  const { initial = 100, factor = 2, max = 30_000, jitter = 'full', random = Math.random } = options;
  nonNegative('initial', initial);
  nonNegative('max', max);
  if (!(typeof factor === 'number' && Number.isFinite(factor) && factor >= 1))
    throw optionError('factor', 'a finite number >= 1', factor);
  if (jitter !== 'full' && jitter !== 'equal' && jitter !== 'none')
    throw optionError('jitter', "one of 'full', 'equal', 'none'", jitter);
  if (typeof random !== 'function') throw optionError('random', 'a function returning a number in [0, 1)', random);
  return (attempt) => {
    const base = Math.min(max, initial * Math.pow(factor, Math.max(0, attempt - 1)));
    if (jitter === 'none') return base;
    const r = Math.min(1, Math.max(0, Number(random()) || 0));
    return jitter === 'full' ? r * base : base / 2 + (r * base) / 2;
  };
}

function nonNegative(name: string, value: unknown): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0))
    throw optionError(name, 'a finite number of ms >= 0', value);
}
