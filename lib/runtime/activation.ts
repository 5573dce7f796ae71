import { AsyncLocalStorage } from 'node:async_hooks';
import type { Subscription } from 'rxjs';
import type { ActionDef } from '../agent/define-agent';
import type { AllResults, RunnerContext } from '../agent/runner-context';
import { AbortedError, AsyncBlockAccessError, RxAgentsError } from '../errors';
import type { AgentEvent } from '../events/define-event';
import { AsyncCall, type AsyncCallOptions, type BlockResult, type CallHost } from './async-call';
import type { MemoryNode, MemoryRef } from './memory';
import { MemoryView, type MemoryHost, type MemoryKind } from './memory-view';
import type { Run } from './run';
import { describeKey } from '../describe-key';

/**
 * Tracks which async action (or async block) the current async continuation belongs to, so
 * that S5 holds for `await`-style actions too. Only entered when an agent has async actions.
 */
export const asyncScope = new AsyncLocalStorage<Activation | typeof IN_BLOCK>();
const IN_BLOCK = Symbol('in-async-block');

const RUNNING = 0;
const SUSPENDED = 1;
const DONE = 2;

/**
 * One action triggered by one event in one run: its code blocks, its calls, its context.
 * It *is* the `RunnerContext` the action receives.
 */
export class Activation implements RunnerContext, CallHost, MemoryHost {
  /** Queued in the runtime's mailbox. */
  posted = false;
  state: 0 | 1 | 2 = RUNNING;
  private gen: Generator<unknown, void, unknown> | null = null;
  private waitingOn: AsyncCall<unknown> | null = null;
  private callCount = 0;
  private sendCount = 0;
  private idCache: string | null = null;
  private stmView: MemoryRef | null = null;
  private sensoryView: MemoryRef | null = null;
  /** Calls of this activation that failed while it was still going; one nobody read fails it when it finishes. */
  private failures: AsyncCall<unknown>[] | null = null;
  /** The next activation of its run still going after its first sync block (see `Run`). */
  nextInRun: Activation | null = null;

  constructor(
    readonly agentRun: Run,
    readonly def: ActionDef,
    readonly event: AgentEvent,
  ) {}

  /** `<event id>><action name>`: stable across replays (S13). */
  get id(): string {
    return (this.idCache ??= `${this.event.id}>${this.def.name}`);
  }

  get key(): unknown {
    return this.agentRun.key;
  }
  get run(): number {
    return this.agentRun.seq;
  }
  get action(): string {
    return this.def.name;
  }
  get actionName(): string {
    return this.def.name;
  }
  get signal(): AbortSignal {
    return this.agentRun.signal;
  }
  now(): number {
    return this.agentRun.rt.scheduler.now();
  }

  // ---- driving the action's blocks -------------------------------------------------------

  /** Runs the first sync block. */
  start(): void {
    const rt = this.agentRun.rt;
    if (rt.inspect !== undefined)
      rt.emit({
        type: 'action.started',
        ...this.base(),
        action: this.def.name,
        activation: this.id,
        event: this.event.id,
      });
    if (this.def.style === 'async') return this.startAsync();
    const prev = rt.current;
    rt.current = this;
    try {
      const result = this.def.fn(this.event, this);
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
    } finally {
      rt.current = prev;
    }
  }

  private startAsync(): void {
    let promise: PromiseLike<void>;
    try {
      promise = asyncScope.run(
        this,
        this.def.fn as (e: AgentEvent, c: RunnerContext) => PromiseLike<void>,
        this.event,
        this,
      );
    } catch (error) {
      return this.fail(error);
    }
    promise.then(
      () => this.finish(),
      (error) => this.fail(error),
    );
  }

  /** Resumes a suspended generator (called from the mailbox). */
  process(): void {
    const call = this.waitingOn;
    if (this.state !== SUSPENDED || call === null || this.agentRun.ended) return;
    this.waitingOn = null;
    this.state = RUNNING;
    const rt = this.agentRun.rt;
    if (rt.inspect !== undefined)
      rt.emit({ type: 'action.resumed', ...this.base(), action: this.def.name, activation: this.id });
    const prev = rt.current;
    rt.current = this;
    try {
      call.observed = true;
      const gen = this.gen as Generator<unknown, void, unknown>;
      this.drive(call.status === 1 ? gen.next(call.value) : gen.throw(call.error));
    } catch (error) {
      this.fail(error);
    } finally {
      rt.current = prev;
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
        const rt = this.agentRun.rt;
        if (rt.inspect !== undefined)
          rt.emit({ type: 'action.suspended', ...this.base(), action: this.def.name, activation: this.id });
        return;
      }
      call.observed = true;
      step = call.status === 1 ? gen.next(call.value) : gen.throw(call.error);
    }
    this.finish();
  }

  /** A call this activation is waiting on settled: resume through the mailbox. */
  wake(): void {
    this.agentRun.rt.post(this);
  }

  private finish(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.gen = null;
    const run = this.agentRun;
    if (run.ended) return;
    const rt = run.rt;
    if (rt.inspect !== undefined)
      rt.emit({ type: 'action.finished', ...this.base(), action: this.def.name, activation: this.id });
    const unread = this.failures?.find((c) => !c.observed);
    if (unread !== undefined) return this.failAfterDone(unread.error);
    run.live--;
    rt.post(run);
  }

  fail(error: unknown): void {
    const wasDone = this.state === DONE;
    this.state = DONE;
    this.gen = null;
    if (this.agentRun.ended) return;
    if (!wasDone) this.agentRun.live--;
    this.failAfterDone(error);
  }

  private failAfterDone(error: unknown): void {
    const rt = this.agentRun.rt;
    if (rt.inspect !== undefined)
      rt.emit({ type: 'action.failed', ...this.base(), action: this.def.name, activation: this.id, error });
    rt.actionFailed(this, error);
  }

  /** The run was abandoned: let a suspended generator run its `finally` blocks. */
  cancel(): void {
    const gen = this.gen;
    this.gen = null;
    this.state = DONE;
    if (gen === null) return;
    const rt = this.agentRun.rt;
    const prev = rt.current;
    rt.current = this;
    try {
      gen.return(undefined);
    } catch {
      // A finally block that throws while the run is being abandoned has nowhere to report to.
    } finally {
      rt.current = prev;
    }
  }

  // ---- the context ------------------------------------------------------------------------

  /** S5: context members work only in this action's own sync blocks. */
  private guard(member: string): void {
    const allowed = this.def.style === 'async' ? asyncScope.getStore() === this : this.agentRun.rt.current === this;
    if (!allowed) throw new AsyncBlockAccessError(this.def.name, member);
    if (this.agentRun.ended)
      throw new AbortedError(
        `run ${this.agentRun.seq} of key \`${describeKey(this.agentRun.key)}\` has ended; \`ctx.${member}\` is no longer available`,
      );
  }

  sendEvent(event: AgentEvent): void {
    this.guard('sendEvent');
    this.agentRun.send(this, event, this.sendCount++);
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
    this.agentRun.rt.submit(call as AsyncCall<unknown>);
    return call;
  }

  all<const T extends readonly AsyncCall<unknown>[]>(calls: T): AsyncCall<AllResults<T>> {
    this.guard('all');
    if (!Array.isArray(calls) || calls.some((c) => !(c instanceof AsyncCall))) {
      throw new TypeError(
        `Expected ctx.all in action \`${this.def.name}\` to get an array of calls made by ctx.executeAsync.`,
      );
    }
    const combined = new AsyncCall<AllResults<T>>(this, `all${this.callCount++}`, noop, [], undefined);
    this.agentRun.live++;
    const values = new Array<unknown>(calls.length);
    let left = calls.length;
    if (left === 0) combined.resolveWith(true, values);
    calls.forEach((c, i) => {
      c.observed = true;
      c.onSettled((settled) => {
        if (settled.status === 2) combined.resolveWith(false, settled.error);
        else {
          values[i] = settled.value;
          if (--left === 0) combined.resolveWith(true, values);
        }
      });
    });
    return combined;
  }

  get shortTermMemory(): MemoryRef {
    this.guard('shortTermMemory');
    return (this.stmView ??= new MemoryView(this, 'shortTermMemory'));
  }

  get sensoryMemory(): MemoryRef {
    this.guard('sensoryMemory');
    return (this.sensoryView ??= new MemoryView(this, 'sensoryMemory'));
  }

  resource<T = unknown>(name: string): T {
    this.guard('resource');
    const resources = this.agentRun.rt.agent.resources;
    if (!Object.hasOwn(resources, name)) {
      throw new RxAgentsError(
        'ERR_UNKNOWN_RESOURCE',
        `Action \`${this.def.name}\` asked for resource \`${name}\`, but agent \`${this.agentRun.rt.agent.name}\` has ` +
          `${
            Object.keys(resources).length
              ? Object.keys(resources)
                  .map((n) => `\`${n}\``)
                  .join(', ')
              : 'no resources'
          }.`,
      );
    }
    return resources[name] as T;
  }

  /** {@link MemoryHost}: the memory a view shows, guarded (S5). */
  memoryNode(kind: MemoryKind): MemoryNode {
    this.guard(kind);
    return kind === 'shortTermMemory' ? this.agentRun.rt.shortTermMemory(this.agentRun.key) : this.agentRun.sensory();
  }

  /** {@link MemoryHost}: a sync block of this activation wrote to a memory. */
  memoryWritten(kind: MemoryKind): void {
    this.agentRun.rt.memoryChanged(this.agentRun, kind);
  }

  // ---- CallHost ---------------------------------------------------------------------------

  invokeBlock(call: AsyncCall<unknown>): unknown {
    const rt = this.agentRun.rt;
    const prev = rt.current;
    rt.current = null;
    try {
      // S13: an in-doubt call after a crash runs its reconciler instead of the block.
      const fn = call.reconciling && call.options?.reconcile !== undefined ? call.options.reconcile : call.fn;
      return rt.agent.hasAsyncActions
        ? asyncScope.run(IN_BLOCK, fn, ...(call.args as never[]))
        : fn(...(call.args as never[]));
    } finally {
      rt.current = prev;
    }
  }

  callStarted(call: AsyncCall<unknown>): void {
    const rt = this.agentRun.rt;
    if (rt.inspect !== undefined)
      rt.emit({ type: 'async.started', ...this.base(), action: this.def.name, call: call.id });
  }

  callSettled(call: AsyncCall<unknown>): void {
    const run = this.agentRun;
    if (run.ended) return;
    run.live--;
    const rt = run.rt;
    rt.callSettled(call);
    if (call.waiter !== null) call.waiter.wake(call);
    else if (call.status === 2 && !call.observed) {
      if (this.state === DONE) this.failAfterDone(call.error);
      else {
        (this.failures ??= []).push(call); // rare: only failed calls are kept for the check in finish()
        rt.post(run);
      }
    } else rt.post(run);
  }

  schedule(work: () => void, delay: number): Subscription {
    return this.agentRun.rt.scheduler.schedule(work, delay);
  }

  private base(): { time: number; key: unknown; run: number } {
    return { time: this.agentRun.rt.scheduler.now(), key: this.agentRun.key, run: this.agentRun.seq };
  }
}

function noop(): void {}
