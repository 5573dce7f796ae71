import { Observable, Subscriber, map, type OperatorFunction } from 'rxjs';
import { defineAgent, type Agent } from '../agent/define-agent';
import { AgentDefinitionError, VirtualTimeError } from '../errors';
import { InputEvent } from '../events/define-event';
import { Runtime } from '../runtime/runtime';
import { anchorShape } from '../runtime/shape-anchor';
import type { AgentOutput } from '../runtime/settings';
import { isVirtualTime } from '../runtime/virtual-time';
import { resolveOptions, type AgentOperatorOptions } from './options';

/**
 * Runs an agent over a stream: each input starts an agent run for its key; what the runs send
 * as `OutputEvent`s comes out.
 *
 * ```
 * inputs:   --a1--b1--a2-------|        (a, b: keys)
 * outputs:  ------A1---B1--A2--|        A1 before A2 always; B1 never waits for A1's async work
 * ```
 *
 * Semantics: runs of one key are serial in arrival order (S1); keys progress independently
 * (S2); actions triggered by one event start together and their async blocks overlap (S3, S12);
 * outputs of one key come in run order and, within a run, in send order (S8). Inputs that
 * arrive while their key is busy are buffered (bounded by `maxBufferedInputs`). The output
 * completes after the source completes and every run has ended; unsubscribing aborts
 * in-flight async blocks (S9). All per-stream state is created per subscription.
 *
 * @example
 * const outputs$ = inputs$.pipe(agentOperator(agent, { key: (x) => x.userId }));
 */
export function agentOperator<In, Out, Key, T extends In = In>(
  agent: Agent<In, Out, Key>,
  options?: AgentOperatorOptions<T, NoInfer<Key>> & { readonly output?: 'payload' },
): OperatorFunction<T, Out>;
export function agentOperator<In, Out, Key, T extends In = In>(
  agent: Agent<In, Out, Key>,
  options: AgentOperatorOptions<T, NoInfer<Key>> & { readonly output: 'envelope' },
): OperatorFunction<T, AgentOutput<Out>>;
export function agentOperator<In, Out, Key, T extends In = In>(
  agent: Agent<In, Out, Key>,
  options?: AgentOperatorOptions<T, NoInfer<Key>>,
): OperatorFunction<T, Out | AgentOutput<Out>>;
export function agentOperator<In, Out>(
  agent: Agent<In, Out>,
  options?: AgentOperatorOptions<In>,
): OperatorFunction<In, unknown> {
  const start = runtimeStarter(agent, options);
  return (source) =>
    start((runtime, subscriber) => {
      const input = new InputSubscriber(runtime);
      subscriber.add(input);
      source.subscribe(input);
    });
}

/**
 * (Internal.) What the operator subscribes to its source with: a Subscriber (not a plain observer) so that a
 * downstream unsubscribe during a synchronous flood closes it at once and the source stops
 * emitting, as rxjs's own operators do; a class of its own, so that an input reaches the runtime
 * in one call, with no closures made per subscription (and its map can be anchored, see
 * lib/runtime/shape-anchor.ts).
 *
 * @example
 * const input = new InputSubscriber(runtime);
 * subscriber.add(input);
 * source.subscribe(input);
 */
class InputSubscriber extends Subscriber<unknown> {
  constructor(private readonly runtime: Runtime) {
    super();
  }

  protected override _next(value: unknown): void {
    this.runtime.accept(value);
  }

  protected override _error(error: unknown): void {
    try {
      this.runtime.sourceError(error);
    } finally {
      this.unsubscribe();
    }
  }

  protected override _complete(): void {
    try {
      this.runtime.sourceComplete();
    } finally {
      this.unsubscribe();
    }
  }
}

/**
 * Validates the agent and options once, and returns what starts one runtime per subscription;
 * `feed` connects the inputs (a push Observable for agentOperator, a pull source for runAgent).
 */
export function runtimeStarter<In>(
  agent: Agent<In, unknown>,
  options: AgentOperatorOptions<In> | undefined,
): (feed: (runtime: Runtime, subscriber: Subscriber<unknown>) => void) => Observable<unknown> {
  if (typeof agent !== 'object' || agent === null || !(agent.routes instanceof Map)) {
    throw new AgentDefinitionError('agentOperator needs an agent made by defineAgent({ name, actions }).');
  }
  // The agent's own key selector (`defineAgent({ key })`) is the default; the operator's `key` overrides it.
  const keyed = options?.key === undefined && agent.key !== undefined ? { ...options, key: agent.key } : options;
  const { makeExecutor, ...settings } = resolveOptions(keyed as AgentOperatorOptions<never> | undefined);
  const asyncAction = agent.actions.find((a) => a.style === 'async');
  return (feed) =>
    new Observable<unknown>((subscriber) => {
      // S11: a TestScheduler cannot see the Promises async actions resume on; say so instead of an empty marble.
      if (asyncAction !== undefined && isVirtualTime(settings.scheduler)) {
        throw new VirtualTimeError(agent.name, asyncAction.name, 'async-action');
      }
      const runtime = new Runtime(agent as Agent, { ...settings, executor: makeExecutor() }, subscriber);
      subscriber.add(() => runtime.dispose());
      runtime.recover(); // S13: unfinished runs of the journal resume first, in sequence order
      if (settings.signals !== undefined)
        subscriber.add(
          settings.signals.subscribe({
            next: (value) => runtime.signal(value),
            error: (error: unknown) => runtime.sourceError(error),
          }),
        );
      feed(runtime, subscriber);
    });
}

/**
 * A dormant runtime, made once when this module loads and disposed at once: it keeps the maps of
 * the classes every subscription makes (the runtime, its mailbox, admission, desks, executor)
 * alive, so the code V8 compiled for them survives the gaps between subscriptions (see
 * lib/runtime/shape-anchor.ts). It holds no user data and never runs an input.
 */
function dormantRuntime(): Runtime {
  const agent = defineAgent({
    name: 'rx-agents/dormant',
    actions: (action) => [action('none', InputEvent, () => undefined)],
  });
  const { makeExecutor, ...settings } = resolveOptions({ key: () => 0 });
  const sink = { next() {}, error() {}, complete() {} };
  const runtime = new Runtime(agent as Agent, { ...settings, executor: makeExecutor() }, sink);
  runtime.dispose();
  return runtime;
}
const dormant = dormantRuntime();
anchorShape(dormant);
const dormantInput = new InputSubscriber(dormant);
dormantInput.unsubscribe();
anchorShape(dormantInput);

/**
 * A dormant rxjs operator subscriber — the class `map`, `filter`, `count` and rxjs's other operators
 * subscribe with — unsubscribed at once, kept alive for the life of the process. The operators on
 * either side of an agentOperator call into it and it calls into them, and V8 compiles our
 * `output` and the runtime's routing turn with their `next` inlined. When a stream ends and a full
 * GC finds no such subscriber alive, its map goes, and that code is thrown away ("weak objects",
 * "code dependencies") and compiled again on the next subscription: measured on the routing
 * workload (one subscription per round, `gc()` between rounds), `output`, `Subscriber.next` and, when
 * V8 inlined deeper, `Run.process` were recompiled every round; with this anchor none of them is.
 * It holds no user data: its destination is gone, its function is the identity.
 */
function dormantOperatorSubscriber(): Subscriber<unknown> {
  let held: Subscriber<unknown> | undefined;
  new Observable<unknown>((subscriber) => {
    held = subscriber;
  })
    .pipe(map((x) => x))
    .subscribe()
    .unsubscribe();
  return held as Subscriber<unknown>;
}
anchorShape(dormantOperatorSubscriber());
