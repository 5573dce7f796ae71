import type { AgentEvent } from '../events/define-event';
import type { AsyncCall, AsyncCallOptions, BlockResult } from '../runtime/async-call';
import type { MemoryRef } from '../runtime/memory';

/** The outcomes of several calls, in order. */
export type AllResults<T extends readonly AsyncCall<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends AsyncCall<infer V> ? V : never;
};

/**
 * What an action sees of the runtime. Everything here except `signal`, `key`, `run` and
 * `action` is for sync blocks only: used inside an `executeAsync` block it throws
 * `AsyncBlockAccessError` (S5).
 */
export interface RunnerContext<In = unknown> {
  /** The run's key (what the key selector returned). */
  readonly key: unknown;
  /**
   * The run's input (after the agent's `input` schema, if it has one), in every action of the run,
   * not only the one triggered by `InputEvent`. Readable anywhere, like `key`; treat it as read-only.
   */
  readonly input: In;
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
  executeAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): AsyncCall<BlockResult<R>>;
  /** {@link executeAsync} with options: timeout, retries, and a reconciler for durable calls. */
  executeAsyncWith<A extends unknown[], R>(
    options: AsyncCallOptions,
    fn: (...args: A) => R,
    ...args: A
  ): AsyncCall<BlockResult<R>>;
  /** Waits for several calls at once (like `Promise.all`): `const [a, b] = yield* ctx.all([c1, c2])`. */
  all<const T extends readonly AsyncCall<unknown>[]>(calls: T): AsyncCall<AllResults<T>>;
  /** Per-key memory that outlives runs. */
  readonly shortTermMemory: MemoryRef;
  /** Per-run memory, cleared when the run ends. */
  readonly sensoryMemory: MemoryRef;
  /** A resource given to `defineAgent({ resources })`. */
  resource<T = unknown>(name: string): T;
}
