import type * as restate from '@restatedev/restate-sdk';
import { isObservable, type Observable } from 'rxjs';
import type { ActionDef, Agent } from '../agent/define-agent';
import {
  AbortedError,
  ActionError,
  AsyncTimeoutError,
  EmptyAsyncResultError,
  EventValidationError,
  RxAgentsError,
  describe,
} from '../errors';
import { InputEvent, OutputEvent, toIssues, type AgentEvent, type EventType } from '../events/define-event';
import type { AsyncCallOptions } from '../context/call';
import type { MemoryValue } from '../context/memory-ref';
import { MemoryNode, checkValue } from '../runtime/memory';
import type { MemoryKind } from '../runtime/memory-view';
import { RestateBlockError, RestateSerializationError } from './errors';
import { restateSdk } from './restate-sdk';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { setImmediate: nextMacrotask } = process.getBuiltinModule('node:timers/promises');
import { IN_BLOCK, RestateActivation, restateScope, type ActivationHost } from './restate-activation';
import { RestateCall, type RestateCallOwner } from './restate-call';
import type { Journaled, Pending } from './pending';
import type { StoredSignal } from './signals-object';
import { RestateWaits, type WaitsHost } from './restate-waits';

/** The object state key holding a key's run counter and short-term memory. */
export const STATE_KEY = 'rx-agents';
/** Header carrying the client's clock when it sent the input (journaled with the input; `ctx.now()`). */
export const NOW_HEADER = 'x-rx-agents-now';

/** What the handler keeps in the object's state. */
export interface StoredKeyState {
  readonly seq: number;
  readonly memory: Record<string, MemoryValue>;
}

/** One output of a run, as the handler returns it. */
export interface RestateOutput {
  readonly id: string;
  readonly payload: unknown;
}

/** What the handler returns for one input. */
export interface RestateRunResult {
  readonly run: number;
  readonly outputs: readonly RestateOutput[];
  /** Signals the run took from its key's signals object that no wait consumed (reported `ERR_SIGNAL_UNCONSUMED` by the client). */
  readonly unconsumed?: readonly StoredSignal[];
}

/** The type of the event a join action is started with; its payload is the joined events (as embedded). */
const JOINED = 'rx-agents/joined';

/**
 * Runs one agent run — everything one input triggers — inside a Restate virtual-object handler.
 *
 * The determinism rule (the whole point of this file). Restate replays a handler by matching the
 * commands it issues (`ctx.run`, state get/set) against the journal, in order. Actions here run
 * concurrently and Restate may complete their blocks in any order, so the driver never lets a
 * completion reach user code on its own. Instead:
 *
 * 1. Every context call is made inside a *step*; a step is a synchronous stretch of the driver plus,
 *    for agents with async actions, the microtasks that follow it (the driver waits one macrotask
 *    turn per round until no activity is left). A context call outside a step is refused
 *    (`RestateStepError`), so no command can be issued at a time the journal does not determine.
 * 2. Completions reach user code one at a time, in the order Restate's combinator chose: the driver
 *    awaits one `RestatePromise.race` over every command the run waits on (blocks, timers, signal
 *    doorbells, signal takes) and delivers the winner, in a step. Restate journals the order in
 *    which a combinator's promises complete, so on replay the same race has the same winner.
 * 3. The driver reads nothing but the input, the object state read at the start, and journaled
 *    outcomes; no clock, no randomness.
 *
 * By induction over steps, the sequence of commands issued is a function of the journal alone, so a
 * replay — after a crash of the service process, or of the server — issues the same commands in the
 * same order, and Restate hands back the recorded outcomes instead of running the blocks again.
 * Blocks still overlap (every `ctx.run` starts executing when made, S3/S12); what is serialised is
 * only the resumption of sync blocks within one run, one delivery per step.
 */
export class RestateRun implements ActivationHost, RestateCallOwner, WaitsHost {
  current: RestateActivation | null = null;
  stepOpen = false;
  ended = false;
  /** The run's input (`ctx.input`). */
  input: unknown = undefined;
  private readonly controller = new AbortController();
  private readonly queue: Array<{ type: string; id: string; payload: unknown }> = [];
  private readonly pending: Pending[] = [];
  private readonly live = new Set<RestateActivation>();
  private readonly outputs: RestateOutput[] = [];
  private readonly sensoryNode = new MemoryNode();
  private failure: unknown = null;
  /** The run's waits for signals (S14), made on its first wait. */
  waits: RestateWaits | null = null;
  /** Events collected for join actions (`allOf`), per action, per joined type. */
  private joins: Map<ActionDef, Array<Array<{ type: string; id: string; payload: unknown }>>> | null = null;
  /** Bumped by every sync effect (send, call, activation end): a quiet macrotask turn ends a step. */
  private activity = 0;

  constructor(
    readonly agent: Agent,
    readonly ctx: restate.ObjectContext,
    readonly serviceName: string,
    readonly key: string,
    readonly seq: number,
    readonly now: number,
    private readonly stmNode: MemoryNode,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get resources(): Readonly<Record<string, unknown>> {
    return this.agent.resources;
  }
  get agentName(): string {
    return this.agent.name;
  }
  get hasAsyncActions(): boolean {
    return this.agent.hasAsyncActions;
  }

  /** The short-term memory as it is now (written to object state when the run succeeds). */
  get shortTermMemory(): MemoryNode {
    return this.stmNode;
  }

  /** Drives the run to its end; resolves with its outputs, rejects with the run's failure. */
  async execute(input: unknown): Promise<RestateRunResult> {
    this.input = input;
    try {
      await this.step(() => this.queue.push({ type: InputEvent.type, id: String(this.seq), payload: input }));
      for (;;) {
        if (this.failure !== null) throw this.failure;
        if (this.pending.length === 0) {
          if (this.live.size === 0 && this.queue.length === 0) break;
          const stuck = [...this.live].map((a) => `\`${a.def.name}\``).join(', ');
          throw new RxAgentsError(
            'ERR_RESTATE_STUCK',
            `Run ${this.seq} of key \`${this.key}\` cannot go on: action(s) ${stuck} wait on something that is not a ctx call. ` +
              'On Restate an action may await only ctx calls (executeAsync, all, any, sleep, waitForEvent).',
          );
        }
        // Rule 2: deliver the winner of one race over everything the run waits on; Restate journals
        // the order in which the race's promises completed, so a replay picks the same winner.
        let winner: Pending;
        try {
          winner = await restateSdk('serveAgents').RestatePromise.race(this.pending.map((p) => p.tracked));
        } catch (error) {
          // Cancellation of the invocation (or a suspension signal): abort the blocks and let Restate handle it.
          this.abandon('the Restate invocation was cancelled');
          throw error;
        }
        this.drop(winner);
        await this.step(() => winner.apply(winner));
      }
      const unconsumed = this.waits?.leftovers() ?? [];
      if (unconsumed.length > 0) return { run: this.seq, outputs: this.outputs, unconsumed };
      return { run: this.seq, outputs: this.outputs };
    } finally {
      this.abandon(`run ${this.seq} of key \`${this.key}\` ended`);
    }
  }

  /** Opens a step: runs `work`, routes what it sent, and (async actions) lets continuations settle. */
  private async step(work: () => void): Promise<void> {
    this.stepOpen = true;
    try {
      work();
      this.route();
      if (!this.agent.hasAsyncActions) return;
      for (;;) {
        const before = this.activity;
        await nextMacrotask();
        this.route();
        if (this.activity === before || this.failure !== null) return;
      }
    } finally {
      this.stepOpen = false;
    }
  }

  /** Routes queued events (S3: every action an event triggers starts in the same turn; S4: after the block that sent it). */
  private route(): void {
    while (this.queue.length > 0 && this.failure === null) {
      const event = this.queue.shift() as { type: string; id: string; payload: unknown };
      if (event.type === OutputEvent.type) {
        this.outputs.push({ id: event.id, payload: event.payload });
        continue;
      }
      for (const def of this.agent.routes.get(event.type) ?? []) {
        const trigger = def.join === undefined ? event : this.collect(def, def.join, event);
        if (trigger === null) continue;
        const activation = new RestateActivation(this, def, trigger);
        this.live.add(activation);
        this.activity++;
        activation.start();
        if (this.failure !== null) return;
      }
    }
  }

  /** A join action (`allOf`) got one of its events: once every joined type has one, the oldest of each start it (as embedded). */
  private collect(
    def: ActionDef,
    types: readonly EventType[],
    event: { type: string; id: string; payload: unknown },
  ): { type: string; id: string; payload: unknown } | null {
    type Queued = { type: string; id: string; payload: unknown };
    const joins = (this.joins ??= new Map<ActionDef, Queued[][]>());
    let slots: Queued[][] | undefined = joins.get(def);
    if (slots === undefined) joins.set(def, (slots = types.map((): Queued[] => [])));
    slots[types.findIndex((t) => t.type === event.type)]?.push(event);
    if (slots.some((slot) => slot.length === 0)) return null;
    const events = slots.map((slot) => slot.shift() as Queued);
    return { type: JOINED, id: events.map((e) => e.id).join('+'), payload: events };
  }

  // ---- ActivationHost ----------------------------------------------------------------------

  send(from: RestateActivation, event: AgentEvent, index: number, delay = 0): void {
    const type = typeof event === 'object' && event !== null ? event.type : undefined;
    const isOutput = type === OutputEvent.type;
    const eventType = isOutput ? undefined : this.agent.eventTypes.get(type as string);
    if (!isOutput && eventType === undefined) {
      throw new RxAgentsError(
        'ERR_UNROUTED_EVENT',
        `Action \`${from.def.name}\` sent ${type === undefined ? 'something that is not an event' : `event \`${String(type)}\``}, ` +
          `but no action of agent \`${this.agent.name}\` is triggered by it, so it would be lost.`,
      );
    }
    let payload = event.payload;
    const schema = eventType !== undefined ? eventType.schema : this.agent.output;
    if (schema !== undefined) {
      const parsed = schema.safeParse(payload);
      if (!parsed.success)
        throw new EventValidationError(type as string, toIssues(parsed.error), `sent by action \`${from.def.name}\``, {
          cause: parsed.error,
        });
      payload = parsed.data;
    }
    if (isOutput) payload = journalable(payload, `The output sent by action \`${from.def.name}\``);
    const routed = { type: type as string, id: `${from.id}:${index}`, payload };
    if (delay > 0) {
      // A delayed send is a durable timer; the event is routed in the step that delivers it.
      this.timer(delay, `${routed.id}>delay`, () => {
        this.queue.push(routed);
        this.activity++;
      });
      return;
    }
    this.queue.push(routed);
    this.activity++;
  }

  startTimer(from: RestateActivation, id: string, ms: number): RestateCall<unknown> {
    const call = new RestateCall<unknown>(from, id);
    const entry = this.timer(ms, id, () => call.settle(true, undefined));
    call.cancel = () => this.drop(entry);
    return call;
  }

  startWait(
    from: RestateActivation,
    id: string,
    type: string,
    match: ((event: AgentEvent) => boolean) | undefined,
    timeout: number | undefined,
  ): RestateCall<unknown> {
    const call = new RestateCall<unknown>(from, id);
    const waits = (this.waits ??= new RestateWaits(this));
    call.cancel = () => waits.cancel(call);
    waits.wait(call, from.def.name, type, match, timeout);
    return call;
  }

  startCall(
    from: RestateActivation,
    id: string,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
    options: AsyncCallOptions | undefined,
  ): RestateCall<unknown> {
    const call = new RestateCall<unknown>(from, id);
    const action = from.def.name;
    const entry = this.track(
      this.ctx.run(id, () => this.runBlock(action, fn, args, options)),
      (outcome) => deliver(call, action, outcome),
    );
    void entry;
    return call;
  }

  /**
   * Waits on a journaled command: its outcome lands in the entry (rule 2: user code sees it only
   * when the driver delivers the entry), `apply` is the delivery.
   */
  track(promise: restate.RestatePromise<unknown>, apply: (outcome: Journaled) => void): Pending {
    const entry: Pending = {
      tracked: null as unknown as restate.RestatePromise<Pending>,
      outcome: null,
      apply: (e) => apply(e.outcome as Journaled),
    };
    entry.tracked = promise.map((value, failure) => {
      entry.outcome = failure !== undefined ? { ok: false, e: errorData(failure) } : (value as Journaled);
      return entry;
    });
    this.pending.push(entry);
    this.activity++;
    return entry;
  }

  /** Stops waiting on an entry (delivered, or its wait was cancelled): deterministic, since it happens in a step. */
  drop(entry: Pending): void {
    const i = this.pending.indexOf(entry);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** A durable timer (`ctx.sleep`): `apply` runs in a step when it fires. */
  timer(ms: number, name: string, apply: () => void): Pending {
    return this.track(
      this.ctx.sleep(Math.max(0, ms), name).map(() => ({ ok: true })),
      () => apply(),
    );
  }

  memory(kind: MemoryKind): MemoryNode {
    return kind === 'shortTermMemory' ? this.stmNode : this.sensoryNode;
  }

  memoryWritten(): void {
    // Short-term memory is written to object state once, when the run succeeds.
  }

  activationDone(activation: RestateActivation, error: unknown): void {
    this.live.delete(activation);
    this.activity++;
    if (error !== undefined && this.failure === null) {
      this.failure = new ActionError(activation.def.name, this.key, this.seq, error);
    }
  }

  callSettled(): void {}

  // ---- blocks ------------------------------------------------------------------------------

  /** The body of one `ctx.run`: the block with its timeout and retries, its outcome as data. */
  private async runBlock(
    action: string,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
    options: AsyncCallOptions | undefined,
  ): Promise<Journaled> {
    const attempts = 1 + (options?.retries ?? 0);
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const retryDelay = options?.retryDelay ?? 0;
        const delay = typeof retryDelay === 'function' ? retryDelay(attempt - 1, last) : retryDelay;
        if (delay > 0) await sleep(delay);
      }
      try {
        const value = await this.attempt(action, fn, args, options?.timeout);
        return value === undefined
          ? { ok: true }
          : { ok: true, v: journalable(value, `The result of an async block of action \`${action}\``) };
      } catch (error) {
        last = error;
        if (error instanceof RestateSerializationError) break;
        if (options?.retryIf !== undefined && !retryable(options.retryIf, error, attempt)) break;
      }
    }
    return { ok: false, e: errorData(last) };
  }

  private attempt(
    action: string,
    fn: (...args: never[]) => unknown,
    args: readonly unknown[],
    timeout: number | undefined,
  ): Promise<unknown> {
    const prev = this.current;
    this.current = null;
    let result: unknown;
    try {
      result = this.agent.hasAsyncActions
        ? restateScope.run(IN_BLOCK, fn, ...(args as never[]))
        : fn(...(args as never[]));
    } catch (error) {
      return Promise.reject(error);
    } finally {
      this.current = prev;
    }
    const settled = isObservable(result) ? lastValue(result, action) : Promise.resolve(result);
    if (timeout === undefined) return settled;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AsyncTimeoutError(action, timeout)), timeout);
      settled.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (e) => (clearTimeout(timer), reject(e)),
      );
    });
  }

  private abandon(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.controller.abort(new AbortedError(reason));
    for (const activation of this.live) activation.cancel();
    this.live.clear();
  }
}

/** Settles a block's call with its journaled outcome: the driver's delivery (rule 2). */
function deliver(call: RestateCall<unknown>, action: string, outcome: Journaled): void {
  if (outcome.ok) call.settle(true, outcome.v === undefined ? undefined : cloneJson(outcome.v));
  else call.settle(false, new RestateBlockError(action, outcome.e.name, outcome.e.code, outcome.e.message));
}

/** The value as the journal holds it, the same object shape on the first run and on replay. */
function cloneJson(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}

/** Checks that `value` survives Restate's JSON journal unchanged; throws {@link RestateSerializationError}. */
export function journalable(value: unknown, where: string): unknown {
  if (value === undefined) return undefined;
  try {
    return checkValue(value, '(value)');
  } catch (error) {
    throw new RestateSerializationError(where, error instanceof Error ? error.message : describe(error), {
      cause: error,
    });
  }
}

function errorData(error: unknown): { name: string; code?: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string'
      ? { name: error.name, code, message: error.message }
      : { name: error.name, message: error.message };
  }
  return { name: 'Error', message: describe(error) };
}

function lastValue(observable: Observable<unknown>, action: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let seen = false;
    let last: unknown;
    observable.subscribe({
      next: (v) => {
        seen = true;
        last = v;
      },
      error: reject,
      complete: () => (seen ? resolve(last) : reject(new EmptyAsyncResultError(action))),
    });
  });
}

// Inside a ctx.run body the wall clock is fine: only the block's outcome is journaled.
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `retryIf` that throws means: do not retry (the call fails with the block's error). */
function retryable(retryIf: (error: unknown, attempt: number) => boolean, error: unknown, attempt: number): boolean {
  try {
    return retryIf(error, attempt) === true;
  } catch {
    return false;
  }
}
