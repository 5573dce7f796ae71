/**
 * memory, two parts. Unit: MB (lower is better; ratio = ours / reference).
 *
 * 1. distinct-keys: 1M inputs with 1M distinct keys; each run writes sensory memory and awaits one
 *    async block, so up to all 1M runs are live at once. Reported: heap after the stream ends and a
 *    full GC, minus the heap before (the inputs array is allocated before the baseline). The
 *    reference is the budget from the issue (50 MB); the peak heap is in `extra`.
 * 2. fast-source: a source ~10× faster than the agent (100 keys, 10 ms per run) with inputs that
 *    carry 256 bytes each. Reported: heap growth from the first to the last quarter of the run
 *    (sampled after forced GCs) with `maxBufferedInputs: 1000, overflow: 'drop-oldest'` (ours)
 *    against the same run with no bound (reference), which keeps every input it cannot serve yet.
 */
import { from, interval, lastValueFrom } from 'rxjs';
import { count, map, mergeMap } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { canGc, gc, heapMB, result, sleep, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly data: string;
}

/** Peak heap seen by the agent itself (the whole stream runs in microtasks, so a timer-based sampler would never fire). */
let peakHeap = 0;

const distinct = defineAgent<In>({
  name: 'distinct-keys',
  actions: (action) => [
    action('remember', InputEvent, function* (event, ctx) {
      ctx.sensoryMemory.set('seen', event.payload.key);
      if (event.payload.key % 10_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed / 1048576);
      const v = yield* ctx.executeAsync((k: number) => Promise.resolve(k), event.payload.key);
      ctx.sendEvent(OutputEvent.of(v));
    }),
  ],
});

async function distinctKeys(n: number): Promise<BenchResult> {
  const inputs: In[] = Array.from({ length: n }, (_, key) => ({ key, data: '' }));
  const before = heapMB();
  peakHeap = before;
  const outputs = await lastValueFrom(
    from(inputs).pipe(agentOperator(distinct, { key: (x) => x.key, validateEvents: false }), count()),
  );
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed / 1048576);
  if (outputs !== n) throw new Error(`memory: expected ${n} outputs, got ${outputs}`);
  const growth = heapMB() - before; // the inputs array is still alive here, as it was for the baseline
  inputs.length = 0;
  return result('memory', { part: 'distinct-keys', inputs: n, keys: n }, growth, 50, 'MB', 'lower', {
    reference: 'budget (issue target: < 50 MB)',
    peakHeapGrowthMB: Math.round(peakHeap - before),
  });
}

const slowAgent = defineAgent<In>({
  name: 'fast-source',
  actions: (action) => [
    action('slow', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(sleep, 10);
      ctx.sendEvent(OutputEvent.of(event.payload.data.length));
    }),
  ],
});

/** Heap growth (MB) between the first and the last quarter of a fast-source run, and what it dropped / served. */
async function fastSource(
  ms: number,
  bounded: boolean,
): Promise<{ growth: number; dropped: number; emitted: number; served: number }> {
  // The agent serves 100 keys × 100 runs/s = 10k inputs/s; the source emits 100 inputs per ~1 ms timer tick (≈ 10× that).
  const perTick = 100;
  let dropped = 0;
  let emitted = 0;
  let served = 0;
  const samples: number[] = [];
  const source = interval(1).pipe(
    mergeMap((t) =>
      from(
        Array.from({ length: perTick }, (_, i) => ({
          key: (t * perTick + i) % 100,
          data: `${t}:${i}:`.padEnd(256, 'x'),
        })),
      ),
    ),
    map((x) => (emitted++, x)),
  );
  const subscription = source
    .pipe(
      agentOperator(slowAgent, {
        key: (x) => x.key,
        concurrency: Infinity,
        ...(bounded
          ? { maxBufferedInputs: 1000, overflow: 'drop-oldest' as const, onDropped: () => void dropped++ }
          : {}),
      }),
    )
    .subscribe(() => served++);
  const every = Math.max(50, ms / 20);
  for (let t = 0; t < ms; t += every) {
    await sleep(every);
    samples.push(heapMB());
  }
  subscription.unsubscribe();
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { growth: avg(samples.slice(-q)) - avg(samples.slice(0, q)), dropped, emitted, served };
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  if (!canGc) throw new Error('memory: run node with --expose-gc (npm run bench does)');
  const out = [await distinctKeys(quick ? 100_000 : 1_000_000)];
  gc();
  const ms = quick ? 1000 : 3000;
  const bounded = await fastSource(ms, true);
  const unbounded = await fastSource(ms, false);
  out.push(
    result(
      'memory',
      { part: 'fast-source', durationMs: ms, keys: 100, runMs: 10, payloadBytes: 256 },
      bounded.growth,
      unbounded.growth,
      'MB',
      'lower',
      {
        reference: 'same run without maxBufferedInputs',
        bound: 'maxBufferedInputs: 1000, overflow: drop-oldest',
        emitted: bounded.emitted,
        served: bounded.served,
        droppedWithBound: bounded.dropped,
        unboundedEmitted: unbounded.emitted,
        unboundedServed: unbounded.served,
        sourceToAgentRate: Math.round((bounded.emitted / Math.max(1, bounded.served)) * 10) / 10,
      },
    ),
  );
  return out;
}
