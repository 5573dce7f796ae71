import { AgentDefinitionError } from '../errors';
import { isEventType, OutputEvent, type AgentEvent, type EventOf, type EventType } from '../events/define-event';

const JOIN = Symbol.for('rx-agents.join');

/** A join trigger made by {@link allOf}: the action starts once every listed event type was sent in the run. */
export interface JoinTrigger<L extends readonly EventType[] = readonly EventType[]> {
  readonly types: L;
}

/** What a join action receives: one event of each listed type, in the order of `allOf` (InputEvent carries the agent's input type). */
export type JoinedEvents<L extends readonly EventType[], In = unknown> = {
  -readonly [K in keyof L]: L[K] extends EventType<'rx-agents/input', unknown>
    ? AgentEvent<'rx-agents/input', In>
    : EventOf<L[K]>;
};

/**
 * A join trigger: the action is triggered once **all** the given event types have been sent in
 * the same run (LlamaIndex's `collectEvents`, LangGraph's multi-source edge), and receives one
 * event of each, in the order listed here.
 *
 * Semantics: events of each listed type are collected per run, first in first out. As soon as
 * every type has at least one collected event, the oldest of each is taken and the action starts
 * with them (so two events of each type make two activations, paired in send order). Events that
 * never complete a join are discarded when the run ends (each shows up as `event.routed` in
 * `inspect`). Collection is per run: a join never pairs events of two runs, or of two keys.
 *
 * @example
 * action('combine', allOf(Classified, CustomerLoaded), ([classified, customer], ctx) => {
 *   ctx.sendEvent(OutputEvent.of({ label: classified.payload.label, tier: customer.payload.tier }));
 * })
 */
// `any` lets event types of every payload type be joined; their payload types come back out through JoinedEvents.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function allOf<const L extends readonly EventType<string, any>[]>(...types: L): JoinTrigger<L> {
  if (types.length < 2) {
    throw new AgentDefinitionError(
      `allOf needs at least two event types to join, got ${types.length}: with one, trigger the action by that type directly.`,
    );
  }
  const seen = new Set<string>();
  types.forEach((t, i) => {
    if (!isEventType(t))
      throw new AgentDefinitionError(
        `Argument ${i} of allOf is not an event type: make one with defineEvent(type, schema).`,
      );
    if (t.type === OutputEvent.type)
      throw new AgentDefinitionError('allOf cannot join OutputEvent: OutputEvents go downstream and are never routed.');
    if (seen.has(t.type))
      throw new AgentDefinitionError(`allOf lists event type \`${t.type}\` twice; list each type once.`);
    seen.add(t.type);
  });
  const trigger = { types: Object.freeze([...types]) as unknown as L };
  Object.defineProperty(trigger, JOIN, { value: true });
  return Object.freeze(trigger);
}

/** Is `value` a join trigger made by {@link allOf}? */
export function isJoinTrigger(value: unknown): value is JoinTrigger {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOIN] === true;
}
