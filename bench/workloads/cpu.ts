/**
 * cpu, two parts.
 *
 * 1. blocks: async blocks doing ~20 ms of CPU work (a calibrated loop), one per input, each input
 *    its own key. Ours: the blocks run on the worker pool (`pool.fn`, one thread per core);
 *    reference: the same blocks in-process (they then run on the main thread, one at a time).
 *    Unit: makespan ms (lower is better; ratio = ours / reference; speedup = 1 / ratio, target ≥ 1.8).
 * 2. noop: the round trip of a no-op worker task, awaited one at a time. Ours: `pool.fn` through
 *    `withSignal()`; reference: a bare `worker_threads` postMessage ping-pong (the floor). Unit: µs
 *    (lower is better; target ≤ 100 µs).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { createWorkerPool } from '../../lib/workers';
import { alternate, now, result, type BenchResult } from '../harness';

/** CPU work: `iterations` rounds of an LCG. Self-contained, so it can run on a worker. */
function burn(iterations: number): number {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

/** Iterations that take ~`ms` on this thread. */
function calibrate(ms: number): number {
  for (let i = 0; i < 5; i++) burn(1_000_000); // let the JIT optimise it first, as it will be on the workers
  let iterations = 100_000;
  for (;;) {
    const t0 = now();
    burn(iterations);
    const took = now() - t0;
    if (took > 50) return Math.round((iterations * ms) / took);
    iterations *= 2;
  }
}

function agentFor(block: (iterations: number) => unknown) {
  return defineAgent<{ readonly id: number; readonly iterations: number }>({
    name: 'cpu',
    actions: (action) => [
      action('burn', InputEvent, function* (event, ctx) {
        ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(block, event.payload.iterations)));
      }),
    ],
  });
}

async function blocks(quick: boolean): Promise<BenchResult> {
  const threads = availableParallelism();
  const pool = createWorkerPool({ threads });
  try {
    await pool.warmUp();
    const iterations = calibrate(20);
    const n = quick ? 40 : 100;
    const inputs = Array.from({ length: n }, (_, id) => ({ id, iterations }));
    const onWorkers = agentFor(pool.fn(burn));
    const inProcess = agentFor(burn);
    const go = (agent: ReturnType<typeof agentFor>): Promise<number> =>
      lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.id }), count()));
    const t = await alternate(quick ? 2 : 3, { workers: () => go(onWorkers), inProcess: () => go(inProcess) });
    return result(
      'cpu',
      { part: 'blocks', blocks: n, blockMs: 20, threads, cores: availableParallelism() },
      t.workers,
      t.inProcess,
      'ms',
      'lower',
      {
        reference: 'same blocks in-process (main thread)',
        speedup: Math.round((t.inProcess / t.workers) * 100) / 100,
      },
    );
  } finally {
    await pool.close();
  }
}

async function noop(quick: boolean): Promise<BenchResult> {
  const n = quick ? 5_000 : 20_000;
  const pool = createWorkerPool({ threads: 1 });
  const raw = new Worker(
    `require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`,
    { eval: true },
  );
  try {
    await pool.warmUp();
    const task = pool.fn((x: number) => x).withSignal();
    const ping = (x: number): Promise<unknown> => new Promise((resolve) => raw.once('message', resolve).postMessage(x));
    const t = await alternate(quick ? 3 : 5, {
      pool: async () => {
        for (let i = 0; i < n; i++) await task(i);
      },
      raw: async () => {
        for (let i = 0; i < n; i++) await ping(i);
      },
    });
    return result(
      'cpu',
      { part: 'noop-round-trip', tasks: n },
      (t.pool * 1000) / n,
      (t.raw * 1000) / n,
      'µs',
      'lower',
      {
        reference: 'bare worker_threads postMessage ping-pong',
      },
    );
  } finally {
    await pool.close();
    await raw.terminate();
  }
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  return [await blocks(quick), await noop(quick)];
}
