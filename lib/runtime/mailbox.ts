import { asapScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { Fifo } from './fifo';

/** Something a {@link Mailbox} can hold: it knows whether it is queued, and how to take its turn. */
export interface Mailable {
  /** Queued or being processed (managed by the mailbox; an item is never queued twice). */
  posted: boolean;
  /** Takes the item's turn. Must handle everything that was posted for it up to its return — or return `true` to be queued again, behind what waits (a long chain yields to other keys). */
  process(): boolean | void;
}

/**
 * What a {@link Mailbox} tells its owner (the runtime): methods of a long-lived object rather than
 * closures per subscription, so the code V8 compiles for the drain loop does not die with one (see
 * shape-anchor.ts).
 */
export interface MailboxHost {
  /** A drain ended: nothing is queued. */
  mailboxIdle(): void;
  /** An item's `process` threw. */
  fail(error: unknown): void;
}

/**
 * The mailboxes whose microtask wake-up is queued, in the order of their `queueMicrotask` calls:
 * each microtask wakes the next one, so every mailbox is woken exactly when its own microtask runs,
 * as with a closure per mailbox. One module-level function instead of that closure: Node's
 * `runMicrotask` is optimized with its callback inlined, and a per-subscription closure dies with its
 * subscription — at the next full GC that compiled code would be thrown away (see shape-anchor.ts).
 */
const toWake = new Fifo<{ wakeNow(): void }>();
function wakeNext(): void {
  toWake.shift()?.wakeNow();
}

/**
 * The runtime's mailbox (cf. xstate v5's `Mailbox`): items are processed one at a time, in post
 * order, never re-entrantly — so sync blocks never interleave (S4) — and a post from outside a
 * turn wakes the loop through the scheduler (S6, S11).
 *
 * Semantics: an item posted while it is queued *or being processed* is not queued again (its own
 * turn covers it: a run that routes events and re-posts itself is processed once). A throw from
 * `process` goes to the host's `fail`; its `mailboxIdle` runs after each drain. With the real `asapScheduler` the
 * wake-up is `queueMicrotask` — what asapScheduler does underneath — without an action and a
 * subscription per wake-up (one per settled async call, the biggest allocation on the I/O path).
 * Not under `TestScheduler.run()`, which makes asapScheduler virtual: there every wake-up goes
 * through the scheduler.
 *
 * @example
 * const mailbox = new Mailbox<Run>(scheduler, runtime); // runtime.mailboxIdle() after each drain, runtime.fail(e) on a throw
 * mailbox.post(run); // processed on the next wake-up, or in the current drain
 */
export class Mailbox<T extends Mailable> {
  private queue = new Fifo<T>();
  private processing = false;
  private closed = false;
  private wakeup: Subscription | null = null;
  private microtaskPending = false;
  private readonly microtaskWake: boolean;
  private readonly wake = (): void => {
    this.wakeup = null;
    this.microtaskPending = false;
    this.drain();
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly host: MailboxHost,
  ) {
    // A virtual asapScheduler (TestScheduler.run) reports virtual time; the real one reports the wall clock (a check, not timing).
    this.microtaskWake = scheduler === asapScheduler && Math.abs(asapScheduler.now() - Date.now()) < 60_000;
  }

  /** The microtask wake-up (see `toWake`). */
  wakeNow(): void {
    this.microtaskPending = false;
    this.drain();
  }

  /** An item is being processed: whoever asks is inside a turn. */
  get busy(): boolean {
    return this.processing;
  }

  /** Items waiting for their turn. */
  get size(): number {
    return this.queue.size;
  }

  /** Queues `item` (once) and makes sure a drain follows. */
  post(item: T): void {
    if (item.posted || this.closed) return;
    item.posted = true;
    this.queue.push(item);
    if (!this.processing && this.wakeup === null && !this.microtaskPending) {
      if (this.microtaskWake) {
        this.microtaskPending = true;
        toWake.push(this);
        queueMicrotask(wakeNext);
      } else this.wakeup = this.scheduler.schedule(this.wake);
    }
  }

  /** Processes queued items until none is left (a no-op inside a turn: the running drain takes them). */
  drain(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    try {
      const queue = this.queue;
      for (let item = queue.shift(); item !== undefined; item = this.closed ? undefined : queue.shift()) {
        const again = item.process();
        item.posted = false;
        if (again === true) this.post(item);
      }
    } catch (error) {
      this.host.fail(error);
    } finally {
      this.processing = false;
    }
    this.host.mailboxIdle();
  }

  /** Stops for good: drops what is queued and cancels a pending wake-up. */
  close(): void {
    this.closed = true;
    this.wakeup?.unsubscribe();
    this.wakeup = null;
    this.queue.clear();
  }
}
