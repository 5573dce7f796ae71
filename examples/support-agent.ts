/**
 * A support agent: a ReAct loop with two tools and a structured answer, its tokens streamed as
 * they arrive over Server-Sent Events.
 *
 *   npx ts-node --transpile-only examples/support-agent.ts
 *
 * By default it talks to a small OpenAI-compatible server on 127.0.0.1 (examples/support/openai-loopback.ts)
 * that plays the model: first it asks for both tools at once, then streams a JSON answer. Against a
 * real endpoint, set OPENAI_BASE_URL (e.g. https://api.openai.com/v1), OPENAI_API_KEY and MODEL
 * (e.g. gpt-4o-mini); the provider is @ai-sdk/openai-compatible, so any compatible server works.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { from, lastValueFrom } from 'rxjs';
import { tap, toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator } from '../lib';
import { defineTool, fromAiSdk, isStreamChunk, reactAgent, withModelPolicy, type AgentAnswer } from '../lib/llm';
import { startOpenAiServer, type SeenRequest, type ServerTurn } from './support/openai-loopback';

const orders: Record<string, { status: string; daysSinceDelivery: number | null }> = {
  A17: { status: 'delivered', daysSinceDelivery: 12 },
  B42: { status: 'in transit', daysSinceDelivery: null },
};

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Finds an order by its id and returns its status.',
  input: z.object({ orderId: z.string().describe('The order id, e.g. A17') }),
  execute: async ({ orderId }) => orders[orderId] ?? { error: `no order ${orderId}` },
  timeout: 5_000,
});

const refundPolicy = defineTool({
  name: 'refund_policy',
  description: 'Says whether an order delivered this many days ago can still be refunded.',
  input: z.object({ daysSinceDelivery: z.number().int().min(0) }),
  execute: ({ daysSinceDelivery }) => ({ refundable: daysSinceDelivery <= 30, limitDays: 30 }),
});

const Answer = z.object({
  category: z.enum(['shipping', 'refund', 'other']),
  reply: z.string(),
  orderIds: z.array(z.string()),
});

/** What the loopback "model" answers: both tools in one turn, then a streamed JSON answer built from their results. */
function scriptedTurn(request: SeenRequest): ServerTurn {
  const results = request.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
  if (results.length === 0)
    return {
      toolCalls: [
        { id: 'call_1', name: 'lookup_order', arguments: { orderId: 'A17' } },
        { id: 'call_2', name: 'refund_policy', arguments: { daysSinceDelivery: 12 } },
      ],
      usage: { prompt: 180, completion: 40 },
    };
  const refundable = results.some((r) => r.includes('"refundable":true'));
  const text = JSON.stringify({
    category: 'refund',
    reply: refundable
      ? 'Your order A17 was delivered 12 days ago, so it can still be refunded. I have started the refund.'
      : 'Sorry, order A17 can no longer be refunded.',
    orderIds: ['A17'],
  });
  return { text, chunks: text.match(/.{1,12}/g) ?? [text], chunkDelay: 15, usage: { prompt: 260, completion: 60 } };
}

export async function main(
  options: { readonly quiet?: boolean } = {},
): Promise<{ answers: AgentAnswer<z.infer<typeof Answer>>[]; chunks: number }> {
  const real = process.env.OPENAI_BASE_URL !== undefined;
  const server = real ? undefined : await startOpenAiServer(scriptedTurn);
  try {
    const provider = createOpenAICompatible({
      name: 'openai',
      baseURL: real ? (process.env.OPENAI_BASE_URL as string) : (server?.baseURL as string),
      ...(process.env.OPENAI_API_KEY === undefined ? {} : { apiKey: process.env.OPENAI_API_KEY }),
      includeUsage: true,
      supportsStructuredOutputs: real,
    });
    const model = withModelPolicy(
      fromAiSdk(provider.chatModel(process.env.MODEL ?? 'loopback-model'), { supportsJsonSchema: real }),
      {
        retries: 3,
        timeout: 60_000,
      },
    );
    const agent = reactAgent<{ customer: string; text: string }, z.infer<typeof Answer>>({
      name: 'support',
      model,
      tools: [lookupOrder, refundPolicy],
      system: 'You are a support agent. Look orders up before answering; check the refund policy for refunds.',
      output: Answer,
      prompt: (ticket) => ticket.text,
      maxSteps: 6,
      stream: true,
      settings: { temperature: 0 },
    });
    const tickets = [{ customer: 'ada', text: 'Can I still return order A17?' }];
    let chunks = 0;
    const out = await lastValueFrom(
      from(tickets).pipe(
        agentOperator(agent, { key: (t) => t.customer }),
        tap((value) => {
          if (options.quiet === true) return;
          if (isStreamChunk(value)) {
            const chunk = value.chunk as { type: string; delta?: string };
            if (chunk.type === 'text-delta') process.stdout.write(chunk.delta ?? '');
          } else
            process.stdout.write(
              `\n\nanswer for ${value.output.orderIds.join(', ')}: ${JSON.stringify(value, null, 2)}\n`,
            );
        }),
        toArray(),
      ),
    );
    const answers = out.filter((v): v is AgentAnswer<z.infer<typeof Answer>> => !isStreamChunk(v));
    chunks = out.length - answers.length;
    return { answers, chunks };
  } finally {
    await server?.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
