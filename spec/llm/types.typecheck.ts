// Type behaviour of rx-agents/llm, checked by `tsc --noEmit` (never run).
import { z } from 'zod';
import { defineTool, reactAgent, type AgentAnswer } from '../../lib/llm';
import type { Agent } from '../../lib';
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
