import type { SchedulerLike } from 'rxjs';
import type { Agent } from '../agent/define-agent';
import { CallbackError, RxAgentsError } from '../errors';
import { InputEvent, OutputEvent } from '../events/define-event';
import { CallDesk, type CallDeskHost } from './call-desk';
import type { ParkHost } from './parking';
import { SignalDesk } from './signal-desk';
import type { Budgets } from './budgets';
import { BusyDesk, type BusyHost, type Displaced } from './busy-desk';
import type { Activation } from './activation';
import { Admission, type AdmissionHost, type KeyState } from './admission';
import { Inspection } from './inspection';
import { noJournal, type Durability } from './durability';
import { parseInput } from './input-schema';
import { Journal } from './journal';
import { Mailbox, type MailboxHost } from './mailbox';
import { MemoryNode } from './memory';
import { Recovery, type RecoveryHost } from './recovery';
import { RoutedEvent } from './routed-event';
import { routeTable, type Route } from './route-table';
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
 * if its key is idle, else the {@link BusyDesk} makes it wait behind the key's run (S1) or applies
 * the busy policy (S15); the {@link Mailbox} gives the run its turns, one at a time (S4), while
 * async blocks run on the executor and wake their actions through the scheduler (S6); the run
 * ends ({@link completed}) and the key's next input starts; once the source is done and nothing
 * runs, the output completes ({@link mayComplete}, S9). Before the first input, {@link Recovery}
 * runs the journal's unfinished inputs again (S13).
 */
export class Runtime implements RunHost, AdmissionHost, BusyHost, RecoveryHost, CallDeskHost, MailboxHost {
  readonly scheduler: SchedulerLike;
  readonly maxEventsPerRun: number;
  readonly defaultTimeout: number | undefined;
  readonly validateEvents: boolean;
  /** {@link RunHost}: the agent's route table. */
  readonly routes: ReadonlyMap<string, Route>;
  /** {@link RunHost}: OutputEvent's route. */
  readonly outputRoute: Route;
  /** The input event's route (`null`: no action is triggered by InputEvent). */
  private readonly inputRoute: Route | null;
  readonly inspection: Inspection;
  readonly blocks = new SyncBlocks();
  private phase: Phase = 'running';
  readonly admission: Admission;
  /** Inputs whose key is busy: the busy and overflow policies (S10, S15). */
  private readonly busy: BusyDesk;
  private readonly mailbox: Mailbox<Run | Activation>;
  /** The journal (S13), or `noJournal` without a store. */
  readonly durability: Durability;
  private readonly recovery: Recovery;
  private readonly memories = new Map<unknown, MemoryNode>();
  private seq = 0;
  private sourceDone = false;
  /** S11: the scheduler is virtual time (a TestScheduler): a Promise-returning block fails with VirtualTimeError. */
  readonly virtualTime: boolean;
  /** The seam of the state API (lib/runtime/state-probe.ts), while a state view is attached. */
  readonly probe: StateProbe | null = null;
  /** Where calls go: replay or run, budgets, the executor, parking (S12–S14). */
  readonly calls = new CallDesk(this);
  /** Signals to parked waits (S14). */
  private readonly signals: SignalDesk;
  /** What parking needs of the runtime (S14). */
  readonly parking: ParkHost;

  constructor(
    readonly agent: Agent,
    readonly settings: RuntimeSettings,
    private readonly sink: Sink,
  ) {
    this.scheduler = settings.scheduler;
    this.virtualTime = isVirtualTime(settings.scheduler);
    this.validateEvents = settings.validateEvents;
    this.routes = routeTable(agent);
    this.inputRoute = this.routes.get(InputEvent.type) ?? null;
    this.outputRoute = this.routes.get(OutputEvent.type) as Route;
    if (settings.state !== undefined) settings.state.attach((this.probe = new StateProbe(this)));
    this.maxEventsPerRun = settings.maxEventsPerRun;
    this.defaultTimeout = settings.defaultTimeout;
    const fail = (error: unknown): void => this.fail(error);
    this.inspection = new Inspection(settings.inspect, settings.scheduler, fail, settings.slowBlockAfter);
    this.busy = new BusyDesk(this);
    this.admission = new Admission(this, this.busy, settings);
    this.mailbox = new Mailbox(settings.scheduler, this);
    this.recovery = new Recovery(this);
    this.durability =
      settings.store === undefined
        ? noJournal
        : new Journal(
            settings.store,
            agent.name,
            { scheduler: this.scheduler, fail, callback: (name, fn) => this.callback(name, fn) },
            { onAccepted: settings.onAccepted, position: settings.position, upgradeCallIds: agent.upgradeCallIds },
          );
    const signals = (this.signals = new SignalDesk({
      agent,
      settings,
      inspection: this.inspection,
      durability: this.durability,
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

  // ---- recovery (S13, lib/runtime/recovery.ts) ------------------------------------------

  /** Runs the journal's unfinished inputs again, in sequence order, before any new input. */
  recover(): void {
    this.recovery.start();
  }

  /** {@link RecoveryHost}: an async store is loading the journal; new inputs and signals are held. */
  loading(): void {
    this.phase = 'loading';
  }

  /** {@link RecoveryHost}: until every recovered and held input is admitted, a run that ends at once must not complete the output. */
  restoring(nextSeq: number): void {
    this.seq = nextSeq;
    this.phase = 'restoring';
  }

  /** {@link RecoveryHost}: a recovered input (journaled already) is admitted. */
  admitRecovered(input: unknown, key: unknown, seq: number): void {
    this.admit(input, key, seq, undefined, true);
  }

  /** {@link RecoveryHost}: from now on, inputs are admitted as they come. */
  restored(): void {
    this.phase = 'running';
    this.completeIfDone();
  }

  /** {@link RecoveryHost}: the key of an input. */
  keyOf(input: unknown): unknown {
    return this.settings.key(input);
  }

  // ---- one input --------------------------------------------------------------------------

  /** A new input: it gets the next run sequence number, is journaled, and is admitted (S1). */
  accept(input: unknown): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'loading') return this.recovery.hold(input);
    let key: unknown;
    try {
      key = this.settings.key(input);
    } catch (error) {
      return this.rejected(input, this.seq++, undefined, new CallbackError('key', error));
    }
    const seq = this.seq++;
    let encoded: string | undefined;
    try {
      encoded = this.durability.encodeInput(input, key, seq);
    } catch (error) {
      return this.rejected(input, seq, key, error as RxAgentsError);
    }
    this.admit(input, key, seq, encoded, false);
  }

  /** Starts run `seq` if its key is idle, else the busy desk places it (S1, S10, S15). */
  private admit(input: unknown, key: unknown, seq: number, encoded: string | undefined, recovered: boolean): void {
    const ks = this.admission.keyState(key);
    if (ks.active !== null) return this.busy.admit(ks, input, key, seq, encoded, recovered);
    this.durability.accepted(seq, input, encoded);
    const inspection = this.inspection;
    if (inspection.attached) inspection.inputAccepted(key, seq, false, input);
    this.admission.start(ks, input, seq, inspection.attached ? inspection.stamp() : NaN);
    this.mailbox.drain();
  }

  /** {@link AdmissionHost}: the run of an admitted input starts; its input event waits for the run's first turn. */
  startRun(ks: KeyState, input: unknown, seq: number, acceptedAt: number): Run {
    const inspection = this.inspection;
    // State snapshots show run ages; else the clock is read only for an inspector.
    const now = this.probe !== null ? this.scheduler.now() : inspection.attached ? inspection.stamp() : NaN;
    const run = new Run(this, ks, seq, input, now);
    if (inspection.attached) inspection.runStarted(ks.key, seq, now, acceptedAt);
    let payload: unknown;
    try {
      payload = parseInput(this.agent, input, seq);
    } catch (error) {
      run.rejected = error as RxAgentsError; // the run fails on its first turn (not the producer, S9)
      this.mailbox.post(run);
      return run;
    }
    run.payload = payload;
    if (this.busy.remembers) this.busy.remember(run);
    this.signals.restore(run);
    run.enqueue(new RoutedEvent(InputEvent.type, payload, null, seq, this.inputRoute));
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
  endRun(run: Run, outcome: 'completed' | 'failed' | Displaced, error: unknown): void {
    const ks = run.ks;
    this.signals.runEnded(run);
    run.release();
    const memory = this.memories.size === 0 ? undefined : this.memories.get(ks.key);
    this.durability.ended(run.seq, ks.key, memory, run.memoryChanged);
    if (memory !== undefined && memory.size === 0) this.memories.delete(ks.key);
    if (this.inspection.attached) this.inspection.runEnded(ks.key, run.seq, outcome, run.startedAt, error);
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

  /**
   * An input got run sequence `seq` but no run. With a store, `seq` is journaled as used so that no
   * input gets it again after a restart (S13), and under `errorPolicy: 'isolate'` the failure
   * (which names `seq`) is reported once that is committed.
   */
  rejected(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') {
      this.durability.skipped(seq);
      return this.inputFailed(input, seq, key, error);
    }
    this.durability.skipped(seq, () => this.inputFailed(input, seq, key, error));
  }

  /** {@link RecoveryHost}: an input with a run sequence number but no run fails under the error policy. */
  inputFailed(input: unknown, seq: number, key: unknown, error: RxAgentsError): void {
    if (this.settings.errorPolicy === 'fail') return this.fail(error);
    this.callback('onRunFailed', () => this.settings.onRunFailed?.({ key, run: seq, input, error }));
  }

  /** {@link RunHost}: the key's short-term memory, restored from the journal on first use (S13). */
  shortTermMemory(key: unknown): MemoryNode {
    let node = this.memories.get(key);
    if (node === undefined) {
      const restored = this.durability.takeMemory(key);
      node = restored === undefined ? new MemoryNode() : MemoryNode.fromJSON(restored);
      this.memories.set(key, node);
    }
    return node;
  }

  /** {@link BusyHost}: S15 `rollback` puts the key's short-term memory back. */
  replaceMemory(key: unknown, memory: MemoryNode): void {
    this.memories.set(key, memory);
  }

  /** {@link BusyHost}: the mailbox takes its turns now (a no-op inside a turn). */
  drain(): void {
    this.mailbox.drain();
  }

  /** {@link RunHost}: the operator's named budgets. */
  get budgets(): Budgets | undefined {
    return this.settings.budgets;
  }

  // ---- S14: signals -------------------------------------------------------------------------

  /** A signal arrived (the `signals` option): held while the journal loads, else to the signal desk (S14). */
  signal(value: unknown): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'loading') return this.recovery.holdSignal(value);
    this.signals.receive(value);
  }

  // ---- outputs and the end of the stream -------------------------------------------------

  /** {@link RunHost}: an OutputEvent goes downstream, as its payload or an envelope (S8). */
  output(run: Run, event: RoutedEvent): void {
    if (this.inspection.attached) this.inspection.outputEmitted(run.key, run.seq, event);
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

  /** {@link MailboxHost}: a drain ended. */
  mailboxIdle(): void {
    this.completeIfDone();
  }

  private completeIfDone(): void {
    if (!this.mayComplete()) return;
    // S13: complete only once every journal write of this subscription is committed (a failed commit fails the stream instead).
    this.phase = 'completing';
    this.durability.drain(() => this.complete());
  }

  private complete(): void {
    if (this.phase === 'closed') return;
    this.dispose('the stream completed');
    this.sink.complete();
  }

  /** Fails the stream (once): everything is disposed, the error goes downstream. */
  fail(error: unknown): void {
    if (this.phase === 'closed') return;
    this.dispose('the stream failed');
    this.sink.error(error);
  }

  /** Runs a user callback; a throw fails the stream (never an unhandled exception). */
  callback(name: string, fn: () => void): void {
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
    this.recovery.close();
    this.durability.close();
    if (this.probe !== null) this.settings.state?.detach(this.probe);
  }
}
