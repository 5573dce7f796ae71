// Type behaviour of rx-agents/llm, checked by `tsc --noEmit` (never run).
import { z } from 'zod';
import { chat, defineTool, reactAgent, responseText, user, type AgentAnswer } from '../../lib/llm';
import { defineAgent, InputEvent, OutputEvent, type Agent } from '../../lib';
import { scriptedModel } from '../../lib/llm/testing';

export const typed = defineTool({
  name: 'typed',
  description: 'd',
  input: z.object({ id: z.number(), tags: z.array(z.string()) }),
  execute: (args) => {
    const n: number = args.id;
    const t: string[] = args.tags;
    // @ts-expect-error: the arguments are typed by the zod schema
    const s: string = args.id;
    return { n, t, s };
  },
});

const model = scriptedModel([]);
// The answer's `output` has the schema's type.
export const structured: Agent<string, AgentAnswer<{ priority: 'low' | 'high' }>> = reactAgent<
  string,
  { priority: 'low' | 'high' }
>({
  model,
  output: z.object({ priority: z.enum(['low', 'high']) }),
});
// @ts-expect-error: maxSteps is a number
reactAgent({ model, maxSteps: '3' });

// A typed agent (key, resources, output) hands its context to chat(): the model comes from `resources`,
// typed, and the answer is checked against `output` when it is emitted.
export const typedChat = defineAgent({
  name: 'typed-chat',
  input: z.object({ customer: z.string(), question: z.string() }),
  output: z.object({ customer: z.string(), answer: z.string() }),
  key: (input) => input.customer,
  resources: { model },
  actions: (action) => [
    action('ask', InputEvent, function* (event, ctx) {
      const response = yield* chat(ctx, ctx.resource('model'), { messages: [user(event.payload.question)] });
      const answer: string = responseText(response);
      ctx.sendEvent(OutputEvent.of({ customer: ctx.key, answer }));
      // @ts-expect-error: `answer` is a string in the agent's output
      ctx.sendEvent(OutputEvent.of({ customer: ctx.key, answer: response }));
      // @ts-expect-error: the agent has no resource `llm`
      chat(ctx, ctx.resource('llm'), { messages: [] });
    }),
  ],
});
