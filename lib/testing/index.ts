import { throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import { map, mergeMap } from 'rxjs/operators';
import { TestScheduler } from 'rxjs/testing';
import type { LifecycleEvent } from '../runtime/lifecycle';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { deepStrictEqual } = process.getBuiltinModule('node:assert');

export { TestScheduler };

/**
 * A TestScheduler that compares with `assert.deepStrictEqual`. Inside `scheduler.run(...)`,
 * give it to `agentOperator(agent, { scheduler })` and use Observable-returning async blocks
 * (e.g. {@link virtualDelay}); the agent is then deterministic in virtual time (S11).
 * Promises are invisible to TestScheduler: a Promise-returning block never completes inside `run()`.
 */
export function createTestScheduler(
  assertEqual: (actual: unknown, expected: unknown) => void = deepStrictEqual,
): TestScheduler {
  return new TestScheduler(assertEqual);
}

/** An async block result that arrives after `frames` (virtual frames under TestScheduler.run). */
export function virtualDelay<T>(value: T, frames: number, scheduler?: SchedulerLike): Observable<T> {
  return timer(frames, scheduler).pipe(map(() => value));
}

/** An async block failure that arrives after `frames`. */
export function virtualFailure(error: unknown, frames: number, scheduler?: SchedulerLike): Observable<never> {
  return timer(frames, scheduler).pipe(mergeMap(() => throwError(() => error)));
}

/** A recorded call of a {@link fakeAsyncFn}. */
export interface FakeCall<A extends unknown[]> {
  readonly args: A;
}

/** A fake for an async function (an LLM client, an HTTP call): `behaviour(...args)` says what it returns and after how many frames. */
export interface FakeAsyncFn<A extends unknown[], T> {
  (...args: A): Observable<T>;
  readonly calls: ReadonlyArray<FakeCall<A>>;
}

/**
 * Makes a fake async function whose results arrive in virtual time, recording its calls.
 *
 * @example
 * const llm = fakeAsyncFn((prompt: string) => ({ value: `echo ${prompt}`, frames: 10 }));
 * // in an action: const answer = yield* ctx.executeAsync(llm, 'hi');
 */
export function fakeAsyncFn<A extends unknown[], T>(
  behaviour: (
    ...args: A
  ) => { readonly value: T; readonly frames: number } | { readonly error: unknown; readonly frames: number },
  scheduler?: SchedulerLike,
): FakeAsyncFn<A, T> {
  const calls: FakeCall<A>[] = [];
  const fake = (...args: A): Observable<T> => {
    calls.push({ args });
    const outcome = behaviour(...args);
    return 'error' in outcome
      ? virtualFailure(outcome.error, outcome.frames, scheduler)
      : virtualDelay(outcome.value, outcome.frames, scheduler);
  };
  return Object.assign(fake, { calls });
}

/** Collects lifecycle events: pass `recorder.inspect` as the `inspect` option. */
export function recordLifecycle(): {
  readonly events: LifecycleEvent[];
  readonly inspect: (event: LifecycleEvent) => void;
} {
  const events: LifecycleEvent[] = [];
  return { events, inspect: (event) => void events.push(event) };
}
