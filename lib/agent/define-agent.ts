import type { z } from 'zod/v4';
import { AgentDefinitionError } from '../errors';
import {
  InputEvent,
  OutputEvent,
  isEventType,
  type AgentEvent,
  type EventOf,
  type EventType,
} from '../events/define-event';
import { zodSchemaProblem } from '../events/zod-schema';
import type { Call } from '../context/call';
import type { Resources, RunnerContext } from '../context/runner-context';
import { isJoinTrigger, type JoinedEvents, type JoinTrigger } from './all-of';

/** How an action's code is split into blocks. */
export type ActionStyle = 'plain' | 'generator' | 'async';

/**
 * An action function: plain (one sync block), generator (`yield*`), or async (`await`). The
 * context carries the agent's input, output, key and resource types (see {@link RunnerContext}).
 */
export type ActionFn<E, In = unknown, Out = unknown, Key = unknown, Res extends Resources = Resources> = (
  event: E,
  ctx: RunnerContext<In, Out, Key, Res>,
) => void | PromiseLike<void> | Generator<Call<unknown>, void, unknown>;

/** An action: a named function triggered by one or more event types. */
export interface ActionDef {
  readonly name: string;
  readonly triggers: readonly EventType[];
  readonly fn: ActionFn<AgentEvent>;
  readonly style: ActionStyle;
  /** Set for a join (`allOf(A, B)`): the action starts with one event of each of these types, in this order. */
  readonly join?: readonly EventType[];
}

/** The event an action receives for a trigger; the input event carries the agent's input type. */
export type TriggerEvent<E, In> =
  E extends EventType<'rx-agents/input', unknown> ? AgentEvent<'rx-agents/input', In> : EventOf<E>;

/** Any event type, whatever its payload (internal helper of {@link ActionFactory}). */
// `any` lets event types of every payload type be listed as triggers; the payload types come back out through EventOf.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyEventType = EventType<string, any>;

/**
 * Makes actions typed for one agent (the `action` given to `defineAgent({ actions })`): its input,
 * output, key and resource types reach each action's event and context.
 */
export type ActionFactory<In, Out = unknown, Key = unknown, Res extends Resources = Resources> = <
  const Ts extends AnyEventType | readonly AnyEventType[] | JoinTrigger<readonly AnyEventType[]>,
>(
  name: string,
  triggers: Ts,
  fn: Ts extends JoinTrigger<infer L>
    ? ActionFn<JoinedEvents<L, In>, In, Out, Key, Res>
    : ActionFn<TriggerEvent<Ts extends readonly AnyEventType[] ? Ts[number] : Ts, In>, In, Out, Key, Res>,
) => ActionDef;

/**
 * A key selector: what a run's key is, from its input. A method-style type, so that an agent with a
 * typed input still fits where any agent is accepted (internal helper of {@link Agent}).
 */
export type KeySelector<In, Key> = { select(input: In): Key }['select'];

/**
 * An agent: a named, validated set of actions. Made by {@link defineAgent}. `In`/`Out` are the
 * input and output payload types, `Key` the type of `ctx.key` (from `key`), `Res` the resources.
 */
export interface Agent<In = unknown, Out = unknown, Key = unknown, Res extends Resources = Resources> {
  readonly name: string;
  readonly input: z.ZodType<In> | undefined;
  readonly output: z.ZodType<Out> | undefined;
  readonly actions: readonly ActionDef[];
  readonly resources: Readonly<Res>;
  /** The key selector given to `defineAgent({ key })`: the operator's default `key`. */
  readonly key: KeySelector<In, Key> | undefined;
  /** Event type name → the actions it triggers, in definition order. */
  readonly routes: ReadonlyMap<string, readonly ActionDef[]>;
  /** Event type name → event type, for every trigger and every type listed in `events`. */
  readonly eventTypes: ReadonlyMap<string, EventType>;
  /** Some action is an async function (the runtime then tracks async contexts for S5). */
  readonly hasAsyncActions: boolean;
  /** Event type name → the external event types runs may wait for (`waitForEvent`, S14). */
  readonly signalTypes: ReadonlyMap<string, EventType>;
  /** `defineAgent({ upgradeCallIds })`: maps a call id journaled by an earlier version to its id now. */
  readonly upgradeCallIds: ((id: string) => string) | undefined;
}

/** What {@link defineAgent} takes. */
export interface AgentConfig<In, Out, Key = unknown, Res extends Resources = Resources> {
  /** Names the agent in errors and traces. */
  readonly name: string;
  /** Validates each input when its run starts; a bad input fails that run. @default no validation */
  readonly input?: z.ZodType<In>;
  /** Validates every OutputEvent payload when it is sent. @default no validation */
  readonly output?: z.ZodType<Out>;
  /**
   * The key of a run, from its input: runs of one key are serial (S1). It types `ctx.key` in every
   * action, and it is the default `key` of `agentOperator` and `runAgent` (whose own `key` must
   * return the same type). Put it before `actions`, so that TypeScript knows it when it types them.
   * @default none: the operator's `key`, else every input has the same key
   */
  readonly key?: (input: In) => Key;
  /**
   * Shared objects actions reach with `ctx.resource(name)` (clients, models, prompts): the names
   * and value types are checked at compile time. @default {}
   */
  readonly resources?: Res;
  /**
   * The external event types runs of this agent may wait for with `ctx.waitForEvent` (S14): a
   * signal of another type is rejected, and a signal is validated by its type's schema. @default []
   */
  readonly signals?: readonly EventType[];
  /**
   * Event types the actions may send that no action has to be triggered by: notifications. Such an
   * event is validated and routed like any other — it shows in lifecycle events, traces and the
   * timeline, and it starts every action that lists it (yours, added later) — but when none does it
   * is routed to nothing instead of failing the run with `UnroutedEventError`. @default []
   *
   * @example
   * defineAgent({ name: 'steps', events: [StepDone], actions: (action) => [...] }) // sending StepDone.of(...) needs no handler
   */
  readonly events?: readonly EventType[];
  /** The actions, as a list or as a function of a typed `action` factory. */
  readonly actions: readonly ActionDef[] | ((action: ActionFactory<In, Out, Key, Res>) => readonly ActionDef[]);
  /**
   * For a new version of an agent whose journal may hold runs in flight (S13): maps the id of a call
   * journaled by an earlier version to the id the same call has now, so those runs replay their
   * completed calls instead of running them again. A call's id is the chain of events and actions that
   * led to it (`0>start:0>lookup#0`: run input `0`, action `start`, its send `0`, action `lookup`, its
   * call `0`), so renaming, merging or splitting actions changes it. Called once per journaled call when
   * the journal is loaded; return the id unchanged for calls that did not move. A throw (or a non-string)
   * fails the subscription with {@link CallbackError} before any run starts. @default ids unchanged
   *
   * @example
   * // v2 renamed the action `fetch` to `lookup`
   * defineAgent({ name: 'scorer', upgradeCallIds: (id) => id.replace(/>fetch(?=[#:]|$)/g, '>lookup'), actions })
   */
  readonly upgradeCallIds?: (id: string) => string;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

/**
 * Makes an action. The `action` factory given to `defineAgent({ actions: (action) => [...] })`
 * is the same function, typed with the agent's input.
 *
 * @example
 * action('action1', InputEvent, function* (event, ctx) {
 *   const r = yield* ctx.executeAsync(fetchScore, event.payload.id);
 *   ctx.sendEvent(OutputEvent.of(r));
 * })
 */
export const action: ActionFactory<unknown> = (name, triggers, fn) => {
  const join = isJoinTrigger(triggers) ? triggers.types : undefined;
  const list: readonly unknown[] = join ?? (Array.isArray(triggers) ? triggers : [triggers]);
  const where = `action \`${String(name)}\``;
  if (typeof name !== 'string' || name.length === 0) {
    throw new AgentDefinitionError(
      `Expected the action name to be a non-empty string, got \`${String(name)}\` (${typeof name}).`,
    );
  }
  if (list.length === 0) {
    throw new AgentDefinitionError(
      `${where} has no trigger: pass the event type(s) that start it, e.g. action('${name}', InputEvent, fn).`,
    );
  }
  list.forEach((trigger, i) => {
    if (!isEventType(trigger)) {
      throw new AgentDefinitionError(
        `Trigger ${i} of ${where} is not an event type (got ${describe(trigger)}): make one with defineEvent(type, schema).`,
      );
    }
    if (trigger.type === OutputEvent.type) {
      throw new AgentDefinitionError(
        `${where} is triggered by OutputEvent, but OutputEvents go downstream and are never routed to actions.`,
      );
    }
  });
  if (typeof fn !== 'function') {
    throw new AgentDefinitionError(`Expected the function of ${where} to be a function, got ${describe(fn)}.`);
  }
  if (fn instanceof AsyncGeneratorFunction) {
    throw new AgentDefinitionError(
      `${where} is an async generator, which is not supported: use a generator (yield* ctx.executeAsync(...)) or an async function (await ctx.executeAsync(...)).`,
    );
  }
  const style: ActionStyle =
    fn instanceof GeneratorFunction
      ? 'generator'
      : fn instanceof AsyncFunction || isDownlevelAsync(fn as (...args: never[]) => unknown)
        ? 'async'
        : 'plain';
  return Object.freeze({
    name,
    triggers: Object.freeze([...list]) as readonly EventType[],
    fn: fn as ActionFn<AgentEvent>,
    style,
    ...(join === undefined ? {} : { join }),
  });
};

/**
 * An `async` function compiled below ES2017 (TypeScript's `__awaiter`, Babel's `_asyncToGenerator`)
 * is a plain function that returns a Promise: it is run as an async action (S5 through its async
 * scope) rather than as one sync block, so the context stays usable after its first `await`.
 */
function isDownlevelAsync(fn: (...args: never[]) => unknown): boolean {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return false;
  }
  return /\b(__awaiter|_asyncToGenerator|asyncToGenerator)\s*\(/.test(source);
}

/**
 * Defines an agent and validates it: every action has a name, a trigger and a function; names
 * are unique; some action handles `InputEvent`; `key`, if given, is a function.
 *
 * Types: the input and output payload types come from the `input` and `output` schemas, the type
 * of `ctx.key` from `key`, and what `ctx.resource(name)` returns from `resources`; every action's
 * event and context carry them (give `key` before `actions`, so TypeScript knows it there).
 *
 * @example
 * const agent = defineAgent({
 *   name: 'scorer',
 *   input: z.object({ id: z.number(), userId: z.string() }),
 *   output: z.object({ id: z.number(), score: z.number() }),
 *   key: (input) => input.userId, // ctx.key: string; the operator's default key
 *   resources: { scores: scoreClient }, // ctx.resource('scores'): typeof scoreClient
 *   actions: (action) => [
 *     action('score', InputEvent, function* (event, ctx) {
 *       const score = yield* ctx.executeAsync(ctx.resource('scores').fetch, event.payload.id);
 *       ctx.sendEvent(OutputEvent.of({ id: event.payload.id, score })); // checked against `output`
 *     }),
 *   ],
 * });
 */
export function defineAgent<In = unknown, Out = unknown, Key = unknown, Res extends Resources = Resources>(
  config: AgentConfig<In, Out, Key, Res>,
): Agent<In, Out, Key, Res> {
  if (typeof config !== 'object' || config === null) {
    throw new AgentDefinitionError(
      `Expected defineAgent to get a config object { name, actions }, got ${describe(config)}.`,
    );
  }
  const { name, input, output, key, resources = {}, actions, signals = [], events = [], upgradeCallIds } = config;
  if (typeof name !== 'string' || name.length === 0) {
    throw new AgentDefinitionError(`Expected the agent name to be a non-empty string, got ${describe(name)}.`);
  }
  const list = typeof actions === 'function' ? actions(action as ActionFactory<In, Out, Key, Res>) : actions;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AgentDefinitionError(
      `Agent \`${name}\` has no actions: give at least one action triggered by InputEvent.`,
    );
  }
  for (const [label, schema] of [
    ['input', input],
    ['output', output],
  ] as const) {
    const problem = schema === undefined ? undefined : zodSchemaProblem(schema);
    if (problem !== undefined) throw new AgentDefinitionError(`The \`${label}\` of agent \`${name}\` ${problem}`);
  }
  if (key !== undefined && typeof key !== 'function') {
    throw new AgentDefinitionError(
      `The \`key\` of agent \`${name}\` must be a function of the input (e.g. key: (input) => input.userId), got ${describe(key)}.`,
    );
  }
  if (upgradeCallIds !== undefined && typeof upgradeCallIds !== 'function') {
    throw new AgentDefinitionError(
      `The \`upgradeCallIds\` of agent \`${name}\` must be a function from a journaled call id to its id now, got ${describe(upgradeCallIds)}.`,
    );
  }
  if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
    throw new AgentDefinitionError(
      `The \`resources\` of agent \`${name}\` must be an object of named resources, got ${describe(resources)}.`,
    );
  }
  const routes = new Map<string, ActionDef[]>();
  const eventTypes = new Map<string, EventType>();
  const names = new Set<string>();
  list.forEach((def: ActionDef, i: number) => {
    if (typeof def !== 'object' || def === null || typeof def.fn !== 'function' || !Array.isArray(def.triggers)) {
      throw new AgentDefinitionError(
        `Action ${i} of agent \`${name}\` was not made with action(name, triggers, fn); got ${describe(def)}.`,
      );
    }
    if (names.has(def.name)) {
      throw new AgentDefinitionError(
        `Agent \`${name}\` has two actions named \`${def.name}\`: action names must be unique.`,
      );
    }
    names.add(def.name);
    for (const trigger of def.triggers) {
      const known = eventTypes.get(trigger.type);
      if (known !== undefined && known !== trigger) {
        throw new AgentDefinitionError(
          `Agent \`${name}\` uses two different event types named \`${trigger.type}\`: give each defineEvent a unique type name.`,
        );
      }
      eventTypes.set(trigger.type, trigger);
      const routed = routes.get(trigger.type);
      if (routed === undefined) routes.set(trigger.type, [def]);
      else if (!routed.includes(def)) routed.push(def);
    }
  });
  checkTypeList(name, 'events', events).forEach((t) => {
    const known = eventTypes.get(t.type);
    if (known !== undefined && known !== t)
      throw new AgentDefinitionError(
        `Agent \`${name}\` uses two different event types named \`${t.type}\`: give each defineEvent a unique type name.`,
      );
    eventTypes.set(t.type, t);
    // Routed to no action: a shared empty list, so routing it allocates nothing.
    if (!routes.has(t.type)) routes.set(t.type, NO_ACTIONS as ActionDef[]);
  });
  const signalTypes = new Map<string, EventType>();
  checkTypeList(name, 'signals', signals).forEach((t) => {
    const known = signalTypes.get(t.type) ?? eventTypes.get(t.type);
    if (known !== undefined && known !== t)
      throw new AgentDefinitionError(
        `Agent \`${name}\` uses two different event types named \`${t.type}\`: give each defineEvent a unique type name.`,
      );
    signalTypes.set(t.type, t);
  });
  if (!routes.has(InputEvent.type)) {
    throw new AgentDefinitionError(
      `Agent \`${name}\` has no action triggered by InputEvent, so its runs would do nothing: add action('start', InputEvent, fn).`,
    );
  }
  return Object.freeze({
    name,
    input,
    output,
    actions: Object.freeze([...list]),
    resources: Object.freeze({ ...resources }) as Readonly<Res>,
    key,
    routes,
    eventTypes,
    hasAsyncActions: list.some((def: ActionDef) => def.style === 'async'),
    signalTypes,
    upgradeCallIds,
  });
}

/** Checks a list of event types given as `events` or `signals`: made with defineEvent, not InputEvent/OutputEvent. */
function checkTypeList(agent: string, option: 'events' | 'signals', list: unknown): readonly EventType[] {
  if (!Array.isArray(list))
    throw new AgentDefinitionError(
      `The \`${option}\` of agent \`${agent}\` must be an array of event types, got ${describe(list)}.`,
    );
  list.forEach((t: unknown, i: number) => {
    if (!isEventType(t))
      throw new AgentDefinitionError(
        `${option === 'signals' ? 'Signal' : 'Event'} ${i} of agent \`${agent}\`${option === 'events' ? "'s `events`" : ''} is not an event type: make one with defineEvent(type, schema).`,
      );
    if (t.type === OutputEvent.type || t.type === InputEvent.type)
      throw new AgentDefinitionError(
        option === 'signals'
          ? `Agent \`${agent}\` lists \`${t.type}\` as a signal; signals are external event types made with defineEvent.`
          : `Agent \`${agent}\` lists \`${t.type}\` in \`events\`; list only event types made with defineEvent (InputEvent and OutputEvent are built in).`,
      );
  });
  return list as readonly EventType[];
}

/**
 * The one empty action list: the route of an event type that no action is triggered by (listed in
 * `events`, OutputEvent, a type the route table does not know). Frozen and shared, so routing such
 * an event allocates nothing.
 *
 * @example
 * const actions = agent.routes.get(type) ?? NO_ACTIONS;
 */
export const NO_ACTIONS: readonly ActionDef[] = Object.freeze([]);

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name ? ` \`${value.name}\`` : ''}`;
  if (typeof value === 'string') return `"${value}" (string)`;
  if (value === null || typeof value !== 'object')
    return `\`${String(value)}\` (${value === null ? 'null' : typeof value})`;
  return Array.isArray(value) ? 'an array' : 'an object';
}
