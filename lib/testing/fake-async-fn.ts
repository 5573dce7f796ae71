import type { Observable, SchedulerLike } from 'rxjs';
import { virtualDelay, virtualFailure } from './virtual-time';

/** The arguments of a call, without a trailing `AbortSignal` (that one is the call's `signal`). */
export type ArgsWithoutSignal<A extends unknown[]> = A extends [...infer Rest, AbortSignal]
  ? Rest
  : A extends [...infer Rest, (AbortSignal | undefined)?]
    ? Rest
    : A;

/** A recorded call of a {@link fakeAsyncFn}. */
export interface FakeCall<A extends unknown[]> {
  /** The arguments, except an `AbortSignal` given last (e.g. `ctx.signal`), so `{ args: ['a'] }` compares as written. */
  readonly args: ArgsWithoutSignal<A>;
  /** The `AbortSignal` given as the last argument, if any. Not enumerable: deep equality ignores it. */
  readonly signal?: AbortSignal;
}

/** A fake for an async function (an LLM client, an HTTP call): `behaviour(...args)` says what it returns and after how many frames. */
export interface FakeAsyncFn<A extends unknown[], T> {
  (...args: A): Observable<T>;
  readonly calls: ReadonlyArray<FakeCall<A>>;
}

/**
 * Makes a fake async function whose results arrive in virtual time, recording its calls.
 *
 * Semantics: each call is recorded when it is made, as `{ args }`; an `AbortSignal` passed as the
 * last argument is kept apart as the (non-enumerable) `signal`, so `expect(fake.calls).to.deep.equal([{ args: ['a'] }])`
 * holds whether or not the action passes `ctx.signal`.
 *
 * @example
 * const llm = fakeAsyncFn((prompt: string, signal?: AbortSignal) => ({ value: `echo ${prompt}`, frames: 10 }));
 * // in an action: const answer = yield* ctx.executeAsync(llm, 'hi', ctx.signal);
 * // afterwards:   llm.calls → [{ args: ['hi'] }], llm.calls[0].signal?.aborted → false
 */
export function fakeAsyncFn<A extends unknown[], T>(
  behaviour: (
    ...args: A
  ) => { readonly value: T; readonly frames: number } | { readonly error: unknown; readonly frames: number },
  scheduler?: SchedulerLike,
): FakeAsyncFn<A, T> {
  const calls: FakeCall<A>[] = [];
  const fake = (...args: A): Observable<T> => {
    const last: unknown = args[args.length - 1];
    const signal = last instanceof AbortSignal ? last : undefined;
    const call = { args: (signal === undefined ? args : args.slice(0, -1)) as ArgsWithoutSignal<A> };
    if (signal !== undefined) Object.defineProperty(call, 'signal', { value: signal, enumerable: false });
    calls.push(call);
    const outcome = behaviour(...args);
    return 'error' in outcome
      ? virtualFailure(outcome.error, outcome.frames, scheduler)
      : virtualDelay(outcome.value, outcome.frames, scheduler);
  };
  return Object.assign(fake, { calls });
}
