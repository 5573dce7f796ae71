import { anchorShape } from './anchor-shape';

/**
 * How many times its own duration must pass after a commit before the next commit nobody waits
 * for, under `commitDelay: 'auto'`: such commits take at most 1/(1 + this) of the time (here 1/9,
 * about 11 %); when they would take more, their batches grow instead.
 */
export const COMMIT_SPACING = 8;

/** The shortest wait of a commit nobody waits for, and the longest of one somebody waits for, under `'auto'` (ms). */
export const COMMIT_WINDOW_MS = 1;

/** A pending commit; `unsubscribe` drops it (it was made early, or the journal closed). */
export interface PacedCommit {
  unsubscribe(): void;
}

/**
 * One armed commit: a timer {@link COMMIT_WINDOW_MS} after its first write (as the old fixed
 * window), which a commit nobody waits for puts off until `paced`; an urgent one also fires at the
 * next check phase (`setImmediate`), whichever comes first.
 */
class Armed implements PacedCommit {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private readonly fire = (): void => {
    if (this.immediate === undefined && this.paced > performance.now()) {
      this.timer = setTimeout(this.fire, this.paced - performance.now());
      return;
    }
    this.unsubscribe();
    this.flush();
  };

  /** `paced`: the earliest time (`performance.now()` ms) a commit nobody waits for is made. */
  constructor(
    private readonly flush: () => void,
    private readonly paced: number,
  ) {
    this.timer = setTimeout(this.fire, COMMIT_WINDOW_MS);
  }

  /** Somebody waits for it now: also at the next check phase, and no longer put off. */
  urgent(): void {
    if (this.immediate === undefined && typeof setImmediate === 'function') this.immediate = setImmediate(this.fire);
  }

  unsubscribe(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

/**
 * The group-commit clock of `commitDelay: 'auto'` (real time only; virtual time keeps fixed
 * windows): when the next commit of one journal is made.
 *
 * Semantics:
 * - A commit somebody waits for (an acknowledgement, a reconciled call's start, a wait) is made at
 *   the next event-loop turn: the next check phase (`setImmediate`), or the next timers phase
 *   once {@link COMMIT_WINDOW_MS} has passed since its first write, whichever comes first (the
 *   second when the loop is busy). So it never waits longer than with the old fixed 1 ms window,
 *   and at low load it waits a turn instead of a millisecond.
 * - A commit nobody waits for waits {@link COMMIT_WINDOW_MS} (so a run that starts and ends within
 *   it is still written as its end alone), and, when the previous commit was expensive, until
 *   {@link COMMIT_SPACING} times that commit's duration has passed since it ended: under load such
 *   commits grow with what arrives meanwhile (group commit) and take at most ~1/9 of the time,
 *   so fewer, larger commits leave out more rows (the outcomes of runs that end in them, the
 *   inputs of runs that start and end in them). Their size stays bounded by `maxBatch` rows.
 * - Only synchronous commits are paced: an asynchronous store's commits are chained (the next one
 *   takes everything that arrived while the previous one was in flight).
 *
 * @example
 * const pacer = new CommitPacer();
 * let pending = pacer.arm(flush, acks.length > 0);
 * // an acknowledgement arrives: pending = pacer.urge(pending);
 * // in flush: const t0 = performance.now(); store.commit(agent, batch); pacer.committed(t0, performance.now());
 */
export class CommitPacer {
  /** When the last synchronous commit ended, and how long it took (wall-clock ms, `performance.now()`). */
  private lastEnd = -Infinity;
  private lastCost = 0;
  /** Schedules `flush` for the next commit, whose first write happens now (see the class). */
  arm(flush: () => void, urgent: boolean): PacedCommit {
    const armed = new Armed(flush, this.lastEnd + COMMIT_SPACING * this.lastCost);
    if (urgent) armed.urgent();
    return armed;
  }

  /** The pending commit (armed by {@link arm} as not urgent) is now waited for: it is made as if it had been urgent from its first write. */
  urge(pending: PacedCommit): PacedCommit {
    if (pending instanceof Armed) pending.urgent();
    return pending;
  }

  /** A synchronous commit ran from `start` to `end` (`performance.now()`). */
  committed(start: number, end: number): void {
    this.lastEnd = end;
    this.lastCost = end - start;
  }

  /** An asynchronous commit was handed to the store: it is not paced (see above). */
  forget(): void {
    this.lastEnd = -Infinity;
    this.lastCost = 0;
  }
}

// Shape anchors (see lib/runtime/shape-anchor.ts): a pacer and a disarmed commit, so that their maps,
// and the code compiled against them, survive the gaps between subscriptions.
const dormantPacer = new CommitPacer();
dormantPacer.committed(0, 0);
const disarmed = dormantPacer.arm(() => undefined, true);
disarmed.unsubscribe();
anchorShape(dormantPacer);
anchorShape(disarmed);
