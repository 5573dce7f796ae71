import type { SchedulerLike } from 'rxjs';
import { StateAccessError } from '../errors';
import { asyncScope, Activation } from './activation';
import type { AsyncCall } from './async-call';
import type { KeyState } from './key-state';
import type { MemoryNode } from './memory';

/** What the probe reads from the runtime that owns it (read-only; the probe never changes runtime state). */
export interface ProbeHost {
  readonly scheduler: SchedulerLike;
  /** The activation whose sync block is running (generator and plain actions), else null. */
  readonly current: Activation | null;
  /** Keys with a run active or inputs waiting. */
  readonly keyStates: ReadonlyMap<unknown, KeyState>;
  /** A key's short-term memory, if it has one in this subscription. */
  memoryOf(key: unknown): MemoryNode | undefined;
}

/** What a state view receives from each subscription it is attached to (see `createAgentState`). */
export interface StateAttachable {
  attach(probe: StateProbe): void;
  detach(probe: StateProbe): void;
}

/**
 * The runtime's seam for state snapshots of a running operator: read access to its keys, runs and
 * memories, plus the times calls were queued and started (stamped only while a state view is
 * attached: two WeakMap writes per call). It is the only runtime code the state API needs.
 */
export class StateProbe {
  private readonly queuedAt = new WeakMap<AsyncCall<unknown>, number>();
  private readonly startedAt = new WeakMap<AsyncCall<unknown>, number>();

  constructor(readonly host: ProbeHost) {}

  /** A call was submitted (it waits for an executor slot, or starts at once). */
  queued(call: AsyncCall<unknown>): void {
    this.queuedAt.set(call, this.host.scheduler.now());
  }

  /** A call got its executor slot and its block started. */
  started(call: AsyncCall<unknown>): void {
    this.startedAt.set(call, this.host.scheduler.now());
  }

  timesOf(call: AsyncCall<unknown>): { readonly queuedAt: number | undefined; readonly startedAt: number | undefined } {
    return { queuedAt: this.queuedAt.get(call), startedAt: this.startedAt.get(call) };
  }

  /**
   * Throws {@link StateAccessError} while a sync block of this runtime is running (S4): a snapshot
   * taken there could see half of the block's changes. A generator or plain action's block sets
   * `current`; an async action's blocks run in its AsyncLocalStorage scope while it is not done.
   */
  assertBetweenBlocks(): void {
    const current = this.host.current;
    const scoped = asyncScope.getStore();
    const inAsyncAction = scoped instanceof Activation && scoped.state !== 2 && scoped.agentRun.rt === this.host;
    if (current === null && !inAsyncAction) return;
    const activation = current ?? (scoped as Activation);
    throw new StateAccessError(
      'ERR_STATE_IN_SYNC_BLOCK',
      `A state snapshot was taken inside a sync block of action \`${activation.def.name}\` (run ${activation.run}), where it could see half of that block's changes (S4). ` +
        'Take snapshots outside actions (an HTTP handler, a timer, an output subscriber); inside an action read ctx.shortTermMemory.',
    );
  }
}
