import type { SchedulerLike } from 'rxjs';
import { StateAccessError } from '../errors';
import { asyncScope, Activation } from './activation';
import type { KeyState } from './admission';
import type { AsyncCall } from './async-call';
import type { MemoryNode } from './memory';
import { SEND_LATER_FN, SLEEP_FN, SLEEP_UNTIL_FN, WAIT_FN } from './parking';
import type { Run } from './run';

/** What the probe reads from the runtime that owns it (read-only; the probe never changes runtime state). */
export interface ProbeHost {
  readonly scheduler: SchedulerLike;
  /** Whose sync block is running (`current`: null between blocks). */
  readonly blocks: { readonly current: object | null };
  /** Keys with a run active or inputs waiting. */
  readonly keyStates: ReadonlyMap<unknown, KeyState>;
  /** A key's short-term memory, if it has one in this subscription. */
  memoryOf(key: unknown): MemoryNode | undefined;
}

/** What a parked call (S14) waits for, as the probe reports it (plain data, times in scheduler time). */
export interface ParkedOn {
  /** `event`: `waitForEvent`; `timer`: `sleep` / `sleepUntil`; `delayed-send`: `sendEvent(e, { delay })`. */
  readonly kind: 'event' | 'timer' | 'delayed-send';
  /** The event type waited for (`event`) or to be sent (`delayed-send`); `null` for a timer. */
  readonly eventType: string | null;
  /** When it parked in this subscription (after a restart: when it was parked again from the journal). */
  readonly since: number;
  /** Its deadline: a wait's timeout, a timer's or a delayed send's due time; `null`: none (waits forever). */
  readonly deadline: number | null;
}

/** What a state view receives from each subscription it is attached to (see `createAgentState`). */
export interface StateAttachable {
  attach(probe: StateProbe): void;
  detach(probe: StateProbe): void;
}

/**
 * The runtime's seam for state snapshots of a running operator: read access to its keys, runs and
 * memories, plus the time each call was made (stamped only while a state view is attached: one
 * WeakMap write per call). It is the only runtime code the state API needs.
 */
export class StateProbe {
  private readonly queuedAt = new WeakMap<AsyncCall<unknown>, number>();
  private readonly deadlines = new WeakMap<AsyncCall<unknown>, number | undefined>();

  constructor(readonly host: ProbeHost) {}

  /** A call was made (it waits for an executor slot, or starts at once). */
  queued(call: AsyncCall<unknown>): void {
    this.queuedAt.set(call, this.host.scheduler.now());
  }

  /** A call parked (S14) until a signal or `deadline` (absolute scheduler time; `undefined`: none). */
  parked(call: AsyncCall<unknown>, deadline: number | undefined): void {
    this.queuedAt.set(call, this.host.scheduler.now());
    this.deadlines.set(call, deadline);
  }

  /** What `call` is parked on, if it is a parked call (a wait, a timer or a delayed send) parked while attached. */
  parkedOn(call: AsyncCall<unknown>): ParkedOn | undefined {
    const since = this.queuedAt.get(call);
    if (since === undefined || !this.deadlines.has(call)) return undefined;
    const deadline = this.deadlines.get(call) ?? null;
    const fn = call.fn;
    if (fn === WAIT_FN) return { kind: 'event', eventType: String(call.args[0]), since, deadline };
    if (fn === SEND_LATER_FN) return { kind: 'delayed-send', eventType: String(call.args[0]), since, deadline };
    if (fn === SLEEP_FN || fn === SLEEP_UNTIL_FN) return { kind: 'timer', eventType: null, since, deadline };
    return undefined;
  }

  /** When `call` was made (scheduler time), if it was made while attached. */
  madeAt(call: AsyncCall<unknown>): number | undefined {
    return this.queuedAt.get(call);
  }

  /** The key's running run (the runtime's active runs are its `Run`s). */
  runOf(ks: KeyState): Run | null {
    return ks.active as Run | null;
  }

  /**
   * Throws {@link StateAccessError} while a sync block is running (S4): a snapshot taken there
   * could see half of the block's changes. A generator or plain action's block is the runtime's
   * `blocks.current`; an async action's blocks run in its AsyncLocalStorage scope while it is not
   * done (of any operator: that scope does not say which runtime it belongs to).
   */
  assertBetweenBlocks(): void {
    const current = this.host.blocks.current;
    const scoped = asyncScope.getStore();
    const owner =
      current instanceof Activation ? current : scoped instanceof Activation && !scoped.done ? scoped : null;
    if (owner === null) return;
    throw new StateAccessError(
      'ERR_STATE_IN_SYNC_BLOCK',
      `A state snapshot was taken inside a sync block of action \`${owner.def.name}\` (run ${owner.run}), where it could see half of that block's changes (S4). ` +
        'Take snapshots outside actions (an HTTP handler, a timer, an output subscriber); inside an action read ctx.shortTermMemory.',
    );
  }
}
