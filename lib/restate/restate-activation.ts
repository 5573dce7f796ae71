import type { ActionDef, Agent } from '../agent/define-agent';
import type { AsyncCallOptions, BlockResult, Call } from '../context/call';
import type { MemoryRef } from '../context/memory-ref';
import type { AllResults, AnyResult, RunnerContext, WaitOptions } from '../context/runner-context';
import { AbortedError, AsyncBlockAccessError, RxAgentsError } from '../errors';
import type { AgentEvent, EventOf, EventType } from '../events/define-event';
import type { MemoryNode } from '../runtime/memory';
import { MemoryView, type MemoryKind } from '../runtime/memory-view';
import { checkTime, checkWait } from '../runtime/parking';
import { RestateStepError } from './errors';
import { RestateCall } from './restate-call';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks');

/** Which async action (or block) the current async continuation belongs to (S5 for `await` actions). */
export const restateScope = new AsyncLocalStorage<RestateActivation | typeof IN_BLOCK>();
/** The store value inside an `executeAsync` block. */
export const IN_BLOCK = Symbol('in-restate-block');

/** What an activation needs from its run: the driver of one Restate invocation. */
export interface ActivationHost {
  readonly key: string;
  readonly seq: number;
  readonly signal: AbortSignal;
  readonly now: number;
  readonly ended: boolean;
  /** A step of the driver is open: context calls land at a deterministic journal position. */
  readonly stepOpen: boolean;
  /** The activation whose sync block is running (generator and plain actions). */
  current: RestateActivation | null;
  readonly resources: Readonly<Record<string, unknown>>;
  readonly agentName: string;
  readonly hasAsyncActions: boolean;
  /** The run's input (`ctx.input`). */
  readonly input: unknown;
  send(from: RestateActivation, event: AgentEvent, index: number, delay: number): void;
  readonly agent: Agent;
  /** A durable timer of `ms` (`ctx.sleep`). */
  startTimer(from: RestateActivation, id: string, ms: number): RestateCall<unknown>;
  /** A wait for a signal of `type` (S14). */
  startWait(
    from: RestateActivation,
    id: string,
    type: string,
    match: ((event: AgentEvent) => boolean) | undefined,
    timeout: number | undefined,
  ): RestateCall<unknown>;
  /** Starts `fn(...args)` as a journaled `ctx.run` step named after the call. */
  startCall(
    from: RestateActivation,
    id: string,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
    options: AsyncCallOptions | undefined,
  ): RestateCall<unknown>;
  memory(kind: MemoryKind): MemoryNode;
  memoryWritten(kind: MemoryKind): void;
  activationDone(activation: RestateActivation, error: unknown): void;
}

/**
 * One action triggered by one event in a run on Restate. It *is* the `RunnerContext` the action
 * receives; its blocks are driven like the embedded runtime's (plain, generator with `yield*`,
 * async with `await`), but every call it waits on is settled by the run driver.
 */
export class RestateActivation implements RunnerContext {
  done = false;
  private gen: Generator<unknown, void, unknown> | null = null;
  private callCount = 0;
  private sendCount = 0;
  private stm: MemoryRef | null = null;
  private sensory: MemoryRef | null = null;
  /** Calls that failed while nobody was reading them; one still unread fails the action when it finishes. */
  private failures: RestateCall<unknown>[] | null = null;
  readonly id: string;

  constructor(
    private readonly host: ActivationHost,
    readonly def: ActionDef,
    readonly event: AgentEvent,
  ) {
    this.id = `${event.id}>${def.name}`;
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
  get signal(): AbortSignal {
    return this.host.signal;
  }
  /** The run's start time (journaled with the input), the same on every replay. */
  now(): number {
    return this.host.now;
  }

  /** What the action function gets: its event, or for a join (`allOf`) the joined events. */
  private trigger(): AgentEvent {
    return this.def.join === undefined ? this.event : (this.event.payload as AgentEvent);
  }

  // ---- driving -----------------------------------------------------------------------------

  start(): void {
    const host = this.host;
    if (this.def.style === 'async') {
      let promise: PromiseLike<void>;
      try {
        promise = restateScope.run(
          this,
          this.def.fn as (e: AgentEvent, c: RunnerContext) => PromiseLike<void>,
          this.trigger(),
          this,
        );
      } catch (error) {
        return this.finish(error);
      }
      promise.then(
        () => this.finish(undefined),
        (error) => this.finish(error),
      );
      return;
    }
    const prev = host.current;
    host.current = this;
    try {
      const result = this.def.fn(this.trigger(), this);
      if (
        result !== undefined &&
        typeof (result as Generator).next === 'function' &&
        typeof (result as Generator).throw === 'function'
      ) {
        this.gen = result as Generator<unknown, void, unknown>;
        this.drive(this.gen.next());
      } else if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
        (result as PromiseLike<void>).then(
          () => this.finish(undefined),
          (error) => this.finish(error),
        );
      } else this.finish(undefined);
    } catch (error) {
      this.finish(error);
    } finally {
      host.current = prev;
    }
  }

  /** A call this generator waits on settled (the driver's delivery step): resume synchronously. */
  wake(call: RestateCall<unknown>): void {
    if (this.done || this.gen === null) return;
    call.waiter = null;
    const host = this.host;
    const prev = host.current;
    host.current = this;
    try {
      call.observed = true;
      this.drive(call.status === 'fulfilled' ? this.gen.next(call.value) : this.gen.throw(call.error));
    } catch (error) {
      this.finish(error);
    } finally {
      host.current = prev;
    }
  }

  private drive(step: IteratorResult<unknown, void>): void {
    const gen = this.gen as Generator<unknown, void, unknown>;
    while (step.done !== true) {
      const call = step.value;
      if (!(call instanceof RestateCall)) {
        throw new TypeError(
          `Action \`${this.def.name}\` yielded ${String(call)}; generator actions may only wait on calls: ` +
            '`const r = yield* ctx.executeAsync(fn, ...args)`.',
        );
      }
      if (!call.settled) {
        call.waiter = this;
        return;
      }
      call.observed = true;
      step = call.status === 'fulfilled' ? gen.next(call.value) : gen.throw(call.error);
    }
    this.finish(undefined);
  }

  private finish(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.gen = null;
    if (error === undefined) {
      const unread = this.failures?.find((c) => !c.observed);
      if (unread !== undefined) error = unread.error;
    }
    this.host.activationDone(this, error);
  }

  /** The run ended with this activation suspended: let a generator run its `finally` blocks. */
  cancel(): void {
    const gen = this.gen;
    this.gen = null;
    this.done = true;
    if (gen === null) return;
    const prev = this.host.current;
    this.host.current = this;
    try {
      gen.return(undefined);
    } catch {
      // A finally block that throws while the run is being abandoned has nowhere to report to.
    } finally {
      this.host.current = prev;
    }
  }

  /** Driver: a call of this activation settled. */
  callSettled(call: RestateCall<unknown>): void {
    if (call.status === 'rejected' && call.waiter === null && !call.observed) {
      if (this.done) this.host.activationDone(this, call.error);
      else (this.failures ??= []).push(call);
    }
  }

  // ---- the context ---------------------------------------------------------------------------

  /** S5 (own sync block only), then the Restate rule: only inside a driver step. */
  private guard(member: string): void {
    const allowed = this.def.style === 'async' ? restateScope.getStore() === this : this.host.current === this;
    if (!allowed) throw new AsyncBlockAccessError(this.def.name, member);
    if (this.host.ended)
      throw new AbortedError(
        `run ${this.host.seq} of key \`${this.host.key}\` has ended; \`ctx.${member}\` is no longer available`,
      );
    if (!this.host.stepOpen) throw new RestateStepError(this.def.name, member);
  }

  sendEvent(event: AgentEvent, options?: { readonly delay?: number }): void {
    this.guard('sendEvent');
    const delay = options?.delay;
    if (delay !== undefined) checkTime(this.def.name, 'delay', delay);
    this.host.send(this, event, this.sendCount++, delay ?? 0);
  }

  get input(): unknown {
    return this.host.input;
  }

  /** S14 on Restate: a wait for a signal of `type`, taken from the key's signals object (see `RestateWaits`). */
  waitForEvent<E extends EventType>(type: E, options?: WaitOptions<EventOf<E>>): Call<EventOf<E>> {
    this.guard('waitForEvent');
    const checked = checkWait(this.host.agent, this.def.name, type, options);
    const match = options?.match as ((event: AgentEvent) => boolean) | undefined;
    return this.host.startWait(this, `${this.id}#${this.callCount++}`, checked.type, match, options?.timeout) as Call<
      EventOf<E>
    >;
  }

  /** A durable timer: Restate's `ctx.sleep` (a crash does not restart it from zero). */
  sleep(ms: number): Call<void> {
    this.guard('sleep');
    checkTime(this.def.name, 'ms', ms);
    return this.host.startTimer(this, `${this.id}#${this.callCount++}`, ms) as Call<void>;
  }

  /**
   * A durable timer until `time` (ms since the epoch, like `ctx.now()`). The wake-up time is
   * computed from the service's clock when the timer is first made, then journaled.
   */
  sleepUntil(time: number): Call<void> {
    this.guard('sleepUntil');
    checkTime(this.def.name, 'time', time);
    return this.host.startTimer(this, `${this.id}#${this.callCount++}`, time - Date.now()) as Call<void>;
  }

  /** The first of several calls to settle (in the order Restate's race journaled); the others are cancelled. */
  any<const T extends readonly Call<unknown>[]>(calls: T): Call<AnyResult<T>> {
    this.guard('any');
    const list = calls as unknown as readonly RestateCall<unknown>[];
    if (!Array.isArray(list) || list.length === 0 || list.some((c) => !(c instanceof RestateCall))) {
      throw new TypeError(
        `Expected ctx.any in action \`${this.def.name}\` to get a non-empty array of calls made by ctx (executeAsync, waitForEvent, sleep, ...).`,
      );
    }
    const combined = new RestateCall<unknown>(this, `${this.id}#any${this.callCount++}`);
    list.forEach((c, index) => {
      c.observed = true;
      c.onSettled((settled: RestateCall<unknown>) => {
        if (combined.settled) return;
        for (const other of list) if (other !== settled && !other.settled) other.cancel?.();
        if (settled.status === 'rejected') combined.settle(false, settled.error);
        else combined.settle(true, { index, value: settled.value });
      });
    });
    return combined as unknown as Call<AnyResult<T>>;
  }

  executeAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Call<BlockResult<R>> {
    return this.call(undefined, fn as (...args: never[]) => unknown, args);
  }

  executeAsyncWith<A extends unknown[], R>(
    options: AsyncCallOptions,
    fn: (...args: A) => R,
    ...args: A
  ): Call<BlockResult<R>> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        `Expected the options of executeAsyncWith in action \`${this.def.name}\` to be an object, got ${String(options)}.`,
      );
    }
    return this.call(options, fn as (...args: never[]) => unknown, args);
  }

  private call<R>(
    options: AsyncCallOptions | undefined,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
  ): Call<R> {
    this.guard('executeAsync');
    if (typeof fn !== 'function') {
      throw new TypeError(
        `Expected executeAsync in action \`${this.def.name}\` to get a function, got \`${String(fn)}\` (${typeof fn}).`,
      );
    }
    const call = this.host.startCall(this, `${this.id}#${this.callCount++}`, fn, args, options);
    return call as RestateCall<R>;
  }

  all<const T extends readonly Call<unknown>[]>(calls: T): Call<AllResults<T>> {
    this.guard('all');
    const list = calls as unknown as readonly RestateCall<unknown>[];
    if (!Array.isArray(list) || list.some((c) => !(c instanceof RestateCall))) {
      throw new TypeError(
        `Expected ctx.all in action \`${this.def.name}\` to get an array of calls made by ctx.executeAsync.`,
      );
    }
    const combined = new RestateCall<unknown[]>(this, `${this.id}#all${this.callCount++}`);
    const values = new Array<unknown>(list.length);
    let left = list.length;
    if (left === 0) combined.settle(true, values);
    list.forEach((c, i) => {
      c.observed = true;
      c.onSettled((settled: RestateCall<unknown>) => {
        if (settled.status === 'rejected') combined.settle(false, settled.error);
        else {
          values[i] = settled.value;
          if (--left === 0) combined.settle(true, values);
        }
      });
    });
    return combined as unknown as RestateCall<AllResults<T>>;
  }

  get shortTermMemory(): MemoryRef {
    this.guard('shortTermMemory');
    return (this.stm ??= new MemoryView(this.memoryHost(), 'shortTermMemory'));
  }

  get sensoryMemory(): MemoryRef {
    this.guard('sensoryMemory');
    return (this.sensory ??= new MemoryView(this.memoryHost(), 'sensoryMemory'));
  }

  resource<T = unknown>(name: string): T {
    this.guard('resource');
    const resources = this.host.resources;
    if (!Object.hasOwn(resources, name)) {
      const known = Object.keys(resources);
      throw new RxAgentsError(
        'ERR_UNKNOWN_RESOURCE',
        `Action \`${this.def.name}\` asked for resource \`${name}\`, but agent \`${this.host.agentName}\` has ` +
          `${known.length ? known.map((n) => `\`${n}\``).join(', ') : 'no resources'}.`,
      );
    }
    return resources[name] as T;
  }

  private memoryHost(): { memoryNode(kind: MemoryKind): MemoryNode; memoryWritten(kind: MemoryKind): void } {
    return {
      memoryNode: (kind) => {
        this.guard(kind);
        return this.host.memory(kind);
      },
      memoryWritten: (kind) => this.host.memoryWritten(kind),
    };
  }
}
