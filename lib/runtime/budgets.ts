import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { optionError } from '../errors';
import { anchorShape } from './anchor-shape';
import type { Executor, ExecutorTask } from './executor';

/** One named budget: how many calls may be in flight, per key, and how often they may start. */
export interface BudgetSpec {
  /** Calls holding a permit at once, across every key, operator and agent sharing it. @default Infinity */
  readonly concurrency?: number;
  /** Calls of one key holding a permit at once. @default Infinity */
  readonly perKey?: number;
  /** At most `limit` calls start in any window of `per` ms (a sliding window on the scheduler). @default no rate limit */
  readonly rate?: { readonly limit: number; readonly per: number };
}

/** What `createBudgets` takes: a name → a spec, or a number (shorthand for `{ concurrency }`). */
export type BudgetsConfig = Readonly<Record<string, number | BudgetSpec>>;

/** What one budget is doing now. */
export interface BudgetStats {
  readonly concurrency: number;
  readonly perKey: number;
  /** Calls holding a permit (handed to the executor, running or waiting for a slot there). */
  readonly running: number;
  /** Calls waiting for a permit. */
  readonly waiting: number;
  /** Keys with calls running or waiting. */
  readonly keys: number;
  /** Starts in the current rate window, when the budget has a rate. */
  readonly rate?: { readonly limit: number; readonly per: number; readonly used: number };
}

/** Options of {@link createBudgets}. */
export interface BudgetsOptions {
  /** Runs the rate limit's wake-ups and reads its clock. Virtual inside `TestScheduler.run()`. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

/** A set of named budgets, given to operators with `agentOperator(agent, { budgets })`. */
export interface Budgets {
  readonly names: readonly string[];
  /** Waiting and running calls per budget. */
  stats(): Readonly<Record<string, BudgetStats>>;
  /** @internal the runtime's entry point: queue `task` for a permit of `name`, then hand it to `executor`. */
  submit(name: string, task: ExecutorTask, executor: Executor): boolean;
}

/**
 * Creates named budgets shared by every operator (and so every agent) they are given to: a
 * budget caps calls in flight to one provider (`concurrency`), per key (`perKey`), and how often
 * they start (`rate`). An action takes a permit with `ctx.executeAsyncWith({ budget: 'openai' }, fn)`.
 *
 * Semantics: a call first waits for a permit of its budget, then for an executor slot (so a call
 * never holds a slot while it waits for its budget). Permits are granted in turns across keys
 * (round robin: one hot key cannot starve the others) and in call order within a key (FIFO). A
 * key at its `perKey` cap sits out its turns until one of its calls settles. Under `rate`, at
 * most `limit` calls start in any `per` ms; a limited budget wakes itself once, on the scheduler,
 * when the oldest start leaves the window — nothing polls. A retry waits for a new permit. A call
 * aborted while it waits is dropped from the queue on the next grant.
 *
 * @example
 * const budgets = createBudgets({ openai: { concurrency: 8, perKey: 2, rate: { limit: 500, per: 60_000 } }, search: 4 });
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.user, budgets }));
 * // in an action: const answer = yield* ctx.executeAsyncWith({ budget: 'openai' }, callModel, prompt);
 * budgets.stats().openai; // { running, waiting, keys, rate: { used, ... }, ... }
 */
export function createBudgets(config: BudgetsConfig, options: BudgetsOptions = {}): Budgets {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw optionError('createBudgets config', 'an object of named budgets, e.g. { openai: 8 }', config);
  if (typeof options !== 'object' || options === null) throw optionError('createBudgets options', 'an object', options);
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler.schedule !== 'function' || typeof scheduler.now !== 'function')
    throw optionError('scheduler', 'an RxJS SchedulerLike', scheduler);
  const budgets = new Map<string, Budget>();
  for (const [name, spec] of Object.entries(config))
    budgets.set(name, new Budget(name, normalise(name, spec), scheduler));
  const names = Object.freeze([...budgets.keys()]);
  return Object.freeze({
    names,
    stats: () => Object.fromEntries([...budgets].map(([name, b]) => [name, b.stats()])),
    submit: (name: string, task: ExecutorTask, executor: Executor) => {
      const budget = budgets.get(name);
      if (budget === undefined) return false;
      budget.submit(task, executor);
      return true;
    },
  });
}

interface Limits {
  readonly concurrency: number;
  readonly perKey: number;
  readonly rate: { readonly limit: number; readonly per: number } | undefined;
}

function normalise(name: string, spec: number | BudgetSpec): Limits {
  const where = `budget \`${name}\``;
  if (typeof spec === 'number') spec = { concurrency: spec };
  if (typeof spec !== 'object' || spec === null)
    throw optionError(where, 'a number (its concurrency) or { concurrency?, perKey?, rate? }', spec);
  const concurrency = spec.concurrency ?? Infinity;
  const perKey = spec.perKey ?? Infinity;
  count(`${where}.concurrency`, concurrency);
  count(`${where}.perKey`, perKey);
  const rate = spec.rate;
  if (rate !== undefined) {
    if (typeof rate !== 'object' || rate === null) throw optionError(`${where}.rate`, '{ limit, per }', rate);
    if (!(Number.isInteger(rate.limit) && rate.limit >= 1))
      throw optionError(`${where}.rate.limit`, 'an integer >= 1', rate.limit);
    if (!(typeof rate.per === 'number' && rate.per > 0 && Number.isFinite(rate.per)))
      throw optionError(`${where}.rate.per`, 'a number of ms > 0', rate.per);
  }
  return { concurrency, perKey, rate: rate === undefined ? undefined : { limit: rate.limit, per: rate.per } };
}

function count(name: string, value: unknown): void {
  if (!((Number.isInteger(value) && (value as number) >= 1) || value === Infinity))
    throw optionError(name, 'an integer >= 1 or Infinity', value);
}

/** The calls of one key in one budget. */
class KeyQueue {
  tasks: Array<{ readonly task: ExecutorTask; readonly executor: Executor }> = [];
  head = 0;
  running = 0;
  /** In the turn order (has waiting calls and room under `perKey`). */
  ready = false;
  constructor(readonly key: unknown) {}
  get waiting(): number {
    return this.tasks.length - this.head;
  }
}

/** One budget: a key-fair queue of calls in front of the executor. */
class Budget {
  private running = 0;
  private waiting = 0;
  private readonly keys = new Map<unknown, KeyQueue>();
  private turns: KeyQueue[] = [];
  private turnHead = 0;
  private pumping = false;
  private again = false;
  /** Start times of the calls in the rate window (a ring of `rate.limit` entries). */
  private readonly starts: number[] = [];
  private startHead = 0;
  private timer: Subscription | null = null;

  constructor(
    readonly name: string,
    private readonly limits: Limits,
    private readonly scheduler: SchedulerLike,
  ) {}

  submit(task: ExecutorTask, executor: Executor): void {
    let queue = this.keys.get(task.key);
    if (queue === undefined) this.keys.set(task.key, (queue = new KeyQueue(task.key)));
    queue.tasks.push({ task, executor });
    this.waiting++;
    this.requeue(queue);
    this.pump();
  }

  stats(): BudgetStats {
    const { concurrency, perKey, rate } = this.limits;
    const base = { concurrency, perKey, running: this.running, waiting: this.waiting, keys: this.keys.size };
    if (rate === undefined) return base;
    return { ...base, rate: { limit: rate.limit, per: rate.per, used: this.inWindow(this.scheduler.now()) } };
  }

  /** Puts a key back in the turn order if it has waiting calls and room. */
  private requeue(queue: KeyQueue): void {
    if (!queue.ready && queue.waiting > 0 && queue.running < this.limits.perKey) {
      queue.ready = true;
      this.turns.push(queue);
    }
  }

  /** Grants permits while there is room; re-entrant calls (a call settling synchronously) fold into the running loop. */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.grant();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  private grant(): void {
    while (this.running < this.limits.concurrency && this.turnHead < this.turns.length) {
      if (!this.rateAllows()) return;
      const queue = this.turns[this.turnHead] as KeyQueue;
      this.turns[this.turnHead++] = undefined as unknown as KeyQueue;
      if (this.turnHead >= 1024 && this.turnHead * 2 >= this.turns.length) {
        this.turns = this.turns.slice(this.turnHead);
        this.turnHead = 0;
      }
      queue.ready = false;
      const entry = queue.tasks[queue.head] as { task: ExecutorTask; executor: Executor };
      queue.tasks[queue.head++] = undefined as unknown as typeof entry;
      if (queue.head === queue.tasks.length) {
        queue.tasks = [];
        queue.head = 0;
      }
      this.waiting--;
      if (!entry.task.wanted) {
        this.requeue(queue);
        this.forget(queue);
        continue;
      }
      this.running++;
      queue.running++;
      this.recordStart();
      this.requeue(queue);
      entry.executor.submit(new Permit(this, queue, entry.task));
    }
  }

  /** A permit came back (its call settled or was abandoned). */
  release(queue: KeyQueue): void {
    this.running--;
    queue.running--;
    this.requeue(queue);
    this.forget(queue);
    this.pump();
  }

  /** Frees a key with nothing running or waiting, so memory does not grow with keys ever seen (S10). */
  private forget(queue: KeyQueue): void {
    if (queue.running === 0 && queue.waiting === 0) this.keys.delete(queue.key);
  }

  // ---- the rate window ------------------------------------------------------------------

  private rateAllows(): boolean {
    const rate = this.limits.rate;
    if (rate === undefined) return true;
    const now = this.scheduler.now();
    if (this.inWindow(now) < rate.limit) return true;
    // Full: wake once when the oldest start leaves the window.
    if (this.timer === null) {
      const oldest = this.starts[this.startHead] as number;
      this.timer = this.scheduler.schedule(
        () => {
          this.timer = null;
          this.pump();
        },
        Math.max(0, oldest + rate.per - now),
      );
    }
    return false;
  }

  /** Starts within `(now - per, now]`; drops older ones from the ring. */
  private inWindow(now: number): number {
    const rate = this.limits.rate;
    if (rate === undefined) return 0;
    const starts = this.starts;
    while (this.startHead < starts.length && (starts[this.startHead] as number) <= now - rate.per) this.startHead++;
    if (this.startHead > 0 && this.startHead * 2 >= starts.length) {
      starts.splice(0, this.startHead);
      this.startHead = 0;
    }
    return starts.length - this.startHead;
  }

  private recordStart(): void {
    if (this.limits.rate !== undefined) this.starts.push(this.scheduler.now());
  }
}

/** A granted permit: the task as the executor sees it, giving the permit back when the task is done. */
class Permit implements ExecutorTask {
  private returned = false;
  constructor(
    private readonly budget: Budget,
    private readonly queue: KeyQueue,
    private readonly task: ExecutorTask,
  ) {}

  get key(): unknown {
    return this.task.key;
  }

  get wanted(): boolean {
    const wanted = this.task.wanted;
    // Dropped by the executor without starting (aborted while it waited for a slot): give the permit back now.
    if (!wanted) this.giveBack();
    return wanted;
  }

  start(done: () => void): void {
    this.task.start(() => {
      this.giveBack();
      done();
    });
  }

  private giveBack(): void {
    if (this.returned) return;
    this.returned = true;
    this.budget.release(this.queue);
  }
}

// Shape anchors (lib/runtime/shape-anchor.ts): budgets are often made per subscription, so between
// two of them no Budget, KeyQueue or Permit may be alive at a full GC; their maps would go, and the
// code compiled for them with it (measured: 14–18 deoptimizations and a recompile per round of
// bench/workloads/budgets.ts). One dormant instance of each, holding no user data, keeps them.
const dormantBudget = new Budget(
  'rx-agents/dormant',
  { concurrency: Infinity, perKey: Infinity, rate: undefined },
  asyncScheduler,
);
const dormantQueue = new KeyQueue(undefined);
anchorShape(dormantBudget);
anchorShape(dormantQueue);
anchorShape(new Permit(dormantBudget, dormantQueue, null as never));
