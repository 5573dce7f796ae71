import type { SchedulerLike, Subscription } from 'rxjs';
import type { Agent } from '../agent/define-agent';
import { CallbackError } from '../errors';
import { OutputEvent, isEventType, type AgentEvent, type EventType } from '../events/define-event';
import type { AsyncCall } from '../runtime/async-call';
import { WaitError } from './errors';
import { RunWaits } from './run-waits';

/**
 * Parked calls (S14): `waitForEvent`, `sleep`, `sleepUntil` and delayed `sendEvent` are calls
 * that never go to the executor. They hold no pool slot; the run tracks them like any call, so
 * the key stays busy (S1) and an abandoned run aborts them. Each costs its call, at most one
 * timer (its deadline) and, for a wait, one entry in its run's {@link RunWaits}.
 */

/** Marker functions: they name parked calls in the journal (their fingerprint) and never run. */
function marker(name: string): () => never {
  const fn = (): never => {
    throw new Error(`rx-agents internal error: ${name} is a marker and never runs`);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}
export const WAIT_FN = marker('rx-agents.waitForEvent');
export const SLEEP_FN = marker('rx-agents.sleep');
export const SLEEP_UNTIL_FN = marker('rx-agents.sleepUntil');
export const SEND_LATER_FN = marker('rx-agents.sendEvent');

/** What a parked call is waiting for. */
export interface ParkSpec {
  /** The signal type of a wait; `undefined` for a timer. */
  readonly type?: string;
  readonly match?: ((event: AgentEvent) => boolean) | undefined;
  /** Absolute deadline in scheduler time; `undefined`: none. */
  readonly deadline: number | undefined;
  /** What happens at the deadline: a timer fulfils, a wait fails with `WaitTimeoutError`. */
  fire(call: AsyncCall<unknown>): void;
}

/** What parking needs from the runtime (a narrow host, never the runtime itself). */
export interface ParkHost {
  readonly scheduler: SchedulerLike;
  readonly maxBufferedSignals: number;
  /** Hands a signal to a wait: at once, or (with a store) once the signal's journal row is committed. */
  deliver(call: AsyncCall<unknown>, event: AgentEvent): void;
}

/** What parking needs from the run. */
export interface ParkRun {
  waits: RunWaits | null;
}

/** Parks `call` until its signal or its deadline (`deadline` may come from the journal after a restart). */
export function park(
  host: ParkHost,
  run: ParkRun,
  call: AsyncCall<unknown>,
  spec: ParkSpec,
  deadline: number | undefined,
): void {
  const type = spec.type;
  if (type !== undefined) {
    const waits = (run.waits ??= new RunWaits(host.maxBufferedSignals));
    let taken: AgentEvent | undefined;
    try {
      taken = waits.park({ call, type, match: spec.match });
    } catch (error) {
      return call.resolveWith(false, new CallbackError('match', error));
    }
    if (taken !== undefined) return host.deliver(call, taken);
  }
  let timer: Subscription | null = null;
  if (deadline !== undefined) {
    const delay = Math.max(0, deadline - host.scheduler.now());
    timer = host.scheduler.schedule(() => spec.fire(call), delay);
  }
  call.onSettled(() => {
    timer?.unsubscribe();
    if (type !== undefined) run.waits?.remove(call);
  });
}

/** Checks a `waitForEvent` where it is made; throws {@link WaitError} saying what to fix. */
export function checkWait(agent: Agent, action: string, type: unknown, options: unknown): EventType {
  if (!isEventType(type))
    throw new WaitError(
      'ERR_WAIT_UNDECLARED',
      action,
      `Action \`${action}\` called waitForEvent with something that is not an event type; pass one made by defineEvent and listed in the agent's \`signals\`.`,
    );
  if (type.type === OutputEvent.type)
    throw new WaitError(
      'ERR_WAIT_OUTPUT',
      action,
      `Action \`${action}\` waits for OutputEvent, but OutputEvents go downstream and never arrive at a run; wait for an event type listed in the agent's \`signals\`.`,
    );
  if (agent.signalTypes.get(type.type) !== type)
    throw new WaitError(
      'ERR_WAIT_UNDECLARED',
      action,
      `Action \`${action}\` waits for event \`${type.type}\`, which agent \`${agent.name}\` does not list in its \`signals\`, so no signal of it could arrive. ` +
        `Add it: defineAgent({ ..., signals: [${type.type === '' ? 'Type' : 'YourEventType'}] }).`,
    );
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new TypeError(`Expected the options of waitForEvent in action \`${action}\` to be an object.`);
  const { timeout, match } = (options ?? {}) as { timeout?: unknown; match?: unknown };
  if (timeout !== undefined) checkTime(action, 'timeout', timeout);
  if (match !== undefined && typeof match !== 'function')
    throw new TypeError(
      `Expected \`match\` of waitForEvent in action \`${action}\` to be a function (event) => boolean.`,
    );
  return type;
}

/** A duration must be a number of ms >= 0 (Infinity: never); NaN and negatives are refused with {@link WaitError}. */
export function checkTime(action: string, what: string, ms: unknown): asserts ms is number {
  if (!(typeof ms === 'number' && ms >= 0))
    throw new WaitError(
      'ERR_WAIT_TIME',
      action,
      `Expected \`${what}\` in action \`${action}\` to be a number of ms >= 0, got \`${String(ms)}\` (${typeof ms}).`,
    );
}
