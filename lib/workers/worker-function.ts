import { Observable } from 'rxjs';
import { AbortedError } from '../errors';

/**
 * A function that runs on a worker pool's threads, made by `pool.fn(f)` or `pool.task(path, name)`.
 *
 * Calling it returns a cold `Observable` of the one result: subscribing queues the task,
 * unsubscribing cancels it. That is exactly what `ctx.executeAsync` needs — when the run is
 * aborted (unsubscribe, stream failure, run failure) or a `timeout` fires, the call unsubscribes
 * and the cancel reaches the worker: a queued task is dropped, a running one has its worker
 * terminated (the only way to stop synchronous CPU work) and the pool starts a fresh worker.
 *
 * Semantics: arguments and the result are structured-cloned between threads (plain data,
 * arrays, typed arrays, Maps, Sets, Dates, Errors — not functions or class instances).
 *
 * @example
 * const hash = pool.fn((text: string) => require('node:crypto').createHash('sha256').update(text).digest('hex'));
 * // in a generator action:
 * const digest = yield* ctx.executeAsync(hash, event.payload.text);
 * // outside an agent, as a Promise with optional cancellation:
 * const digest2 = await hash.withSignal(controller.signal)('hello');
 */
export interface WorkerFunction<A extends readonly unknown[], R> {
  /** A cold Observable of the task's result: subscribe to run, unsubscribe to cancel. */
  (...args: A): Observable<R>;
  /** The same task as a Promise-returning function; aborting `signal` cancels it (rejects with `AbortedError`). */
  withSignal(signal?: AbortSignal): (...args: A) => Promise<R>;
  /** The name used in errors: the function's name, or `module#export`. */
  readonly label: string;
}

/** What a {@link WorkerFunction} needs from its pool. */
export interface TaskRunner {
  /** Queues a task; `settle` is called exactly once unless the task is cancelled first. Returns a cancel function. */
  submit(fnId: number, args: readonly unknown[], settle: (ok: boolean, valueOrError: unknown) => void): () => void;
}

/** Wraps pool submission as a {@link WorkerFunction}. */
export function workerFunction<A extends readonly unknown[], R>(
  runner: TaskRunner,
  fnId: number,
  label: string,
): WorkerFunction<A, R> {
  const call = (...args: A): Observable<R> =>
    new Observable<R>((subscriber) =>
      runner.submit(fnId, args, (ok, value) => {
        if (!ok) return subscriber.error(value);
        subscriber.next(value as R);
        subscriber.complete();
      }),
    );
  const withSignal =
    (signal?: AbortSignal) =>
    (...args: A): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        if (signal?.aborted)
          return reject(new AbortedError(`the signal of worker task \`${label}\` was aborted before it started`));
        const onAbort = (): void => {
          cancel();
          reject(new AbortedError(`the signal of worker task \`${label}\` was aborted`));
        };
        let settled = false;
        const cancel = runner.submit(fnId, args, (ok, value) => {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if (ok) resolve(value as R);
          else reject(value);
        });
        // A task can settle inside submit (closed pool, arguments that cannot be cloned): then there is nothing to listen for.
        if (!settled) signal?.addEventListener('abort', onAbort, { once: true });
      });
  return Object.assign(call, { withSignal, label });
}
