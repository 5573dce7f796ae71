import { expect } from 'chai';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { createTestScheduler, fakeAsyncFn, recordLifecycle, virtualDelay, virtualFailure } from '../../lib/testing';

describe('rx-agents/testing', () => {
  it("the README's example: the seed action1 shape, with a fake async function, in virtual time", () => {
    const ts = createTestScheduler();
    const llm = fakeAsyncFn((prompt: string) => ({ value: `echo ${prompt}`, frames: 10 }));
    const agent = defineAgent({
      name: 't',
      actions: (action) => [
        action('a', InputEvent, function* (event, ctx) {
          const first = yield* ctx.executeAsync(() => virtualDelay('f1', 5));
          const second = yield* ctx.executeAsync(llm, String(event.payload));
          ctx.sendEvent(OutputEvent.of(first + second));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const out = cold('a|').pipe(agentOperator(agent, { scheduler: ts }));
      expectObservable(out).toBe('15ms (x|)', { x: 'f1echo a' });
    });
    expect(llm.calls).to.deep.equal([{ args: ['a'] }]);
  });

  it('fakeAsyncFn failures and recordLifecycle', () => {
    const ts = createTestScheduler();
    const flaky = fakeAsyncFn((n: number) =>
      n > 1 ? { error: new Error(`no ${n}`), frames: 2 } : { value: n, frames: 1 },
    );
    const recorder = recordLifecycle();
    const agent = defineAgent({
      name: 'f',
      actions: (action) => [
        action('a', InputEvent, function* (event, ctx) {
          try {
            ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(flaky, event.payload as number)));
          } catch (error) {
            ctx.sendEvent(OutputEvent.of((error as Error).message));
          }
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const out = cold('ab|', { a: 1, b: 2 }).pipe(
        agentOperator(agent, { scheduler: ts, key: (x: number) => x, inspect: recorder.inspect }),
      );
      expectObservable(out).toBe('-a-(b|)', { a: 1, b: 'no 2' });
    });
    const kinds = recorder.events.filter((e) => e.run === 0).map((e) => e.type);
    expect(kinds).to.deep.equal([
      'input.accepted',
      'run.started',
      'event.routed',
      'action.started',
      'async.queued',
      'async.started',
      'action.suspended',
      'async.completed',
      'action.resumed',
      'event.sent',
      'action.finished',
      'output.emitted',
      'run.ended',
    ]);
    expect(virtualFailure).to.be.a('function');
  });
});
