import type { AgentEvent, EventOf, EventType, OutputEventType } from '../events/define-event';
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

/** The resources an agent is given: named objects (internal default of the `Res` type parameters). */
export type Resources = Readonly<Record<string, unknown>>;

/**
 * `E` when every `OutputEvent` in it carries an `Out` payload, else the output event it should be
 * (internal helper of `sendEvent`: a union such as `ok ? OutputEvent.of(x) : Retry.of(y)` is checked too).
 */
type CheckedEvent<E, Out> =
  E extends AgentEvent<OutputEventType['type'], infer P>
    ? [P] extends [Out]
      ? E
      : AgentEvent<OutputEventType['type'], Out>
    : E;

/**
 * What an action sees of the runtime. Everything here except `signal`, `key`, `run` and
 * `action` is for sync blocks only: used inside an `executeAsync` block it throws
 * `AsyncBlockAccessError` (S5).
 *
 * The type parameters carry what the agent's definition says (`defineAgent` infers them):
 * `In` from `input`, `Out` from `output` (what `OutputEvent.of` may carry), `Key` from `key`
 * (the type of `ctx.key`), `Res` from `resources` (what `ctx.resource(name)` returns).
 *
 * @example
 * action('score', InputEvent, function* (event, ctx) {
 *   const score = yield* ctx.executeAsync(fetchScore, event.payload.id);
 *   ctx.shortTermMemory.set('last', score);
 *   ctx.sendEvent(OutputEvent.of({ user: ctx.key, score })); // checked against `output`
 * })
 */
export interface RunnerContext<In = unknown, Out = unknown, Key = unknown, Res extends Resources = Resources> {
  /**
   * The run's key: what the key selector returned (the operator's `key`, else the agent's `key`).
   * Typed from `defineAgent({ key })`; `unknown` when the agent declares none. On Restate, the object key (a string).
   */
  readonly key: Key;
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
   * block ends (never re-entrantly, S4). `OutputEvent`s go downstream instead (S8); their payload
   * must fit the agent's `output` (a compile error otherwise, and `EventValidationError` at run time).
   */
  sendEvent(event: AgentEvent<OutputEventType['type'], Out>, options?: SendOptions): void;
  /** Sends an event of another type (validated by its own schema), or a union of events. */
  sendEvent<E extends AgentEvent>(event: E & CheckedEvent<E, Out>, options?: SendOptions): void;
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
  /**
   * A resource given to `defineAgent({ resources })`, by name: the name autocompletes, a name the
   * agent was not given is a compile error (and `UnknownResourceError` at run time), and the
   * value has the type it was given with.
   */
  resource<K extends keyof Res & string>(name: K): Res[K];
  /**
   * The older form: the type argument is an unchecked cast, kept for code written before resources
   * were typed. Prefer `ctx.resource(name)`.
   */
  resource<T>(name: keyof Res & string): T;
}
