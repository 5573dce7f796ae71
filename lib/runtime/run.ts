import type { SchedulerLike } from 'rxjs';
import { NO_ACTIONS, type ActionDef, type Agent } from '../agent/define-agent';
import {
  AbortedError,
  ActionError,
  EventValidationError,
  RunLimitError,
  RxAgentsError,
  UnroutedEventError,
} from '../errors';
import { OutputEvent, toIssues, type AgentEvent, type EventType } from '../events/define-event';
import { ASK_ZOD } from '../events/fast-parse';
import type { MemoryValue } from '../context/memory-ref';
import type { ParkSpec } from './parking';
import type { CallDesk } from './call-desk';
import type { RunWaits } from './run-waits';
import { Activation, type ActivationHost } from './activation';
import { anchorShape } from './anchor-shape';
import type { KeyState } from './admission';
import type { AsyncCall } from './async-call';
import type { Budgets } from './budgets';
import type { Inspection } from './inspection';
import { MemoryNode } from './memory';
import type { MemoryKind } from './memory-view';
import { RoutedEvent } from './routed-event';
import type { Route } from './route-table';
import type { SyncBlocks } from './sync-blocks';

/** Events a run routes in one mailbox turn before it lets other queued work go first. */
const ROUTE_SLICE = 1024;

/** What a run needs from the runtime (implemented by `Runtime`). */
export interface RunHost {
  readonly agent: Agent;
  /** The agent's route table (lib/runtime/route-table.ts): what may be sent, how it is validated, what it triggers. */
  readonly routes: ReadonlyMap<string, Route>;
  /** The route of OutputEvent in that table (the most sent type: no lookup). */
  readonly outputRoute: Route;
  /** Validate sent events against their schemas (the `validateEvents` option). */
  readonly validateEvents: boolean;
  /** The most events a run may send (the `maxEventsPerRun` option). */
  readonly maxEventsPerRun: number;
  /** The timeout of async blocks that have none of their own (the `defaultTimeout` option). */
  readonly defaultTimeout: number | undefined;
  readonly scheduler: SchedulerLike;
  /** S11: the scheduler is virtual time (a TestScheduler), which cannot see Promises. */
  readonly virtualTime: boolean;
  readonly inspection: Inspection;
  readonly blocks: SyncBlocks;
  /** The stream has ended: stop at once. */
  readonly closed: boolean;
  /** Queues a run (events to route) or an activation (to resume) in the mailbox. */
  post(item: Run | Activation): void;
  /** An OutputEvent of `run` goes downstream (S8). */
  output(run: Run, event: RoutedEvent): void;
  /** A chunk streamed by a call of `run` goes downstream now (S16, see run-channel.ts). */
  streamed(run: Run, chunk: unknown): void;
  /** `run` has nothing left to do (S7). */
  completed(run: Run): void;
  /** `run` failed: the error policy decides (S9). */
  failed(run: Run, error: RxAgentsError): void;
  /** The short-term memory of `key`. */
  shortTermMemory(key: unknown): MemoryNode;
  /** Where the run's calls go: replayed or run, journaled when they settle; waits and timers park (S12–S14). */
  readonly calls: CallDesk;
  /** Named budgets calls may take permits of. */
  readonly budgets: Budgets | undefined;
}

/**
 * One agent run: the events it has sent and not yet routed, and the work still going on. It is
 * the host of its activations ({@link ActivationHost}).
 *
 * Its event queue, its calls and its activations are intrusive linked lists (each item points
 * to the next one): a run allocates no array for them. At 10k keys the live runs' arrays were
 * the largest part of the heap that every scavenge copies (`[x].push(y)` reserves 17 slots).
 */
export class Run implements ActivationHost {
  posted = false;
  ended = false;
  /** A sync block of this run changed the key's short-term memory (journaled at run end, S13). */
  memoryChanged = false;
  /** The input after the agent's input schema (`ctx.input`). */
  payload: unknown = undefined;
  /** What few runs use (a failure before the first turn, waits, joins, sensory memory, a rollback's memory), made on first use. */
  private rare: RunRare | null = null;
  /** Activations not done plus calls not settled (S7). */
  private live = 0;
  /** Events sent so far (S10: at most `maxEventsPerRun`). */
  private sent = 0;
  /** Sent events not yet routed, oldest first. */
  private firstEvent: RoutedEvent | null = null;
  private lastEvent: RoutedEvent | null = null;
  /** Its abort signal, calls and unfinished activations, made on first use (a run of sync actions has none). */
  private work: RunWork | null = null;
  /** The run's key (its key state is reused for another key once the run has ended, see {@link KeyState}). */
  readonly key: unknown;

  constructor(
    private readonly host: RunHost,
    readonly ks: KeyState,
    readonly seq: number,
    readonly input: unknown,
    readonly startedAt: number,
  ) {
    this.key = ks.key;
  }

  /** The input failed the agent's input schema: the run fails when the mailbox reaches it (no recursion through a key's queue). */
  get rejected(): RxAgentsError | null {
    return this.rare === null ? null : this.rare.rejected;
  }
  set rejected(error: RxAgentsError | null) {
    this.more().rejected = error;
  }

  /** S15: the key's short-term memory when the run started (`null`: empty), kept only when a rollback may need it. */
  get memoryAtStart(): Record<string, MemoryValue> | null | undefined {
    return this.rare?.memoryAtStart;
  }
  set memoryAtStart(memory: Record<string, MemoryValue> | null | undefined) {
    this.more().memoryAtStart = memory;
  }

  /** S14: the run's parked waits and buffered signals (made on the first wait or signal). */
  get waits(): RunWaits | null {
    return this.rare === null ? null : this.rare.waits;
  }
  set waits(waits: RunWaits | null) {
    this.more().waits = waits;
  }

  private more(): RunRare {
    return (this.rare ??= new RunRare());
  }

  get signal(): AbortSignal {
    const work = (this.work ??= new RunWork());
    return (work.controller ??= new AbortController()).signal;
  }

  get agent(): Agent {
    return this.host.agent;
  }

  get scheduler(): SchedulerLike {
    return this.host.scheduler;
  }

  get virtualTime(): boolean {
    return this.host.virtualTime;
  }

  get inspection(): Inspection {
    return this.host.inspection;
  }

  get blocks(): SyncBlocks {
    return this.host.blocks;
  }

  get defaultTimeout(): number | undefined {
    return this.host.defaultTimeout;
  }

  get budgets(): Budgets | undefined {
    return this.host.budgets;
  }

  // ---- the run's turn ---------------------------------------------------------------------

  /**
   * Mailbox turn: routes waiting events (starting every action each triggers, S3), then checks for
   * the end of the run. After {@link ROUTE_SLICE} events it returns `true` (take another turn) so
   * that a long synchronous chain of one key lets the other keys' queued work go first.
   */
  process(): boolean {
    const host = this.host;
    if (this.ended) return false; // failed already (e.g. over its event budget) while this turn was queued
    if (this.rejected !== null) {
      host.failed(this, this.rejected);
      return false;
    }
    let routed = 0;
    while (this.firstEvent !== null && !this.ended) {
      if (++routed > ROUTE_SLICE) return true;
      const event = this.dequeue() as RoutedEvent;
      if (event.type === OutputEvent.type) {
        host.output(this, event);
        if (host.closed) return false;
        continue;
      }
      const actions = (event.route ?? host.routes.get(event.type))?.actions ?? NO_ACTIONS;
      if (host.inspection.attached) host.inspection.eventRouted(this.key, this.seq, event, actions);
      for (let i = 0; i < actions.length && !this.ended; i++) {
        const def = actions[i]!;
        const trigger = def.join === undefined ? event : this.collect(def, def.join, event);
        if (trigger === null) continue;
        const activation = new Activation(this, def, trigger);
        this.live++;
        activation.start();
        // Only activations still going need cancelling if the run is abandoned (most sync ones are done here).
        if (!activation.done) {
          const work = (this.work ??= new RunWork());
          if (work.lastActivation === null) work.firstActivation = activation;
          else work.lastActivation.nextInRun = activation;
          work.lastActivation = activation;
        }
      }
    }
    // S7: a run ends when no action is running or suspended, no call is in flight and no sent event waits.
    if (this.ended) return false;
    // Over the event budget during this turn (its own post was absorbed by the turn): fail now.
    if (this.rejected !== null) host.failed(this, this.rejected);
    else if (this.live === 0 && this.firstEvent === null) host.completed(this);
    return false;
  }

  /**
   * A join action (`allOf`) got one of its events: collect it; once every joined type has one,
   * take the oldest of each and return the joined event that starts the action (else `null`).
   */
  private collect(def: ActionDef, types: readonly EventType[], event: RoutedEvent): RoutedEvent | null {
    const rare = this.more();
    const joins = (rare.joins ??= new Map<ActionDef, RoutedEvent[][]>());
    let slots = joins.get(def);
    if (slots === undefined) joins.set(def, (slots = types.map((): RoutedEvent[] => [])));
    slots[types.findIndex((t) => t.type === event.type)]?.push(event);
    if (slots.some((slot) => slot.length === 0)) return null;
    const events = slots.map((slot) => slot.shift() as RoutedEvent);
    return new RoutedEvent(JOINED, events, { id: events.map((e) => e.id).join('+') }, 0);
  }

  /** Queues the run's input event (its first event). */
  enqueue(event: RoutedEvent): void {
    if (this.lastEvent === null) this.firstEvent = event;
    else this.lastEvent.next = event;
    this.lastEvent = event;
  }

  /** Takes the oldest event not yet routed. */
  private dequeue(): RoutedEvent | null {
    const event = this.firstEvent;
    if (event === null) return null;
    this.firstEvent = event.next;
    if (this.firstEvent === null) this.lastEvent = null;
    event.next = null;
    return event;
  }

  // ---- ActivationHost ---------------------------------------------------------------------

  /** Validates and enqueues an event; it is routed after the current sync block (S4). `index` is the send's position in `from` (its id). */
  send(from: Activation, event: AgentEvent, index: number): void {
    if (++this.sent > this.host.maxEventsPerRun) {
      // S10: the run fails with RunLimitError (its turn reports it); the sending block stops here.
      const error = new RunLimitError(this.key, this.seq, from.def.name, this.host.maxEventsPerRun);
      if (this.rejected === null) {
        this.rejected = error;
        this.host.post(this);
      }
      throw this.rejected;
    }
    this.sendPrepared(from, this.prepare(from, event, index));
  }

  /** Validates an event sent by `from` (throws what sendEvent throws) and makes its routed form. */
  prepare(from: Activation, event: AgentEvent, index: number): RoutedEvent {
    const host = this.host;
    const type = typeof event === 'object' && event !== null ? event.type : undefined;
    // One lookup resolves the type: whether it may be sent, its schema and fast path, and (later) its actions.
    const route =
      type === OutputEvent.type ? host.outputRoute : typeof type === 'string' ? host.routes.get(type) : undefined;
    if (route === undefined) {
      throw new UnroutedEventError(from.def.name, host.agent.name, type === undefined ? undefined : String(type));
    }
    let payload = event.payload;
    const schema = route.schema;
    if (host.validateEvents && schema !== undefined) {
      // A simple object schema is checked on a compiled fast path; zod decides everything else (and every failure).
      const check = route.check;
      const fast = check === null ? ASK_ZOD : check(payload);
      if (fast !== ASK_ZOD) payload = fast;
      else {
        // safeParse directly: the error's "where" text is built only when a payload is invalid.
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          const where =
            route.eventType !== undefined
              ? `sent by action \`${from.def.name}\``
              : `sent by action \`${from.def.name}\` (agent \`${host.agent.name}\`'s output schema)`;
          throw new EventValidationError(route.type, toIssues(parsed.error), where, { cause: parsed.error });
        }
        payload = parsed.data;
      }
    }
    return new RoutedEvent(route.type, payload, from, index, route);
  }

  /** Enqueues a validated event (now, or when a delayed send's timer fires) and wakes the run. */
  sendPrepared(from: Activation, routed: RoutedEvent): void {
    this.enqueue(routed);
    const inspection = this.host.inspection;
    if (inspection.attached) inspection.eventSent(from, routed, routed.payload);
    if (!this.posted) this.host.post(this); // queued or in its turn already: that turn routes it
  }

  /** Activations still going after their first sync block, in start order (for state snapshots). */
  *activations(): IterableIterator<Activation> {
    for (let a = this.work?.firstActivation ?? null; a !== null; a = a.nextInRun) yield a;
  }

  /** Every call made in the run, in call order (for state snapshots). */
  *calls(): IterableIterator<AsyncCall<unknown>> {
    for (let c = this.work?.firstCall ?? null; c !== null; c = c.nextInRun) yield c;
  }

  submit(from: Activation, call: AsyncCall<unknown>): void {
    this.track(call);
    this.host.calls.submit(this, from, call);
  }

  park(from: Activation, call: AsyncCall<unknown>, spec: ParkSpec): void {
    this.track(call);
    this.host.calls.park(this, from, call, spec);
  }

  resubmit(call: AsyncCall<unknown>): void {
    if (!this.ended) this.host.calls.dispatch(call);
  }

  /** A call counts as work of the run until it settles, and is aborted if the run is abandoned. */
  private track(call: AsyncCall<unknown>): void {
    this.live++;
    const work = (this.work ??= new RunWork());
    if (work.lastCall === null) work.firstCall = call;
    else work.lastCall.nextInRun = call;
    work.lastCall = call;
  }

  combine(): void {
    this.live++;
  }

  settled(from: Activation, call: AsyncCall<unknown>): void {
    this.live--;
    this.host.calls.settled(this, from, call);
  }

  resume(from: Activation): void {
    this.host.post(from);
  }

  stream(chunk: unknown): void {
    if (!this.ended) this.host.streamed(this, chunk);
  }

  postRun(): void {
    this.host.post(this);
  }

  finished(): void {
    this.live--;
    if (!this.posted) this.host.post(this);
  }

  failed(from: Activation, cause: unknown): void {
    if (this.ended) return;
    // A run over its event budget fails with the RunLimitError itself, whichever action it stopped.
    const limit = this.rejected instanceof RunLimitError ? this.rejected : null;
    this.host.failed(this, limit ?? new ActionError(from.def.name, this.key, this.seq, cause));
  }

  memory(kind: MemoryKind): MemoryNode {
    return kind === 'shortTermMemory'
      ? this.host.shortTermMemory(this.key)
      : (this.more().sensoryNode ??= new MemoryNode());
  }

  memoryWritten(kind: MemoryKind): void {
    if (kind === 'shortTermMemory') this.memoryChanged = true;
  }

  // ---- the end ----------------------------------------------------------------------------

  /** Abandons the run: aborts its signal and in-flight calls, lets suspended generators clean up. */
  abandon(reason: string): void {
    this.ended = true;
    const work = this.work;
    if (work === null) return;
    work.controller?.abort(new AbortedError(reason));
    let call = work.firstCall;
    work.firstCall = work.lastCall = null;
    for (; call !== null; call = call.nextInRun) call.abort(reason);
    let activation = work.firstActivation;
    work.firstActivation = work.lastActivation = null;
    for (; activation !== null; activation = activation.nextInRun) activation.cancel();
  }

  /** The run ended: drops what it holds. */
  release(): void {
    this.ended = true;
    const work = this.work;
    if (work !== null) {
      work.firstCall = work.lastCall = null;
      work.firstActivation = work.lastActivation = null;
    }
    this.firstEvent = this.lastEvent = null;
    const rare = this.rare;
    if (rare !== null) {
      rare.sensoryNode = null;
      rare.joins = null;
      rare.waits = null;
    }
  }
}

/**
 * The part of a run that few runs use, made on first use: every run pays a field for it instead of
 * five (fewer bytes to initialise per input, a smaller object for each scavenge to copy).
 */
class RunRare {
  rejected: RxAgentsError | null = null;
  memoryAtStart: Record<string, MemoryValue> | null | undefined = undefined;
  waits: RunWaits | null = null;
  /** Events collected for join actions (`allOf`), per action, per joined type (see {@link Run.collect}). */
  joins: Map<ActionDef, RoutedEvent[][]> | null = null;
  sensoryNode: MemoryNode | null = null;
}
// Shape anchor (see lib/runtime/shape-anchor.ts): made per run that needs it, so no instance may be alive in an idle gap.
anchorShape(new RunRare());

/**
 * What only a run with async work has: its abort controller (made when a call or action asks for
 * the signal), its calls and its activations still going after their first sync block, as
 * intrusive lists in start order (aborted and cancelled if the run is abandoned). A run of sync
 * actions never makes one: its `Run` is five fields smaller.
 */
class RunWork {
  controller: AbortController | null = null;
  /** Every call made in the run, in call order. */
  firstCall: AsyncCall<unknown> | null = null;
  lastCall: AsyncCall<unknown> | null = null;
  /** Activations that did not finish in their first sync block, in start order. */
  firstActivation: Activation | null = null;
  lastActivation: Activation | null = null;
}
anchorShape(new RunWork());

/** The type of the event a join action is started with; its payload is the joined events. */
const JOINED = 'rx-agents/joined';
