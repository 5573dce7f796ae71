import type { AsyncLocalStorage } from 'node:async_hooks';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { ActionDef, Agent } from '../agent/define-agent';
import type { AsyncCallOptions, BlockResult, Call } from '../context/call';
import type { MemoryRef } from '../context/memory-ref';
import type { AllResults, AnyResult, RunnerContext, SendOptions, WaitOptions } from '../context/runner-context';
import { AbortedError, AsyncBlockAccessError, UnknownResourceError, VirtualTimeError } from '../errors';
import type { AgentEvent, EventOf, EventType } from '../events/define-event';
import { UnknownBudgetError, WaitTimeoutError } from './wait-errors';
import { checkTime, checkWait, SEND_LATER_FN, SLEEP_FN, SLEEP_UNTIL_FN, WAIT_FN, type ParkSpec } from './parking';
import { AsyncCall, type CallHost } from './async-call';
import type { Budgets } from './budgets';
import { checkCallOptions } from './call-options';
import type { RoutedEvent } from './routed-event';
import type { Inspection } from './inspection';
import type { MemoryNode } from './memory';
import { MemoryView, type MemoryHost, type MemoryKind } from './memory-view';
import type { SyncBlocks } from './sync-blocks';
import { describeKey } from '../describe-key';
import { actionWrapper, currentResource, isNativeAsync, ownCode, type ActionEnd } from './action-frames';
import { anchorShape } from './anchor-shape';

/**
 * Tracks which async action (or async block) the current async continuation belongs to, so
 * that S5 holds for `await`-style actions too. Only entered when an agent has async actions.
 */
export const asyncScope: AsyncLocalStorage<Activation | typeof IN_BLOCK> = new (process.getBuiltinModule(
  'node:async_hooks',
).AsyncLocalStorage)();
// `process.getBuiltinModule` (Node >= 20.16, see `engines`) instead of an import: the root entry loads in
// every consumer, and a bundler turns a `require` of a Node built-in inside a CommonJS package into a
// dynamic require that an ESM bundle cannot run (`Dynamic require of "node:async_hooks" is not supported`).
const IN_BLOCK = Symbol('in-async-block');

const RUNNING = 0;
const SUSPENDED = 1;
const DONE = 2;
type State = typeof RUNNING | typeof SUSPENDED | typeof DONE;

/** What an activation needs from its run (implemented by `Run`). */
export interface ActivationHost {
  readonly key: unknown;
  /** The run sequence number. */
  readonly seq: number;
  /** The run has ended (completed, failed or abandoned): the context is closed. */
  readonly ended: boolean;
  readonly signal: AbortSignal;
  readonly agent: Agent;
  readonly scheduler: SchedulerLike;
  /** S11: the scheduler is virtual time (a TestScheduler), which cannot see Promises. */
  readonly virtualTime: boolean;
  readonly inspection: Inspection;
  readonly blocks: SyncBlocks;
  /** The timeout of async blocks that have none of their own (the `defaultTimeout` option). */
  readonly defaultTimeout: number | undefined;
  /** The run's input after the agent's input schema (`ctx.input`). */
  readonly payload: unknown;
  /** Named budgets calls may take permits of (`executeAsyncWith({ budget })`). */
  readonly budgets: Budgets | undefined;
  /** Validates and enqueues a sent event (S4); `index` is the send's position in `from`. */
  send(from: Activation, event: AgentEvent, index: number): void;
  /** Validates a sent event without enqueueing it (a delayed send). */
  prepare(from: Activation, event: AgentEvent, index: number): RoutedEvent;
  /** Enqueues an event validated by {@link prepare}. */
  sendPrepared(from: Activation, routed: RoutedEvent): void;
  /** S14: a wait or timer of `from`: work of the run until it settles, parked (never given to the executor). */
  park(from: Activation, call: AsyncCall<unknown>, spec: ParkSpec): void;
  /** A retrying call goes back to its budget and the executor. */
  resubmit(call: AsyncCall<unknown>): void;
  /** A new call of `from`: it counts as work of the run until it settles; it runs or replays. */
  submit(from: Activation, call: AsyncCall<unknown>): void;
  /** A `ctx.all` call of `from`: work of the run until it settles, never submitted. */
  combine(from: Activation, call: AsyncCall<unknown>): void;
  /** A call of `from` settled: one less piece of work; journal and inspection hear of it. */
  settled(from: Activation, call: AsyncCall<unknown>): void;
  /** Resumes `from` through the mailbox (S6). */
  resume(from: Activation): void;
  /** S16: a chunk streamed by a running call goes downstream now (ignored once the run ended). */
  stream(chunk: unknown): void;
  /** Posts the run: it routes what was sent and checks whether it ended (S7). */
  postRun(): void;
  /** `from` finished: one less piece of work. */
  finished(from: Activation): void;
  /** The action of `from` failed: the run fails (error policy, S9). */
  failed(from: Activation, error: unknown): void;
  /** The memory a context view shows. */
  memory(kind: MemoryKind): MemoryNode;
  /** A sync block wrote to a memory. */
  memoryWritten(kind: MemoryKind): void;
}

/**
 * One action triggered by one event in one run: its code blocks, its calls, its context.
 * It *is* the `RunnerContext` the action receives.
 */
export class Activation implements RunnerContext, CallHost, MemoryHost, ActionEnd {
  private state: State = RUNNING;
  private sendCount = 0;
  private idCache: string | null = null;
  /**
   * What generator actions and actions that make calls need, made on first use (see
   * {@link ActivationSteps}); it holds in turn what async actions, memory users and failed calls
   * need ({@link ActivationRare}). A sync action that only sends events makes neither: its
   * activation is 7 fields (80 B) instead of 12 (120 B), made four times per input of the routing
   * workload; a parked generator action's is 80 + 72 B instead of 120.
   */
  private steps: ActivationSteps | null = null;

  constructor(
    private readonly host: ActivationHost,
    readonly def: ActionDef,
    readonly event: AgentEvent,
  ) {}

  /** Queued in the runtime's mailbox (only a resuming generator action is ever posted). */
  get posted(): boolean {
    const steps = this.steps;
    return steps !== null && steps.posted;
  }
  set posted(posted: boolean) {
    if (posted || this.steps !== null) this.stepsMade().posted = posted;
  }

  /** The next activation of its run still going after its first sync block (see `Run`). */
  get nextInRun(): Activation | null {
    const steps = this.steps;
    return steps === null ? null : steps.nextInRun;
  }
  set nextInRun(next: Activation | null) {
    if (next !== null || this.steps !== null) this.stepsMade().nextInRun = next;
  }

  /** A generator action's generator, while it runs. */
  private get gen(): Generator<unknown, void, unknown> | null {
    const steps = this.steps;
    return steps === null ? null : steps.gen;
  }
  private set gen(gen: Generator<unknown, void, unknown> | null) {
    if (gen !== null || this.steps !== null) this.stepsMade().gen = gen;
  }

  /** The call a suspended generator action waits on. */
  private get waitingOn(): AsyncCall<unknown> | null {
    const steps = this.steps;
    return steps === null ? null : steps.waitingOn;
  }
  private set waitingOn(call: AsyncCall<unknown> | null) {
    if (call !== null || this.steps !== null) this.stepsMade().waitingOn = call;
  }

  /** Calls made so far (each call's index, S13). */
  private get callCount(): number {
    const steps = this.steps;
    return steps === null ? 0 : steps.callCount;
  }
  private set callCount(count: number) {
    this.stepsMade().callCount = count;
  }

  /** The activation's {@link ActivationRare}, if made. */
  private get rare(): ActivationRare | null {
    const steps = this.steps;
    return steps === null ? null : steps.rare;
  }

  private stepsMade(): ActivationSteps {
    return (this.steps ??= new ActivationSteps());
  }

  /** `<event id>><action name>`: stable across replays (S13). */
  get id(): string {
    return (this.idCache ??= `${this.event.id}>${this.def.name}`);
  }

  get key(): unknown {
    return this.host.key;
  }
  get run(): number {
    return this.host.seq;
  }
  get action(): string {
    return this.def.name;
  }
  get actionName(): string {
    return this.def.name;
  }
  get defaultTimeout(): number | undefined {
    return this.host.defaultTimeout;
  }
  get signal(): AbortSignal {
    return this.host.signal;
  }
  get input(): unknown {
    return this.host.payload;
  }

  /** What the action function gets: its event, or for a join (`allOf`) the joined events. */
  private trigger(): AgentEvent {
    return this.def.join === undefined ? this.event : (this.event.payload as AgentEvent);
  }

  /** The run, as extensions see it (run-channel.ts: streamed chunks and extension lifecycle events). */
  get runHost(): ActivationHost {
    return this.host;
  }
  now(): number {
    return this.host.scheduler.now();
  }

  /** The call a suspended generator action waits on (for state snapshots). */
  get waitingFor(): AsyncCall<unknown> | null {
    return this.waitingOn;
  }

  /** Finished or failed: nothing of it runs any more. */
  get done(): boolean {
    return this.state === DONE;
  }

  // ---- driving the action's blocks -------------------------------------------------------

  /** Runs the first sync block. */
  start(): void {
    const inspection = this.host.inspection;
    if (inspection.attached) inspection.actionStarted(this);
    if (this.def.style === 'async') return this.startAsync();
    this.host.blocks.run(this, this, this.firstBlock, undefined);
  }

  private firstBlock(): void {
    try {
      const result = this.def.fn(this.trigger(), this);
      if (result === undefined) this.finish();
      else if (typeof (result as Generator).next === 'function' && typeof (result as Generator).throw === 'function') {
        this.gen = result as Generator<unknown, void, unknown>;
        this.drive(this.gen.next());
      } else if (typeof (result as PromiseLike<void>).then === 'function') {
        // A plain function that returned a promise (e.g. transpiled async): treated as async, unguarded.
        (result as PromiseLike<void>).then(
          () => this.finish(),
          (error) => this.fail(error),
        );
      } else this.finish();
    } catch (error) {
      this.fail(error);
    }
  }

  private more(): ActivationRare {
    return (this.stepsMade().rare ??= new ActivationRare());
  }

  private startAsync(): void {
    // S5: through its own named async wrapper, which stays on the stack of the action's own code (action-frames.ts).
    const fn = this.def.fn as (e: AgentEvent, c: RunnerContext) => PromiseLike<void>;
    const { wrapper, name } = actionWrapper();
    const rare = this.more();
    rare.frameName = isNativeAsync(fn) ? name : null; // compiled below ES2017: the old rule (scope only)
    rare.inFirstBlock = true;
    try {
      void asyncScope.run(this, wrapper, fn, this.trigger(), this, this);
    } catch (error) {
      this.fail(error); // a throw before the wrapper ran (the trigger)
    } finally {
      rare.inFirstBlock = false;
    }
  }

  /** {@link ActionEnd}: the async action's promise settled (called by its wrapper). */
  asyncSettled(failed: boolean, error: unknown): void {
    if (failed) this.fail(error);
    else this.finish();
  }

  /** Mailbox turn: resumes a suspended generator with the outcome of the call it waits on. */
  process(): void {
    if (this.state !== SUSPENDED || this.waitingOn === null || this.host.ended) return;
    this.state = RUNNING;
    this.host.inspection.actionResumed(this);
    this.host.blocks.run(this, this, this.resumeBlock, undefined);
  }

  private resumeBlock(): void {
    const call = this.waitingOn as AsyncCall<unknown>;
    this.waitingOn = null;
    try {
      call.observed = true;
      const gen = this.gen as Generator<unknown, void, unknown>;
      this.drive(call.fulfilled ? gen.next(call.value) : gen.throw(call.error));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Steps the generator until it waits on an unsettled call or returns. */
  private drive(step: IteratorResult<unknown, void>): void {
    const gen = this.gen as Generator<unknown, void, unknown>;
    while (step.done !== true) {
      const call = step.value;
      if (!(call instanceof AsyncCall)) {
        throw new TypeError(
          `Action \`${this.def.name}\` yielded ${String(call)}; generator actions may only wait on calls: ` +
            '`const r = yield* ctx.executeAsync(fn, ...args)`.',
        );
      }
      if (!call.settled) {
        this.waitingOn = call;
        call.waiter = this;
        this.state = SUSPENDED;
        this.host.inspection.actionSuspended(this);
        return;
      }
      call.observed = true;
      step = call.fulfilled ? gen.next(call.value) : gen.throw(call.error);
    }
    this.finish();
  }

  /** A call this activation is waiting on settled: resume through the mailbox. */
  wake(): void {
    this.host.resume(this);
  }

  private finish(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    const steps = this.steps;
    if (steps !== null) steps.gen = null;
    const host = this.host;
    if (host.ended) return;
    if (host.inspection.attached) host.inspection.actionFinished(this);
    const unread = steps?.rare?.failures?.find((c) => !c.observed);
    if (unread !== undefined) return this.failAfterDone(unread.error);
    host.finished(this);
  }

  fail(error: unknown): void {
    this.state = DONE;
    this.gen = null;
    if (this.host.ended) return;
    this.failAfterDone(error);
  }

  private failAfterDone(error: unknown): void {
    this.host.inspection.actionFailed(this, error);
    this.host.failed(this, error);
  }

  /** The run was abandoned: let a suspended generator run its `finally` blocks. */
  cancel(): void {
    const gen = this.gen;
    this.gen = null;
    this.state = DONE;
    if (gen !== null) this.host.blocks.run(this, gen, returnQuietly, undefined);
  }

  // ---- the context ------------------------------------------------------------------------

  /**
   * S5: context members work only in this action's own sync blocks. A generator or plain action's
   * block holds the runtime's lock (`blocks.current`). An async action's code runs in its
   * AsyncLocalStorage scope — and so does a timer or callback it registered: among those, only the
   * action's own code passes (see {@link inOwnCode}).
   */
  private guard(member: string): void {
    const host = this.host;
    const allowed = this.def.style === 'async' ? asyncScope.getStore() === this : host.blocks.current === this;
    // A finished action's context (kept by a timer, a callback, or in a variable — also one that carries the
    // async scope of an async action) says so, whatever the style.
    if (!allowed) throw new AsyncBlockAccessError(this.def.name, member, this.state === DONE ? 'after' : 'outside');
    if (this.state === DONE) throw new AsyncBlockAccessError(this.def.name, member, 'after');
    if (host.ended)
      throw new AbortedError(
        `run ${host.seq} of key \`${describeKey(host.key)}\` has ended; \`ctx.${member}\` is no longer available`,
      );
    const rare = this.rare;
    if (rare !== null && rare.frameName !== null && !this.inOwnCode(rare, rare.frameName, this.guard))
      throw new AsyncBlockAccessError(this.def.name, member, 'suspended');
  }

  /**
   * An async action's context is used in its scope: is it the action's own code — the action, or an
   * async function it awaits — rather than a timer, `.then` callback or bound function that runs while
   * it is suspended? No sync block of another activation (nor an async block) may hold the lock, and
   * the action's wrapper must be on the stack (lib/runtime/action-frames.ts). No stack is captured
   * in the first sync block (until the first await, only code the action calls runs), and at most
   * once per later turn: an await continuation is a promise job whose resource (a Promise) runs
   * once, so the verdict is kept for it.
   */
  private inOwnCode(rare: ActivationRare, frameName: string, guard: (member: string) => void): boolean {
    if (this.host.blocks.current !== null) return false;
    // Until its first await, everything that runs is called by the action (its wrapper is a synchronous frame).
    if (rare.inFirstBlock) return true;
    const turn = currentResource();
    if (turn === rare.ownTurn) return true;
    if (!ownCode(frameName, guard)) return false;
    if (turn instanceof Promise) rare.ownTurn = turn;
    return true;
  }

  sendEvent(event: AgentEvent, options?: SendOptions): void {
    this.guard('sendEvent');
    const delay = options?.delay;
    if (delay === undefined || delay === 0) return this.host.send(this, event, this.sendCount++);
    checkTime(this.def.name, 'delay', delay);
    // A delayed send is a timer call (durable with a store); the event is validated now, routed when it fires.
    const host = this.host;
    const routed = host.prepare(this, event, this.sendCount++);
    const call = new AsyncCall<void>(this, this.callCount++, SEND_LATER_FN, [routed.type, delay], undefined);
    call.observed = true;
    call.onSettled((c) => {
      if (c.fulfilled && !host.ended) host.sendPrepared(this, routed);
    });
    host.park(this, call as AsyncCall<unknown>, { deadline: this.deadline(delay), fire: fulfil });
  }

  waitForEvent<E extends EventType>(type: E, options?: WaitOptions<EventOf<E>>): AsyncCall<EventOf<E>> {
    this.guard('waitForEvent');
    checkWait(this.host.agent, this.def.name, type, options);
    const timeout = options?.timeout;
    const call = new AsyncCall<EventOf<E>>(this, this.callCount++, WAIT_FN, [type.type], undefined);
    const action = this.def.name;
    this.host.park(this, call as AsyncCall<unknown>, {
      type: type.type,
      match: options?.match as ((event: AgentEvent) => boolean) | undefined,
      deadline: timeout === undefined ? undefined : this.deadline(timeout),
      fire: (c) => c.resolveWith(false, new WaitTimeoutError(action, type.type, timeout as number)),
    });
    return call;
  }

  sleep(ms: number): AsyncCall<void> {
    this.guard('sleep');
    checkTime(this.def.name, 'ms', ms);
    const call = new AsyncCall<void>(this, this.callCount++, SLEEP_FN, [ms], undefined);
    this.host.park(this, call as AsyncCall<unknown>, { deadline: this.deadline(ms), fire: fulfil });
    return call;
  }

  sleepUntil(time: number): AsyncCall<void> {
    this.guard('sleepUntil');
    if (typeof time !== 'number' || Number.isNaN(time)) checkTime(this.def.name, 'time', NaN);
    const call = new AsyncCall<void>(this, this.callCount++, SLEEP_UNTIL_FN, [time], undefined);
    this.host.park(this, call as AsyncCall<unknown>, {
      deadline: Number.isFinite(time) || time === -Infinity ? Math.max(time, this.now()) : undefined,
      fire: fulfil,
    });
    return call;
  }

  /** Absolute deadline `ms` from now; `undefined` for Infinity (never). */
  private deadline(ms: number): number | undefined {
    return Number.isFinite(ms) ? this.now() + ms : undefined;
  }

  executeAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): AsyncCall<BlockResult<R>> {
    return this.call(undefined, fn, args);
  }

  executeAsyncWith<A extends unknown[], R>(
    options: AsyncCallOptions,
    fn: (...args: A) => R,
    ...args: A
  ): AsyncCall<BlockResult<R>> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        `Expected the options of executeAsyncWith in action \`${this.def.name}\` to be an object, got ${String(options)}.`,
      );
    }
    checkCallOptions(options, this.def.name);
    const budget = options.budget;
    if (budget !== undefined) {
      const budgets = this.host.budgets;
      if (budgets === undefined || !budgets.names.includes(budget))
        throw new UnknownBudgetError(budget, this.def.name, budgets?.names ?? []);
    }
    return this.call(options, fn, args);
  }

  private call<R>(
    options: AsyncCallOptions | undefined,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
  ): AsyncCall<R> {
    this.guard('executeAsync');
    if (typeof fn !== 'function') {
      throw new TypeError(
        `Expected executeAsync in action \`${this.def.name}\` to get a function, got \`${String(fn)}\` (${typeof fn}).`,
      );
    }
    const call = new AsyncCall<R>(this, this.callCount++, fn, args, options);
    this.host.submit(this, call as AsyncCall<unknown>);
    return call;
  }

  all<const T extends readonly Call<unknown>[]>(calls: T): AsyncCall<AllResults<T>> {
    this.guard('all');
    if (!Array.isArray(calls) || !calls.every(isCall)) {
      throw new TypeError(
        `Expected ctx.all in action \`${this.def.name}\` to get an array of calls made by ctx.executeAsync.`,
      );
    }
    const combined = new AsyncCall<AllResults<T>>(this, `all${this.callCount++}`, noop, [], undefined);
    this.host.combine(this, combined as AsyncCall<unknown>);
    const values = new Array<unknown>(calls.length);
    let left = calls.length;
    if (left === 0) combined.resolveWith(true, values);
    (calls as readonly AsyncCall<unknown>[]).forEach((c, i) => {
      c.observed = true;
      c.onSettled((settled) => {
        if (settled.rejected) combined.resolveWith(false, settled.error);
        else {
          values[i] = settled.value;
          if (--left === 0) combined.resolveWith(true, values);
        }
      });
    });
    return combined;
  }

  any<const T extends readonly Call<unknown>[]>(calls: T): AsyncCall<AnyResult<T>> {
    this.guard('any');
    if (!Array.isArray(calls) || calls.length === 0 || !calls.every(isCall)) {
      throw new TypeError(
        `Expected ctx.any in action \`${this.def.name}\` to get a non-empty array of calls (executeAsync, waitForEvent, sleep).`,
      );
    }
    const combined = new AsyncCall<AnyResult<T>>(this, `any${this.callCount++}`, noop, [], undefined);
    this.host.combine(this, combined as AsyncCall<unknown>);
    const list = calls as readonly AsyncCall<unknown>[];
    const settled = (winner: AsyncCall<unknown>): void => {
      if (combined.settled) return;
      const index = list.indexOf(winner);
      if (winner.fulfilled) combined.resolveWith(true, { index, value: winner.value });
      else combined.resolveWith(false, winner.error);
      // The others lost the race: cancel them (not journaled, so a replay races them again).
      for (const c of list) if (c !== winner && !c.settled) c.cancel('another call of ctx.any settled first');
    };
    for (const c of list) c.observed = true;
    // Already settled ones first, in list order (a replay settles recorded calls at once).
    const first = list.find((c) => c.settled);
    if (first !== undefined) settled(first);
    else for (const c of list) c.onSettled(settled);
    return combined;
  }

  get shortTermMemory(): MemoryRef {
    this.guard('shortTermMemory');
    return (this.more().stmView ??= new MemoryView(this, 'shortTermMemory'));
  }

  get sensoryMemory(): MemoryRef {
    this.guard('sensoryMemory');
    return (this.more().sensoryView ??= new MemoryView(this, 'sensoryMemory'));
  }

  resource<T = unknown>(name: string): T {
    this.guard('resource');
    const agent = this.host.agent;
    const resources = agent.resources;
    if (!Object.hasOwn(resources, name)) {
      throw new UnknownResourceError(this.def.name, agent.name, name, Object.keys(resources));
    }
    return resources[name] as T;
  }

  /** {@link MemoryHost}: the memory a view shows, guarded (S5). */
  memoryNode(kind: MemoryKind): MemoryNode {
    this.guard(kind);
    return this.host.memory(kind);
  }

  /** {@link MemoryHost}: a sync block of this activation wrote to a memory. */
  memoryWritten(kind: MemoryKind): void {
    this.host.memoryWritten(kind);
  }

  // ---- CallHost ---------------------------------------------------------------------------

  invokeBlock(call: AsyncCall<unknown>): void {
    // S5: no activation owns the context while the block runs — nor while its result is followed:
    // an Observable's subscribe body and a thenable's `then` are block code too.
    this.host.blocks.run(null, this.host.agent, invoke, call);
  }

  /** {@link CallHost}: under a TestScheduler a Promise-returning block fails its call with VirtualTimeError (S11). */
  checkResult(result: unknown): void {
    if (this.host.virtualTime && isThenable(result)) {
      result.then(undefined, () => undefined); // its outcome is not wanted: no unhandled rejection
      throw new VirtualTimeError(this.host.agent.name, this.def.name, 'promise-block');
    }
  }

  callStarted(call: AsyncCall<unknown>): void {
    this.host.inspection.asyncStarted(this, call);
  }

  callSettled(call: AsyncCall<unknown>): void {
    const host = this.host;
    if (host.ended) return;
    host.settled(this, call);
    if (call.waiter !== null) call.waiter.wake(call);
    else if (call.rejected && !call.observed) {
      if (this.state === DONE) this.failAfterDone(call.error);
      else {
        (this.more().failures ??= []).push(call); // rare: only failed calls are kept for the check in finish()
        host.postRun();
      }
    } else host.postRun();
  }

  schedule(work: () => void, delay: number): Subscription {
    return this.host.scheduler.schedule(work, delay);
  }

  resubmit(call: AsyncCall<unknown>): void {
    this.host.resubmit(call);
  }
}

/**
 * What only a generator action, or one that makes calls, needs of its activation, made on first use:
 * its generator, the call it waits on, its mailbox flag, its place in the run's list of unfinished
 * activations, its call counter, and the {@link ActivationRare} part if that is needed too.
 */
class ActivationSteps {
  /** Queued in the runtime's mailbox. */
  posted = false;
  gen: Generator<unknown, void, unknown> | null = null;
  waitingOn: AsyncCall<unknown> | null = null;
  callCount = 0;
  nextInRun: Activation | null = null;
  rare: ActivationRare | null = null;
}
// Shape anchor (see lib/runtime/shape-anchor.ts): made per activation that needs it, so none may be alive in an idle gap.
anchorShape(new ActivationSteps());

/**
 * The part of an activation that most activations never use, made on first use: an async action's
 * S5 stack check, the memory views, failed calls nobody read. Every activation that has
 * {@link ActivationSteps} pays one field there for it instead of six.
 */
class ActivationRare {
  /** S5, async actions: the name of the wrapper this action runs in (`null`: no stack check, see `inOwnCode`). */
  frameName: string | null = null;
  /** S5: the turn (a Promise job's resource) already found to be the action's own code. */
  ownTurn: object | null = null;
  /** S5: the async action's first sync block is running (its wrapper is on the synchronous stack). */
  inFirstBlock = false;
  stmView: MemoryRef | null = null;
  sensoryView: MemoryRef | null = null;
  /** Calls of this activation that failed while it was still going; one nobody read fails it when it finishes. */
  failures: AsyncCall<unknown>[] | null = null;
}
// Shape anchor (see lib/runtime/shape-anchor.ts): made per activation that needs it, so none may be alive in an idle gap.
anchorShape(new ActivationRare());

/** Runs a call's block (S13: an in-doubt call after a crash runs its reconciler instead). */
function invoke(this: Agent, call: AsyncCall<unknown>): void {
  if (this.hasAsyncActions) asyncScope.run(IN_BLOCK, runAndFollow, call);
  else runAndFollow(call);
}

/** Runs the block (or, in doubt after a crash, its reconciler) and subscribes to / `then`s its result, all inside the lock. */
function runAndFollow(call: AsyncCall<unknown>): void {
  const fn = call.reconciling && call.options?.reconcile !== undefined ? call.options.reconcile : call.fn;
  call.follow(fn(...(call.args as never[])));
}

/** A generator's `finally` that throws while its run is being abandoned has nowhere to report to. */
function returnQuietly(this: Generator<unknown, void, unknown>): void {
  try {
    this.return(undefined);
  } catch {
    // see above
  }
}

function isCall(value: unknown): value is AsyncCall<unknown> {
  return value instanceof AsyncCall;
}

function noop(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

function fulfil(call: AsyncCall<unknown>): void {
  call.resolveWith(true, undefined);
}
