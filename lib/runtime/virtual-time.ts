import { asapScheduler, asyncScheduler, queueScheduler, VirtualTimeScheduler, type SchedulerLike } from 'rxjs';

/**
 * Is `scheduler` virtual time, that is, a TestScheduler (or another VirtualTimeScheduler), or one of
 * rxjs's built-in schedulers while `TestScheduler.run()` virtualises them?
 *
 * Semantics: inside `run()` the built-in schedulers' clock reads virtual frames, far from the wall
 * clock; that is how it is told apart (a check, not timing). Promises are invisible there (S11).
 *
 * @example
 * if (isVirtualTime(settings.scheduler)) … // refuse what virtual time cannot run
 */
export function isVirtualTime(scheduler: SchedulerLike): boolean {
  if (scheduler instanceof VirtualTimeScheduler) return true;
  const builtIn = scheduler === asapScheduler || scheduler === asyncScheduler || scheduler === queueScheduler;
  return builtIn && Math.abs(scheduler.now() - Date.now()) > 60_000;
}
