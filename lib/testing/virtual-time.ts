import { throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import { map, mergeMap } from 'rxjs/operators';

/**
 * An async block result that arrives after `frames` (virtual frames under TestScheduler.run).
 *
 * @example
 * const v = yield* ctx.executeAsync(() => virtualDelay('done', 5)); // 'done' at frame 5
 */
export function virtualDelay<T>(value: T, frames: number, scheduler?: SchedulerLike): Observable<T> {
  return timer(frames, scheduler).pipe(map(() => value));
}

/**
 * An async block failure that arrives after `frames`.
 *
 * @example
 * yield* ctx.executeAsync(() => virtualFailure(new Error('boom'), 3)); // throws into the action at frame 3
 */
export function virtualFailure(error: unknown, frames: number, scheduler?: SchedulerLike): Observable<never> {
  return timer(frames, scheduler).pipe(mergeMap(() => throwError(() => error)));
}
