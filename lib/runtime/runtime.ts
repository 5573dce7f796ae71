import { asapScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { Agent } from '../agent/define-agent';
import { ActionError, BufferOverflowError, CallbackError, EventValidationError, RxAgentsError } from '../errors';
import { InputEvent, toIssues, type AgentEvent } from '../events/define-event';
import type { AgentStore } from '../store/store';
import { Journal } from '../store/journal';
import { Activation } from './activation';
import type { AsyncCall } from './async-call';
import type { Executor } from './executor';
import type { Inspector, LifecycleEvent } from './lifecycle';
import { MemoryNode } from './memory';
import { KeyState } from './key-state';
import { RoutedEvent } from './routed-event';
import { Run } from './run';
import { describeKey } from '../describe-key';

/** What goes downstream when `output: 'envelope'` is chosen. */
export interface AgentOutput<Out = unknown> {
  readonly key: unknown;
  /** The run sequence number of the run that sent it. */
  readonly run: number;
  /** The OutputEvent's deterministic id: the same after a replay, so consumers can dedupe. */
  readonly id: string;
  readonly payload: Out;
}

/** A run that failed under `errorPolicy: 'isolate'`. */
export interface RunFailure<In = unknown> {
  readonly key: unknown;
  readonly run: number;
  readonly input: In;
  readonly error: RxAgentsError;
}

/** Where results go (the operator's subscriber). */
export interface Sink {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}

/** The runtime's settings, already validated by the operator. */
export interface RuntimeSettings {
  readonly key: (input: unknown) => unknown;
  readonly scheduler: SchedulerLike;
  readonly executor: Executor;
  readonly errorPolicy: 'fail' | 'isolate';
  readonly onRunFailed: ((failure: RunFailure) => void) | undefined;
  readonly maxBufferedInputs: number;
  readonly overflow: 'error' | 'drop-newest' | 'drop-oldest';
  readonly onDropped: ((input: unknown, key: unknown) => void) | undefined;
  readonly validateEvents: boolean;
  readonly envelope: boolean;
  readonly inspect: Inspector | undefined;
  /** S13: where the journal lives; `undefined` = no durability. */
  readonly store: AgentStore | undefined;
  /** Called once an input's journal entry is committed (with a store). */
  readonly onAccepted: ((input: unknown, seq: number) => void) | undefined;
  /** The source position of an input, saved with each commit (with a store). */
  readonly position: ((input: unknown) => unknown) | undefined;
}

/**
 * The keyed dispatcher behind `agentOperator`, one per subscription. It is a mailbox: inputs,
 * woken actions and runs with events to route are queued and processed one at a time, so sync
 * blocks never interleave (S4), while async blocks run on the executor and wake their actions
 * by notification through the scheduler (S6).
 */
export class Runtime {
  /** The activation whose sync block is running (S5). */
  current: Activation | null = null;
  closed = false;
  private readonly inspector: Inspector | undefined;
  readonly scheduler: SchedulerLike;
  private readonly keys = new Map<unknown, KeyState>();
  private readonly memories = new Map<unknown, MemoryNode>();
  private mailbox: Array<Run | Activation> = [];
  private mailboxHead = 0;
  private looping = false;
  private wakeup: Subscription | null = null;
  /**
   * With the default asapScheduler the mailbox is woken with queueMicrotask — what asapScheduler
   * does underneath — without an action and a subscription per wake-up (one per settled async
   * call, the biggest allocation on the I/O path). Not under TestScheduler.run(), which makes
   * asapScheduler virtual: there every wake-up goes through the scheduler.
   */
  private readonly microtaskWake: boolean;
  private microtaskPending = false;
  private readonly wake = (): void => {
    this.wakeup = null;
    this.microtaskPending = false;
    this.loop();
  };
  private seq = 0;
  private buffered = 0;
  /** Pull sources waiting for room in the input buffer (see whenRoom). */
  private roomWaiters: Array<() => void> | null = null;
  private roomLimit = Infinity;
  private activeRuns = 0;
  private sourceDone = false;
  /** S13: the journal, when a store is configured. */
  private readonly journal: Journal | null = null;
  /** Inputs that arrived while an async store was still loading (S13). */
  private held: unknown[] | null = null;
  /** The output is waiting for the journal's last commit before it completes (S13). */
  private completing = false;
  /** restore() is admitting the journal's unfinished inputs and the inputs held during an async load. */
  private restoring = false;

  constructor(
    readonly agent: Agent,
    readonly settings: RuntimeSettings,
    private readonly sink: Sink,
  ) {
    this.inspector = settings.inspect;
    this.scheduler = settings.scheduler;
    // A virtual asapScheduler (TestScheduler.run) reports virtual time; the real one reports the wall clock (a check, not timing).
    this.microtaskWake = settings.scheduler === asapScheduler && Math.abs(asapScheduler.now() - Date.now()) < 60_000;
    if (settings.store !== undefined) {
      const host = {
        scheduler: this.scheduler,
        fail: (error: unknown) => this.fail(error),
        callback: (name: string, fn: () => void) => this.callback(name, fn),
      };
      this.journal = new Journal(settings.store, agent.name, host, {
        onAccepted: settings.onAccepted,
        position: settings.position,
      });
    }
  }

  /** S13: loads the journal and runs its unfinished inputs again, in sequence order, before any new input. */
  recover(): void {
    const journal = this.journal;
    if (journal === null) return;
    let snapshot: ReturnType<AgentStore['load']>;
    try {
      snapshot = journal.load();
    } catch (error) {
      return this.fail(error);
    }
    if (!(snapshot instanceof Promise)) return this.restore(journal, snapshot);
    this.held = [];
    snapshot.then(
      (loaded) => this.restore(journal, loaded),
      (error: unknown) => this.fail(error),
    );
  }

  private restore(journal: Journal, snapshot: Awaited<ReturnType<AgentStore['load']>>): void {
    if (this.closed) return;
    let pending: ReturnType<Journal['restore']>;
    try {
      pending = journal.restore(snapshot);
    } catch (error) {
      return this.fail(error);
    }
    this.seq = journal.nextSeq;
    // Until every recovered and held input is admitted, a run that ends at once must not complete the output.
    this.restoring = true;
    for (const { seq, input, error } of pending) {
      if (this.closed) return;
      if (error !== undefined) {
        // An input row that cannot be read fails its run (under the error policy); the others go on.
        journal.ended(seq, undefined, undefined, false);
        this.inputFailed(input, seq, undefined, error);
        continue;
      }
      let key: unknown;
      try {
        key = this.settings.key(input);
      } catch (error) {
        journal.ended(seq, undefined, undefined, false);
        this.inputFailed(input, seq, undefined, new CallbackError('key', error));
        continue;
      }
      this.admit(input, key, seq, undefined);
    }
    const held = this.held;
    this.held = null;
    if (held !== null) for (const input of held) this.accept(input);
    this.restoring = false;
    this.completeIfFinished();
  }

  // ---- input side -------------------------------------------------------------------------

  /** A new input: start its run, or queue it behind the key's active run (S1). */
  accept(input: unknown): void {
    if (this.closed) return;
    if (this.held !== null) return void this.held.push(input);
    let key: unknown;
    try {
      key = this.settings.key(input);
    } catch (error) {
      return this.rejected(input, this.seq++, undefined, new CallbackError('key', error));
    }
    const seq = this.seq++;
    let encoded: string | undefined;
    if (this.journal !== null) {
      try {
        encoded = this.journal.encodeInput(input, key, seq);
      } catch (error) {
        return this.rejected(input, seq, key, error as RxAgentsError);
      }
    }
    this.admit(input, key, seq, encoded);
  }

  /** Starts or queues run `seq`. `encoded` is the input's journal entry (none when replaying a journaled input). */
  private admit(input: unknown, key: unknown, seq: number, encoded: string | undefined): void {
    const recovered = this.journal !== null && encoded === undefined;
    let ks = this.keys.get(key);
    if (ks === undefined) {
      ks = new KeyState(key);
      this.keys.set(key, ks);
    }
    if (ks.active === null) {
      if (encoded !== undefined) this.journal?.accepted(seq, input, encoded);
      if (this.inspect !== undefined)
        this.emit({ type: 'input.accepted', time: this.scheduler.now(), key, run: seq, buffered: false, input });
      this.startRun(ks, input, seq, this.stamp());
      this.loop();
      return;
    }
    if (!recovered && this.buffered >= this.settings.maxBufferedInputs && !this.overflow(ks, input, seq)) return;
    if (encoded !== undefined) this.journal?.accepted(seq, input, encoded);
    const pending = { input, seq, at: this.stamp() };
    if (ks.pending === null) ks.pending = [pending];
    else ks.pending.push(pending);
    this.buffered++;
    if (this.inspect !== undefined)
      this.emit({ type: 'input.accepted', time: this.scheduler.now(), key, run: seq, buffered: true, input });
  }

  /** The buffer is full. Returns whether the new input may still be queued. */
  private overflow(ks: KeyState, input: unknown, seq: number): boolean {
    const policy = this.settings.overflow;
    if (policy === 'error') {
      this.fail(new BufferOverflowError(this.settings.maxBufferedInputs));
      return false;
    }
    const oldest = policy === 'drop-oldest' ? ks.shift() : undefined;
    if (oldest !== undefined) {
      this.buffered--;
      this.journal?.ended(oldest.seq, ks.key, undefined, false);
      this.dropped(oldest.input, ks.key, oldest.seq, 'drop-oldest');
      return true;
    }
    this.dropped(input, ks.key, seq, 'drop-newest');
    return false;
  }

  private dropped(input: unknown, key: unknown, seq: number, reason: 'drop-newest' | 'drop-oldest' | 'aborted'): void {
    if (this.inspect !== undefined)
      this.emit({ type: 'input.dropped', time: this.scheduler.now(), key, run: seq, reason });
    this.callback('onDropped', () => this.settings.onDropped?.(input, key));
  }

  sourceComplete(): void {
    this.sourceDone = true;
    this.completeIfFinished();
  }

  sourceError(error: unknown): void {
    this.fail(error);
  }

  /** What the runtime holds right now: per-key states, short-term memories, buffered inputs, active runs, queued work (S10). */
  footprint(): { keys: number; memories: number; buffered: number; activeRuns: number; mailbox: number } {
    return {
      keys: this.keys.size,
      memories: this.memories.size,
      buffered: this.buffered,
      activeRuns: this.activeRuns,
      mailbox: this.mailbox.length - this.mailboxHead,
    };
  }

  // ---- inspection -------------------------------------------------------------------------

  /**
   * The inspector, while it wants events: every emit site checks this first, so an operator with no
   * inspector, or one whose `active` is false (nobody subscribed), builds no events at all.
   */
  get inspect(): Inspector | undefined {
    const inspector = this.inspector;
    return inspector !== undefined && inspector.active !== false ? inspector : undefined;
  }

  /** `scheduler.now()` when lifecycle events are observed (they carry waits and durations); NaN otherwise, to keep the clock off the hot path. */
  private stamp(): number {
    return this.inspect !== undefined ? this.scheduler.now() : NaN;
  }

  // ---- runs -------------------------------------------------------------------------------

  private startRun(ks: KeyState, input: unknown, seq: number, acceptedAt: number): void {
    const now = this.stamp();
    const run = new Run(this, ks, seq, input, now);
    ks.active = run;
    this.activeRuns++;
    if (this.inspect !== undefined)
      this.emit({
        type: 'run.started',
        time: now,
        key: ks.key,
        run: seq,
        waited: Number.isNaN(acceptedAt) ? 0 : now - acceptedAt,
      });
    let payload = input;
    if (this.agent.input !== undefined) {
      // safeParse first: the error's "where" text is built only for an invalid input.
      const parsed = this.agent.input.safeParse(input);
      if (!parsed.success) {
        const where = `for the input of run ${seq} (agent \`${this.agent.name}\`'s input schema)`;
        run.rejected = new EventValidationError(InputEvent.type, toIssues(parsed.error), where, {
          cause: parsed.error,
        });
        return this.post(run);
      }
      payload = parsed.data;
    }
    run.enqueue(new RoutedEvent(InputEvent.type, payload, null, seq));
    this.post(run);
  }

  /** Ends a run: frees per-run state, frees the key if it has nothing waiting (S10), starts the key's next input (S1, S7). */
  endRun(run: Run, outcome: 'completed' | 'failed', error: unknown): void {
    const ks = run.ks;
    run.release();
    ks.active = null;
    this.activeRuns--;
    const memory = this.memories.size === 0 ? undefined : this.memories.get(ks.key);
    this.journal?.ended(run.seq, ks.key, memory, run.memoryChanged);
    if (memory !== undefined && memory.size === 0) this.memories.delete(ks.key);
    if (this.inspect !== undefined) {
      const now = this.scheduler.now();
      this.emit({
        type: 'run.ended',
        time: now,
        key: ks.key,
        run: run.seq,
        outcome,
        duration: Number.isNaN(run.startedAt) ? 0 : now - run.startedAt,
        ...(error === undefined ? {} : { error }),
      });
    }
    const next = ks.shift();
    if (next !== undefined) {
      this.buffered--;
      this.startRun(ks, next.input, next.seq, next.at);
    } else this.keys.delete(ks.key);
    if (this.roomWaiters !== null && this.hasRoom()) this.wakeRoomWaiters();
  }

  /**
   * Backpressure for pull sources: `undefined` while fewer than `limit` accepted inputs are
   * unfinished (running or waiting) and fewer than `maxBufferedInputs` wait; else a Promise that
   * resolves once a run has ended (or the stream has ended). A pulling source awaits it before
   * taking its next input, so both bounds hold without drops.
   */
  whenRoom(limit: number): Promise<void> | undefined {
    this.roomLimit = limit;
    if (this.closed || this.hasRoom()) return undefined;
    return new Promise<void>((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  private hasRoom(): boolean {
    return this.activeRuns + this.buffered < this.roomLimit && this.buffered < this.settings.maxBufferedInputs;
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = null;
    if (waiters !== null) for (const resolve of waiters) resolve();
  }

  actionFailed(activation: Activation, cause: unknown): void {
    const run = activation.agentRun;
    if (run.ended) return;
    this.runFailed(run, new ActionError(activation.def.name, run.key, run.seq, cause));
  }

  /** Applies the error policy to a failed run (S9). */
  runFailed(run: Run, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') return this.fail(error);
    run.abandon(`run ${run.seq} of key \`${describeKey(run.key)}\` failed`);
    this.endRun(run, 'failed', error);
    this.callback('onRunFailed', () =>
      this.settings.onRunFailed?.({ key: run.key, run: run.seq, input: run.input, error }),
    );
    this.completeIfFinished();
  }

  /**
   * An input got run sequence `seq` but no run. With a store, `seq` is journaled as used so that no
   * input gets it again after a restart (S13), and under `errorPolicy: 'isolate'` the failure
   * (which names `seq`) is reported once that is committed.
   */
  private rejected(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    const journal = this.journal;
    if (journal === null || this.settings.errorPolicy === 'fail') {
      journal?.skipped(seq);
      return this.inputFailed(input, seq, key, error);
    }
    journal.skipped(seq, () => this.inputFailed(input, seq, key, error));
  }

  private inputFailed(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') return this.fail(error);
    this.callback('onRunFailed', () => this.settings.onRunFailed?.({ key, run: seq, input, error }));
  }

  shortTermMemory(key: unknown): MemoryNode {
    let node = this.memories.get(key);
    if (node === undefined) {
      const restored = this.journal?.takeMemory(key);
      node = restored === undefined ? new MemoryNode() : MemoryNode.fromJSON(restored);
      this.memories.set(key, node);
    }
    return node;
  }

  /** Hook for stores: a memory changed in a sync block of `run`. */
  memoryChanged(run: Run, memory: string): void {
    if (memory === 'shortTermMemory') run.memoryChanged = true;
  }

  // ---- calls ------------------------------------------------------------------------------

  submit(call: AsyncCall<unknown>): void {
    const activation = call.host as Activation;
    activation.agentRun.track(call);
    if (this.inspect !== undefined)
      this.emit({
        type: 'async.queued',
        time: this.scheduler.now(),
        key: activation.agentRun.key,
        run: activation.agentRun.seq,
        action: activation.def.name,
        call: call.id,
      });
    const journal = this.journal;
    if (journal !== null) {
      // S13: a journaled outcome settles the call without running it; a reconciled call starts once its start is durable.
      call.journaled = true;
      if (journal.replay(activation.agentRun.seq, call)) return;
      if (call.options?.reconcile !== undefined)
        return journal.starting(activation.agentRun.seq, call, () => this.settings.executor.submit(call));
    }
    this.settings.executor.submit(call);
  }

  callSettled(call: AsyncCall<unknown>): void {
    if (this.journal !== null && call.journaled && !call.replayed) {
      const activation = call.host as Activation;
      try {
        this.journal.settled(activation.agentRun.seq, call);
      } catch (error) {
        return this.actionFailed(activation, error);
      }
    }
    if (this.inspect !== undefined) {
      const activation = call.host as Activation;
      this.emit({
        type: 'async.completed',
        time: this.scheduler.now(),
        key: activation.agentRun.key,
        run: activation.agentRun.seq,
        action: activation.def.name,
        call: call.id,
        ok: call.status === 1,
        replayed: call.replayed,
        ...(call.status === 2 ? { error: call.error } : {}),
      });
    }
  }

  // ---- output side ------------------------------------------------------------------------

  output(run: Run, event: AgentEvent): void {
    if (this.inspect !== undefined)
      this.emit({
        type: 'output.emitted',
        time: this.scheduler.now(),
        key: run.key,
        run: run.seq,
        event: event.id,
        payload: event.payload,
      });
    this.sink.next(
      this.settings.envelope ? { key: run.key, run: run.seq, id: event.id, payload: event.payload } : event.payload,
    );
  }

  emit(event: LifecycleEvent): void {
    // Same contract as callback(), without allocating a closure per event (this is the hot path when inspecting).
    try {
      (this.inspect as Inspector)(event);
    } catch (error) {
      this.fail(new CallbackError('inspect', error));
    }
  }

  /** Tells inspectors about runs and waiting inputs that the end of the stream cut off, so their view of the keys ends too. */
  private reportAborted(): void {
    const now = this.scheduler.now();
    for (const ks of this.keys.values()) {
      const run = ks.active;
      if (run !== null)
        this.emit({
          type: 'run.ended',
          time: now,
          key: ks.key,
          run: run.seq,
          outcome: 'aborted',
          duration: Number.isNaN(run.startedAt) ? 0 : now - run.startedAt,
        });
      for (let p = ks.shift(); p !== undefined; p = ks.shift())
        this.emit({ type: 'input.dropped', time: now, key: ks.key, run: p.seq, reason: 'aborted' });
    }
  }

  // ---- the mailbox ------------------------------------------------------------------------

  /** Queues a run (events to route) or an activation (to resume). Processing never re-enters. */
  post(item: Run | Activation): void {
    if (item.posted || this.closed) return;
    item.posted = true;
    this.mailbox.push(item);
    if (!this.looping && this.wakeup === null && !this.microtaskPending) {
      if (this.microtaskWake) {
        this.microtaskPending = true;
        queueMicrotask(this.wake);
      } else this.wakeup = this.scheduler.schedule(this.wake);
    }
  }

  private loop(): void {
    if (this.looping || this.closed) return;
    this.looping = true;
    try {
      const mailbox = this.mailbox;
      while (this.mailboxHead < mailbox.length && !this.closed) {
        const item = mailbox[this.mailboxHead] as Run | Activation;
        mailbox[this.mailboxHead++] = undefined as unknown as Run; // do not keep ended runs reachable
        item.posted = false;
        item.process();
      }
      // Truncating on every drain costs more than it saves; start a fresh array once it has grown.
      if (this.mailboxHead >= 1024) {
        this.mailbox = [];
        this.mailboxHead = 0;
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.looping = false;
    }
    this.completeIfFinished();
  }

  /** S9: the output completes once the source has completed and every accepted input's run has ended. */
  private isFinished(): boolean {
    return this.sourceDone && this.activeRuns === 0 && this.buffered === 0 && this.held === null && !this.restoring;
  }

  private completeIfFinished(): void {
    if (this.closed || this.looping || this.completing || !this.isFinished()) return;
    if (this.journal === null) return this.complete();
    // S13: complete only once every journal write of this subscription is committed (a failed commit fails the stream instead).
    this.completing = true;
    this.journal.drain(() => this.complete());
  }

  private complete(): void {
    if (this.closed) return;
    this.dispose('the stream completed');
    this.sink.complete();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.dispose('the stream failed');
    this.sink.error(error);
  }

  /** Runs a user callback; a throw fails the stream (never an unhandled exception). */
  private callback(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.fail(new CallbackError(name, error));
    }
  }

  /** Unsubscribe or termination: abort in-flight work, cancel the wake-up, drop all state (S9). */
  dispose(reason = 'unsubscribed'): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeup?.unsubscribe();
    this.wakeup = null;
    for (const ks of this.keys.values()) ks.active?.abandon(reason);
    if (this.inspect !== undefined) this.reportAborted();
    this.keys.clear();
    this.memories.clear();
    this.mailbox = [];
    this.mailboxHead = 0;
    this.held = null;
    this.journal?.close();
    this.wakeRoomWaiters();
  }
}
