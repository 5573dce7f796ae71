/**
 * head-of-line: 1k keys with 5 inputs each whose async block takes 5 ms, plus (or not) one key
 * whose block takes 1 s. Reports the p50/p99 run latency (input emitted → its output arrives) of
 * the *other* keys with the slow key present (ours) against the same run without it (reference).
 * Unit: ms (lower is better; ratio = ours / reference, target ≤ 1.1). Default executor (64 slots).
 */
import { Subject, lastValueFrom } from 'rxjs';
import { count, tap } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { now, percentile, result, sleep, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly id: number;
  readonly ms: number;
}

const agent = defineAgent<In>({
  name: 'head-of-line',
  actions: (action) => [
    action('work', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(sleep, event.payload.ms);
      ctx.sendEvent(OutputEvent.of(event.payload.id));
    }),
  ],
});

/** Returns the latencies (ms) of the fast keys' runs. */
async function latencies(keys: number, perKey: number, slow: boolean): Promise<number[]> {
  const inputs: In[] = [];
  if (slow) inputs.push({ key: -1, id: -1, ms: 1000 });
  for (let r = 0; r < perKey; r++) for (let k = 0; k < keys; k++) inputs.push({ key: k, id: inputs.length, ms: 5 });
  const sentAt = new Float64Array(inputs.length);
  const took: number[] = [];
  const source = new Subject<In>();
  const done = lastValueFrom(
    source.pipe(
      agentOperator(agent, { key: (x) => x.key }),
      tap((id) => {
        if ((id as number) >= 0) took.push(now() - (sentAt[id as number] as number));
      }),
      count(),
    ),
  );
  for (const input of inputs) {
    if (input.id >= 0) sentAt[input.id] = now();
    source.next(input);
  }
  source.complete();
  await done;
  return took.sort((a, b) => a - b);
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const keys = 1_000;
  const perKey = 5;
  const rounds = quick ? 1 : 3;
  const withSlow: number[][] = [];
  const without: number[][] = [];
  await latencies(keys, perKey, false); // warm-up
  for (let r = 0; r < rounds; r++) {
    withSlow.push(await latencies(keys, perKey, true));
    without.push(await latencies(keys, perKey, false));
  }
  const p = (runs: number[][], q: number): number =>
    percentile(
      runs.map((l) => percentile(l, q)).sort((a, b) => a - b),
      50,
    );
  const params = { keys, inputsPerKey: perKey, fastBlockMs: 5, slowBlockMs: 1000, concurrency: 64 };
  return [
    result('head-of-line', { ...params, stat: 'p50' }, p(withSlow, 50), p(without, 50), 'ms', 'lower', {
      reference: 'same run without the slow key',
    }),
    result('head-of-line', { ...params, stat: 'p99' }, p(withSlow, 99), p(without, 99), 'ms', 'lower', {
      reference: 'same run without the slow key',
    }),
  ];
}
