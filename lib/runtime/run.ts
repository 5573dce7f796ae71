import { AbortedError, EventValidationError, RxAgentsError } from '../errors';
import { OutputEvent, toIssues, type AgentEvent } from '../events/define-event';
import { Activation } from './activation';
import type { AsyncCall } from './async-call';
import type { KeyState } from './key-state';
import { MemoryNode } from './memory';
import { RoutedEvent } from './routed-event';
import type { Runtime } from './runtime';

/** One agent run: the events it has sent and not yet routed, and the work still going on. */
export class Run {
  posted = false;
  ended = false;
  /** The input failed the agent's input schema: the run fails when the mailbox reaches it (no recursion through a key's queue). */
  rejected: RxAgentsError | null = null;
  /** A sync block of this run changed the key's short-term memory (journaled at run end, S13). */
  memoryChanged = false;
  /** Activations not done plus calls not settled (S7). */
  live = 0;
  private queue: AgentEvent[] = [];
  private head = 0;
  private controller: AbortController | null = null;
  private sensoryNode: MemoryNode | null = null;
  private calls: AsyncCall<unknown>[] | null = null;
  private activations: Activation[] | null = null;

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
          const where = eventType !== undefined ? `sent by action \`${from.def.name}\`` : `sent by action \`${from.def.name}\` (agent \`${rt.agent.name}\`'s output schema)`;
          throw new EventValidationError(type as string, toIssues(parsed.error), where, { cause: parsed.error });
        }
        payload = parsed.data;
      }
    }
    const routed = new RoutedEvent(type as string, payload, from, index);
    this.enqueue(routed);
    if (rt.inspect !== undefined) rt.emit({ type: 'event.sent', time: rt.scheduler.now(), key: this.key, run: this.seq, eventType: type as string, event: routed.id, action: from.def.name, payload });
    rt.post(this);
  }

  enqueue(event: AgentEvent): void {
    // The input event starts a run's queue as a one-slot literal (`[].push` reserves 17); a live run waiting on I/O keeps only that.
    if (this.queue.length === 0) this.queue = [event];
    else this.queue.push(event);
  }

  /** Mailbox step: routes waiting events (starting every action each triggers, S3), then checks for the end of the run. */
  process(): void {
    const rt = this.rt;
    if (this.rejected !== null) return rt.runFailed(this, this.rejected);
    const queue = this.queue;
    while (this.head < queue.length && !this.ended) {
      const event = queue[this.head++] as AgentEvent;
      if (event.type === OutputEvent.type) {
        rt.output(this, event);
        if (rt.closed) return;
        continue;
      }
      const actions = rt.agent.routes.get(event.type) ?? [];
      if (rt.inspect !== undefined) rt.emit({ type: 'event.routed', time: rt.scheduler.now(), key: this.key, run: this.seq, eventType: event.type, event: event.id, actions: actions.map((a) => a.name) });
      for (let i = 0; i < actions.length && !this.ended; i++) {
        const activation = new Activation(this, actions[i]!, event);
        this.live++;
        activation.start();
        // Only activations still going need cancelling if the run is abandoned (most sync ones are done here).
        if (activation.state !== 2) {
          if (this.activations === null) this.activations = [activation]; // a literal: `[].push` reserves 17 slots
          else this.activations.push(activation);
        }
      }
    }
    // Compact only once in a while: truncating a small array on every step costs more than it saves.
    if (this.head >= queue.length && this.head >= 64) {
      queue.length = 0;
      this.head = 0;
    }
    this.endIfDone();
  }

  /** S7: a run ends when no action is running or suspended, no call is in flight and no sent event waits. */
  private endIfDone(): void {
    if (!this.ended && this.live === 0 && this.head >= this.queue.length) this.rt.endRun(this, 'completed', undefined);
  }

  track(call: AsyncCall<unknown>): void {
    this.live++;
    if (this.calls === null) this.calls = [call];
    else this.calls.push(call);
  }

  /** Abandons the run: aborts its signal and in-flight calls, lets suspended generators clean up. */
  abandon(reason: string): void {
    this.ended = true;
    this.controller?.abort(new AbortedError(reason));
    const calls = this.calls;
    this.calls = null;
    if (calls !== null) for (const call of calls) call.abort(reason);
    const activations = this.activations;
    this.activations = null;
    if (activations !== null) for (const activation of activations) activation.cancel();
  }

  release(): void {
    this.ended = true;
    this.sensoryNode = null;
    this.calls = null;
    this.activations = null;
    if (this.queue.length > 0) this.queue = []; // drop the events (and their payloads) without a costly truncation
    this.head = 0;
  }
}
