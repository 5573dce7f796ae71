/**
 * waits (S14): many runs parked on `waitForEvent` at once, then resumed by signals.
 *
 * Line 1 (`parked heap`): N runs (N distinct keys) each park on `ctx.waitForEvent(Approval)`;
 * heap growth after a full GC, per parked run, in bytes (lower is better; target ≤ 2048). The
 * reference is the same N inputs through an agent whose run ends at once (what a finished run
 * leaves behind: nothing, so the ratio is against a 2 KB budget line instead — see `extra`).
 *
 * Line 2 (`resume`): the N signals are pushed through the `signals` Subject in one burst; time
 * until the N outputs are out, as signals/s (higher is better). Reference: the routing figure of
 * the same run — N inputs through a one-action agent that emits at once (inputs/s) — so the ratio
 * says what a resume costs against starting and ending a run.
 */
import { from, lastValueFrom, Subject } from 'rxjs';
import { count } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent, signal, type Signal } from '../../lib';
import { canGc, heapMB, now, result, type BenchResult } from '../harness';

const Approval = defineEvent('approval', z.object({ ok: z.boolean() }));

const parked = defineAgent<number>({
  name: 'parked',
  signals: [Approval],
  actions: (action) => [
    action('ask', InputEvent, function* (event, ctx) {
      const answer = yield* ctx.waitForEvent(Approval);
      ctx.sendEvent(OutputEvent.of(answer.payload.ok ? event.payload : -1));
    }),
  ],
});

const direct = defineAgent<number>({
  name: 'direct',
  actions: (action) => [action('ask', InputEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload)))],
});

const approve = Approval.of({ ok: true });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function parkAndResume(n: number): Promise<{ bytesPerRun: number; resumeMs: number; outputs: number }> {
  const inputs = new Subject<number>();
  const signals = new Subject<Signal>();
  const sigs = Array.from({ length: n }, (_, i) => signal(i, approve));
  let outputs = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const base = heapMB();
  const sub = inputs.pipe(agentOperator(parked, { key: (x) => x, signals, maxBufferedInputs: 0 })).subscribe({
    next: () => {
      if (++outputs === n) resolveDone();
    },
  });
  for (let i = 0; i < n; i++) inputs.next(i);
  await tick();
  await tick();
  const bytesPerRun = ((heapMB() - base) * 1048576) / n;
  const t0 = now();
  for (const s of sigs) signals.next(s);
  await done;
  const resumeMs = now() - t0;
  sub.unsubscribe();
  return { bytesPerRun, resumeMs, outputs };
}

async function routing(n: number): Promise<number> {
  const inputs = Array.from({ length: n }, (_, i) => i);
  const t0 = now();
  const got = await lastValueFrom(from(inputs).pipe(agentOperator(direct, { key: (x) => x }), count()));
  if (got !== n) throw new Error(`waits: routing expected ${n} outputs, got ${got}`);
  return now() - t0;
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  if (!canGc) throw new Error('waits: run node with --expose-gc (npm run bench does)');
  const n = quick ? 20_000 : 100_000;
  await parkAndResume(2_000); // warm-up
  await routing(2_000);
  const rounds = quick ? 2 : 3;
  const heap: number[] = [];
  const resume: number[] = [];
  const route: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = await parkAndResume(n);
    if (p.outputs !== n) throw new Error(`waits: expected ${n} outputs, got ${p.outputs}`);
    heap.push(p.bytesPerRun);
    resume.push(p.resumeMs);
    route.push(await routing(n));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const perSecond = (ms: number): number => (n / ms) * 1000;
  return [
    result('waits', { mode: 'parked heap', parkedRuns: n }, median(heap), 2048, 'B/run', 'lower', {
      target: '≤ 2048 B per parked run',
      within: median(heap) <= 2048,
    }),
    result(
      'waits',
      { mode: 'resume', signals: n },
      perSecond(median(resume)),
      perSecond(median(route)),
      'signals/s',
      'higher',
      {
        reference: 'routing: inputs/s of a one-action agent that emits at once, same run',
      },
    ),
  ];
}
