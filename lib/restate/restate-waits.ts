import type * as restate from '@restatedev/restate-sdk';
import { CallbackError, RxAgentsError } from '../errors';
import type { AgentEvent } from '../events/define-event';
import { WaitTimeoutError } from '../runtime/wait-errors';
import type { RestateCall } from './restate-call';
import type { Journaled, Pending } from './pending';
import { restateSdk } from './restate-sdk';
import { SIGNALS_SUFFIX, type StoredSignal, type TakeAnswer } from './signals-object';

/** One `ctx.waitForEvent` parked in a run on Restate. */
interface ParkedWait {
  readonly call: RestateCall<unknown>;
  readonly type: string;
  readonly action: string;
  readonly match: ((event: AgentEvent) => boolean) | undefined;
  timeout: Pending | null;
}

/** Per signal type: the parked waits, and the one take or doorbell the run has outstanding for the type. */
interface TypeState {
  readonly waits: ParkedWait[];
  /** The `take` call in flight for the type. */
  take: Pending | null;
  /** The awakeable the signals object rings when a signal of the type arrives. */
  doorbell: Pending | null;
}

/** What the waits need from the run: journaled commands, made inside the driver's steps. */
export interface WaitsHost {
  readonly ctx: restate.ObjectContext;
  readonly serviceName: string;
  readonly key: string;
  readonly seq: number;
  track(promise: restate.RestatePromise<unknown>, apply: (outcome: Journaled) => void): Pending;
  timer(ms: number, name: string, apply: () => void): Pending;
  drop(entry: Pending): void;
}

/**
 * The waits for signals of one run on Restate (S14). Signals live in the key's signals object
 * (`<service>-signals`, see `signalsObject`); a run takes them one at a time with a journaled call:
 *
 * - a wait first looks in the run's own buffer (signals this run took that no wait matched yet);
 * - else it parks, and — unless one is already out for the type — the run makes an awakeable (the
 *   doorbell) and calls `take(type, doorbell)`: the answer is the oldest buffered signal (it goes to
 *   the oldest parked wait that matches it, else to the run's buffer), or `null`, and then the
 *   signals object rings the doorbell when a signal arrives and the run takes again;
 * - a timeout is a durable timer; when it fires first the wait fails with `WaitTimeoutError`, and a
 *   signal arriving later stays in the signals object for the next wait (never lost).
 *
 * Every step is a journaled command made in a driver step, so a replay makes the same ones.
 */
export class RestateWaits {
  private readonly types = new Map<string, TypeState>();
  private readonly buffered: AgentEvent[] = [];
  private taken = 0;

  constructor(private readonly host: WaitsHost) {}

  /** A wait starts (in a step). Settles at once from the run's buffer, or parks and takes from the signals object. */
  wait(
    call: RestateCall<unknown>,
    action: string,
    type: string,
    match: ((event: AgentEvent) => boolean) | undefined,
    timeout: number | undefined,
  ): void {
    for (let i = 0; i < this.buffered.length; i++) {
      const event = this.buffered[i] as AgentEvent;
      if (event.type !== type) continue;
      let matched: boolean;
      try {
        matched = match === undefined || match(event) === true;
      } catch (error) {
        this.buffered.splice(i, 1);
        return call.settle(false, new CallbackError('match', error));
      }
      if (matched) {
        this.buffered.splice(i, 1);
        return call.settle(true, event);
      }
    }
    const state = this.state(type);
    const wait: ParkedWait = { call, type, action, match, timeout: null };
    state.waits.push(wait);
    if (timeout !== undefined && timeout !== Infinity)
      wait.timeout = this.host.timer(timeout, `${call.id}>timeout`, () => {
        wait.timeout = null;
        if (!this.remove(wait)) return;
        call.settle(false, new WaitTimeoutError(action, type, timeout));
      });
    this.ensureTaking(type);
  }

  /** A wait is no longer wanted (it lost a `ctx.any`): it stops taking signals. */
  cancel(call: RestateCall<unknown>): void {
    for (const state of this.types.values()) {
      const wait = state.waits.find((w) => w.call === call);
      if (wait !== undefined) {
        if (wait.timeout !== null) this.host.drop(wait.timeout);
        this.remove(wait);
        return;
      }
    }
  }

  /** Signals this run took and no wait consumed (reported when the run ends). */
  leftovers(): StoredSignal[] {
    return this.buffered.map((e) => ({ type: e.type, payload: e.payload }));
  }

  private state(type: string): TypeState {
    let state = this.types.get(type);
    if (state === undefined) this.types.set(type, (state = { waits: [], take: null, doorbell: null }));
    return state;
  }

  /** Removes a parked wait; with no wait left for its type, the doorbell is no longer listened to. */
  private remove(wait: ParkedWait): boolean {
    const state = this.state(wait.type);
    const i = state.waits.indexOf(wait);
    if (i < 0) return false;
    state.waits.splice(i, 1);
    if (state.waits.length === 0 && state.take === null && state.doorbell !== null) {
      // A doorbell nobody listens to rings in vain: the signal stays buffered in the signals object.
      this.host.drop(state.doorbell);
      state.doorbell = null;
    }
    return true;
  }

  /** Makes a doorbell and a `take` for `type` if waits are parked for it and none is out. */
  private ensureTaking(type: string): void {
    const state = this.state(type);
    if (state.waits.length === 0 || state.take !== null || state.doorbell !== null) return;
    const host = this.host;
    const awakeable = host.ctx.awakeable<unknown>();
    const doorbell = host.track(
      awakeable.promise.map(() => ({ ok: true })),
      () => {
        state.doorbell = null;
        this.ensureTaking(type);
      },
    );
    state.doorbell = doorbell;
    state.take = host.track(
      host.ctx
        .genericCall<{ type: string; awakeable: string }, TakeAnswer>({
          service: `${host.serviceName}${SIGNALS_SUFFIX}`,
          method: 'take',
          key: host.key,
          parameter: { type, awakeable: awakeable.id },
          inputSerde: restateSdk('serveAgents').serde.json as restate.Serde<{ type: string; awakeable: string }>,
          outputSerde: restateSdk('serveAgents').serde.json as restate.Serde<TakeAnswer>,
        })
        .map((answer, failure) =>
          failure !== undefined
            ? { ok: false, e: { name: failure.name, message: failure.message } }
            : { ok: true, v: answer },
        ),
      (outcome) => {
        state.take = null;
        if (!outcome.ok) {
          // The signals object could not be called (not served, or failed): the waits cannot be answered.
          const error = new RxAgentsError(
            'ERR_RESTATE_SIGNALS',
            `Run ${host.seq} of key \`${host.key}\` could not take a signal of type \`${type}\` from \`${host.serviceName}${SIGNALS_SUFFIX}\` (${outcome.e.message}). ` +
              'Serve the agent with serveAgents([agent]), which adds its signals object, or add signalsObject(agent) yourself.',
          );
          if (state.doorbell !== null) host.drop(state.doorbell);
          state.doorbell = null;
          for (const wait of [...state.waits]) {
            if (wait.timeout !== null) host.drop(wait.timeout);
            this.remove(wait);
            wait.call.settle(false, error);
          }
          return;
        }
        const event = (outcome.v as TakeAnswer | undefined)?.event ?? null;
        if (event === null) {
          // Registered: the doorbell rings when a signal arrives — unless no wait wants one any more.
          if (state.waits.length === 0 && state.doorbell !== null) {
            host.drop(state.doorbell);
            state.doorbell = null;
          }
          return;
        }
        // Taken at once: the doorbell was not registered, so it never rings.
        if (state.doorbell !== null) host.drop(state.doorbell);
        state.doorbell = null;
        this.offer({ type: event.type, id: `${host.seq}:signal#${this.taken++}`, payload: event.payload });
        this.ensureTaking(type);
      },
    );
  }

  /** A signal taken from the signals object: to the oldest parked wait of its type that matches, else the run's buffer. */
  private offer(event: AgentEvent): void {
    const state = this.state(event.type);
    for (const wait of state.waits) {
      let matched: boolean;
      try {
        matched = wait.match === undefined || wait.match(event) === true;
      } catch (error) {
        if (wait.timeout !== null) this.host.drop(wait.timeout);
        this.remove(wait);
        return wait.call.settle(false, new CallbackError('match', error));
      }
      if (matched) {
        if (wait.timeout !== null) this.host.drop(wait.timeout);
        this.remove(wait);
        return wait.call.settle(true, event);
      }
    }
    this.buffered.push(event);
  }
}
