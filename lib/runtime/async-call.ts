import { isObservable, Subscriber, type Observable, type Subscription } from 'rxjs';
import type { AsyncCallOptions, Call } from '../context/call';
import { AbortedError, AsyncTimeoutError, EmptyAsyncResultError } from '../errors';
import { anchorShape } from './anchor-shape';
import { RetryPolicyError } from './wait-errors';
import type { ExecutorTask } from './executor';

/** What a call needs from the runtime. Implemented by the activation that made the call. */
export interface CallHost {
  /** The host's stable id (the activation id); a call's id is `<host id>#<index>`. */
  readonly id: string;
  readonly key: unknown;
  readonly actionName: string;
  /** The timeout of a call without one of its own (the operator's `defaultTimeout`). */
  readonly defaultTimeout?: number | undefined;
  /** Runs the block with the context locked (S5) and hands its result to {@link AsyncCall.follow}, still locked. */
  invokeBlock(call: AsyncCall<unknown>): void;
  /** S11: refuses a result the operator's scheduler cannot follow (a Promise under a TestScheduler) by throwing. */
  checkResult(result: unknown): void;
  /** The call settled: wake whoever waits on it (through the scheduler). */
  callSettled(call: AsyncCall<unknown>): void;
  /** The call got a slot and started running. */
  callStarted(call: AsyncCall<unknown>): void;
  /** Schedules `work` after `delay` ms on the operator's scheduler. */
  schedule(work: () => void, delay: number): Subscription;
  /** Hands the call (already submitted once, now retrying) back to its budget and executor. */
  resubmit(call: AsyncCall<unknown>): void;
}

/** The Promise behind `await call`, with its settle functions (typed `unknown`, so that AsyncCall<T> stays covariant in T). */
interface Promised {
  promise: Promise<unknown>;
  resolve: ((value: unknown) => void) | null;
  reject: ((error: unknown) => void) | null;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
type Status = typeof PENDING | typeof FULFILLED | typeof REJECTED;

// The call's small state in one number (a call object is made per executeAsync; seven fields cost 56 bytes each time):
// the status in bits 0-1, the flags below, and the attempts made in the bits from ATTEMPT up.
const STATUS = 0b11;
const OBSERVED = 1 << 2;
const REPLAYED = 1 << 3;
const SUBMITTED = 1 << 4;
const RECONCILING = 1 << 5;
const CANCELLED = 1 << 6;
const ATTEMPT = 1 << 8;

/**
 * The runtime's side of one `executeAsync` call (its public face is {@link Call}). It is both
 * iterable — `const r = yield* ctx.executeAsync(...)` in a generator action — and thenable —
 * `const r = await ctx.executeAsync(...)` in an async action. The block starts when the call is
 * made (or when the executor has a slot), not when it is awaited, so several calls made before
 * waiting run in parallel (S12). State is read through {@link settled}, {@link fulfilled} and
 * {@link rejected}.
 */
export class AsyncCall<T> implements Call<T>, ExecutorTask {
  /** Status, flags and attempts (see the constants above). */
  private bits = PENDING;
  /** The value (fulfilled) or the error (rejected): one field, since a call holds one of them. */
  private result: unknown = undefined;
  /** The action suspended on this call, woken when it settles. */
  waiter: { wake(call: AsyncCall<unknown>): void } | null = null;
  /** The next call made in the same run (the run's intrusive call list). */
  nextInRun: AsyncCall<unknown> | null = null;
  private listeners: Array<(call: AsyncCall<unknown>) => void> | null = null;
  /** Made on the first `await` only: generator actions never pay for a Promise. */
  private promised: Promised | null = null;
  private done: (() => void) | null = null;
  private subscription: Subscription | null = null;
  private timer: Subscription | null = null;
  private idCache: string | null = null;

  constructor(
    readonly host: CallHost,
    /** The call's position in its host (`all<n>` for ctx.all); see {@link id}. */
    private readonly index: number | string,
    readonly fn: (...args: never[]) => unknown,
    readonly args: readonly unknown[],
    readonly options: AsyncCallOptions | undefined,
  ) {}

  private get status(): Status {
    return (this.bits & STATUS) as Status;
  }

  private flag(bit: number, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  /** Someone read the outcome (yield*, await, or ctx.all). An unread failure fails the action. */
  get observed(): boolean {
    return (this.bits & OBSERVED) !== 0;
  }
  set observed(on: boolean) {
    this.flag(OBSERVED, on);
  }

  /** The outcome came from the journal (replay), the block did not run. */
  get replayed(): boolean {
    return (this.bits & REPLAYED) !== 0;
  }
  set replayed(on: boolean) {
    this.flag(REPLAYED, on);
  }

  /** The call went through the runtime's submit (its outcome is journaled when it settles, S13); `ctx.all` calls do not. */
  get submitted(): boolean {
    return (this.bits & SUBMITTED) !== 0;
  }
  set submitted(on: boolean) {
    this.flag(SUBMITTED, on);
  }

  /** S13: the call was started before a crash and has no recorded outcome: its `reconcile` runs instead of the block. */
  get reconciling(): boolean {
    return (this.bits & RECONCILING) !== 0;
  }
  set reconciling(on: boolean) {
    this.flag(RECONCILING, on);
  }

  /** Cancelled because it lost a `ctx.any` race: its AbortedError is not journaled (S13). */
  get cancelled(): boolean {
    return (this.bits & CANCELLED) !== 0;
  }
  set cancelled(on: boolean) {
    this.flag(CANCELLED, on);
  }

  /** How many times its block has started (a retry counts again). */
  private get attempt(): number {
    return this.bits >>> 8;
  }

  /** Stable identity: `<activation id>#<call index>` (S13). Built on first read, so calls nobody journals or inspects allocate no id strings. */
  get id(): string {
    return (this.idCache ??= `${this.host.id}#${this.index}`);
  }

  get key(): unknown {
    return this.host.key;
  }

  /** The value, once fulfilled. */
  get value(): T | undefined {
    return this.status === FULFILLED ? (this.result as T) : undefined;
  }

  /** The error, once rejected. */
  get error(): unknown {
    return this.status === REJECTED ? this.result : undefined;
  }

  get wanted(): boolean {
    return this.status === PENDING;
  }

  /** Its block has started at least once (it got an executor slot). */
  get started(): boolean {
    return this.attempt > 0;
  }

  /** Its block holds an executor slot now: started and not yet settled, nor released to wait for a retry. */
  get running(): boolean {
    return this.done !== null;
  }

  /** How many times its block has started (a retry counts again). */
  get attempts(): number {
    return this.attempt;
  }

  get settled(): boolean {
    return this.status !== PENDING;
  }

  /** Settled with a value (not an error). */
  get fulfilled(): boolean {
    return this.status === FULFILLED;
  }

  /** Settled with an error. */
  get rejected(): boolean {
    return this.status === REJECTED;
  }

  /** Called by the executor when a slot is free. */
  start(done: () => void): void {
    this.done = done;
    if (this.status !== PENDING) return this.release();
    this.bits += ATTEMPT;
    this.host.callStarted(this as AsyncCall<unknown>);
    const timeout = this.options?.timeout ?? this.host.defaultTimeout;
    if (timeout !== undefined && this.timer === null) this.startTimer(timeout);
    try {
      this.host.invokeBlock(this as AsyncCall<unknown>);
    } catch (error) {
      this.onFailure(error);
    }
  }

  /**
   * Follows what the block returned: subscribes to an Observable, `then`s a thenable, or settles
   * with a value; a {@link MappedResult} is followed the same way, its values mapped by the call.
   * Called by the host inside the S5 lock, so the Observable's subscribe body and a custom
   * thenable's `then` run as block code too. A throw is the block's failure.
   */
  follow(result: unknown): void {
    if (result instanceof MappedResult) return this.followMapped(result as MappedResult<unknown>);
    this.host.checkResult(result);
    if (isObservable(result)) this.subscribeTo(result, null);
    else if (isThenable(result)) {
      // Bound methods rather than arrows: two small objects and no closure context per Promise-returning block
      // (this is the per-call allocation of the I/O path; the closures kept `start`'s whole context alive).
      result.then(this.fulfil.bind(this), this.onFailure.bind(this));
    } else {
      this.settle(FULFILLED, result);
    }
  }

  private followMapped(mapped: MappedResult<unknown>): void {
    const source = mapped.source;
    this.host.checkResult(source);
    if (isObservable(source)) return this.subscribeTo(source, mapped);
    // Held in `result` while pending (it holds nothing else then), for the handlers: no closure per call.
    this.result = mapped;
    try {
      source.then(this.mappedValue.bind(this), this.mappedError.bind(this));
    } catch (error) {
      // A thenable whose `then` throws is the source's failure: mapped like a rejection (a tool's error result).
      this.mappedError(error);
    }
  }

  /** A mapped Promise fulfilled. */
  private mappedValue(value: unknown): void {
    if (this.status !== PENDING) return; // settled meanwhile (timeout, abort): `result` holds the outcome
    let out: unknown;
    try {
      out = (this.result as MappedResult<unknown>).onValue(value);
    } catch (error) {
      return this.onFailure(error);
    }
    if (out === SKIP) this.onFailure(new EmptyAsyncResultError(this.host.actionName));
    else this.settle(FULFILLED, out);
  }

  /** A mapped Promise rejected. */
  private mappedError(error: unknown): void {
    if (this.status !== PENDING) return;
    let out: unknown;
    try {
      out = (this.result as MappedResult<unknown>).onError(error);
    } catch (thrown) {
      return this.onFailure(thrown);
    }
    this.settle(FULFILLED, out);
  }

  // The closures below live in their own methods, so that `start` allocates no closure context.

  private startTimer(timeout: number): void {
    this.timer = this.host.schedule(
      () =>
        this.settle(
          REJECTED,
          new AsyncTimeoutError(this.host.actionName, timeout, this.attempt, this.options?.retries ?? 0),
        ),
      timeout,
    );
  }

  private subscribeTo(observable: Observable<unknown>, mapped: MappedResult<unknown> | null): void {
    // A Subscriber of our own: RxJS uses it as it is (no SafeSubscriber + ConsumerObserver around a
    // three-closure observer), and nothing is compiled per subscription.
    // Held before subscribing: a synchronous failure that retries at once subscribes again and holds the new one.
    const subscriber = new CallSubscriber(this as AsyncCall<unknown>, mapped);
    this.subscription = subscriber;
    observable.subscribe(subscriber);
  }

  /** {@link CallSubscriber}: the Observable completed (after `seen` values, the last being `last`). */
  observableCompleted(seen: boolean, last: unknown): void {
    if (seen) this.settle(FULFILLED, last);
    else this.onFailure(new EmptyAsyncResultError(this.host.actionName));
  }

  /** {@link CallSubscriber}: the Observable failed. */
  observableFailed(error: unknown): void {
    this.onFailure(error);
  }

  private fulfil(value: unknown): void {
    this.settle(FULFILLED, value);
  }

  /** Settles the call from outside (journal replay, abort). */
  resolveWith(ok: boolean, valueOrError: unknown, replayed = false): void {
    this.replayed = replayed;
    this.settle(ok ? FULFILLED : REJECTED, valueOrError);
  }

  abort(reason: string): void {
    this.settle(REJECTED, new AbortedError(reason));
  }

  /** Cancelled by the action itself (it lost a `ctx.any` race): aborted, and its outcome is not journaled. */
  cancel(reason: string): void {
    if (this.status !== PENDING) return;
    this.cancelled = true;
    this.abort(reason);
  }

  /** Registers a listener for settlement (used by `ctx.all`). */
  onSettled(listener: (call: AsyncCall<unknown>) => void): void {
    if (this.status !== PENDING) listener(this as AsyncCall<unknown>);
    else (this.listeners ??= []).push(listener);
  }

  /** The outcome, for whoever resumes: returns the value or throws the error. */
  outcome(): T {
    this.observed = true;
    if (this.status === FULFILLED) return this.result as T;
    if (this.status === REJECTED) throw this.result;
    throw new Error('rx-agents internal error: outcome() read before the call settled');
  }

  /**
   * `yield*` support. The call is its own iterator — one step (the call itself) while it is
   * pending, then its outcome — so waiting allocates no generator object per `yield*` (three per
   * run in the io benchmark). A failure is thrown into the generator by the activation
   * (`gen.throw`), which `yield*` forwards to {@link throw}.
   */
  [Symbol.iterator](): Iterator<AsyncCall<unknown>, T, unknown> {
    return this;
  }

  next(): IteratorResult<AsyncCall<unknown>, T> {
    return this.status === PENDING
      ? { done: false, value: this as AsyncCall<unknown> }
      : { done: true, value: this.outcome() };
  }

  throw(error: unknown): IteratorResult<AsyncCall<unknown>, T> {
    throw error;
  }

  return(value?: T): IteratorResult<AsyncCall<unknown>, T> {
    return { done: true, value: value as T };
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true;
    if (this.promised === null) {
      if (this.status === FULFILLED)
        this.promised = { promise: Promise.resolve(this.result), resolve: null, reject: null };
      else if (this.status === REJECTED)
        this.promised = { promise: Promise.reject(this.result), resolve: null, reject: null };
      else {
        const promised: Promised = { promise: null as unknown as Promise<unknown>, resolve: null, reject: null };
        promised.promise = new Promise<unknown>((resolve, reject) => {
          promised.resolve = resolve;
          promised.reject = reject;
        });
        this.promised = promised;
      }
    }
    return (this.promised.promise as Promise<T>).then(onFulfilled, onRejected);
  }

  /** The block failed: retry if attempts are left, else reject. */
  private onFailure(error: unknown): void {
    if (this.status !== PENDING) return;
    const options = this.options;
    const retries = options?.retries ?? 0;
    if (this.attempt > retries) return this.settle(REJECTED, error);
    let delay: number;
    let asking: 'retryIf' | 'retryDelay' = 'retryIf';
    try {
      if (options?.retryIf !== undefined && options.retryIf(error, this.attempt) !== true)
        return this.settle(REJECTED, error);
      asking = 'retryDelay';
      const retryDelay = options?.retryDelay ?? 0;
      delay = typeof retryDelay === 'function' ? retryDelay(this.attempt, error) : retryDelay;
      if (!(typeof delay === 'number' && delay >= 0 && delay < Infinity))
        throw new TypeError(
          `retryDelay returned \`${String(delay)}\` for attempt ${this.attempt}, not a number of ms >= 0`,
        );
    } catch (thrown) {
      return this.settle(REJECTED, new RetryPolicyError(this.host.actionName, asking, thrown));
    }
    this.cleanup();
    // Waiting or budgeted: give the slot (and permit) back, and queue again after the delay.
    if (delay > 0 || options?.budget !== undefined) {
      this.release();
      if (delay > 0) this.subscription = this.host.schedule(this.retry.bind(this), delay);
      else this.retry();
      return;
    }
    const done = this.done;
    if (done !== null) this.start(done);
  }

  private retry(): void {
    this.subscription = null;
    if (this.status === PENDING) this.host.resubmit(this as AsyncCall<unknown>);
  }

  private settle(status: typeof FULFILLED | typeof REJECTED, valueOrError: unknown): void {
    if (this.status !== PENDING) return;
    this.bits = (this.bits & ~STATUS) | status;
    this.result = valueOrError;
    this.cleanup();
    this.timer?.unsubscribe();
    this.timer = null;
    this.release();
    const promised = this.promised;
    if (promised !== null) {
      if (status === FULFILLED) promised.resolve?.(valueOrError);
      else promised.reject?.(valueOrError);
      promised.resolve = promised.reject = null;
    }
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners !== null) for (const listener of listeners) listener(this as AsyncCall<unknown>);
    this.host.callSettled(this as AsyncCall<unknown>);
  }

  private cleanup(): void {
    const subscription = this.subscription;
    this.subscription = null;
    subscription?.unsubscribe();
  }

  private release(): void {
    const done = this.done;
    this.done = null;
    done?.();
  }
}

/**
 * What a call subscribes to its block's Observable with: keeps the last value (mapped, if the
 * block returned a {@link MappedResult}) and settles the call when the Observable completes (or
 * fails it). Being a `Subscriber`, RxJS takes it as it is.
 */
class CallSubscriber extends Subscriber<unknown> {
  private last: unknown = undefined;
  private seen = false;

  constructor(
    private readonly call: AsyncCall<unknown>,
    private readonly mapped: MappedResult<unknown> | null,
  ) {
    super();
  }

  protected override _next(value: unknown): void {
    const mapped = this.mapped;
    if (mapped !== null) {
      let out: unknown;
      try {
        out = mapped.onValue(value);
      } catch (error) {
        // The mapping failed (not the source): the call fails, as with a Promise source; onError is not asked.
        this.isStopped = true;
        try {
          return this.call.observableFailed(error);
        } finally {
          this.unsubscribe();
        }
      }
      if (out === SKIP) return;
      value = out;
    }
    this.last = value;
    this.seen = true;
  }

  protected override _error(error: unknown): void {
    try {
      const mapped = this.mapped;
      if (mapped === null) return this.call.observableFailed(error);
      let out: unknown;
      try {
        out = mapped.onError(error);
      } catch (thrown) {
        return this.call.observableFailed(thrown);
      }
      this.call.observableCompleted(true, out);
    } finally {
      this.unsubscribe();
    }
  }

  protected override _complete(): void {
    try {
      this.call.observableCompleted(this.seen, this.last);
    } finally {
      this.unsubscribe();
    }
  }
}

/** What a {@link MappedResult}'s `onValue` returns for a value the call does not take (an Observable's other values). */
export const SKIP: unique symbol = Symbol('rx-agents.skip');

/**
 * A block's result that the call maps itself before it settles with it: the source's values go
 * through {@link onValue} (for an Observable: each one; those mapped to {@link SKIP} are dropped,
 * the call settles with the last one kept), a failure through {@link onError} (which rethrows
 * unless overridden: then its value settles the call, as `catchError` would). It saves the
 * Promise hop of a `.then(map)`, or the Observable wrapper of a filtering operator, per call —
 * for the agent layer's model and tool blocks, whose results only the runtime's own calls see
 * (made through its context, see `runContext`). Subclasses carry what the mapping needs (no
 * closures per call); a throw in either method fails the call (retries apply, as to any failure).
 *
 * @example
 * class Responses extends MappedResult<ModelEvent> {
 *   onValue(e: ModelEvent) { return e.type === 'response' ? e.response : SKIP; }
 * }
 * ctx.executeAsync(function callModel(_m: string, r: ModelRequest) { return new Responses(model.call(r)); }, name, request);
 */
export abstract class MappedResult<S> {
  constructor(readonly source: PromiseLike<S> | Observable<S>) {}

  /** A value of the source, as the call takes it ({@link SKIP}: not taken). */
  abstract onValue(value: S): unknown;

  /** The source failed: a value to settle the call with, or a throw to fail it (the default). */
  onError(error: unknown): unknown {
    throw error;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

// A closed one keeps its class's maps (and the code compiled against them) across idle gaps (shape-anchor.ts).
const dormant = new CallSubscriber(null as never, null);
dormant.unsubscribe();
anchorShape(dormant);
