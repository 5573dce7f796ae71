/**
 * A live workload for the inspector specs: six customers; a model call per ticket (two scripted
 * models, 20–50 ms each, 30 tokens in and 8 out per call), except customer c5, whose runs sleep
 * 30 ms instead (a parked timer, S14); every 13th ticket fails.
 */
import { interval, map, type Subscription } from 'rxjs';
import { z } from 'zod';
import { agentOperator, createAgentState, defineAgent, InputEvent, OutputEvent, type AgentState } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { chat, user } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

/** Tokens every scripted model call reports. */
export const TOKENS = { inputTokens: 30, outputTokens: 8 } as const;
const model = (modelId: string) =>
  scriptedModel((_request, n) => ({ text: 'ok', frames: 20 + (n % 4) * 10, usage: TOKENS }), {
    provider: 'acme.chat',
    modelId,
  });
const small = model('acme-small');
const large = model('acme-large');

export const liveAgent = defineAgent({
  name: 'live-desk',
  input: z.object({ n: z.number(), customer: z.string() }),
  actions: (action) => [
    action('answer', InputEvent, function* (event, ctx) {
      const { n } = event.payload;
      ctx.shortTermMemory.set('last', { n, note: `ticket ${n}` });
      if (event.payload.customer === 'c5') yield* ctx.sleep(30);
      else yield* chat(ctx, n % 2 === 0 ? small : large, { messages: [user(`ticket ${n}`)] });
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
