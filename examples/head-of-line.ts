/**
 * No head-of-line blocking (S2): one key's run waits 1 s on a slow async block; the other keys'
 * runs, arriving behind it, finish in ~20 ms each. With synchronous one-run-at-a-time execution
 * they would all wait a second. Run: `npx ts-node --transpile-only examples/head-of-line.ts`
 */
import { from, lastValueFrom } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../lib';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const callModel = (ms: number): Promise<number> => sleep(ms).then(() => ms);

export const agent = defineAgent({
  name: 'hol',
  input: z.object({ user: z.string(), ms: z.number() }),
  output: z.object({ user: z.string(), finishedAfter: z.number() }),
  actions: (action) => [
    action('answer', InputEvent, async (event, ctx) => {
      const started = event.payload;
      await ctx.executeAsync(callModel, started.ms);
      ctx.sendEvent(OutputEvent.of({ user: started.user, finishedAfter: Math.round(performance.now() - t0) }));
    }),
  ],
});

let t0 = 0;

export async function main(slowMs = 1000, others = 20): Promise<Array<{ user: string; finishedAfter: number }>> {
  t0 = performance.now();
  const inputs = [
    { user: 'slow', ms: slowMs },
    ...Array.from({ length: others }, (_, i) => ({ user: `u${i}`, ms: 20 })),
  ];
  return lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.user }), toArray()));
}

if (require.main === module) {
  void main().then((outputs) => {
    for (const o of outputs) console.log(`${o.user.padEnd(5)} finished after ${o.finishedAfter} ms`);
  });
}
