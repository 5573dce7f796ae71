import type * as restate from '@restatedev/restate-sdk';
import type { Agent } from '../agent/define-agent';
import { AgentDefinitionError, EventValidationError, optionError } from '../errors';
import { toIssues } from '../events/define-event';
import type { SignalRejection } from '../runtime/wait-errors';
import { restateSdk } from './restate-sdk';

/** The suffix of an agent's signals object: signals for agent `support` go to `support-signals`. */
export const SIGNALS_SUFFIX = '-signals';
/** The state key of the signals object: buffered signals and registered doorbells. */
const SIGNALS_STATE = 'rx-agents-signals';
/** Signals buffered per key and event type before a wait takes them (the embedded `maxBufferedSignals` default). */
export const DEFAULT_MAX_BUFFERED_SIGNALS = 1000;

/** A signal as it travels to and is buffered by the signals object. */
export interface StoredSignal {
  readonly type: string;
  readonly payload: unknown;
}

/** What `deliver` answers: accepted (buffered for the key), or why not. */
export type DeliverAnswer =
  { readonly ok: true } | { readonly ok: false; readonly code: SignalRejection; readonly message: string };

/** What `take` answers: the oldest buffered signal of the type, or `null` (then the doorbell is registered). */
export interface TakeAnswer {
  readonly event: StoredSignal | null;
}

interface SignalsState {
  /** Buffered signals per type, oldest first. */
  readonly buffers: Record<string, StoredSignal[]>;
  /** Per type, the awakeable a parked run wants rung when a signal of the type arrives. */
  readonly doorbells: Record<string, string>;
}

/** Options of {@link signalsObject}. */
export interface SignalsObjectOptions {
  /** The agent's service name (the signals object is `<name>-signals`). @default the agent's name */
  readonly name?: string;
  /** Signals buffered per key and type; the next one is refused with `ERR_SIGNAL_OVERFLOW`. @default 1000 */
  readonly maxBufferedSignals?: number;
}

/**
 * The companion virtual object of an agent with `signals` (S14 on Restate): `<name>-signals`, one
 * object per key, with exclusive handlers, so it is a per-key mailbox that never races itself.
 *
 * - `deliver({ type, payload })` (the client, through `sendSignal`): validates the signal by its
 *   event type's schema, buffers it (at most `maxBufferedSignals` per type; the next is refused with
 *   `ERR_SIGNAL_OVERFLOW`), and rings the doorbell (an awakeable) a parked run registered for the type.
 * - `take({ type, awakeable })` (a run, as a journaled call): hands out the oldest buffered signal of
 *   the type and removes it; when there is none, registers `awakeable` as the type's doorbell.
 *
 * A signal leaves the buffer only through `take`, whose answer is journaled in the run that took it,
 * so a signal racing a wait's timeout, or arriving for a run that ended, is never lost: it stays
 * buffered for the next wait of the key (a doorbell nobody listens to any more rings in vain).
 *
 * @example
 * await serveAgents([agentObject(desk), signalsObject(desk)]); // serveAgents([desk]) adds it by itself
 */
export function signalsObject(
  agent: Agent<never, unknown>,
  options: SignalsObjectOptions = {},
): restate.VirtualObjectDefinition<string, Record<string, unknown>> {
  if (typeof agent !== 'object' || agent === null || !((agent as unknown as Agent).signalTypes instanceof Map))
    throw new AgentDefinitionError('signalsObject needs an agent made by defineAgent({ name, actions, signals }).');
  const a = agent as unknown as Agent;
  const limit = options.maxBufferedSignals ?? DEFAULT_MAX_BUFFERED_SIGNALS;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0)))
    throw optionError('maxBufferedSignals', 'an integer >= 0 or Infinity', limit);
  const load = async (ctx: restate.ObjectContext): Promise<SignalsState> =>
    (await ctx.get<SignalsState>(SIGNALS_STATE)) ?? { buffers: {}, doorbells: {} };
  return restateSdk('signalsObject').object({
    name: `${options.name ?? a.name}${SIGNALS_SUFFIX}`,
    handlers: {
      deliver: async (ctx: restate.ObjectContext, signal: StoredSignal): Promise<DeliverAnswer> => {
        const type = typeof signal === 'object' && signal !== null ? signal.type : undefined;
        const eventType = typeof type === 'string' ? a.signalTypes.get(type) : undefined;
        if (eventType === undefined)
          return {
            ok: false,
            code: type === undefined ? 'ERR_SIGNAL_SHAPE' : 'ERR_SIGNAL_UNKNOWN_TYPE',
            message:
              type === undefined
                ? 'A signal must be `{ type, payload }` (use sendSignal(ingress, agent, key, Type.of(payload))).'
                : `A signal of type \`${String(type)}\` arrived for key \`${ctx.key}\`, but agent \`${a.name}\` lists no such type in its \`signals\`.`,
          };
        const parsed = eventType.schema.safeParse(signal.payload);
        if (!parsed.success)
          return {
            ok: false,
            code: 'ERR_SIGNAL_INVALID',
            message: new EventValidationError(
              eventType.type,
              toIssues(parsed.error),
              `in a signal for key \`${ctx.key}\``,
            ).message,
          };
        const state = await load(ctx);
        const buffer = state.buffers[eventType.type] ?? [];
        if (buffer.length >= limit)
          return {
            ok: false,
            code: 'ERR_SIGNAL_OVERFLOW',
            message: `A signal of type \`${eventType.type}\` for key \`${ctx.key}\` found ${limit} signals of its type already buffered (maxBufferedSignals); it was not buffered.`,
          };
        const doorbells = { ...state.doorbells };
        const bell = doorbells[eventType.type];
        if (bell !== undefined) {
          ctx.resolveAwakeable(bell);
          delete doorbells[eventType.type];
        }
        ctx.set<SignalsState>(SIGNALS_STATE, {
          buffers: { ...state.buffers, [eventType.type]: [...buffer, { type: eventType.type, payload: parsed.data }] },
          doorbells,
        });
        return { ok: true };
      },
      take: async (ctx: restate.ObjectContext, request: { type: string; awakeable: string }): Promise<TakeAnswer> => {
        const state = await load(ctx);
        const buffer = state.buffers[request.type] ?? [];
        const [event, ...rest] = buffer;
        if (event === undefined) {
          ctx.set<SignalsState>(SIGNALS_STATE, {
            buffers: state.buffers,
            doorbells: { ...state.doorbells, [request.type]: request.awakeable },
          });
          return { event: null };
        }
        const buffers = { ...state.buffers };
        if (rest.length === 0) delete buffers[request.type];
        else buffers[request.type] = rest;
        ctx.set<SignalsState>(SIGNALS_STATE, { buffers, doorbells: state.doorbells });
        return { event };
      },
    },
  }) as unknown as restate.VirtualObjectDefinition<string, Record<string, unknown>>;
}
