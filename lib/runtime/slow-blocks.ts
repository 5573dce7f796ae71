import type { SchedulerLike, Subscription } from 'rxjs';

/** What the watch reads of a running call (implemented by `AsyncCall`). */
export interface WatchedCall {
  readonly id: string;
  /** Its block holds an executor slot now (started, not yet settled or released for a retry). */
  readonly running: boolean;
  /** How many times its block has started (1 on the first attempt). */
  readonly attempts: number;
}

interface Entry<A> {
  readonly activation: A;
  readonly startedAt: number;
  readonly attempt: number;
  reported: boolean;
}

/**
 * Finds async blocks that have been running for `threshold` ms or more and reports each one once
 * per attempt (`async.slow`), so that a hung dependency is visible while it hangs.
 *
 * Semantics: no timer per block. The watch keeps the running blocks in start order (a `Map`, so
 * adding and removing are O(1)) and holds at most one scheduler timer, set for the moment the
 * oldest block not yet reported crosses the threshold; a sweep reports every block past it, drops
 * blocks that stopped running without completing (aborted runs, a retry waiting for its delay) and
 * sets the timer again. The timer is cancelled as soon as no block is watched, so nothing is
 * scheduled while the operator is idle; {@link close} cancels it at the end of the stream (S9).
 * Time is the operator's scheduler (S11): under a TestScheduler the event comes at exactly
 * `started + threshold` in virtual time.
 *
 * @typeParam A what a report names the block's activation by.
 *
 * @example
 * const watch = new SlowBlocks(scheduler, 30_000, (a, call, attempt, age, startedAt) => report(a, call, age));
 * watch.started(activation, call, scheduler.now()); // … 30 s later, if still running: report(...)
 */
export class SlowBlocks<A> {
  private readonly running = new Map<WatchedCall, Entry<A>>();
  private timer: Subscription | null = null;
  private readonly sweepFn = (): void => this.sweep();

  constructor(
    private readonly scheduler: SchedulerLike,
    /** ms a block may run before it is reported. */
    readonly threshold: number,
    private readonly report: (
      activation: A,
      call: WatchedCall,
      attempt: number,
      age: number,
      startedAt: number,
    ) => void,
  ) {}

  /** A block started (or started again for a retry) at scheduler time `now`. */
  started(activation: A, call: WatchedCall, now: number): void {
    const running = this.running;
    running.delete(call); // a retry starts the clock again, at the end of the start order
    running.set(call, { activation, startedAt: now, attempt: call.attempts, reported: false });
    if (this.timer === null) this.arm(now + this.threshold, now);
  }

  /** A block settled: it is no longer watched. */
  settled(call: object): void {
    const running = this.running;
    if (!running.delete(call as WatchedCall) || running.size !== 0) return;
    this.cancel();
  }

  /** The stream ended: nothing is watched any more and no timer is left behind (S9). */
  close(): void {
    this.running.clear();
    this.cancel();
  }

  private sweep(): void {
    this.timer = null;
    const now = this.scheduler.now();
    const cut = now - this.threshold;
    let next = Infinity;
    for (const [call, entry] of this.running) {
      if (!call.running || call.attempts !== entry.attempt) {
        this.running.delete(call); // aborted with its run, or released for a retry (re-added when it starts again)
        continue;
      }
      if (entry.reported) continue;
      if (entry.startedAt > cut) {
        // Start order: the first young block is the next to cross the threshold.
        if (next === Infinity) next = entry.startedAt + this.threshold;
        continue;
      }
      entry.reported = true;
      this.report(entry.activation, call, entry.attempt, now - entry.startedAt, entry.startedAt);
    }
    // Reported blocks that hang on are checked again a threshold later, so one that is dropped without settling is forgotten.
    if (this.running.size !== 0) this.arm(Math.min(next, now + this.threshold), now);
  }

  private arm(at: number, now: number): void {
    this.timer = this.scheduler.schedule(this.sweepFn, Math.max(0, at - now));
  }

  private cancel(): void {
    const timer = this.timer;
    if (timer === null) return;
    this.timer = null;
    timer.unsubscribe();
  }
}
