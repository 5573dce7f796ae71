import type { SchedulerLike } from 'rxjs';
import { CallbackError } from '../errors';
import type { DropReason } from './admission';
import type {
  ExtensionEvent,
  Inspector,
  InspectorChannel,
  LifecycleCounters,
  LifecycleEvent,
  RunOutcome,
} from './lifecycle';
import { SlowBlocks, type WatchedCall } from './slow-blocks';

/** What an `action.*` event reports of an activation. */
export interface InspectedActivation {
  readonly key: unknown;
  readonly run: number;
  readonly action: string;
  /** `<event id>><action name>`. */
  readonly id: string;
  readonly event: { readonly id: string };
}

/** What an `async.*` event reports of a call. */
export interface InspectedCall {
  readonly id: string;
  readonly fulfilled: boolean;
  readonly replayed: boolean;
  readonly error: unknown;
}

/**
 * Every lifecycle event the runtime reports, one typed method each, in one place.
 *
 * Zero cost when nobody listens: each method first asks whether the inspector wants events — none
 * was given, or its `active` is `false` (nobody subscribed) — and then builds nothing; the clock is
 * read only when someone listens ({@link stamp}). An inspector with an {@link InspectorChannel}
 * (`createInspector()`) is told every step through its counters (plain calls, no event object) and
 * gets event objects only while a listener wants every event, or for the runs a sampling listener
 * asked for at their start (per-run interest: the live page's timeline samples a few runs a second).
 * The events are built out of line ({@link LifecycleEvents}), so that these methods stay small on
 * the hot path whether or not some runs are sampled.
 * A throwing inspector fails the stream with `CallbackError('inspect')`, never an unhandled exception.
 *
 * @example
 * inspection.runStarted(key, seq, now, acceptedAt); // emits `run.started` if someone listens
 */
export class Inspection {
  /**
   * An inspector was given (the `inspect` option). Without one no event or counter can ever be
   * wanted, so the hot path (accept, run start and end, route, send, action start and finish,
   * output) tests this one field instead of calling in: those calls, each a no-op then, measured as
   * ~13 % of the routing workload's CPU time (their bodies also used up the inlining budget of the
   * runtime's turn).
   */
  readonly attached: boolean;
  /** Reports blocks running past `slowBlockAfter` (`async.slow`); only with an inspector and a finite threshold. */
  private readonly slow: SlowBlocks<InspectedActivation> | null;
  /** The split path of the inspector, if it has one; `counters` is its counters (undefined: a plain inspector). */
  private readonly channel: InspectorChannel | undefined;
  private readonly counters: LifecycleCounters | undefined;
  /** Runs a sampling listener asked for (channel only): their events are built until they end. */
  private readonly wanted = new Set<number>();
  private readonly events: LifecycleEvents;

  constructor(
    private readonly inspector: Inspector | undefined,
    private readonly scheduler: SchedulerLike,
    onThrow: (error: CallbackError) => void,
    slowBlockAfter = Infinity,
  ) {
    this.attached = inspector !== undefined;
    this.channel = inspector?.channel;
    this.counters = this.channel?.counters;
    this.events = new LifecycleEvents(inspector, this.channel, scheduler, onThrow);
    this.slow =
      inspector !== undefined && slowBlockAfter !== Infinity
        ? new SlowBlocks<InspectedActivation>(scheduler, slowBlockAfter, (a, call, attempt, age) =>
            this.asyncSlow(a, call, attempt, age),
          )
        : null;
  }

  /** The stream ended: the slow-block watch leaves no timer behind (S9). */
  close(): void {
    this.slow?.close();
    this.wanted.clear();
  }

  /** Someone listens (an inspector with counters always does). */
  get on(): boolean {
    return this.counters !== undefined || this.listener() !== undefined;
  }

  /**
   * `scheduler.now()` while events may be built (they carry waits and durations); `NaN` otherwise, to
   * keep the clock off the hot path (counters alone do not need it).
   */
  stamp(): number {
    const channel = this.channel;
    if (channel !== undefined) return channel.all || channel.sampling ? this.scheduler.now() : NaN;
    return this.listener() !== undefined ? this.scheduler.now() : NaN;
  }

  inputAccepted(key: unknown, run: number, buffered: boolean, input: unknown): void {
    this.counters?.inputAccepted(key, run, buffered);
    if (this.builds(run)) this.events.inputAccepted(key, run, buffered, input);
  }

  /** `time`: when the drop happened (`scheduler.now()` if not given). */
  inputDropped(key: unknown, run: number, reason: DropReason, time?: number): void {
    this.counters?.inputDropped(key, run);
    if (this.builds(run)) this.events.inputDropped(key, run, reason, time);
  }

  /** `now` and `acceptedAt` come from {@link stamp}. */
  runStarted(key: unknown, run: number, now: number, acceptedAt: number): void {
    const channel = this.channel;
    if (channel !== undefined) {
      channel.counters.runStarted(run);
      // Per-run interest: asked once, here; the run's events are built until it ends only if wanted. A run
      // whose input was accepted while nobody sampled has no accept time (its `waited` would be wrong): not asked.
      if (channel.sampling && !Number.isNaN(acceptedAt) && this.events.ask(key, run, now)) this.wanted.add(run);
    }
    if (this.builds(run)) this.events.runStarted(key, run, now, acceptedAt);
  }

  /** `startedAt` comes from {@link stamp}; `time`: when it ended (`scheduler.now()` if not given). */
  runEnded(key: unknown, run: number, outcome: RunOutcome, startedAt: number, error?: unknown, time?: number): void {
    const builds = this.builds(run);
    const counters = this.counters;
    if (counters === undefined && !builds) return;
    // The clock is read only when needed: an event, or a failure the counters list (a default parameter would read it on every run end).
    const now = time ?? (builds || outcome !== 'completed' ? this.scheduler.now() : NaN);
    counters?.runEnded(key, run, outcome, error, now);
    if (this.wanted.size !== 0) this.wanted.delete(run);
    if (builds) this.events.runEnded(key, run, outcome, startedAt, error, now);
  }

  actionStarted(a: InspectedActivation): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.actionStarted(a.run, a.action, a, now);
    if (this.builds(a.run)) this.events.actionStarted(a, now);
  }

  actionSuspended(a: InspectedActivation): void {
    if (this.builds(a.run)) this.events.action('action.suspended', a);
  }

  actionResumed(a: InspectedActivation): void {
    if (this.builds(a.run)) this.events.action('action.resumed', a);
  }

  actionFinished(a: InspectedActivation): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.actionEnded(a.run, a.action, a, false, now);
    if (this.builds(a.run)) this.events.action('action.finished', a, now);
  }

  actionFailed(a: InspectedActivation, error: unknown): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.actionEnded(a.run, a.action, a, true, now);
    if (this.builds(a.run)) this.events.actionFailed(a, error, now);
  }

  asyncQueued(a: InspectedActivation, call: InspectedCall): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.asyncQueued(a.run, call, now);
    if (this.builds(a.run)) this.events.call('async.queued', a, call, now);
  }

  /** A block started (or started again, retrying): watched for `async.slow` while someone listens. */
  asyncStarted(a: InspectedActivation, call: InspectedCall & WatchedCall): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.asyncStarted(a.run, call, now);
    if (this.builds(a.run)) this.events.call('async.started', a, call, now);
    this.slow?.started(a, call, now);
  }

  /** A running block crossed the `slowBlockAfter` threshold (reported by the watch). */
  private asyncSlow(a: InspectedActivation, call: WatchedCall, attempt: number, age: number): void {
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.asyncSlow(a.key, a.run, a.action, call.id, call, age, now);
    if (this.builds(a.run)) this.events.asyncSlow(a, call, attempt, age, now);
  }

  asyncCompleted(a: InspectedActivation, call: InspectedCall): void {
    this.slow?.settled(call);
    const now = this.counted(a.run);
    if (Number.isNaN(now)) return;
    this.counters?.asyncCompleted(a.run, a.action, call, call.fulfilled, call.replayed, now);
    if (this.builds(a.run)) this.events.asyncCompleted(a, call, now);
  }

  eventSent(from: InspectedActivation, event: { readonly type: string; readonly id: string }, payload: unknown): void {
    this.counters?.eventSent();
    if (this.builds(from.run)) this.events.eventSent(from, event, payload);
  }

  eventRouted(
    key: unknown,
    run: number,
    event: { readonly type: string; readonly id: string },
    actions: ReadonlyArray<{ readonly name: string }>,
  ): void {
    if (this.builds(run)) this.events.eventRouted(key, run, event, actions);
  }

  outputEmitted(key: unknown, run: number, event: { readonly id: string; readonly payload: unknown }): void {
    this.counters?.outputEmitted();
    if (this.builds(run)) this.events.outputEmitted(key, run, event);
  }

  /** S14: a signal reached its key's run: handed to a parked wait (`delivered`) or buffered. */
  signalReceived(key: unknown, run: number, eventType: string, signal: string, delivered: boolean): void {
    if (this.builds(run)) this.events.signalReceived(key, run, eventType, signal, delivered);
  }

  /** S14: a signal was not delivered (`run` is -1). */
  signalRejected(key: unknown, code: string, error: unknown): void {
    if (this.builds(-1)) this.events.signalRejected(key, code, error);
  }

  /** An extension's event (`rx-agents/llm`: model and tool calls), reported through run-channel.ts. */
  extension(key: unknown, run: number, event: ExtensionEvent): void {
    this.counters?.extension(event);
    if (this.builds(run)) this.events.extension(key, run, event);
  }

  /** The inspector, while it wants events (a plain inspector: every event, or none while `active` is false). */
  private listener(): Inspector | undefined {
    const inspector = this.inspector;
    return inspector !== undefined && inspector.active !== false ? inspector : undefined;
  }

  /** Whether this run's event is built: a plain inspector while active; a channel while a listener wants all, or this run. */
  private builds(run: number): boolean {
    const channel = this.channel;
    if (channel === undefined) return this.listener() !== undefined;
    return channel.all || (this.wanted.size !== 0 && this.wanted.has(run));
  }

  /** The time of a step the counters time (or whose event is built); `NaN`: nobody needs it, nothing to do. */
  private counted(run: number): number {
    return this.counters !== undefined || this.builds(run) ? this.scheduler.now() : NaN;
  }
}

/**
 * Builds the lifecycle events and hands them over: the cold half of {@link Inspection}, called only
 * for events someone wants. `now`, when given, is the step's time already read.
 */
class LifecycleEvents {
  constructor(
    private readonly inspector: Inspector | undefined,
    private readonly channel: InspectorChannel | undefined,
    private readonly scheduler: SchedulerLike,
    private readonly onThrow: (error: CallbackError) => void,
  ) {}

  /** Asks the sampling listeners about a run (a throw fails the stream, like any inspector throw). */
  ask(key: unknown, run: number, now: number): boolean {
    try {
      return (this.channel as InspectorChannel).wants(key, run, Number.isNaN(now) ? this.scheduler.now() : now);
    } catch (error) {
      this.onThrow(new CallbackError('inspect', error));
      return false;
    }
  }

  inputAccepted(key: unknown, run: number, buffered: boolean, input: unknown): void {
    this.emit({ type: 'input.accepted', time: this.scheduler.now(), key, run, buffered, input });
  }

  inputDropped(key: unknown, run: number, reason: DropReason, time: number | undefined): void {
    this.emit({ type: 'input.dropped', time: time ?? this.scheduler.now(), key, run, reason });
  }

  runStarted(key: unknown, run: number, now: number, acceptedAt: number): void {
    this.emit({
      type: 'run.started',
      time: Number.isNaN(now) ? this.scheduler.now() : now,
      key,
      run,
      waited: Number.isNaN(acceptedAt) || Number.isNaN(now) ? 0 : now - acceptedAt,
    });
  }

  runEnded(key: unknown, run: number, outcome: RunOutcome, startedAt: number, error: unknown, now: number): void {
    this.emit({
      type: 'run.ended',
      time: now,
      key,
      run,
      outcome,
      duration: Number.isNaN(startedAt) ? 0 : now - startedAt,
      ...(error === undefined ? {} : { error }),
    });
  }

  actionStarted(a: InspectedActivation, now: number): void {
    this.emit({
      type: 'action.started',
      time: now,
      key: a.key,
      run: a.run,
      action: a.action,
      activation: a.id,
      event: a.event.id,
    });
  }

  action(
    type: 'action.suspended' | 'action.resumed' | 'action.finished',
    a: InspectedActivation,
    now = this.scheduler.now(),
  ): void {
    this.emit({ type, time: now, key: a.key, run: a.run, action: a.action, activation: a.id });
  }

  actionFailed(a: InspectedActivation, error: unknown, now: number): void {
    this.emit({ type: 'action.failed', time: now, key: a.key, run: a.run, action: a.action, activation: a.id, error });
  }

  call(type: 'async.queued' | 'async.started', a: InspectedActivation, call: InspectedCall, now: number): void {
    this.emit({ type, time: now, key: a.key, run: a.run, action: a.action, activation: a.id, call: call.id });
  }

  asyncSlow(a: InspectedActivation, call: WatchedCall, attempt: number, age: number, now: number): void {
    this.emit({
      type: 'async.slow',
      time: now,
      key: a.key,
      run: a.run,
      action: a.action,
      activation: a.id,
      call: call.id,
      attempt,
      age,
    });
  }

  asyncCompleted(a: InspectedActivation, call: InspectedCall, now: number): void {
    this.emit({
      type: 'async.completed',
      time: now,
      key: a.key,
      run: a.run,
      action: a.action,
      activation: a.id,
      call: call.id,
      ok: call.fulfilled,
      replayed: call.replayed,
      ...(call.fulfilled ? {} : { error: call.error }),
    });
  }

  eventSent(from: InspectedActivation, event: { readonly type: string; readonly id: string }, payload: unknown): void {
    this.emit({
      type: 'event.sent',
      time: this.scheduler.now(),
      key: from.key,
      run: from.run,
      eventType: event.type,
      event: event.id,
      action: from.action,
      activation: from.id,
      payload,
    });
  }

  eventRouted(
    key: unknown,
    run: number,
    event: { readonly type: string; readonly id: string },
    actions: ReadonlyArray<{ readonly name: string }>,
  ): void {
    this.emit({
      type: 'event.routed',
      time: this.scheduler.now(),
      key,
      run,
      eventType: event.type,
      event: event.id,
      actions: actions.map((a) => a.name),
    });
  }

  outputEmitted(key: unknown, run: number, event: { readonly id: string; readonly payload: unknown }): void {
    this.emit({
      type: 'output.emitted',
      time: this.scheduler.now(),
      key,
      run,
      event: event.id,
      payload: event.payload,
    });
  }

  signalReceived(key: unknown, run: number, eventType: string, signal: string, delivered: boolean): void {
    this.emit({ type: 'signal.received', time: this.scheduler.now(), key, run, eventType, signal, delivered });
  }

  signalRejected(key: unknown, code: string, error: unknown): void {
    this.emit({ type: 'signal.rejected', time: this.scheduler.now(), key, run: -1, code, error });
  }

  extension(key: unknown, run: number, event: ExtensionEvent): void {
    this.emit({ ...event, time: this.scheduler.now(), key, run });
  }

  private emit(event: LifecycleEvent): void {
    // Same contract as a user callback, without allocating a closure per event (the hot path when inspecting).
    try {
      const channel = this.channel;
      if (channel !== undefined) channel.deliver(event);
      else (this.inspector as Inspector)(event);
    } catch (error) {
      this.onThrow(new CallbackError('inspect', error));
    }
  }
}
