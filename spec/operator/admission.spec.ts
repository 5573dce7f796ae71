import { expect } from 'chai';
import { z } from 'zod';
import { BufferOverflowError, agentOperator, defineAgent, InputEvent, OutputEvent, type AgentOutput } from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

interface In {
  readonly key: string;
  readonly n: number;
}
const agent = defineAgent({
  name: 'slow',
  input: z.object({ key: z.string(), n: z.number() }),
  actions: (action) => [
    action('work', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(() => virtualDelay(null, 10));
      ctx.sendEvent(OutputEvent.of(`${event.payload.key}${event.payload.n}`));
    }),
  ],
});
const v = (key: string, n: number): In => ({ key, n });
const inputs = { a: v('k', 1), b: v('k', 2), c: v('k', 3), d: v('j', 1), e: v('k', 4) };

describe('S10 admission: maxBufferedInputs and overflow policies', () => {
  it('error (default policy): the output errors with BufferOverflowError when the bound is passed', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold<In>('abc|', inputs).pipe(
        agentOperator(agent, { key: (x) => x.key, scheduler: ts, maxBufferedInputs: 1 }),
      );
      expectObservable(out).toBe('--#', undefined, new BufferOverflowError(1));
    });
    expect(new BufferOverflowError(1).message).to.equal(
      'More than 1 inputs are waiting for their key\'s previous run (maxBufferedInputs = 1). Slow the source down, raise maxBufferedInputs, or choose overflow: "drop-newest" / "drop-oldest" with an onDropped callback.',
    );
  });

  it('drop-newest: the new input is dropped and reported; a key without waiting inputs is unaffected', () => {
    const ts = createTestScheduler();
    const dropped: string[] = [];
    ts.run(({ cold, expectObservable }) => {
      const out = cold<In>('abcd|', inputs).pipe(
        agentOperator(agent, {
          key: (x) => x.key,
          scheduler: ts,
          maxBufferedInputs: 1,
          overflow: 'drop-newest',
          onDropped: (x) => dropped.push(`${x.key}${x.n}`),
        }),
      );
      // k1 runs 0–10, k2 waits (runs 10–20), k3 dropped; j1 runs 3–13.
      expectObservable(out).toBe('10ms a 2ms d 6ms (b|)', { a: 'k1', d: 'j1', b: 'k2' });
    });
    expect(dropped).to.deep.equal(['k3']);
  });

  it('drop-oldest: the oldest waiting input of the key makes room', () => {
    const ts = createTestScheduler();
    const dropped: string[] = [];
    ts.run(({ cold, expectObservable }) => {
      const out = cold<In>('abc|', inputs).pipe(
        agentOperator(agent, {
          key: (x) => x.key,
          scheduler: ts,
          maxBufferedInputs: 1,
          overflow: 'drop-oldest',
          onDropped: (x) => dropped.push(`${x.key}${x.n}`),
        }),
      );
      expectObservable(out).toBe('10ms a 9ms (c|)', { a: 'k1', c: 'k3' });
    });
    expect(dropped).to.deep.equal(['k2']);
  });

  it('envelope output: { key, run, id, payload } with deterministic ids', () => {
    const ts = createTestScheduler();
    const seen: AgentOutput<unknown>[] = [];
    ts.run(({ cold }) => {
      cold<In>('ad|', inputs)
        .pipe(agentOperator(agent, { key: (x) => x.key, scheduler: ts, output: 'envelope' }))
        .subscribe((o) => seen.push(o));
    });
    expect(seen).to.deep.equal([
      { key: 'k', run: 0, id: '0>work:0', payload: 'k1' },
      { key: 'j', run: 1, id: '1>work:0', payload: 'j1' },
    ]);
  });
});
