import type { z } from 'zod/v4';
import { NO_ACTIONS, type ActionDef, type Agent } from '../agent/define-agent';
import { OutputEvent, type EventType } from '../events/define-event';
import { fastCheck, type FastCheck } from '../events/fast-parse';

/**
 * What the runtime knows about one event type an action may send: its schema and that schema's
 * compiled fast path (see lib/events/fast-parse.ts), and the actions it triggers. A sent event is
 * resolved once, when it is sent; its routed form carries the route, so routing it later needs no
 * second lookup.
 */
export class Route {
  constructor(
    readonly type: string,
    /** The agent's event type; `undefined` for OutputEvent. */
    readonly eventType: EventType | undefined,
    /** What sent payloads are validated against: the event type's schema, or the agent's output schema for OutputEvent (`undefined`: none). */
    readonly schema: z.ZodType | undefined,
    /** The schema's compiled fast path, or `null`: zod decides. */
    readonly check: FastCheck,
    /** The actions the type triggers, in definition order. */
    readonly actions: readonly ActionDef[],
  ) {}
}

const tables = new WeakMap<Agent, ReadonlyMap<string, Route>>();

/**
 * The agent's route table: event type name → {@link Route}, for every type its actions are
 * triggered by and for OutputEvent. Built once per agent (cached), from `agent.eventTypes`,
 * `agent.routes` and `agent.output`: a type name found here may be sent; any other is unrouted.
 *
 * @example
 * const route = routeTable(agent).get(event.type); // undefined: UnroutedEventError
 */
export function routeTable(agent: Agent): ReadonlyMap<string, Route> {
  let table = tables.get(agent);
  if (table === undefined) {
    const routes = new Map<string, Route>();
    for (const [type, eventType] of agent.eventTypes)
      routes.set(type, route(type, eventType, eventType.schema, agent.routes.get(type) ?? NO_ACTIONS));
    // An OutputEvent is always the agent's output (even if some action were triggered by its type).
    routes.set(OutputEvent.type, route(OutputEvent.type, undefined, agent.output, NO_ACTIONS));
    tables.set(agent, (table = routes));
  }
  return table;
}

function route(
  type: string,
  eventType: EventType | undefined,
  schema: z.ZodType | undefined,
  actions: readonly ActionDef[],
): Route {
  return new Route(type, eventType, schema, schema === undefined ? null : fastCheck(schema), actions);
}
