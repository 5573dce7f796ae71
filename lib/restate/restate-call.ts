import type { Call } from '../context/call';

/** Who owns a call: told when it settles, so a waiting action resumes. */
export interface RestateCallOwner {
  callSettled(call: RestateCall<unknown>): void;
}

/**
 * One `ctx.executeAsync` (or `ctx.all`) call of an agent running on Restate. Like the embedded
 * runtime's call it is iterable (`yield*`, generator actions) and thenable (`await`, async
 * actions); unlike it, it never settles by itself: the run driver settles it, in the order the
 * calls were made, with the outcome Restate journaled (see `RestateRun`).
 */
export class RestateCall<T> implements Call<T> {
  status: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  private result: unknown = undefined;
  /** Someone read the outcome (yield*, await, ctx.all). A failure nobody read fails the action. */
  observed = false;
  /** The generator action suspended on this call. */
  waiter: { wake(call: RestateCall<unknown>): void } | null = null;
  /** Stops waiting on the call when it lost a `ctx.any` (a timer or a wait; a block runs to its end). */
  cancel: (() => void) | null = null;
  private promise: Promise<unknown> | null = null;
  private resolvePromise: ((value: unknown) => void) | null = null;
  private rejectPromise: ((error: unknown) => void) | null = null;
  private listeners: Array<(call: RestateCall<unknown>) => void> | null = null;

  constructor(
    readonly owner: RestateCallOwner,
    /** Stable identity (the `ctx.run` name): `<activation id>#<call index>`. */
    readonly id: string,
  ) {}

  get settled(): boolean {
    return this.status !== 'pending';
  }

  get value(): T | undefined {
    return this.status === 'fulfilled' ? (this.result as T) : undefined;
  }

  get error(): unknown {
    return this.status === 'rejected' ? this.result : undefined;
  }

  /** Settles the call (the driver's delivery step); wakes its waiter, its listeners, its owner. */
  settle(ok: boolean, valueOrError: unknown): void {
    if (this.status !== 'pending') return;
    this.status = ok ? 'fulfilled' : 'rejected';
    this.result = valueOrError;
    if (ok) this.resolvePromise?.(valueOrError);
    else this.rejectPromise?.(valueOrError);
    this.resolvePromise = this.rejectPromise = null;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners !== null) for (const listener of listeners) listener(this as RestateCall<unknown>);
    this.owner.callSettled(this as RestateCall<unknown>);
    if (this.waiter !== null) this.waiter.wake(this as RestateCall<unknown>);
  }

  /** Registers a listener for settlement (ctx.all). */
  onSettled(listener: (call: RestateCall<unknown>) => void): void {
    if (this.status !== 'pending') listener(this as RestateCall<unknown>);
    else (this.listeners ??= []).push(listener);
  }

  /** The outcome: the value, or throws the error. */
  outcome(): T {
    this.observed = true;
    if (this.status === 'fulfilled') return this.result as T;
    if (this.status === 'rejected') throw this.result;
    throw new Error('rx-agents internal error: outcome() read before the call settled');
  }

  [Symbol.iterator](): Iterator<RestateCall<unknown>, T, unknown> {
    return this;
  }

  next(): IteratorResult<RestateCall<unknown>, T> {
    return this.status === 'pending'
      ? { done: false, value: this as RestateCall<unknown> }
      : { done: true, value: this.outcome() };
  }

  throw(error: unknown): IteratorResult<RestateCall<unknown>, T> {
    throw error;
  }

  return(value?: T): IteratorResult<RestateCall<unknown>, T> {
    return { done: true, value: value as T };
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true;
    if (this.promise === null) {
      if (this.status === 'fulfilled') this.promise = Promise.resolve(this.result);
      else if (this.status === 'rejected') this.promise = Promise.reject(this.result);
      else
        this.promise = new Promise<unknown>((resolve, reject) => {
          this.resolvePromise = resolve;
          this.rejectPromise = reject;
        });
    }
    return (this.promise as Promise<T>).then(onFulfilled, onRejected);
  }
}
