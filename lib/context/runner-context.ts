import type { AgentEvent } from '../events/define-event';
import type { AsyncCallOptions, BlockResult, Call } from './call';
import type { MemoryRef } from './memory-ref';

/** The outcomes of several calls, in order: what `yield* ctx.all([a, b])` returns. */
export type AllResults<T extends readonly Call<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends Call<infer V> ? V : never;
};

/**
 * What an action sees of the runtime. Everything here except `signal`, `key`, `run` and
 * `action` is for sync blocks only: used inside an `executeAsync` block it throws
 * `AsyncBlockAccessError` (S5).
 *
 * @example
 * action('score', InputEvent, function* (event, ctx: RunnerContext) {
 *   const score = yield* ctx.executeAsync(fetchScore, event.payload.id);
 *   ctx.shortTermMemory.set('last', score);
 *   ctx.sendEvent(OutputEvent.of({ score }));
 * })
 */
export interface RunnerContext {
  /** The run's key (what the key selector returned). */
  readonly key: unknown;
  /** The run sequence number: the input's position in the accepted stream. */
  readonly run: number;
  /** The name of the running action. */
  readonly action: string;
  /** Aborts when the run is abandoned (unsubscribe, stream failure, run failure). Safe to read in async blocks. */
  readonly signal: AbortSignal;
  /** The scheduler's clock (virtual time under TestScheduler). */
  now(): number;
  /**
   * Sends an event. It is validated against its schema now and routed after the current sync
   * block ends (never re-entrantly, S4). `OutputEvent`s go downstream instead (S8).
   */
  sendEvent(event: AgentEvent): void;
  /**
   * Runs `fn(...args)` on the executor; the action waits with `yield*` (generator actions) or
   * `await` (async actions). `fn` may return a value, a Promise or an Observable (its last value).
   * The block starts now, so calls made before waiting overlap (S12).
   */
  executeAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Call<BlockResult<R>>;
  /** {@link executeAsync} with options: timeout, retries, and a reconciler for durable calls. */
  executeAsyncWith<A extends unknown[], R>(
    options: AsyncCallOptions,
    fn: (...args: A) => R,
    ...args: A
  ): Call<BlockResult<R>>;
  /** Waits for several calls at once (like `Promise.all`): `const [a, b] = yield* ctx.all([c1, c2])`. */
  all<const T extends readonly Call<unknown>[]>(calls: T): Call<AllResults<T>>;
  /** Per-key memory that outlives runs. */
  readonly shortTermMemory: MemoryRef;
  /** Per-run memory, cleared when the run ends. */
  readonly sensoryMemory: MemoryRef;
  /** A resource given to `defineAgent({ resources })`. */
  resource<T = unknown>(name: string): T;
}
