import type { AsyncCall } from './async-call';
import type { Durability } from './durability';
import type { InspectedActivation, Inspection } from './inspection';
import { park, type ParkHost, type ParkRun, type ParkSpec } from './parking';
import type { Budgets } from './budgets';
import type { Executor } from './executor';

/** What the call desk needs of a run: its number, its waits (S14), and its error path. */
export interface CallRun extends ParkRun {
  readonly seq: number;
  /** The action `from` failed (here: its call's outcome could not be journaled). */
  failed(from: InspectedActivation, error: unknown): void;
}

/** What the state API hears of calls (lib/runtime/state-probe.ts), while a state view is attached. */
export interface CallWatch {
  queued(call: AsyncCall<unknown>): void;
  parked(call: AsyncCall<unknown>, deadline: number | undefined): void;
}

/** What the call desk needs of the runtime: a narrow host, never the runtime itself. */
export interface CallDeskHost {
  /** The operator's executor and named budgets. */
  readonly settings: { readonly executor: Executor; readonly budgets: Budgets | undefined };
  readonly durability: Durability;
  readonly inspection: Inspection;
  /** The state probe, while a state view is attached (else `null`). */
  readonly probe: CallWatch | null;
  /** What parking needs (S14): the scheduler, the signal buffer bound, signal delivery. */
  readonly parking: ParkHost;
}

/**
 * Where a run's calls go (S12, S13, S14): each call is reported, then the journal is asked first —
 * a recorded outcome settles it without running (replay), a call started before a crash with a
 * reconciler runs its reconciler — and only then does it go to its budget (if it names one) and
 * the executor. Waits and timers park instead (never on the executor), journaled with their
 * absolute deadline. Every real outcome is journaled when the call settles.
 *
 * @example
 * calls.submit(run, activation, call); // replayed, or queued on the budget / executor
 */
export class CallDesk {
  constructor(private readonly host: CallDeskHost) {}

  /** A call is made. The journal is asked first (S13): a recorded outcome settles it without running. */
  submit(run: CallRun, from: InspectedActivation, call: AsyncCall<unknown>): void {
    const host = this.host;
    host.inspection.asyncQueued(from, call);
    host.probe?.queued(call);
    call.submitted = true;
    const replay = host.durability.replay(run.seq, call);
    if (replay.kind === 'settled') return call.resolveWith(replay.ok, replay.value, true);
    if (replay.kind === 'reconcile') call.reconciling = true;
    // A call with a reconciler starts once its start is durable (so a crash leaves it in doubt, not forgotten).
    else if (call.options?.reconcile !== undefined)
      return host.durability.starting(run.seq, call, () => this.dispatch(call));
    this.dispatch(call);
  }

  /** Hands a call (new, or retrying) to its budget (if it names one) and the executor. */
  dispatch(call: AsyncCall<unknown>): void {
    const budget = call.options?.budget;
    const { budgets, executor } = this.host.settings;
    if (budget === undefined || budgets === undefined) executor.submit(call);
    else budgets.submit(budget, call, executor);
  }

  /** A call settled: its outcome is journaled (unless it came from the journal, or lost a `ctx.any` race) and reported. */
  settled(run: CallRun, from: InspectedActivation, call: AsyncCall<unknown>): void {
    if (call.submitted && !call.replayed && !call.cancelled) {
      try {
        this.host.durability.settled(run.seq, call);
      } catch (error) {
        return run.failed(from, error);
      }
    }
    this.host.inspection.asyncCompleted(from, call);
  }

  /** S14: parks a wait or timer: journaled with its absolute deadline, never given to the executor. */
  park(run: CallRun, from: InspectedActivation, call: AsyncCall<unknown>, spec: ParkSpec): void {
    const host = this.host;
    call.submitted = true; // its outcome is journaled when it settles
    let deadline = spec.deadline;
    const replay = host.durability.replayParked(run.seq, call);
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
          host.durability.parked(run.seq, call, deadline);
        } catch (error) {
          return run.failed(from, error);
        }
    }
    host.probe?.parked(call, deadline);
    park(host.parking, run, call, spec, deadline);
  }
}
