/**
 * budgets: what a named budget costs per call. Unit: µs per call (lower is better; ratio = ours /
 * reference).
 *
 * Line 1 (`agent`): the same agent — one call per input whose block returns a resolved Promise —
 * run with `executeAsyncWith({ budget: 'llm' })` (ours) and with a bare `executeAsync` on the same
 * executor (reference). The budget has the executor's concurrency (64), a perKey cap and a rate
 * limit far above what the run reaches, so every check runs but none throttles.
 *
 * Line 2 (`raw`): the permit path alone — tasks handed to `budgets.submit` in front of an executor
 * (ours) against the same tasks given to the executor directly (reference).
 */
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, createBudgets, createExecutor, defineAgent, InputEvent, OutputEvent } from '../../lib';
import type { ExecutorTask } from '../../lib';
import { alternate, result, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly id: number;
}

const block = (id: number): Promise<number> => Promise.resolve(id);

const budgeted = defineAgent<In>({
  name: 'budgeted',
  actions: (action) => [
    action('a', InputEvent, function* (event, ctx) {
      ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsyncWith({ budget: 'llm' }, block, event.payload.id)));
    }),
  ],
});

const bare = defineAgent<In>({
  name: 'bare',
  actions: (action) => [
    action('a', InputEvent, function* (event, ctx) {
      ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(block, event.payload.id)));
    }),
  ],
});

const spec = { concurrency: 64, perKey: 64, rate: { limit: 1e9, per: 1_000 } };

function agentRun(inputs: readonly In[], withBudget: boolean): Promise<number> {
  const executor = createExecutor(64);
  const options = { key: (x: In) => x.key, executor };
  return lastValueFrom(
    from(inputs).pipe(
      withBudget
        ? agentOperator(budgeted, { ...options, budgets: createBudgets({ llm: spec }) })
        : agentOperator(bare, options),
      count(),
    ),
  );
}

/** `n` tasks over `keys` keys that settle on the next microtask; resolves when all are done. */
function rawRun(n: number, keys: number, withBudget: boolean): Promise<void> {
  const executor = createExecutor(64);
  const budgets = createBudgets({ llm: spec });
  let left = n;
  return new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) {
      const task: ExecutorTask = {
        key: i % keys,
        wanted: true,
        start: (done) =>
          void Promise.resolve().then(() => {
            done();
            if (--left === 0) resolve();
          }),
      };
      if (withBudget) budgets.submit('llm', task, executor);
      else executor.submit(task);
    }
  });
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const n = quick ? 20_000 : 100_000;
  const keys = 1_000;
  const rounds = quick ? 3 : 5;
  const inputs = Array.from({ length: n }, (_, id) => ({ key: id % keys, id }));
  const got = [await agentRun(inputs, true), await agentRun(inputs, false)];
  if (got[0] !== n || got[1] !== n) throw new Error(`budgets: expected ${n} outputs, got ${got.join(' / ')}`);
  const a = await alternate(rounds, { ours: () => agentRun(inputs, true), reference: () => agentRun(inputs, false) });
  const r = await alternate(rounds, { ours: () => rawRun(n, keys, true), reference: () => rawRun(n, keys, false) });
  const us = (ms: number): number => (ms * 1000) / n;
  return [
    result(
      'budgets',
      { mode: 'agent', calls: n, keys, budget: '64 / perKey 64 / rate' },
      us(a.ours),
      us(a.reference),
      'µs/call',
      'lower',
      {
        overheadPerCallUs: Math.round((us(a.ours) - us(a.reference)) * 1000) / 1000,
      },
    ),
    result(
      'budgets',
      { mode: 'raw', tasks: n, keys, budget: '64 / perKey 64 / rate' },
      us(r.ours),
      us(r.reference),
      'µs/call',
      'lower',
      {
        overheadPerCallUs: Math.round((us(r.ours) - us(r.reference)) * 1000) / 1000,
      },
    ),
  ];
}
