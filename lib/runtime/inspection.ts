import type { SchedulerLike } from 'rxjs';
import { CallbackError } from '../errors';
import type { DropReason } from './admission';
import type { ExtensionEvent, Inspector, LifecycleEvent } from './lifecycle';
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
 * read only when someone listens ({@link stamp}). A throwing inspector fails the stream with
 * `CallbackError('inspect')`, never an unhandled exception.
 *
 * @example
 * inspection.runStarted(key, seq, now, acceptedAt); // emits `run.started` if someone listens
 */
export class Inspection {
  /** Reports blocks running past `slowBlockAfter` (`async.slow`); only with an inspector and a finite threshold. */
  private readonly slow: SlowBlocks<InspectedActivation> | null;

  constructor(
    private readonly inspector: Inspector | undefined,
    private readonly scheduler: SchedulerLike,
    private readonly onThrow: (error: CallbackError) => void,
    slowBlockAfter = Infinity,
  ) {
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
  }

  /** Someone listens. */
  get on(): boolean {
    return this.listener() !== undefined;
  }

  /** `scheduler.now()` while someone listens (events carry waits and durations); `NaN` otherwise, to keep the clock off the hot path. */
  stamp(): number {
    return this.listener() !== undefined ? this.scheduler.now() : NaN;
  }

  inputAccepted(key: unknown, run: number, buffered: boolean, input: unknown): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, { type: 'input.accepted', time: this.scheduler.now(), key, run, buffered, input });
  }

  /** `time`: when the drop happened (`scheduler.now()` if not given). */
  inputDropped(key: unknown, run: number, reason: DropReason, time?: number): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, { type: 'input.dropped', time: time ?? this.scheduler.now(), key, run, reason });
  }

  /** `now` and `acceptedAt` come from {@link stamp}. */
  runStarted(key: unknown, run: number, now: number, acceptedAt: number): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'run.started',
        time: now,
        key,
        run,
        waited: Number.isNaN(acceptedAt) ? 0 : now - acceptedAt,
      });
  }

  /** `startedAt` comes from {@link stamp}; `time`: when it ended (`scheduler.now()` if not given). */
  runEnded(
    key: unknown,
    run: number,
    outcome: 'completed' | 'failed' | 'aborted' | 'interrupted' | 'rolled-back',
    startedAt: number,
    error?: unknown,
    time?: number,
  ): void {
    const inspect = this.listener();
    if (inspect === undefined) return;
    // The clock is read only now that someone listens (a default parameter would read it on every run end).
    const now = time ?? this.scheduler.now();
    this.emit(inspect, {
      type: 'run.ended',
      time: now,
      key,
      run,
      outcome,
      duration: Number.isNaN(startedAt) ? 0 : now - startedAt,
      ...(error === undefined ? {} : { error }),
    });
  }

  actionStarted(a: InspectedActivation): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'action.started',
        time: this.scheduler.now(),
        key: a.key,
        run: a.run,
        action: a.action,
        activation: a.id,
        event: a.event.id,
      });
  }

  actionSuspended(a: InspectedActivation): void {
    const inspect = this.listener();
    if (inspect !== undefined) this.emit(inspect, { type: 'action.suspended', ...this.activation(a) });
  }

  actionResumed(a: InspectedActivation): void {
    const inspect = this.listener();
    if (inspect !== undefined) this.emit(inspect, { type: 'action.resumed', ...this.activation(a) });
  }

  actionFinished(a: InspectedActivation): void {
    const inspect = this.listener();
    if (inspect !== undefined) this.emit(inspect, { type: 'action.finished', ...this.activation(a) });
  }

  actionFailed(a: InspectedActivation, error: unknown): void {
    const inspect = this.listener();
    if (inspect !== undefined) this.emit(inspect, { type: 'action.failed', ...this.activation(a), error });
  }

  asyncQueued(a: InspectedActivation, call: InspectedCall): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'async.queued',
        time: this.scheduler.now(),
        key: a.key,
        run: a.run,
        action: a.action,
        activation: a.id,
        call: call.id,
      });
  }

  /** A block started (or started again, retrying): watched for `async.slow` while someone listens. */
  asyncStarted(a: InspectedActivation, call: InspectedCall & WatchedCall): void {
    const inspect = this.listener();
    if (inspect === undefined) return;
    const now = this.scheduler.now();
    this.emit(inspect, {
      type: 'async.started',
      time: now,
      key: a.key,
      run: a.run,
      action: a.action,
      activation: a.id,
      call: call.id,
    });
    this.slow?.started(a, call, now);
  }

  /** A running block crossed the `slowBlockAfter` threshold (reported by the watch). */
  private asyncSlow(a: InspectedActivation, call: WatchedCall, attempt: number, age: number): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'async.slow',
        time: this.scheduler.now(),
        key: a.key,
        run: a.run,
        action: a.action,
        activation: a.id,
        call: call.id,
        attempt,
        age,
      });
  }

  asyncCompleted(a: InspectedActivation, call: InspectedCall): void {
    this.slow?.settled(call);
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'async.completed',
        time: this.scheduler.now(),
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
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
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
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
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
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'output.emitted',
        time: this.scheduler.now(),
        key,
        run,
        event: event.id,
        payload: event.payload,
      });
  }

  /** S14: a signal reached its key's run: handed to a parked wait (`delivered`) or buffered. */
  signalReceived(key: unknown, run: number, eventType: string, signal: string, delivered: boolean): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, {
        type: 'signal.received',
        time: this.scheduler.now(),
        key,
        run,
        eventType,
        signal,
        delivered,
      });
  }

  /** S14: a signal was not delivered (`run` is -1). */
  signalRejected(key: unknown, code: string, error: unknown): void {
    const inspect = this.listener();
    if (inspect !== undefined)
      this.emit(inspect, { type: 'signal.rejected', time: this.scheduler.now(), key, run: -1, code, error });
  }

  /** An extension's event (`rx-agents/llm`: model and tool calls), reported through run-channel.ts. */
  extension(key: unknown, run: number, event: ExtensionEvent): void {
    const inspect = this.listener();
    if (inspect !== undefined) this.emit(inspect, { ...event, time: this.scheduler.now(), key, run });
  }

  /** The inspector, while it wants events. */
  private listener(): Inspector | undefined {
    const inspector = this.inspector;
    return inspector !== undefined && inspector.active !== false ? inspector : undefined;
  }

  private activation(a: InspectedActivation): {
    time: number;
    key: unknown;
    run: number;
    action: string;
    activation: string;
  } {
    return { time: this.scheduler.now(), key: a.key, run: a.run, action: a.action, activation: a.id };
  }

  private emit(inspect: Inspector, event: LifecycleEvent): void {
    // Same contract as a user callback, without allocating a closure per event (the hot path when inspecting).
    try {
      inspect(event);
    } catch (error) {
      this.onThrow(new CallbackError('inspect', error));
    }
  }
}
