import type { AgentEvent, EventOf, EventType } from '../events/define-event';
import type { AsyncCallOptions, BlockResult, Call } from './call';
import type { MemoryRef } from './memory-ref';

/** The outcomes of several calls, in order: what `yield* ctx.all([a, b])` returns. */
export type AllResults<T extends readonly Call<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends Call<infer V> ? V : never;
};

/** The result of `ctx.any`: which call won (`index`, its position in the list) and its value. */
export type AnyResult<T extends readonly Call<unknown>[]> = {
  [K in keyof T]: {
    readonly index: K extends `${infer N extends number}` ? N : number;
    readonly value: T[K] extends Call<infer V> ? V : never;
  };
}[number];

/** Options of `ctx.waitForEvent`. */
export interface WaitOptions<E> {
  /** Only a signal this returns `true` for ends the wait; others stay buffered for other waits. @default every signal of the type */
  readonly match?: (event: E) => boolean;
  /** Throw `WaitTimeoutError` after this many ms (scheduler time) without a signal. @default no timeout */
  readonly timeout?: number;
}

/** Options of `ctx.sendEvent`. */
export interface SendOptions {
  /** Route the event after this many ms of scheduler time instead of after the current block (a durable timer with a store). @default 0 */
  readonly delay?: number;
}

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
  sendEvent(event: AgentEvent, options?: SendOptions): void;
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
  /**
   * Waits for the first of several calls, waits or timers to settle (like `Promise.race`) and
   * cancels the others: `const r = yield* ctx.any([ctx.waitForEvent(Approval), ctx.sleep(60_000)])`,
   * then `r.index` says which one won and `r.value` is its value (a failure of the winner is thrown).
   */
  any<const T extends readonly Call<unknown>[]>(calls: T): Call<AnyResult<T>>;
  /**
   * S14: parks the action until a signal of `type` arrives for this run's key (from the
   * operator's `signals`), or throws `WaitTimeoutError` after `timeout` ms of scheduler time. The
   * parked run keeps its key busy (S1) but holds no executor slot. `type` must be listed in the
   * agent's `signals`. A signal that arrived earlier in the run is taken from the buffer at once.
   */
  waitForEvent<E extends EventType>(type: E, options?: WaitOptions<EventOf<E>>): Call<EventOf<E>>;
  /** Parks the action for `ms` of scheduler time (virtual under TestScheduler); durable with a store. */
  sleep(ms: number): Call<void>;
  /** Parks the action until `scheduler.now() >= time`; durable with a store. */
  sleepUntil(time: number): Call<void>;
  /** Per-key memory that outlives runs. */
  readonly shortTermMemory: MemoryRef;
  /** Per-run memory, cleared when the run ends. */
  readonly sensoryMemory: MemoryRef;
  /** A resource given to `defineAgent({ resources })`. */
  resource<T = unknown>(name: string): T;
}
