import { expect } from 'chai';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent } from '../../lib';
import { createTestScheduler, fakeAsyncFn, virtualDelay } from '../../lib/testing';

interface In {
  readonly id: number;
  readonly key: string;
}
const byKey = (x: In): string => x.key;
const MyEvent = defineEvent('my', z.object({ value: z.string() }));

/** The seed's `action1` (blocks of 5 and 10 frames in sequence) plus an independent action on the same InputEvent. */
function seedAgent() {
  return defineAgent({
    name: 'seed',
    input: z.object({ id: z.number(), key: z.string() }),
    actions: (action) => [
      action('action1', InputEvent, function* (event, ctx) {
        const func1 = yield* ctx.executeAsync((id: number) => virtualDelay(`f1(${id})`, 5), event.payload.id);
        ctx.shortTermMemory.set('func1_result', func1);
        const func2 = yield* ctx.executeAsync((id: number) => virtualDelay(`f2(${id})`, 10), event.payload.id);
        ctx.sendEvent(MyEvent.of({ value: func1 + func2 }));
      }),
      action('other', InputEvent, function* (event, ctx) {
        const r = yield* ctx.executeAsync(() => virtualDelay('other', 10));
        ctx.sendEvent(OutputEvent.of(`${r}(${event.payload.id})`));
      }),
      action('my_action', MyEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload.value))),
    ],
  });
}

/** Runs `make` in virtual time and returns `frame:value` for each notification (`frame:|` for completion). */
function timeline(
  ts: ReturnType<typeof createTestScheduler>,
  make: (cold: <T>(marbles: string, values?: Record<string, T>) => Observable<T>) => Observable<unknown>,
): string[] {
  const seen: string[] = [];
  ts.run(({ cold }) => {
    make(cold).subscribe({
      next: (v) => seen.push(`${ts.now()}:${String(v)}`),
      error: (e) => seen.push(`${ts.now()}:#${String(e)}`),
      complete: () => seen.push(`${ts.now()}:|`),
    });
  });
  return seen;
}

describe('agentOperator semantics in virtual time (marble tests)', () => {
  it('S3/S11 seed action1: blocks of 5 and 10 frames give the output at frame 15; a second action overlaps it', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const inputs = cold<In>('a|', { a: { id: 1, key: 'k' } });
      const out = inputs.pipe(agentOperator(seedAgent(), { key: byKey, scheduler: ts }));
      expectObservable(out).toBe('10ms o 4ms (a|)', { o: 'other(1)', a: 'f1(1)f2(1)' });
    });
  });

  it('S1 per-key FIFO: the second input of a key waits for the first run to end', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const inputs = cold<In>('ab|', { a: { id: 1, key: 'k' }, b: { id: 2, key: 'k' } });
      const out = inputs.pipe(agentOperator(seedAgent(), { key: byKey, scheduler: ts }));
      // run 1: frames 0–15; run 2 starts at 15: its outputs at 25 and 30.
      expectObservable(out).toBe('10ms o 4ms a 9ms p 4ms (b|)', {
        o: 'other(1)',
        a: 'f1(1)f2(1)',
        p: 'other(2)',
        b: 'f1(2)f2(2)',
      });
    });
  });

  it('S2 no head-of-line blocking: a slow key does not delay another key', () => {
    const ts = createTestScheduler();
    const slow = fakeAsyncFn((key: string) => ({ value: key, frames: key === 'slow' ? 100 : 3 }));
    const agent = defineAgent({
      name: 'hol',
      actions: (action) => [
        action('work', InputEvent, function* (event, ctx) {
          const r = yield* ctx.executeAsync(slow, String((event.payload as In).key));
          ctx.sendEvent(OutputEvent.of(r));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const inputs = cold<In>('ab-c|', { a: { id: 1, key: 'slow' }, b: { id: 2, key: 'x' }, c: { id: 3, key: 'y' } });
      const out = inputs.pipe(agentOperator(agent, { key: byKey, scheduler: ts }));
      expectObservable(out).toBe('----x-y 93ms (s|)', { x: 'x', y: 'y', s: 'slow' });
    });
    expect(slow.calls.map((c) => c.args[0])).to.deep.equal(['slow', 'x', 'y']);
  });

  it('S7 run end: the next run of the key starts exactly when the event chain stops; sensory memory is cleared', () => {
    const ts = createTestScheduler();
    const Step = defineEvent('step', z.object({ n: z.number() }));
    const agent = defineAgent({
      name: 'chain',
      actions: (action) => [
        action('start', InputEvent, function* (event, ctx) {
          ctx.sendEvent(OutputEvent.of(`seen:${String(ctx.sensoryMemory.get('seen') ?? 'none')}`));
          ctx.sensoryMemory.set('seen', (event.payload as In).id);
          ctx.sendEvent(Step.of({ n: 0 }));
        }),
        action('step', Step, function* (event, ctx) {
          yield* ctx.executeAsync(() => virtualDelay(null, 2));
          if (event.payload.n < 2) ctx.sendEvent(Step.of({ n: event.payload.n + 1 }));
          else ctx.sendEvent(OutputEvent.of(`done@${ctx.now()}`));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const inputs = cold<In>('ab|', { a: { id: 1, key: 'k' }, b: { id: 2, key: 'k' } });
      const out = inputs.pipe(agentOperator(agent, { key: byKey, scheduler: ts }));
      // run 1: steps at 2, 4, 6 → done@6; run 2 starts at 6.
      expectObservable(out).toBe('a 5ms (bc) 2ms (d|)', { a: 'seen:none', b: 'done@6', c: 'seen:none', d: 'done@12' });
    });
  });

  it('S8 outputs: in send order within a run; every output of run n before any of run n+1 (same key)', () => {
    const ts = createTestScheduler();
    const agent = defineAgent({
      name: 'order',
      actions: (action) => [
        action('fast', InputEvent, function* (event, ctx) {
          const id = (event.payload as In).id;
          ctx.sendEvent(OutputEvent.of(`${id}.1`));
          yield* ctx.executeAsync(() => virtualDelay(null, 1));
          ctx.sendEvent(OutputEvent.of(`${id}.3`));
        }),
        action('slow', InputEvent, function* (event, ctx) {
          const id = (event.payload as In).id;
          ctx.sendEvent(OutputEvent.of(`${id}.2`));
          yield* ctx.executeAsync(() => virtualDelay(null, 4));
          ctx.sendEvent(OutputEvent.of(`${id}.4`));
        }),
      ],
    });
    const seen = timeline(ts, (cold) =>
      cold<In>('ab|', { a: { id: 1, key: 'k' }, b: { id: 2, key: 'k' } }).pipe(
        agentOperator(agent, { key: byKey, scheduler: ts }),
      ),
    );
    // run 1: frames 0–4; run 2 starts at 4 (it arrived at 1 and waited).
    expect(seen).to.deep.equal(['0:1.1', '0:1.2', '1:1.3', '4:1.4', '4:2.1', '4:2.2', '5:2.3', '8:2.4', '8:|']);
  });

  it('S12 parallel calls in one action: ctx.all waits for the slowest, not the sum', () => {
    const ts = createTestScheduler();
    const agent = defineAgent({
      name: 'all',
      actions: (action) => [
        action('both', InputEvent, function* (_event, ctx) {
          const a = ctx.executeAsync(() => virtualDelay('A', 5));
          const b = ctx.executeAsync(() => virtualDelay(2, 10));
          const [x, y] = yield* ctx.all([a, b] as const);
          ctx.sendEvent(OutputEvent.of(`${x}${y + 1}@${ctx.now()}`));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const out = cold<In>('a|', { a: { id: 1, key: 'k' } }).pipe(agentOperator(agent, { key: byKey, scheduler: ts }));
      expectObservable(out).toBe('10ms (a|)', { a: 'A3@10' });
    });
  });

  it('S11 determinism: the same marble gives the same outputs on every run, with the default scheduler too', () => {
    const results: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const ts = createTestScheduler();
      ts.run(({ cold, expectObservable }) => {
        const inputs = cold<In>('abcd|', {
          a: { id: 1, key: 'k' },
          b: { id: 2, key: 'j' },
          c: { id: 3, key: 'k' },
          d: { id: 4, key: 'j' },
        });
        const out = inputs.pipe(agentOperator(seedAgent(), { key: byKey }));
        const seen: string[] = [];
        out.subscribe((v) => seen.push(`${ts.now()}:${String(v)}`));
        results.push(seen);
        // key k: runs at 0–15 and 15–30; key j: 1–16 and 16–31.
        expectObservable(out).toBe('10ms ab 3ms cd 8ms ef 3ms g (h|)', {
          a: 'other(1)',
          b: 'other(2)',
          c: 'f1(1)f2(1)',
          d: 'f1(2)f2(2)',
          e: 'other(3)',
          f: 'other(4)',
          g: 'f1(3)f2(3)',
          h: 'f1(4)f2(4)',
        });
      });
    }
    expect(results[1]).to.deep.equal(results[0]);
    expect(results[2]).to.deep.equal(results[0]);
  });

  it('S4 sendEvent never re-enters: events are routed after the sending block ends', () => {
    const ts = createTestScheduler();
    const Ping = defineEvent('ping', z.number());
    const log: string[] = [];
    const agent = defineAgent({
      name: 'reentry',
      actions: (action) => [
        action('start', InputEvent, (_event, ctx) => {
          log.push('start:begin');
          ctx.sendEvent(Ping.of(1));
          ctx.sendEvent(Ping.of(2));
          log.push('start:end');
        }),
        action('ping', Ping, (event, ctx) => {
          log.push(`ping:${event.payload}`);
          ctx.sendEvent(OutputEvent.of(event.payload));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const out = cold<In>('(a|)', { a: { id: 1, key: 'k' } }).pipe(
        agentOperator(agent, { key: byKey, scheduler: ts }),
      );
      expectObservable(out).toBe('(ab|)', { a: 1, b: 2 });
    });
    expect(log).to.deep.equal(['start:begin', 'start:end', 'ping:1', 'ping:2']);
  });
});
