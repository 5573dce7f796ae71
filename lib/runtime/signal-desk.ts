import type { Agent } from '../agent/define-agent';
import { CallbackError, EventValidationError, type RxAgentsError } from '../errors';
import { toIssues, type AgentEvent } from '../events/define-event';
import type { Signal } from '../events/signal';
import { describeKey } from '../describe-key';
import type { AsyncCall } from './async-call';
import type { Durability } from './durability';
import type { Inspection } from './inspection';
import type { Run } from './run';
import { RunWaits } from './run-waits';
import type { RuntimeSettings } from './settings';
import { SignalRejectedError, type SignalRejection } from './wait-errors';

const SIGNAL_ADVICE = 'Pass `onSignalRejected` to agentOperator to handle signals that cannot be delivered.';

/** What the signal desk needs of the runtime (S14). */
export interface SignalHost {
  readonly agent: Agent;
  readonly settings: RuntimeSettings;
  readonly inspection: Inspection;
  /** The durability seam: signals are journaled on arrival, delivered after their commit. */
  readonly durability: Durability;
  /** The key's current run, if any. */
  activeRun(key: unknown): Run | null;
  /** The error policy for a run whose signal could not be journaled. */
  failed(run: Run, error: RxAgentsError): void;
  /** Fails the stream (a rejected signal without `onSignalRejected`). */
  fail(error: unknown): void;
  /** Runs a user callback; a throw fails the stream. */
  callback(name: string, fn: () => void): void;
}

/**
 * Signals (S14), from the `signals` option to the wait that takes them: each is checked (shape,
 * type listed in the agent's `signals`, the type's schema), handed to its key's current run — to
 * the oldest parked wait of its type that matches, else into the run's bounded buffer — journaled
 * on arrival, and delivered only after the commit that holds it. A signal that cannot be delivered
 * is a {@link SignalRejectedError} for `onSignalRejected` (else the stream fails): never a silent drop.
 */
export class SignalDesk {
  constructor(private readonly host: SignalHost) {}

  /** A signal arrived: validate it and hand it to its key's run. */
  receive(value: unknown): void {
    const host = this.host;
    const event = (value as { event?: unknown } | null)?.event as AgentEvent | undefined;
    const key = (value as { key?: unknown } | null)?.key;
    const typeName = typeof event === 'object' && event !== null ? event.type : undefined;
    if (typeof value !== 'object' || value === null || typeof typeName !== 'string')
      return this.rejected(
        'ERR_SIGNAL_SHAPE',
        key,
        undefined,
        'A signal must be `{ key, event }` with an event made by an event type (use signal(key, Type.of(payload))).',
        event,
      );
    const type = host.agent.signalTypes.get(typeName);
    if (type === undefined)
      return this.rejected(
        'ERR_SIGNAL_UNKNOWN_TYPE',
        key,
        typeName,
        `A signal of type \`${typeName}\` arrived for key \`${describeKey(key)}\`, but agent \`${host.agent.name}\` lists no such type in its \`signals\`.`,
        event,
      );
    const parsed = type.schema.safeParse((event as AgentEvent).payload);
    if (!parsed.success)
      return this.rejected(
        'ERR_SIGNAL_INVALID',
        key,
        typeName,
        new EventValidationError(typeName, toIssues(parsed.error), `in a signal for key \`${describeKey(key)}\``)
          .message,
        event,
        parsed.error,
      );
    const run = host.activeRun(key);
    if (run === null || run.ended)
      return this.rejected(
        'ERR_SIGNAL_NO_RUN',
        key,
        typeName,
        `A signal of type \`${typeName}\` arrived for key \`${describeKey(key)}\`, which has no run going: signals go to the key's current run only.`,
        event,
      );
    const max = host.settings.maxBufferedSignals;
    const waits = (run.waits ??= new RunWaits(max));
    const id = `${run.seq}:signal#${waits.signals}`;
    const delivered = { type: typeName, id, payload: parsed.data };
    const offered = waits.offer(delivered);
    if (offered.to === 'overflow')
      return this.rejected(
        'ERR_SIGNAL_OVERFLOW',
        key,
        typeName,
        `A signal of type \`${typeName}\` for key \`${describeKey(key)}\` found ${max} signals of its type already buffered in run ${run.seq} (maxBufferedSignals); it was not buffered.`,
        event,
      );
    waits.signals++;
    try {
      host.durability.signalled(run.seq, id, typeName, parsed.data);
    } catch (error) {
      return host.failed(run, error as RxAgentsError);
    }
    host.inspection.signalReceived(key, run.seq, typeName, id, offered.to !== 'buffered');
    const onAccepted = host.settings.onSignalAccepted;
    if (onAccepted !== undefined)
      host.durability.afterCommit(() => host.callback('onSignalAccepted', () => onAccepted(value as Signal)));
    if (offered.to === 'buffered') return;
    if (offered.error !== undefined) offered.to.call.resolveWith(false, new CallbackError('match', offered.error));
    else this.deliver(offered.to.call, delivered);
  }

  /** S14: with a store, a signal's journal row is committed before the run consumes it. */
  deliver(call: AsyncCall<unknown>, event: AgentEvent): void {
    this.host.durability.afterCommit(() => call.resolveWith(true, event));
  }

  /** Recovery: the signals journaled for a run that no wait consumed go back in its buffer. */
  restore(run: Run): void {
    const { events, count } = this.host.durability.takeSignals(run.seq);
    if (count === 0) return;
    const waits = (run.waits = new RunWaits(Infinity));
    waits.signals = count;
    for (const e of events) waits.buffer(e);
  }

  /** The run ends: signals still in its buffer are reported (`ERR_SIGNAL_UNCONSUMED`), so a sender can resend. */
  runEnded(run: Run): void {
    if (run.waits === null) return;
    for (const event of run.waits.leftovers())
      this.rejected(
        'ERR_SIGNAL_UNCONSUMED',
        run.key,
        event.type,
        `Signal \`${event.id}\` of type \`${event.type}\` for key \`${describeKey(run.key)}\` was buffered, but run ${run.seq} ended without a wait taking it.`,
        event,
      );
  }

  /** A signal was not delivered: reported to onSignalRejected (else the stream fails), never dropped silently. */
  private rejected(
    code: SignalRejection,
    key: unknown,
    eventType: string | undefined,
    message: string,
    event: unknown,
    cause?: unknown,
  ): void {
    const host = this.host;
    const error = new SignalRejectedError(
      code,
      key,
      eventType,
      `${message} ${SIGNAL_ADVICE}`,
      event,
      cause === undefined ? undefined : { cause },
    );
    host.inspection.signalRejected(key, code, error);
    const onRejected = host.settings.onSignalRejected;
    if (onRejected === undefined) return host.fail(error);
    host.callback('onSignalRejected', () => onRejected(error));
  }
}
