/**
 * The seed's own example (Flink Agents, "Asynchronous Execution" §3.1 and the appendix): `action1`
 * awaits two async blocks in sequence (5 s and 10 s in the seed; 50 ms and 100 ms here), stores
 * the first result in short-term memory, and sends `MyEvent`; `my_action` awaits one block and
 * reacts too. Run: `npx ts-node --transpile-only examples/seed-action1.ts`
 */
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent } from '../lib';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const MyEvent = defineEvent('my-event', z.object({ value: z.string() }));

// Async blocks: self-contained functions of their arguments (the seed's my_func1 / my_func2 / my_func).
async function my_func1(id: number): Promise<string> {
  await sleep(50);
  return `my func1 result(${id})`;
}
async function my_func2(id: number): Promise<string> {
  await sleep(100);
  return `my func2 result(${id})`;
}
async function my_func(id: number): Promise<string> {
  await sleep(50);
  return `my func result(${id})`;
}

export const seedAgent = defineAgent({
  name: 'seed',
  input: z.object({ id: z.number() }),
  output: z.string(),
  actions: (action) => [
    action('action1', InputEvent, function* (event, ctx) {
      const input = event.payload;
      const func1Result = yield* ctx.executeAsync(my_func1, input.id);
      ctx.shortTermMemory.set('func1_result', func1Result);
      const func2Result = yield* ctx.executeAsync(my_func2, input.id);
      ctx.sendEvent(MyEvent.of({ value: func1Result + ' ' + func2Result }));
    }),
    action('my_action', InputEvent, function* (event, ctx) {
      const funcResult = yield* ctx.executeAsync(my_func, event.payload.id);
      ctx.sendEvent(MyEvent.of({ value: 'my_action ' + funcResult }));
    }),
    action('emit', MyEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload.value))),
  ],
});

export async function main(): Promise<{ outputs: string[]; ms: number }> {
  const started = performance.now();
  const outputs = await lastValueFrom(of({ id: 1 }).pipe(agentOperator(seedAgent), toArray()));
  const ms = performance.now() - started;
  // my_action (50 ms) finishes first; action1 needs 50 + 100 ms: the run takes ~150 ms, not 200.
  return { outputs, ms };
}

if (require.main === module) {
  void main().then(({ outputs, ms }) => {
    for (const o of outputs) console.log(o);
    console.log(`run took ${ms.toFixed(0)} ms (blocks: 50 + 100 ms in action1, 50 ms in my_action, overlapping)`);
  });
}
