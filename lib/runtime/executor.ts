import { optionError } from '../errors';
import { Fifo } from './fifo';

/** One unit of work for an {@link Executor}: an async block waiting for a slot. */
export interface ExecutorTask {
  /** The run's key; the pool takes turns between keys. */
  readonly key: unknown;
  /** `false` once the task no longer needs to run (its run was aborted while it waited). */
  readonly wanted: boolean;
  /** Starts the work. The task calls `done` exactly once, when it settles or is abandoned. */
  start(done: () => void): void;
}

/**
 * Runs async blocks with a bounded number in flight.
 *
 * Semantics: at most `concurrency` tasks are started and not yet done. Waiting tasks are
 * started in turns across keys (round robin), FIFO within a key, so one key that fans out
 * a thousand blocks cannot starve the others. Only async blocks hold slots — actions never
 * do — so an action waiting on the pool cannot deadlock it.
 */
export interface Executor {
  readonly concurrency: number;
  /** Tasks started and not yet done. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly queued: number;
  submit(task: ExecutorTask): void;
}

/**
 * The in-process executor: a bounded pool on the main thread, for I/O-bound blocks
 * (Promises and Observables). CPU-bound blocks belong on worker threads.
 *
 * @param concurrency maximum blocks in flight. @default 64
 */
export function createExecutor(concurrency = 64): Executor {
  if (!(Number.isInteger(concurrency) && concurrency >= 1) && concurrency !== Infinity) {
    throw optionError('concurrency', 'an integer >= 1 or Infinity', concurrency);
  }
  return new KeyFairPool(concurrency);
}

class KeyFairPool implements Executor {
  active = 0;
  queued = 0;
  /** Waiting tasks per key, and the keys with waiting tasks in turn order. */
  private readonly waiting = new Map<unknown, ExecutorTask[]>();
  private readonly turns = new Fifo<unknown>();
  private pumping = false;
  private readonly done = (): void => {
    this.active--;
    this.pump();
  };

  constructor(readonly concurrency: number) {}

  submit(task: ExecutorTask): void {
    if (this.active < this.concurrency && this.queued === 0) {
      this.active++;
      task.start(this.done);
      return;
    }
    const queue = this.waiting.get(task.key);
    if (queue === undefined) {
      this.waiting.set(task.key, [task]); // a literal: `[].push` would reserve 17 slots per waiting key
      this.turns.push(task.key);
    } else queue.push(task);
    this.queued++;
    this.pump();
  }

  /** Starts waiting tasks while slots are free; re-entrant calls (a task settling synchronously) fold into the running loop. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.active < this.concurrency && this.queued > 0) {
        const task = this.next();
        if (!task.wanted) continue;
        this.active++;
        task.start(this.done);
      }
    } finally {
      this.pumping = false;
    }
  }

  private next(): ExecutorTask {
    const key = this.turns.shift(); // never empty here: a task waits, so its key has a turn
    const queue = this.waiting.get(key) as ExecutorTask[];
    const task = queue.shift() as ExecutorTask;
    this.queued--;
    if (queue.length > 0) this.turns.push(key);
    else this.waiting.delete(key);
    return task;
  }
}
