import type { Observable, SchedulerLike } from 'rxjs';
import type { RxAgentsError } from '../errors';
import type { AgentStore } from '../store/store';
import type { SignalRejectedError } from './wait-errors';
import type { Signal } from '../events/signal';
import type { Budgets } from './budgets';
import type { BusyOption } from './busy-policy';
import type { Executor } from './executor';
import type { Inspector } from './lifecycle';
import type { StateAttachable } from './state-probe';

/** Why an input did not run (or did not run to its end): the third argument of `onDropped`. */
export type InputDropReason = 'drop-newest' | 'drop-oldest' | 'rejected' | 'superseded' | 'interrupted' | 'rolled-back';

/**
 * What goes downstream when `output: 'envelope'` is chosen.
 *
 * @example
 * inputs$.pipe(agentOperator(agent, { output: 'envelope' })).subscribe(({ key, run, id, payload }) => dedupe(id, payload));
 */
export interface AgentOutput<Out = unknown> {
  readonly key: unknown;
  /** The run sequence number of the run that sent it. */
  readonly run: number;
  /** The OutputEvent's deterministic id: the same after a replay, so consumers can dedupe. */
  readonly id: string;
  readonly payload: Out;
}

/**
 * A run that failed under `errorPolicy: 'isolate'`.
 *
 * @example
 * agentOperator(agent, { errorPolicy: 'isolate', onRunFailed: ({ key, run, error }) => log(key, run, error.code) });
 */
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
  readonly onDropped: ((input: unknown, key: unknown, reason: InputDropReason) => void) | undefined;
  /** S15: what an input does while its key's run is going. */
  readonly busy: BusyOption;
  readonly validateEvents: boolean;
  readonly envelope: boolean;
  readonly inspect: Inspector | undefined;
  /** S13: where the journal lives; `undefined` = no durability. */
  readonly store: AgentStore | undefined;
  /** Called once an input's journal entry is committed (with a store). */
  readonly onAccepted: ((input: unknown, seq: number) => void) | undefined;
  /** The source position of an input, saved with each commit (with a store). */
  readonly position: ((input: unknown) => unknown) | undefined;
  /** A state view to attach to (lib/inspect/agent-state.ts); `undefined` = none. */
  readonly state?: StateAttachable | undefined;
  /** Named budgets calls may take permits of (`executeAsyncWith({ budget })`). */
  readonly budgets: Budgets | undefined;
  /** S14: external events for keys (`waitForEvent`). */
  readonly signals: Observable<unknown> | undefined;
  /** S14: receives each signal that was not delivered; without it, such a signal fails the stream. */
  readonly onSignalRejected: ((error: SignalRejectedError) => void) | undefined;
  /** S14: receives each accepted signal once it is durable (with a store) or at once. */
  readonly onSignalAccepted: ((signal: Signal) => void) | undefined;
  /** S14: signals buffered per run and event type before a wait takes them. */
  readonly maxBufferedSignals: number;
  /** The most events one run may send (S10); past it the run fails with `RunLimitError`. */
  readonly maxEventsPerRun: number;
  /** The timeout of async blocks that have none of their own. */
  readonly defaultTimeout: number | undefined;
  /** ms an async block may run before `async.slow` reports it (`Infinity`: never); only with `inspect`. */
  readonly slowBlockAfter: number;
}
