/**
 * io: the seed's shape. Per input, action A awaits async blocks of 5 ms then 10 ms; action B
 * (triggered by the same input) awaits one of 10 ms; so a run takes ~15 ms of waiting and runs of
 * one key are serial. Unit: makespan in ms (lower is better; ratio = ours / reference).
 *
 * Reference: hand-written plain promises with one p-queue (concurrency 1) per key doing the same
 * waits. Also reported: efficiency = ideal / makespan, where ideal = inputs per key × 15 ms, and the
 * speedup over synchronous one-run-at-a-time execution (inputs × 15 ms, computed, not run: it
 * would take 50 minutes at the largest scale).
 */
import PQueue from 'p-queue';
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { alternate, result, sleep, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly id: number;
}

export const agent = defineAgent<In>({
  name: 'io',
  actions: (action) => [
    action('a', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(sleep, 5);
      yield* ctx.executeAsync(sleep, 10);
      ctx.sendEvent(OutputEvent.of(event.payload.id));
    }),
    action('b', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(sleep, 10);
      ctx.sendEvent(OutputEvent.of(event.payload.id));
    }),
  ],
});

function ours(inputs: readonly In[]): Promise<number> {
  // Every key can have its blocks in flight at once: the executor must not be the bottleneck here.
  return lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, concurrency: Infinity }), count()));
}

async function reference(inputs: readonly In[]): Promise<number> {
  const queues = new Map<number, PQueue>();
  let outputs = 0;
  const runs: Promise<void>[] = [];
  for (const input of inputs) {
    let queue = queues.get(input.key);
    if (queue === undefined) queues.set(input.key, (queue = new PQueue({ concurrency: 1 })));
    runs.push(
      queue.add(async () => {
        await Promise.all([
          (async () => {
            await sleep(5);
            await sleep(10);
            outputs++;
          })(),
          (async () => {
            await sleep(10);
            outputs++;
          })(),
        ]);
      }),
    );
  }
  await Promise.all(runs);
  return outputs;
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const scales = quick
    ? [
        { inputs: 2_000, keys: 100 },
        { inputs: 20_000, keys: 1_000 },
      ]
    : [
        { inputs: 2_000, keys: 100 },
        { inputs: 20_000, keys: 1_000 },
        { inputs: 200_000, keys: 10_000 },
      ];
  const out: BenchResult[] = [];
  for (const { inputs: n, keys } of scales) {
    const inputs = Array.from({ length: n }, (_, id) => ({ key: id % keys, id }));
    const got = [await ours(inputs), await reference(inputs)];
    if (got[0] !== 2 * n || got[1] !== 2 * n) throw new Error(`io: expected ${2 * n} outputs, got ${got.join(' / ')}`);
    const rounds = n >= 200_000 ? 2 : quick ? 3 : 5;
    const t = await alternate(rounds, { ours: () => ours(inputs), reference: () => reference(inputs) }, false);
    const ideal = (n / keys) * 15;
    const sequential = n * 15;
    out.push(
      result('io', { inputs: n, keys, blocks: '5+10 ms ‖ 10 ms' }, t.ours, t.reference, 'ms', 'lower', {
        idealMs: ideal,
        efficiency: Math.round((ideal / t.ours) * 1000) / 1000,
        referenceEfficiency: Math.round((ideal / t.reference) * 1000) / 1000,
        sequentialMs: sequential,
        speedupOverSequential: Math.round(sequential / t.ours),
      }),
    );
  }
  return out;
}
