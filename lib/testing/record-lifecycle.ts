import type { LifecycleEvent } from '../runtime/lifecycle';

/**
 * Collects lifecycle events: pass `recorder.inspect` as the `inspect` option.
 *
 * @example
 * const recorder = recordLifecycle();
 * inputs$.pipe(agentOperator(agent, { inspect: recorder.inspect }));
 * recorder.events.filter((e) => e.type === 'run.ended');
 */
export function recordLifecycle(): {
  readonly events: LifecycleEvent[];
  readonly inspect: (event: LifecycleEvent) => void;
} {
  const events: LifecycleEvent[] = [];
  return { events, inspect: (event) => void events.push(event) };
}
