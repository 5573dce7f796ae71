/**
 * Fan-out (S3, S12): one input triggers three independent actions (sentiment, entities, summary);
 * their async blocks overlap, and a fourth action joins their results from sensory memory once all
 * three have reported. The entity action also makes two calls in parallel with `ctx.all`.
 * Run: `npx ts-node --transpile-only examples/fan-out.ts`
 */
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent } from '../lib';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fakeLlm = async (task: string, text: string, ms: number): Promise<string> => {
  await sleep(ms);
  return `${task}(${text.length} chars)`;
};

const Part = defineEvent('part', z.object({ name: z.string(), value: z.string() }));

export const agent = defineAgent({
  name: 'review-analyser',
  input: z.object({ id: z.string(), text: z.string() }),
  actions: (action) => [
    action('sentiment', InputEvent, function* (event, ctx) {
      const value = yield* ctx.executeAsync(fakeLlm, 'sentiment', event.payload.text, 60);
      ctx.sendEvent(Part.of({ name: 'sentiment', value }));
    }),
    action('entities', InputEvent, function* (event, ctx) {
      const [people, places] = yield* ctx.all([
        ctx.executeAsync(fakeLlm, 'people', event.payload.text, 60),
        ctx.executeAsync(fakeLlm, 'places', event.payload.text, 60),
      ]);
      ctx.sendEvent(Part.of({ name: 'entities', value: `${people} ${places}` }));
    }),
    action('summary', InputEvent, async (event, ctx) => {
      const value = await ctx.executeAsync(fakeLlm, 'summary', event.payload.text, 60);
      ctx.sendEvent(Part.of({ name: 'summary', value }));
    }),
    action('join', Part, (event, ctx) => {
      ctx.sensoryMemory.set(`parts.${event.payload.name}`, event.payload.value);
      if (ctx.sensoryMemory.keys('parts').length === 3) ctx.sendEvent(OutputEvent.of(ctx.sensoryMemory.get('parts')));
    }),
  ],
});

export async function main(): Promise<{ outputs: unknown[]; ms: number }> {
  const started = performance.now();
  const outputs = await lastValueFrom(
    of({ id: 'r1', text: 'Lovely stay in Lisbon, Ana was great.' }).pipe(agentOperator(agent), toArray()),
  );
  return { outputs, ms: performance.now() - started };
}

if (require.main === module) {
  void main().then(({ outputs, ms }) => {
    console.log(JSON.stringify(outputs, null, 2));
    console.log(`four 60 ms model calls took ${ms.toFixed(0)} ms in all: they overlapped`);
  });
}
