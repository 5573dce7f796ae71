import { asyncScheduler, defer, Observable, timer, type SchedulerLike } from 'rxjs';
import { optionError } from '../errors';
import type { ChatModel, ModelEvent, ModelRequest } from './chat-model';
import { ModelCallError } from './errors';

/** Options of {@link withModelPolicy}. */
export interface ModelPolicy {
  /** Extra attempts after a retryable failure (429, 5xx, timeout, network). @default 2 */
  readonly retries?: number;
  /** The first backoff delay in ms; each retry doubles it (`factor`), up to `maxDelay`. @default 500 */
  readonly initialDelay?: number;
  /** @default 2 */
  readonly factor?: number;
  /** The longest backoff delay in ms (a server's `Retry-After` is honoured even when longer, up to `maxRetryAfter`). @default 30000 */
  readonly maxDelay?: number;
  /** A `Retry-After` longer than this fails the attempt at once instead of waiting. @default 60000 */
  readonly maxRetryAfter?: number;
  /** `full`: a uniformly random delay in [0, backoff] (AWS "full jitter"); `none`: exactly the backoff. @default 'full' */
  readonly jitter?: 'full' | 'none';
  /** Fail an attempt that has not completed after this many ms (a hanging response). @default no timeout */
  readonly timeout?: number;
  /** Called when the model (after its retries) fails: this model answers instead (it may have its own policy). @default none */
  readonly fallback?: ChatModel;
  /** Where backoff delays and timeouts are scheduled; `TestScheduler` makes them virtual. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** The random source of the jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * Wraps a model with a failure policy: retries with exponential backoff and jitter for
 * retryable failures (honouring `Retry-After`), a per-attempt timeout, and a fallback model.
 *
 * Semantics: all waiting happens on `scheduler` (never blocking the thread, virtual under
 * `TestScheduler`); unsubscribing cancels the attempt in flight and any pending delay. An attempt
 * that already streamed chunks downstream is not retried (its chunks were delivered), it fails
 * or falls back. The final error is the last attempt's {@link ModelCallError}, with `attempts`.
 * Inside an agent the whole policy is one `executeAsync` call, journaled once (S13).
 *
 * @example
 * const model = withModelPolicy(fromAiSdk(primary), { retries: 3, timeout: 30_000, fallback: fromAiSdk(backup) });
 */
export function withModelPolicy(model: ChatModel, policy: ModelPolicy = {}): ChatModel {
  const retries = policy.retries ?? 2;
  const initialDelay = policy.initialDelay ?? 500;
  const factor = policy.factor ?? 2;
  const maxDelay = policy.maxDelay ?? 30_000;
  const maxRetryAfter = policy.maxRetryAfter ?? 60_000;
  const jitter = policy.jitter ?? 'full';
  const scheduler = policy.scheduler ?? asyncScheduler;
  const random = policy.random ?? Math.random;
  const { timeout, fallback } = policy;
  if (!Number.isInteger(retries) || retries < 0) throw optionError('retries', 'an integer >= 0', retries);
  for (const [name, value] of [
    ['initialDelay', initialDelay],
    ['maxDelay', maxDelay],
    ['maxRetryAfter', maxRetryAfter],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0)) throw optionError(name, 'a number >= 0 (ms)', value);
  }
  if (typeof factor !== 'number' || !(factor >= 1)) throw optionError('factor', 'a number >= 1', factor);
  if (jitter !== 'full' && jitter !== 'none') throw optionError('jitter', "'full' or 'none'", jitter);
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0)))
    throw optionError('timeout', 'a number > 0 (ms)', timeout);
  if (
    fallback !== undefined &&
    (typeof fallback !== 'object' || fallback === null || typeof fallback.call !== 'function')
  )
    throw optionError('fallback', 'a ChatModel (e.g. fromAiSdk(model))', fallback);

  const attempt = (request: ModelRequest): Observable<ModelEvent> =>
    timeout === undefined ? model.call(request) : withTimeout(model, model.call(request), timeout, scheduler);

  const call = (request: ModelRequest): Observable<ModelEvent> =>
    new Observable<ModelEvent>((subscriber) => {
      let attempts = 0;
      let inner: { unsubscribe(): void } | null = null;
      const start = (): void => {
        attempts++;
        let streamed = false;
        inner = attempt(request).subscribe({
          next: (event) => {
            if (event.type !== 'response') streamed = true;
            subscriber.next(event);
          },
          complete: () => subscriber.complete(),
          error: (raw: unknown) => {
            const error = raw instanceof ModelCallError ? raw : wrapUnknown(model, raw);
            const retryAfter = error.retryAfter;
            const canRetry =
              error.retryable &&
              !streamed &&
              attempts <= retries &&
              (retryAfter === undefined || retryAfter <= maxRetryAfter);
            if (canRetry) {
              const backoff = Math.min(maxDelay, initialDelay * factor ** (attempts - 1));
              const delay = retryAfter ?? (jitter === 'full' ? Math.floor(random() * backoff) : backoff);
              inner = timer(delay, scheduler).subscribe(() => start());
              return;
            }
            const final = withAttempts(error, attempts);
            if (fallback !== undefined && !streamed) {
              inner = fallback.call(request).subscribe({
                next: (v) => subscriber.next(v),
                error: (e: unknown) => subscriber.error(e),
                complete: () => subscriber.complete(),
              });
              return;
            }
            subscriber.error(final);
          },
        });
      };
      start();
      return () => inner?.unsubscribe();
    });

  return {
    provider: model.provider,
    modelId: model.modelId,
    supportsJsonSchema: model.supportsJsonSchema === true,
    call: (request) => defer(() => call(request)),
  };
}

function withTimeout(
  model: ChatModel,
  source: Observable<ModelEvent>,
  ms: number,
  scheduler: SchedulerLike,
): Observable<ModelEvent> {
  return new Observable<ModelEvent>((subscriber) => {
    // An observer, not `subscriber` itself: subscribing a Subscriber reuses it, and unsubscribing `inner` would close the outer one.
    const inner = source.subscribe({
      next: (v) => subscriber.next(v),
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    const deadline = scheduler.schedule(() => {
      inner.unsubscribe();
      subscriber.error(
        new ModelCallError(
          model.provider,
          model.modelId,
          'timeout',
          true,
          undefined,
          undefined,
          `no complete response within ${ms} ms`,
        ),
      );
    }, ms);
    return () => {
      deadline.unsubscribe();
      inner.unsubscribe();
    };
  });
}

function wrapUnknown(model: ChatModel, error: unknown): ModelCallError {
  return new ModelCallError(model.provider, model.modelId, 'unknown', false, undefined, undefined, String(error), {
    cause: error,
  });
}

function withAttempts(error: ModelCallError, attempts: number): ModelCallError {
  if (attempts === 1) return error;
  const detail = error.cause instanceof Error ? error.cause.message : error.kind;
  return new ModelCallError(
    error.provider,
    error.model,
    error.kind,
    error.retryable,
    error.status,
    error.retryAfter,
    detail,
    {
      cause: error.cause ?? error,
      attempts,
    },
  );
}
