import { AbortedError, EventValidationError, RxAgentsError } from '../errors';
import { OutputEvent, toIssues, type AgentEvent } from '../events/define-event';
import { Activation } from './activation';
import type { AsyncCall } from './async-call';
import type { KeyState } from './key-state';
import { MemoryNode } from './memory';
import { RoutedEvent } from './routed-event';
import type { Runtime } from './runtime';

/**
 * One agent run: the events it has sent and not yet routed, and the work still going on.
 *
 * Its event queue, its calls and its activations are intrusive linked lists (each item points
 * to the next one): a run allocates no array for them. At 10k keys the live runs' arrays were
 * the largest part of the heap that every scavenge copies (`[x].push(y)` reserves 17 slots).
 */
export class Run {
  posted = false;
  ended = false;
  /** The input failed the agent's input schema: the run fails when the mailbox reaches it (no recursion through a key's queue). */
  rejected: RxAgentsError | null = null;
  /** A sync block of this run changed the key's short-term memory (journaled at run end, S13). */
  memoryChanged = false;
  /** Activations not done plus calls not settled (S7). */
  live = 0;
  /** Sent events not yet routed, oldest first. */
  private firstEvent: RoutedEvent | null = null;
  private lastEvent: RoutedEvent | null = null;
  private controller: AbortController | null = null;
  private sensoryNode: MemoryNode | null = null;
  /** Every call made in the run, in call order (aborted if the run is abandoned). */
  private firstCall: AsyncCall<unknown> | null = null;
  private lastCall: AsyncCall<unknown> | null = null;
  /** Activations that did not finish in their first sync block, in start order (cancelled if the run is abandoned). */
  private firstActivation: Activation | null = null;
  private lastActivation: Activation | null = null;

  constructor(
    readonly rt: Runtime,
    readonly ks: KeyState,
    readonly seq: number,
    readonly input: unknown,
    readonly startedAt: number,
  ) {}

  get key(): unknown {
    return this.ks.key;
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  sensory(): MemoryNode {
    return (this.sensoryNode ??= new MemoryNode());
  }

  /** Validates and enqueues an event; it is routed after the current sync block (S4). `index` is the send's position in `from` (its id). */
  send(from: Activation, event: AgentEvent, index: number): void {
    const rt = this.rt;
    const type = typeof event === 'object' && event !== null ? event.type : undefined;
    const isOutput = type === OutputEvent.type;
    const eventType = isOutput ? undefined : rt.agent.eventTypes.get(type as string);
    if (!isOutput && eventType === undefined) {
      throw new RxAgentsError(
        'ERR_UNROUTED_EVENT',
        `Action \`${from.def.name}\` sent ${type === undefined ? 'something that is not an event' : `event \`${String(type)}\``}, ` +
          `but no action of agent \`${rt.agent.name}\` is triggered by it, so it would be lost. ` +
          'Send an event made by an event type that some action lists as a trigger, or OutputEvent.of(...) to emit downstream.',
      );
    }
    let payload = event.payload;
    if (rt.settings.validateEvents) {
      // safeParse directly: the error's "where" text is built only when a payload is invalid.
      const schema = eventType !== undefined ? eventType.schema : rt.agent.output;
      if (schema !== undefined) {
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          const where =
            eventType !== undefined
              ? `sent by action \`${from.def.name}\``
              : `sent by action \`${from.def.name}\` (agent \`${rt.agent.name}\`'s output schema)`;
          throw new EventValidationError(type as string, toIssues(parsed.error), where, { cause: parsed.error });
        }
        payload = parsed.data;
      }
    }
    const routed = new RoutedEvent(type as string, payload, from, index);
    this.enqueue(routed);
    if (rt.inspect !== undefined)
      rt.emit({
        type: 'event.sent',
        time: rt.scheduler.now(),
        key: this.key,
        run: this.seq,
        eventType: type as string,
        event: routed.id,
        action: from.def.name,
        payload,
      });
    rt.post(this);
  }

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

  /** Mailbox step: routes waiting events (starting every action each triggers, S3), then checks for the end of the run. */
  process(): void {
    const rt = this.rt;
    if (this.rejected !== null) return rt.runFailed(this, this.rejected);
    while (this.firstEvent !== null && !this.ended) {
      const event = this.dequeue() as RoutedEvent;
      if (event.type === OutputEvent.type) {
        rt.output(this, event);
        if (rt.closed) return;
        continue;
      }
      const actions = rt.agent.routes.get(event.type) ?? [];
      if (rt.inspect !== undefined)
        rt.emit({
          type: 'event.routed',
          time: rt.scheduler.now(),
          key: this.key,
          run: this.seq,
          eventType: event.type,
          event: event.id,
          actions: actions.map((a) => a.name),
        });
      for (let i = 0; i < actions.length && !this.ended; i++) {
        const activation = new Activation(this, actions[i]!, event);
        this.live++;
        activation.start();
        // Only activations still going need cancelling if the run is abandoned (most sync ones are done here).
        if (activation.state !== 2) {
          if (this.lastActivation === null) this.firstActivation = activation;
          else this.lastActivation.nextInRun = activation;
          this.lastActivation = activation;
        }
      }
    }
    this.endIfDone();
  }

  /** S7: a run ends when no action is running or suspended, no call is in flight and no sent event waits. */
  private endIfDone(): void {
    if (!this.ended && this.live === 0 && this.firstEvent === null) this.rt.endRun(this, 'completed', undefined);
  }

  /** Activations still going after their first sync block, in start order (for state snapshots). */
  *activations(): IterableIterator<Activation> {
    for (let a = this.firstActivation; a !== null; a = a.nextInRun) yield a;
  }

  /** Every call made in the run, in call order (for state snapshots). */
  *calls(): IterableIterator<AsyncCall<unknown>> {
    for (let c = this.firstCall; c !== null; c = c.nextInRun) yield c;
  }

  track(call: AsyncCall<unknown>): void {
    this.live++;
    if (this.lastCall === null) this.firstCall = call;
    else this.lastCall.nextInRun = call;
    this.lastCall = call;
  }

  /** Abandons the run: aborts its signal and in-flight calls, lets suspended generators clean up. */
  abandon(reason: string): void {
    this.ended = true;
    this.controller?.abort(new AbortedError(reason));
    let call = this.firstCall;
    this.firstCall = this.lastCall = null;
    for (; call !== null; call = call.nextInRun) call.abort(reason);
    let activation = this.firstActivation;
    this.firstActivation = this.lastActivation = null;
    for (; activation !== null; activation = activation.nextInRun) activation.cancel();
  }

  release(): void {
    this.ended = true;
    this.sensoryNode = null;
    this.firstCall = this.lastCall = null;
    this.firstActivation = this.lastActivation = null;
    this.firstEvent = this.lastEvent = null;
  }
}
