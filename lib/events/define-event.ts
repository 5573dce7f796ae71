import { z } from 'zod/v4';
import { EventValidationError, type ValidationIssue } from '../errors';
import { zodSchemaProblem } from './zod-schema';

/**
 * An event: a typed record. `id` is assigned by the runtime when the event is sent and is
 * deterministic (derived from the run and the position of the send), so consumers can
 * dedupe outputs after a replay.
 */
export interface AgentEvent<T extends string = string, P = unknown> {
  readonly type: T;
  readonly id: string;
  readonly payload: P;
}

/** An event type: creates, recognises and validates its events. The zod schema is the type. */
export interface EventType<T extends string = string, P = unknown> {
  readonly type: T;
  readonly schema: z.ZodType<P>;
  /** Creates an event (the id is filled in when it is sent). Validation happens at `sendEvent`. */
  of(payload: P): AgentEvent<T, P>;
  /** Type guard: is `event` of this type? */
  is(event: unknown): event is AgentEvent<T, P>;
  /** Validates a payload; throws {@link EventValidationError} with zod's issues. */
  parse(payload: unknown, where?: string): P;
}

/** Marks an object as an event type made by {@link defineEvent}. */
const EVENT_TYPE = Symbol.for('rx-agents.event-type');

/** The payload type of an event type. */
export type PayloadOf<E> = E extends EventType<string, infer P> ? P : never;
/** The event type's events. */
export type EventOf<E> = E extends EventType<infer T, infer P> ? AgentEvent<T, P> : never;

/**
 * Defines an event type from a name and a zod schema; the payload type is inferred.
 *
 * @example
 * const Scored = defineEvent('scored', z.object({ id: z.number(), score: z.number() }));
 * ctx.sendEvent(Scored.of({ id: 1, score: 0.9 }));
 */
export function defineEvent<T extends string, S extends z.ZodType>(type: T, schema: S): EventType<T, z.output<S>> {
  if (typeof type !== 'string' || type.length === 0) {
    throw new TypeError(
      `Expected the event type name to be a non-empty string, got \`${String(type)}\` (${typeof type})`,
    );
  }
  const problem = zodSchemaProblem(schema);
  if (problem !== undefined) throw new TypeError(`The schema of event \`${type}\` ${problem}`);
  type P = z.output<S>;
  const eventType: EventType<T, P> = {
    type,
    schema: schema as unknown as z.ZodType<P>,
    of: (payload: P) => ({ type, id: '', payload }),
    is: (event: unknown): event is AgentEvent<T, P> =>
      typeof event === 'object' && event !== null && (event as { type?: unknown }).type === type,
    parse: (payload: unknown, where = 'when it was sent') => parseWith(schema, type, payload, where) as P,
  };
  Object.defineProperty(eventType, EVENT_TYPE, { value: true });
  return Object.freeze(eventType);
}

/** Is `value` an event type made by {@link defineEvent}? */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[EVENT_TYPE] === true;
}

/** Parses `payload` with `schema`; throws {@link EventValidationError} carrying zod's issues. */
export function parseWith(schema: z.ZodType, type: string, payload: unknown, where: string): unknown {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new EventValidationError(type, toIssues(result.error), where, { cause: result.error });
}

/** zod issues as plain data. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
}

/** The event every agent run starts with; its payload is the input element. */
export const InputEvent = defineEvent('rx-agents/input', z.unknown());
/**
 * The type of {@link OutputEvent}. Its `of` keeps the payload's own type, so that
 * `ctx.sendEvent(OutputEvent.of(payload))` is checked at compile time against the agent's `output`
 * schema (the run-time check of that schema stays).
 */
export interface OutputEventType extends EventType<'rx-agents/output', unknown> {
  /** Creates an output event; the payload type is inferred (from the agent's `output` inside `ctx.sendEvent`). */
  of<P>(payload: P): AgentEvent<'rx-agents/output', P>;
}

/**
 * Events of this type are not routed to actions: their payloads go downstream (S8).
 *
 * @example
 * ctx.sendEvent(OutputEvent.of({ id: 1, reply: 'queued' })); // a compile error if it does not fit `output`
 */
// Its `of` returns the payload it is given, whatever its type: the generic signature is exact.
export const OutputEvent = defineEvent('rx-agents/output', z.unknown()) as OutputEventType;
