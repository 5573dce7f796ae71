import type { Observable } from 'rxjs';

/** The result type of an async block: an Observable's last value, a Promise's value, or the value itself. */
export type BlockResult<R> = R extends Observable<infer T> ? T : Awaited<R>;

/** How long to wait before retry number `attempt` (1 for the first retry) after `error`, in scheduler ms. */
export type RetryDelay = (attempt: number, error: unknown) => number;

/** Options of one async call (`ctx.executeAsyncWith`). */
export interface AsyncCallOptions {
  /** Fail the call with `AsyncTimeoutError` after this many ms (scheduler time). @default no timeout */
  readonly timeout?: number;
  /** Run the block again after a failure, up to this many extra attempts, waiting `retryDelay` ms (scheduler time) between. @default 0 */
  readonly retries?: number;
  /**
   * The wait before each retry, in scheduler ms: a fixed number, or a function of the attempt
   * (1 for the first retry) and the error, e.g. `exponentialBackoff({ initial: 100 })`. While it
   * waits, the call holds no executor slot and no budget permit. @default 0
   */
  readonly retryDelay?: number | RetryDelay;
  /**
   * Retry only errors this returns `true` for (e.g. HTTP 429 and 5xx); other errors fail the call
   * at once. A throw fails the call with `RetryPolicyError`. @default every error is retried
   */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * Takes a permit of this named budget (the operator's `budgets: createBudgets({ ... })`) before
   * the block runs, and gives it back when the block settles; each retry takes a new one. An
   * unknown name fails the action with `UnknownBudgetError`. @default no budget
   */
  readonly budget?: string;
  /**
   * Durable calls only (with a `store`): decides the outcome of a call that was started before a
   * crash but has no recorded outcome. It is called, on recovery only, with the call's arguments
   * in place of the block; its result (a value, Promise or Observable) or its thrown error becomes
   * the recorded outcome. A call with a reconciler commits a `started` marker before its block runs.
   * @default none: an in-doubt call simply runs again (at-least-once)
   */
  readonly reconcile?: (...args: never[]) => unknown;
}

/**
 * One call made by `ctx.executeAsync` (or `ctx.all`), as an action sees it. It is both iterable —
 * `const r = yield* ctx.executeAsync(...)` in a generator action — and thenable —
 * `const r = await ctx.executeAsync(...)` in an async action.
 *
 * Semantics: the block starts when the call is made (or when the executor has a slot), not when it
 * is awaited, so several calls made before waiting run in parallel (S12). A failed call that nobody
 * reads (`yield*`, `await` or `ctx.all`) fails its action when the action finishes.
 *
 * @example
 * const a = ctx.executeAsync(fetchScore, 1);
 * const b = ctx.executeAsync(fetchScore, 2);
 * const [x, y] = yield* ctx.all([a, b]);
 */
export interface Call<T> extends PromiseLike<T> {
  /** Stable identity, `<activation id>#<call index>` (e.g. `7>score#0`): the same after a replay (S13). */
  readonly id: string;
  /** `yield*` support: one step (the call) while it is pending, then its outcome. */
  [Symbol.iterator](): Iterator<Call<unknown>, T, unknown>;
}

/** The name {@link Call} has in `RunnerContext`'s signatures: the same type. */
export type AsyncCall<T> = Call<T>;
