import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  ActionError,
  AsyncBlockAccessError,
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type RunFailure,
} from '../../lib';
import { createTestScheduler, virtualDelay, virtualFailure } from '../../lib/testing';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('S5 async blocks are isolated', () => {
  const cases: Array<[string, (ctx: import('../../lib').RunnerContext) => unknown]> = [
    ['sendEvent', (ctx) => ctx.sendEvent(OutputEvent.of(1))],
    ['shortTermMemory', (ctx) => ctx.shortTermMemory.set('x', 1)],
    ['sensoryMemory', (ctx) => ctx.sensoryMemory.get('x')],
    ['resource', (ctx) => ctx.resource('db')],
    ['executeAsync', (ctx) => ctx.executeAsync(() => 1)],
  ];

  for (const [member, touch] of cases) {
    for (const style of ['generator', 'async'] as const) {
      it(`${style} action: touching ctx.${member} inside a block throws AsyncBlockAccessError naming the action`, async () => {
        const gen = function* (_e: unknown, ctx: import('../../lib').RunnerContext) {
          const r = yield* ctx.executeAsync(() => touch(ctx));
          ctx.sendEvent(OutputEvent.of(r));
        };
        const asy = async (_e: unknown, ctx: import('../../lib').RunnerContext) => {
          const r = await ctx.executeAsync(() => touch(ctx));
          ctx.sendEvent(OutputEvent.of(r));
        };
        const agent = defineAgent({
          name: 'iso',
          resources: { db: 'the-db' },
          actions: (action) => [action('leaky', InputEvent, style === 'generator' ? gen : asy)],
        });
        const error = (await lastValueFrom(of(1).pipe(agentOperator(agent))).catch((e: unknown) => e)) as ActionError;
        expect(error).to.be.instanceOf(ActionError);
        expect(error.cause).to.be.instanceOf(AsyncBlockAccessError);
        expect((error.cause as Error).message).to.equal(
          `\`ctx.${member}\` was used outside a sync block of action \`leaky\` (for example inside an executeAsync block). ` +
            'Async blocks may not touch memory, sendEvent or resources: return a value from the block and use it in the action after it resumes.',
        );
      });
    }
  }

  it('after an await inside a block (async action), a captured memory reference still throws; memory is untouched', async () => {
    const seen: unknown[] = [];
    const agent = defineAgent({
      name: 'late',
      actions: (action) => [
        action('a', InputEvent, async (_e, ctx) => {
          const memory = ctx.shortTermMemory;
          memory.set('before', 1);
          try {
            await ctx.executeAsync(async () => {
              await sleep(1);
              memory.set('inside', 2);
            });
          } catch (error) {
            seen.push((error as Error).name);
          }
          seen.push(memory.toJSON());
        }),
      ],
    });
    await lastValueFrom(of(1).pipe(agentOperator(agent)), { defaultValue: null });
    expect(seen).to.deep.equal(['AsyncBlockAccessError', { before: 1 }]);
  });

  it('ctx.signal is readable inside blocks', async () => {
    const agent = defineAgent({
      name: 'signal',
      actions: (action) => [
        action('a', InputEvent, function* (_e, ctx) {
          const aborted = yield* ctx.executeAsync(() => ctx.signal.aborted);
          ctx.sendEvent(OutputEvent.of(aborted));
        }),
      ],
    });
    expect(await lastValueFrom(of(1).pipe(agentOperator(agent)))).to.equal(false);
  });
});

describe('S9 error policies', () => {
  const Step = defineEvent('step', z.object({ key: z.string() }));
  /** Key "bad" fails after 3 frames; others output after 5 frames. */
  const agent = defineAgent({
    name: 'policy',
    actions: (action) => [
      action('start', InputEvent, function* (event, ctx) {
        const key = String(event.payload);
        ctx.shortTermMemory.set('runs', (ctx.shortTermMemory.get<number>('runs') ?? 0) + 1);
        ctx.sendEvent(Step.of({ key }));
      }),
      action('work', Step, function* (event, ctx) {
        const key = event.payload.key;
        const r = yield* ctx.executeAsync(() =>
          key === 'bad' ? virtualFailure(new Error('model timeout'), 3) : virtualDelay(key, 5),
        );
        ctx.sendEvent(OutputEvent.of(`${r}:${String(ctx.shortTermMemory.get('runs'))}`));
      }),
    ],
  });

  it("fail (default): the output errors with ActionError once a run fails; other keys' in-flight runs are aborted", () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('abc|', { a: 'x', b: 'bad', c: 'y' }).pipe(
        agentOperator(agent, { key: (k) => k, scheduler: ts }),
      );
      const error = new ActionError('work', 'bad', 1, new Error('model timeout'));
      expectObservable(out).toBe('----#', undefined, error);
    });
  });

  it('isolate: the failed run is reported and aborted; other keys and the next runs of the same key go on', () => {
    const ts = createTestScheduler();
    const failures: RunFailure[] = [];
    ts.run(({ cold, expectObservable }) => {
      const out = cold('ab-bc|', { a: 'x', b: 'bad', c: 'y' }).pipe(
        agentOperator(agent, {
          key: (k) => k,
          scheduler: ts,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
        }),
      );
      expectObservable(out).toBe('-----a---(c|)', { a: 'x:1', c: 'y:1' });
    });
    expect(failures.map((f) => [f.key, f.run, f.input, f.error.message])).to.deep.equal([
      ['bad', 1, 'bad', 'Action `work` failed in run 1 of key `bad`: Error: model timeout'],
      ['bad', 2, 'bad', 'Action `work` failed in run 2 of key `bad`: Error: model timeout'],
    ]);
  });

  it('isolate: one key failing leaves the memory of other keys intact', async () => {
    const outputs = await lastValueFrom(
      of('x', 'bad', 'x', 'bad', 'x').pipe(agentOperator(agent, { key: (k) => k, errorPolicy: 'isolate' }), toArray()),
    ).catch((e: unknown) => e);
    // virtualDelay uses the async scheduler outside TestScheduler: real (tiny) delays.
    expect(outputs).to.deep.equal(['x:1', 'x:2', 'x:3']);
  });

  it('isolate: an invalid input (agent input schema) fails its run only, with the zod issues', async () => {
    const typed = defineAgent({
      name: 'typed',
      input: z.object({ n: z.number().int() }),
      actions: (action) => [action('double', InputEvent, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload.n * 2)))],
    });
    const failures: RunFailure[] = [];
    const out = await lastValueFrom(
      of({ n: 1 }, { n: 'two' as unknown as number }, { n: 3 }).pipe(
        agentOperator(typed, { errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f) }),
        toArray(),
      ),
    );
    expect(out).to.deep.equal([2, 6]);
    expect(failures).to.have.length(1);
    expect(failures[0]?.error.message).to.equal(
      "Invalid payload for event `rx-agents/input` for the input of run 1 (agent `typed`'s input schema): n: Invalid input: expected number, received string. Fix the input or the `input` schema given to defineAgent.",
    );
  });

  it('isolate: 50k invalid inputs queued on one key fail one by one without deep recursion', async function () {
    this.timeout(60_000);
    const typed = defineAgent({
      name: 'strict',
      input: z.number(),
      actions: (action) => [action('id', InputEvent, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload)))],
    });
    let failed = 0;
    const values = Array.from({ length: 50_000 }, (_, i) => (i === 49_999 ? 7 : ('x' as unknown as number)));
    const out = await lastValueFrom(
      of(...values).pipe(agentOperator(typed, { errorPolicy: 'isolate', onRunFailed: () => void failed++ }), toArray()),
    );
    expect([out, failed]).to.deep.equal([[7], 49_999]);
  });
});
