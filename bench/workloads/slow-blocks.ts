/**
 * slow-blocks: what the slow-block watch (`slowBlockAfter`, lib/runtime/slow-blocks.ts) costs. An
 * agent whose action awaits two async blocks per input (resolved Promises: the block bookkeeping is
 * the whole cost, there is no waiting to hide it) with `createInspector()` attached, so every block is
 * watched. Two shapes: 20k inputs over 1000 keys (blocks overlap: the watch is never empty) and one
 * key (blocks run one at a time: the watch empties after every block, so its timer is set and
 * cancelled per block, the worst case). Unit: inputs/s (higher is better).
 *
 * Reference: the same workload and inspector in the same process with `slowBlockAfter: Infinity`
 * (no watch).
 */
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { createInspector } from '../../lib/observe';
import { alternate, result, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly id: number;
}

const agent = defineAgent<In>({
  name: 'slow-blocks',
  actions: (action) => [
    action('a', InputEvent, function* (event, ctx) {
      const a = yield* ctx.executeAsync((x: number) => Promise.resolve(x), event.payload.id);
      const b = yield* ctx.executeAsync((x: number) => Promise.resolve(x + 1), a);
      ctx.sendEvent(OutputEvent.of(b));
    }),
  ],
});

function once(inputs: readonly In[], slowBlockAfter: number): Promise<number> {
  const inspector = createInspector();
  return lastValueFrom(
    from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, inspect: inspector.inspect, slowBlockAfter }), count()),
  );
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const n = quick ? 20_000 : 100_000;
  const out: BenchResult[] = [];
  for (const keys of [1000, 1]) {
    const inputs = Array.from({ length: n }, (_, id) => ({ key: id % keys, id }));
    const got = [await once(inputs, 30_000), await once(inputs, Infinity)];
    if (got[0] !== n || got[1] !== n) throw new Error(`slow-blocks: expected ${n} outputs, got ${got.join(' / ')}`);
    const t = await alternate(quick ? 5 : 7, {
      watched: () => once(inputs, 30_000),
      unwatched: () => once(inputs, Infinity),
    });
    out.push(
      result(
        'slow-blocks',
        { inputs: n, keys, blocksPerInput: 2, inspector: true },
        n / (t.watched / 1000),
        n / (t.unwatched / 1000),
        'inputs/s',
        'higher',
      ),
    );
  }
  return out;
}
