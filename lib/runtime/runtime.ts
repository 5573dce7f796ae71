import type { SchedulerLike } from 'rxjs';
import type { Agent } from '../agent/define-agent';
import { CallbackError, EventValidationError, RxAgentsError } from '../errors';
import { InputEvent, toIssues } from '../events/define-event';
import { ASK_ZOD, fastParse } from '../events/fast-parse';
import { park, type ParkHost, type ParkSpec } from './parking';
import { SignalDesk } from './signal-desk';
import type { Budgets } from './budgets';
import { choosePolicy, mayRollBack, type BusyPolicy } from './busy-policy';
import type { JournalSnapshot } from '../store/store';
import type { Activation } from './activation';
import { Admission, type AdmissionHost, type KeyState, type Pending } from './admission';
import type { AsyncCall } from './async-call';
import { Inspection } from './inspection';
import { noJournal, type Durability } from './durability';
import { Journal } from './journal';
import { Mailbox } from './mailbox';
import { MemoryNode } from './memory';
import { RoutedEvent } from './routed-event';
import { Run, type RunHost } from './run';
import type { RuntimeSettings, Sink } from './settings';
import { SyncBlocks } from './sync-blocks';
import { StateProbe } from './state-probe';
import { isVirtualTime } from './virtual-time';
import { describeKey } from '../describe-key';

/**
 * Where the runtime is in its life. `loading`: an async store is loading the journal, new inputs
 * are held. `restoring`: recovered and held inputs are being admitted. `running`: inputs are
 * admitted as they come. `completing`: the output waits for the journal's last commit. `closed`:
 * completed, failed or unsubscribed.
 */
type Phase = 'loading' | 'restoring' | 'running' | 'completing' | 'closed';

/**
 * The keyed dispatcher behind `agentOperator`, one per subscription. The story of one input:
 * {@link accept} gives it a run sequence number and journals it; {@link Admission} starts its run
 * or makes it wait behind its key's run (S1); the {@link Mailbox} gives the run its turns, one at
 * a time (S4), while async blocks run on the executor and wake their actions through the
 * scheduler (S6); the run ends ({@link completed}) and the key's next input starts; once the
 * source is done and nothing runs, the output completes ({@link mayComplete}, S9).
 */
export class Runtime implements RunHost, AdmissionHost {
  readonly scheduler: SchedulerLike;
  readonly maxEventsPerRun: number;
  readonly defaultTimeout: number | undefined;
  readonly validateEvents: boolean;
  readonly inspection: Inspection;
  readonly blocks = new SyncBlocks();
  private phase: Phase = 'running';
  private readonly admission: Admission;
  private readonly mailbox: Mailbox<Run | Activation>;
  private readonly journal: Durability;
  private readonly memories = new Map<unknown, MemoryNode>();
  private seq = 0;
  private sourceDone = false;
  /** S11: the scheduler is virtual time (a TestScheduler): a Promise-returning block fails with VirtualTimeError. */
  readonly virtualTime: boolean;
  /** Inputs that arrived while the journal was loading (phase `loading`). */
  private held: unknown[] = [];
  /** The seam of the state API (lib/runtime/state-probe.ts), while a state view is attached. */
  private readonly probe: StateProbe | null = null;
  /** Signals that arrived while the journal was loading (S14). */
  private heldSignals: unknown[] = [];
  /** Signals to parked waits (S14). */
  private readonly signals: SignalDesk;
  /** What parking needs of the runtime (S14). */
  private readonly parking: ParkHost;

  constructor(
    readonly agent: Agent,
    readonly settings: RuntimeSettings,
    private readonly sink: Sink,
  ) {
    this.scheduler = settings.scheduler;
    this.virtualTime = isVirtualTime(settings.scheduler);
    this.validateEvents = settings.validateEvents;
    if (settings.state !== undefined) settings.state.attach((this.probe = new StateProbe(this)));
    this.maxEventsPerRun = settings.maxEventsPerRun;
    this.defaultTimeout = settings.defaultTimeout;
    const fail = (error: unknown): void => this.fail(error);
    this.inspection = new Inspection(settings.inspect, settings.scheduler, fail, settings.slowBlockAfter);
    this.admission = new Admission(this, settings);
    this.mailbox = new Mailbox(settings.scheduler, () => this.completeIfDone(), fail);
    this.journal =
      settings.store === undefined
        ? noJournal
        : new Journal(
            settings.store,
            agent.name,
            { scheduler: this.scheduler, fail, callback: (name, fn) => this.callback(name, fn) },
            { onAccepted: settings.onAccepted, position: settings.position },
          );
    const signals = (this.signals = new SignalDesk({
      agent,
      settings,
      inspection: this.inspection,
      durability: this.journal,
      activeRun: (key) => this.admission.activeRun(key) as Run | null,
      failed: (run, error) => this.failed(run, error),
      fail,
      callback: (name, fn) => this.callback(name, fn),
    }));
    this.parking = {
      scheduler: settings.scheduler,
      maxBufferedSignals: settings.maxBufferedSignals,
      deliver: (call, event) => signals.deliver(call, event),
    };
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  // ---- recovery (S13) ---------------------------------------------------------------------

  /** Loads the journal and runs its unfinished inputs again, in sequence order, before any new input. */
  recover(): void {
    let snapshot: JournalSnapshot | Promise<JournalSnapshot>;
    try {
      snapshot = this.journal.load();
    } catch (error) {
      return this.fail(error);
    }
    if (!(snapshot instanceof Promise)) return this.restore(snapshot);
    this.phase = 'loading';
    snapshot.then(
      (loaded) => this.restore(loaded),
      (error: unknown) => this.fail(error),
    );
  }

  private restore(snapshot: JournalSnapshot): void {
    if (this.phase === 'closed') return;
    const journal = this.journal;
    let recovered: ReturnType<Durability['restore']>;
    try {
      recovered = journal.restore(snapshot);
    } catch (error) {
      return this.fail(error);
    }
    this.seq = journal.nextSeq;
    // Until every recovered and held input is admitted, a run that ends at once must not complete the output.
    this.phase = 'restoring';
    for (const { seq, input, error } of recovered) {
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
      this.admit(input, key, seq, undefined, true);
    }
    const held = this.held;
    this.held = [];
    for (const input of held) this.accept(input);
    const heldSignals = this.heldSignals;
    this.heldSignals = [];
    for (const s of heldSignals) this.signal(s);
    if (this.closed) return;
    this.phase = 'running';
    this.completeIfDone();
  }

  // ---- one input --------------------------------------------------------------------------

  /** A new input: it gets the next run sequence number, is journaled, and is admitted (S1). */
  accept(input: unknown): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'loading') return void this.held.push(input);
    let key: unknown;
    try {
      key = this.settings.key(input);
    } catch (error) {
      return this.rejected(input, this.seq++, undefined, new CallbackError('key', error));
    }
    const seq = this.seq++;
    let encoded: string | undefined;
    try {
      encoded = this.journal.encodeInput(input, key, seq);
    } catch (error) {
      return this.rejected(input, seq, key, error as RxAgentsError);
    }
    this.admit(input, key, seq, encoded, false);
  }

  /** Starts run `seq` if its key is idle, else queues it behind the key's run (bounded, S10). */
  private admit(input: unknown, key: unknown, seq: number, encoded: string | undefined, recovered: boolean): void {
    const admission = this.admission;
    const ks = admission.keyState(key);
    if (ks.active === null) {
      this.journal.accepted(seq, input, encoded);
      this.inspection.inputAccepted(key, seq, false, input);
      admission.start(ks, input, seq, this.inspection.stamp());
      return this.mailbox.drain();
    }
    // S15: the busy policy (recovered inputs were placed before the crash: they queue).
    let policy: BusyPolicy = 'queue';
    if (!recovered && this.settings.busy !== 'queue') {
      try {
        policy = choosePolicy(this.settings.busy, input, key);
      } catch (error) {
        return this.rejected(input, seq, key, new CallbackError('busy', error));
      }
    }
    if (policy === 'reject') {
      this.journal.skipped(seq);
      this.inspection.inputDropped(key, seq, 'rejected');
      return this.callback('onDropped', () => this.settings.onDropped?.(input, key, 'rejected'));
    }
    if (policy === 'latest')
      for (const superseded of admission.takeWaiting(ks)) {
        this.journal.ended(superseded.seq, key, undefined, false); // it was accepted
        this.inspection.inputDropped(key, superseded.seq, 'superseded');
        this.callback('onDropped', () => this.settings.onDropped?.(superseded.input, key, 'superseded'));
      }
    if (!admission.hasRoomFor(ks, input, seq, recovered)) return;
    this.journal.accepted(seq, input, encoded);
    admission.enqueue(ks, input, seq, this.inspection.stamp());
    this.inspection.inputAccepted(key, seq, true, input);
    if (policy === 'interrupt' || policy === 'rollback') {
      this.interrupt(ks.active as Run, policy);
      this.mailbox.drain();
    }
  }

  /**
   * S15: a newer input of the key aborts its running run (its signal fires, its calls abort); under
   * `rollback` the key's short-term memory goes back to what it was when the run started. The run
   * ends (journaled, so it is not replayed) and is reported; the key's next input starts.
   */
  private interrupt(run: Run, policy: 'interrupt' | 'rollback'): void {
    const outcome = policy === 'interrupt' ? 'interrupted' : 'rolled-back';
    run.abandon(
      `run ${run.seq} of key \`${describeKey(run.key)}\` was ${outcome === 'interrupted' ? 'interrupted' : 'rolled back'} by a newer input`,
    );
    if (policy === 'rollback') {
      const before = run.memoryAtStart;
      this.memories.set(
        run.key,
        before === null || before === undefined ? new MemoryNode() : MemoryNode.fromJSON(before),
      );
      run.memoryChanged = true;
    }
    this.endRun(run, outcome, undefined);
    this.callback('onDropped', () => this.settings.onDropped?.(run.input, run.key, outcome));
  }

  /** {@link AdmissionHost}: the run of an admitted input starts; its input event waits for the run's first turn. */
  startRun(ks: KeyState, input: unknown, seq: number, acceptedAt: number): Run {
    const now = this.probe !== null ? this.scheduler.now() : this.inspection.stamp(); // state snapshots show run ages
    const run = new Run(this, ks, seq, input, now);
    this.inspection.runStarted(ks.key, seq, now, acceptedAt);
    let payload = input;
    if (this.agent.input !== undefined) {
      // A compiled fast path for simple object schemas first (lib/events/fast-parse.ts); else safeParse,
      // so the error's "where" text is built only for an invalid input. A refine or transform that throws,
      // a throwing getter or a revoked proxy in the input fail this run, not the producer.
      let parsed: ReturnType<NonNullable<Agent['input']>['safeParse']>;
      try {
        const fast = fastParse(this.agent.input, input);
        if (fast === ASK_ZOD) parsed = this.agent.input.safeParse(input);
        else parsed = { success: true, data: fast } as ReturnType<NonNullable<Agent['input']>['safeParse']>;
      } catch (error) {
        run.rejected = new CallbackError('input schema', error);
        this.mailbox.post(run);
        return run;
      }
      if (!parsed.success) {
        const where = `for the input of run ${seq} (agent \`${this.agent.name}\`'s input schema)`;
        run.rejected = new EventValidationError(InputEvent.type, toIssues(parsed.error), where, {
          cause: parsed.error,
        });
        this.mailbox.post(run);
        return run;
      }
      payload = parsed.data;
    }
    run.payload = payload;
    if (mayRollBack(this.settings.busy)) {
      const memory = this.shortTermMemory(ks.key);
      run.memoryAtStart = memory.size === 0 ? null : memory.toJSON();
    }
    this.signals.restore(run);
    run.enqueue(new RoutedEvent(InputEvent.type, payload, null, seq));
    this.mailbox.post(run);
    return run;
  }

  /** {@link RunHost}: queues a run or an activation for its turn. */
  post(item: Run | Activation): void {
    this.mailbox.post(item);
  }

  /** {@link RunHost}: the run has nothing left to do (S7). */
  completed(run: Run): void {
    this.endRun(run, 'completed', undefined);
  }

  /** Ends a run: frees per-run state, journals its end with the key's memory, starts the key's next input (S1, S7, S10). */
  private endRun(run: Run, outcome: 'completed' | 'failed' | 'interrupted' | 'rolled-back', error: unknown): void {
    const ks = run.ks;
    this.signals.runEnded(run);
    run.release();
    const memory = this.memories.size === 0 ? undefined : this.memories.get(ks.key);
    this.journal.ended(run.seq, ks.key, memory, run.memoryChanged);
    if (memory !== undefined && memory.size === 0) this.memories.delete(ks.key);
    this.inspection.runEnded(ks.key, run.seq, outcome, run.startedAt, error);
    this.admission.runEnded(ks);
  }

  /** {@link RunHost}: applies the error policy to a failed run (S9). */
  failed(run: Run, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') return this.fail(error);
    run.abandon(`run ${run.seq} of key \`${describeKey(run.key)}\` failed`);
    this.endRun(run, 'failed', error);
    this.callback('onRunFailed', () =>
      this.settings.onRunFailed?.({ key: run.key, run: run.seq, input: run.input, error }),
    );
    this.completeIfDone();
  }

  /** {@link AdmissionHost}: `drop-oldest` may drop waiting run `seq` only while it is not acknowledged (S10, S13). */
  droppable(seq: number): boolean {
    return this.journal.unacknowledged(seq);
  }

  /** {@link AdmissionHost}: an input was dropped by the overflow policy; reported, never silent (S10). */
  dropped(dropped: Pending, key: unknown, reason: 'drop-newest' | 'drop-oldest'): void {
    if (reason === 'drop-oldest') this.journal.withdrawn(dropped.seq); // accepted, not yet acknowledged
    this.inspection.inputDropped(key, dropped.seq, reason);
    this.callback('onDropped', () => this.settings.onDropped?.(dropped.input, key, reason));
  }

  /** {@link AdmissionHost}: the input buffer overflowed under `overflow: 'error'`. */
  overflowed(error: RxAgentsError): void {
    this.fail(error);
  }

  /**
   * An input got run sequence `seq` but no run. With a store, `seq` is journaled as used so that no
   * input gets it again after a restart (S13), and under `errorPolicy: 'isolate'` the failure
   * (which names `seq`) is reported once that is committed.
   */
  private rejected(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') {
      this.journal.skipped(seq);
      return this.inputFailed(input, seq, key, error);
    }
    this.journal.skipped(seq, () => this.inputFailed(input, seq, key, error));
  }

  private inputFailed(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') return this.fail(error);
    this.callback('onRunFailed', () => this.settings.onRunFailed?.({ key, run: seq, input, error }));
  }

  /** {@link RunHost}: the key's short-term memory, restored from the journal on first use (S13). */
  shortTermMemory(key: unknown): MemoryNode {
    let node = this.memories.get(key);
    if (node === undefined) {
      const restored = this.journal.takeMemory(key);
      node = restored === undefined ? new MemoryNode() : MemoryNode.fromJSON(restored);
      this.memories.set(key, node);
    }
    return node;
  }

  // ---- calls ------------------------------------------------------------------------------

  /** {@link RunHost}: a call is made. The journal is asked first (S13): a recorded outcome settles it without running. */
  submit(run: Run, from: Activation, call: AsyncCall<unknown>): void {
    this.inspection.asyncQueued(from, call);
    this.probe?.queued(call);
    call.submitted = true;
    const replay = this.journal.replay(run.seq, call);
    if (replay.kind === 'settled') return call.resolveWith(replay.ok, replay.value, true);
    if (replay.kind === 'reconcile') call.reconciling = true;
    // A call with a reconciler starts once its start is durable (so a crash leaves it in doubt, not forgotten).
    else if (call.options?.reconcile !== undefined)
      return this.journal.starting(run.seq, call, () => this.dispatch(call));
    this.dispatch(call);
  }

  /** {@link RunHost}: hands a call to its budget (if it names one) and the executor. */
  dispatch(call: AsyncCall<unknown>): void {
    const budget = call.options?.budget;
    const budgets = this.settings.budgets;
    if (budget === undefined || budgets === undefined) this.settings.executor.submit(call);
    else budgets.submit(budget, call, this.settings.executor);
  }

  /** {@link RunHost}: the operator's named budgets. */
  get budgets(): Budgets | undefined {
    return this.settings.budgets;
  }

  /** {@link RunHost}: a call settled: its outcome is journaled (unless it came from the journal) and reported. */
  settled(run: Run, from: Activation, call: AsyncCall<unknown>): void {
    if (call.submitted && !call.replayed && !call.cancelled) {
      try {
        this.journal.settled(run.seq, call);
      } catch (error) {
        return run.failed(from, error);
      }
    }
    this.inspection.asyncCompleted(from, call);
  }

  // ---- S14: parked calls and signals -------------------------------------------------------

  /** {@link RunHost}: parks a wait or timer: journaled with its absolute deadline, never given to the executor. */
  park(run: Run, from: Activation, call: AsyncCall<unknown>, spec: ParkSpec): void {
    call.submitted = true; // its outcome is journaled when it settles
    let deadline = spec.deadline;
    const replay = this.journal.replayParked(run.seq, call);
    switch (replay.kind) {
      case 'settled':
        return call.resolveWith(replay.ok, replay.value, true);
      case 'timed-out':
        call.replayed = true;
        return spec.fire(call);
      case 'parked':
        deadline = replay.deadline;
        break;
      case 'new':
        try {
          this.journal.parked(run.seq, call, deadline);
        } catch (error) {
          return run.failed(from, error);
        }
    }
    this.probe?.parked(call, deadline);
    park(this.parking, run, call, spec, deadline);
  }

  /** A signal arrived (the `signals` option): held while the journal loads, else to the signal desk (S14). */
  signal(value: unknown): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'loading') return void this.heldSignals.push(value);
    this.signals.receive(value);
  }

  // ---- outputs and the end of the stream -------------------------------------------------

  /** {@link RunHost}: an OutputEvent goes downstream, as its payload or an envelope (S8). */
  output(run: Run, event: RoutedEvent): void {
    this.inspection.outputEmitted(run.key, run.seq, event);
    this.sink.next(
      this.settings.envelope ? { key: run.key, run: run.seq, id: event.id, payload: event.payload } : event.payload,
    );
  }

  /** {@link RunHost}: S16, a chunk streamed by a running call of `run` (see run-channel.ts) goes downstream as it arrives. */
  streamed(_run: Run, chunk: unknown): void {
    if (this.phase !== 'closed') this.sink.next(chunk);
  }

  sourceComplete(): void {
    this.sourceDone = true;
    this.completeIfDone();
  }

  sourceError(error: unknown): void {
    this.fail(error);
  }

  /** Backpressure for pull sources (see {@link Admission.whenRoom}); `undefined` once the stream has ended. */
  whenRoom(limit: number): Promise<void> | undefined {
    return this.phase === 'closed' ? undefined : this.admission.whenRoom(limit);
  }

  /** For the state probe: keys with work (read-only). */
  get keyStates(): ReadonlyMap<unknown, KeyState> {
    return this.admission.keyStates;
  }

  /** For the state probe: a key's short-term memory in this subscription, if any. */
  memoryOf(key: unknown): MemoryNode | undefined {
    return this.memories.get(key);
  }

  /** What the runtime holds right now: per-key states, short-term memories, buffered inputs, active runs, queued work (S10). */
  footprint(): { keys: number; memories: number; buffered: number; activeRuns: number; mailbox: number } {
    const { keys, buffered, activeRuns } = this.admission.footprint();
    return { keys, memories: this.memories.size, buffered, activeRuns, mailbox: this.mailbox.size };
  }

  /**
   * The completion rule (S9): the output completes once the source has completed, every accepted
   * input's run has ended — none runs, none waits — and the runtime is `running`: not loading or
   * restoring the journal (recovered and held inputs still to admit), not already completing, not
   * closed, and not inside a mailbox turn (a turn may still start runs; its end checks again).
   */
  private mayComplete(): boolean {
    return this.phase === 'running' && this.sourceDone && !this.mailbox.busy && this.admission.idle;
  }

  private completeIfDone(): void {
    if (!this.mayComplete()) return;
    // S13: complete only once every journal write of this subscription is committed (a failed commit fails the stream instead).
    this.phase = 'completing';
    this.journal.drain(() => this.complete());
  }

  private complete(): void {
    if (this.phase === 'closed') return;
    this.dispose('the stream completed');
    this.sink.complete();
  }

  private fail(error: unknown): void {
    if (this.phase === 'closed') return;
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
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.mailbox.close();
    const inspection = this.inspection;
    // Inspectors hear of the runs and waiting inputs the end cut off, so their view of the keys ends too.
    const now = inspection.on ? this.scheduler.now() : NaN;
    this.admission.close(
      reason,
      inspection.on
        ? (ks, run, waiting) => {
            if (run !== null) inspection.runEnded(ks.key, run.seq, 'aborted', run.startedAt, undefined, now);
            if (waiting !== null) inspection.inputDropped(ks.key, waiting.seq, 'aborted', now);
          }
        : undefined,
    );
    inspection.close();
    this.memories.clear();
    this.held = [];
    this.heldSignals = [];
    this.journal.close();
    if (this.probe !== null) this.settings.state?.detach(this.probe);
  }
}
