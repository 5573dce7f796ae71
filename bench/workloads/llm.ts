/**
 * llm: the agent layer (`rx-agents/llm`). Three same-run comparisons (ratio = ours / reference):
 *
 * 1. overhead per model call (µs/call, lower is better): N inputs, each one `chat()` call of a
 *    zero-latency scripted model inside an agent (journal-free, 1k keys), vs calling the same model
 *    N times directly (`lastValueFrom(model.call(request))`). `extra.overheadUs` = the difference.
 * 2. ReAct throughput (runs/s, higher is better): `reactAgent` doing 3 model steps with 2 parallel
 *    tool calls in each of the first two, over 1k keys, vs the same loop hand-written on promises
 *    with one p-queue (concurrency 1) per key, the same model, tools and zod validation of the
 *    tool arguments, the same messages, and no conversation history on either side (`history: false`;
 *    one input per key). Model calls take 20 ms and tool calls 5 ms (timers), so a run waits ~70 ms.
 *    Ours does more per run: events checked at every send, per-key order by the runtime, call ids,
 *    abort signals, tool results checked as JSON data, token usage summed, a step cap.
 * 3. streaming (chunks/s, higher is better): a model streaming synchronous text deltas through
 *    `reactAgent({ stream: true })` and the operator, vs subscribing to the model's stream directly.
 */
import PQueue from 'p-queue';
import { from, lastValueFrom, of, timer } from 'rxjs';
import { count, map } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import {
  chat,
  defineTool,
  reactAgent,
  type ChatModel,
  type ChatResponse,
  type ModelEvent,
  type ModelRequest,
  type ToolMessage,
} from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';
import { alternate, result, sleep, type BenchResult } from '../harness';

const request: ModelRequest = { messages: [{ role: 'user', content: 'ping' }] };

// ---- 1. overhead per model call -------------------------------------------------------------

function zeroLatencyModel(): ChatModel {
  const response: ChatResponse = {
    message: { role: 'assistant', content: 'pong', toolCalls: [] },
    finishReason: 'stop',
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    provider: 'bench',
    model: 'zero',
  };
  // scriptedModel keeps every request (for tests); a bench model must not grow, so it is written out here.
  return { provider: 'bench', modelId: 'zero', call: () => of<ModelEvent>({ type: 'response', response }) };
}

async function overhead(n: number): Promise<BenchResult> {
  const model = zeroLatencyModel();
  const agent = defineAgent<number>({
    name: 'chat-overhead',
    actions: (action) => [
      action('ask', InputEvent, function* (_event, ctx) {
        const r = yield* chat(ctx, model, request);
        ctx.sendEvent(OutputEvent.of(r.usage.totalTokens));
      }),
    ],
  });
  const bare = defineAgent<number>({
    name: 'bare-call',
    actions: (action) => [
      action('ask', InputEvent, function* (_event, ctx) {
        const e = yield* ctx.executeAsync(() => model.call(request));
        ctx.sendEvent(OutputEvent.of(e.type === 'response' ? e.response.usage.totalTokens : 0));
      }),
    ],
  });
  const inputs = Array.from({ length: n }, (_, i) => i);
  const bareRun = (): Promise<number> =>
    lastValueFrom(from(inputs).pipe(agentOperator(bare, { key: (i) => i % 1000 }), count()));
  const ours = (): Promise<number> =>
    lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (i) => i % 1000 }), count()));
  const reference = async (): Promise<number> => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const e = await lastValueFrom(model.call(request));
      if (e.type === 'response') total += e.response.usage.totalTokens;
    }
    return total;
  };
  if ((await ours()) !== n || (await reference()) !== 2 * n) throw new Error('llm overhead: wrong result');
  const t = await alternate(5, { ours, reference, bareRun });
  const oursUs = (t.ours * 1000) / n;
  const refUs = (t.reference * 1000) / n;
  return result('llm', { case: 'overhead per model call', calls: n, keys: 1000 }, oursUs, refUs, 'µs/call', 'lower', {
    overheadUs: Math.round((oursUs - refUs) * 100) / 100,
    // the same agent calling the model with a plain executeAsync: what the run itself costs, without chat()
    bareRunUs: Math.round(((t.bareRun * 1000) / n) * 100) / 100,
    targetOverheadUs: 20,
  });
}

// ---- 2. ReAct loop vs promises + p-queue ----------------------------------------------------

const MODEL_MS = 20;
const TOOL_MS = 5;

/**
 * Steps 1 and 2 ask for two tool calls each, step 3 answers, after `modelMs` on a timer. Decided from
 * the request, as a real model would. Also driven by spec/llm/fixtures/react-gaps-child.ts, so the
 * shape-anchor spec checks the loop this bench times.
 */
export function reactModel(modelMs = MODEL_MS): ChatModel {
  return {
    provider: 'bench',
    modelId: 'react',
    call: (req) =>
      timer(modelMs).pipe(
        map((): ModelEvent => {
          const done = req.messages.filter((m) => m.role === 'tool').length;
          const step = done / 2;
          const toolCalls =
            done < 4
              ? [
                  { id: `c${step}a`, name: 'lookup', arguments: { id: step * 2 } },
                  { id: `c${step}b`, name: 'lookup', arguments: { id: step * 2 + 1 } },
                ]
              : [];
          return {
            type: 'response',
            response: {
              message: { role: 'assistant', content: done < 4 ? '' : 'answer', toolCalls },
              finishReason: done < 4 ? 'tool-calls' : 'stop',
              usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
              provider: 'bench',
              model: 'react',
            },
          };
        }),
      ),
  };
}

const lookupInput = z.object({ id: z.number().int() });
const lookupFn = async ({ id }: { id: number }): Promise<{ id: number; ok: boolean }> => {
  await sleep(TOOL_MS);
  return { id, ok: true };
};

/** The ReAct contestants: `inputs` runs over `keys` keys through `reactAgent`, and the same loop on promises + p-queue (also used by bench/profile/react.ts). */
export function reactContestants(
  inputs: number,
  keys: number,
): { ours: () => Promise<number>; reference: () => Promise<number> } {
  const model = reactModel();
  const lookup = defineTool({ name: 'lookup', description: 'd', input: lookupInput, execute: lookupFn });
  const agent = reactAgent<number>({ model, tools: [lookup], system: 'bench', maxSteps: 5, history: false });
  const list = Array.from({ length: inputs }, (_, i) => i);
  const ours = (): Promise<number> =>
    lastValueFrom(from(list).pipe(agentOperator(agent, { key: (i) => i % keys, concurrency: Infinity }), count()));
  const reference = async (): Promise<number> => {
    const queues = new Map<number, PQueue>();
    let answers = 0;
    const runs: Promise<void>[] = [];
    for (const i of list) {
      const key = i % keys;
      let queue = queues.get(key);
      if (queue === undefined) queues.set(key, (queue = new PQueue({ concurrency: 1 })));
      runs.push(
        queue.add(async () => {
          const messages: ModelRequest['messages'][number][] = [
            { role: 'system', content: 'bench' },
            { role: 'user', content: String(i) },
          ];
          for (let step = 0; step < 5; step++) {
            const e = await lastValueFrom(model.call({ messages }));
            if (e.type !== 'response') continue;
            const message = e.response.message;
            messages.push(message);
            if (message.toolCalls.length === 0) {
              answers++;
              return;
            }
            const results = await Promise.all(
              message.toolCalls.map(async (c): Promise<ToolMessage> => {
                const parsed = lookupInput.safeParse(c.arguments);
                if (!parsed.success)
                  return { role: 'tool', toolCallId: c.id, toolName: c.name, content: 'bad', isError: true };
                const value = await lookupFn(parsed.data);
                return { role: 'tool', toolCallId: c.id, toolName: c.name, content: value, isError: false };
              }),
            );
            messages.push(...results);
          }
        }),
      );
    }
    await Promise.all(runs);
    return answers;
  };
  return { ours, reference };
}

async function react(inputs: number, keys: number): Promise<BenchResult> {
  const { ours, reference } = reactContestants(inputs, keys);
  if ((await ours()) !== inputs || (await reference()) !== inputs) throw new Error('llm react: wrong result');
  const t = await alternate(3, { ours, reference }, false);
  // On a machine shared with other jobs the makespan mostly measures waiting for a core; CPU time says what each side costs.
  const cpu = async (task: () => Promise<unknown>): Promise<number> => {
    const c0 = process.cpuUsage();
    await task();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const cpuOurs: number[] = [];
  const cpuRef: number[] = [];
  for (let r = 0; r < 3; r++) {
    cpuOurs.push(await cpu(ours));
    cpuRef.push(await cpu(reference));
  }
  const med = (v: number[]): number => [...v].sort((a, b) => a - b)[1] as number;
  const ideal = (inputs / keys) * (3 * MODEL_MS + 2 * TOOL_MS);
  return result(
    'llm',
    { case: 'ReAct 3 steps × 2 parallel tools', inputs, keys, modelMs: MODEL_MS, toolMs: TOOL_MS },
    (inputs / t.ours) * 1000,
    (inputs / t.reference) * 1000,
    'runs/s',
    'higher',
    {
      idealMs: ideal,
      oursMs: Math.round(t.ours),
      referenceMs: Math.round(t.reference),
      oursCpuMs: Math.round(med(cpuOurs)),
      referenceCpuMs: Math.round(med(cpuRef)),
      cpuPerRunUs: {
        ours: Math.round((med(cpuOurs) * 1000) / inputs),
        reference: Math.round((med(cpuRef) * 1000) / inputs),
      },
      targetRatio: 0.9,
    },
  );
}

// ---- 3. streaming ---------------------------------------------------------------------------

async function streaming(chunks: number, runs: number): Promise<BenchResult> {
  const deltas = Array.from({ length: chunks }, (_, i) => `t${i % 10} `);
  const model = scriptedModel(() => ({ text: deltas.join(''), chunks: deltas }));
  const direct: ChatModel = { provider: 'bench', modelId: 'stream', call: (r) => model.call(r) };
  const agent = reactAgent<number>({ model: direct, stream: true, history: false });
  const list = Array.from({ length: runs }, (_, i) => i);
  const ours = (): Promise<number> =>
    lastValueFrom(from(list).pipe(agentOperator(agent, { key: (i) => i % 100 }), count()));
  const reference = (): Promise<number> =>
    lastValueFrom(
      from(list).pipe(
        map(() => {
          let n = 0;
          direct.call({ ...request, stream: true }).subscribe(() => n++);
          return n;
        }),
        count(),
      ),
    );
  if ((await ours()) !== runs * (chunks + 1)) throw new Error('llm streaming: wrong chunk count');
  const t = await alternate(5, { ours, reference });
  (model.requests as ModelRequest[]).length = 0;
  return result(
    'llm',
    { case: 'streaming chunks through the operator', chunksPerCall: chunks, calls: runs },
    ((chunks * runs) / t.ours) * 1000,
    ((chunks * runs) / t.reference) * 1000,
    'chunks/s',
    'higher',
    { targetRatio: 0.5 },
  );
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  return [
    await overhead(quick ? 20_000 : 100_000),
    await react(quick ? 1_000 : 3_000, 1_000),
    await streaming(quick ? 200 : 500, quick ? 200 : 1_000),
  ];
}
