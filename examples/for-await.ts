/**
 * Consuming outputs with `for await` through rxjs-for-await. `eachValueFrom` subscribes once and
 * BUFFERS every output the agent emits while the loop body is busy (no loss, memory grows if the
 * consumer is slower than the agent); `latestValueFrom` keeps only the newest (lossy);
 * `nextValueFrom` drops values that arrive while the body runs. For agent outputs, `eachValueFrom`
 * is the right default. Run: `npx ts-node --transpile-only examples/for-await.ts`
 */
import { eachValueFrom } from 'rxjs-for-await';
import { range } from 'rxjs';
import { map } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../lib';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const agent = defineAgent({
  name: 'ticker',
  input: z.object({ user: z.string(), n: z.number() }),
  output: z.string(),
  actions: (action) => [
    action('tick', InputEvent, async (event, ctx) => {
      const doubled = await ctx.executeAsync(async (n: number) => (await sleep(5), n * 2), event.payload.n);
      ctx.sendEvent(OutputEvent.of(`${event.payload.user}:${doubled}`));
    }),
  ],
});

export async function main(): Promise<string[]> {
  const outputs$ = range(0, 12).pipe(
    map((n) => ({ user: `u${n % 3}`, n })),
    agentOperator(agent, { key: (x) => x.user }),
  );
  const seen: string[] = [];
  for await (const output of eachValueFrom(outputs$)) {
    await sleep(2); // a slow consumer: outputs that arrive meanwhile are buffered, none is lost
    seen.push(output);
  }
  return seen;
}

if (require.main === module) {
  void main().then((seen) => console.log(`${seen.length} outputs, in per-user order:`, seen.join(' ')));
}
