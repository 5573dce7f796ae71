/** A live workload for the inspector specs: six customers, a slow call per ticket, every 13th ticket fails. */
import { interval, map, type Subscription } from 'rxjs';
import { z } from 'zod';
import { agentOperator, createAgentState, defineAgent, InputEvent, OutputEvent, type AgentState } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';

export const liveAgent = defineAgent({
  name: 'live-desk',
  input: z.object({ n: z.number(), customer: z.string() }),
  actions: (action) => [
    action('answer', InputEvent, function* (event, ctx) {
      const { n } = event.payload;
      ctx.shortTermMemory.set('last', { n, note: `ticket ${n}` });
      yield* ctx.executeAsync(
        function lookup(ms: number) {
          return new Promise((resolve) => setTimeout(resolve, ms));
        },
        20 + (n % 4) * 10,
      );
      if (n % 13 === 12) throw new Error(`ticket ${n} is malformed`);
      ctx.sendEvent(OutputEvent.of(n));
    }),
  ],
});

export interface LiveWorkload {
  readonly inspector: AgentInspector;
  readonly state: AgentState;
  stop(): void;
}

/** Starts tickets every `every` ms over `customers` keys until stopped. */
export function startWorkload(every = 8, customers = 6, inspector = createInspector()): LiveWorkload {
  const state = createAgentState();
  const sub: Subscription = interval(every)
    .pipe(
      map((n) => ({ n, customer: `c${n % customers}` })),
      agentOperator(liveAgent, { key: (t) => t.customer, inspect: inspector.inspect, state, errorPolicy: 'isolate' }),
    )
    .subscribe();
  return { inspector, state, stop: () => sub.unsubscribe() };
}
