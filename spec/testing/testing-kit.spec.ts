import { expect } from 'chai';
import { AssertionError } from 'node:assert';
import { asapScheduler, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ActionError, agentOperator, defineAgent, InputEvent, OutputEvent, VirtualTimeError } from '../../lib';
import {
  createTestScheduler,
  fakeAsyncFn,
  matchError,
  recordLifecycle,
  virtualDelay,
  virtualFailure,
} from '../../lib/testing';

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

  describe('fakeAsyncFn keeps an AbortSignal given last apart from the arguments', () => {
    it('records { args } as written, and the signal as a non-enumerable `signal`', () => {
      const ts = createTestScheduler();
      const llm = fakeAsyncFn((prompt: string, signal?: AbortSignal) => ({
        value: `${prompt}:${signal === undefined ? 'no signal' : 'signal'}`,
        frames: 2,
      }));
      const agent = defineAgent({
        name: 'sig',
        actions: (action) => [
          action('a', InputEvent, function* (event, ctx) {
            const withSignal = yield* ctx.executeAsync(llm, String(event.payload), ctx.signal);
            const without = yield* ctx.executeAsync(llm, 'plain');
            ctx.sendEvent(OutputEvent.of(`${withSignal} ${without}`));
          }),
        ],
      });
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|').pipe(agentOperator(agent, { scheduler: ts }))).toBe('4ms (x|)', {
          x: 'a:signal plain:no signal',
        });
      });
      expect(llm.calls).to.deep.equal([{ args: ['a'] }, { args: ['plain'] }]);
      expect(llm.calls[0]?.signal).to.be.instanceOf(AbortSignal);
      expect(llm.calls[1]?.signal).to.equal(undefined);
      const args: [string] | [] = llm.calls[0]!.args; // typed without the signal
      expect(args).to.deep.equal(['a']);
    });
  });

  describe('matchError: an error in a marble, matched by name / code / fields / cause', () => {
    const failing = defineAgent({
      name: 'm',
      actions: (action) => [
        action('a', InputEvent, function* (_event, ctx) {
          yield* ctx.executeAsync(() => virtualFailure(new RangeError('boom'), 3));
        }),
      ],
    });

    it('passes when the given fields match (ActionError with its cause, no catchError mapping)', () => {
      const ts = createTestScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|').pipe(agentOperator(failing, { scheduler: ts }))).toBe(
          '3ms #',
          undefined,
          matchError({
            name: 'ActionError',
            code: 'ERR_ACTION_FAILED',
            action: 'a',
            run: 0,
            message: /^Action `a` failed in run 0/,
            cause: { name: 'RangeError', message: 'boom' },
          }),
        );
      });
    });

    for (const [what, match, reason] of [
      ['another name', { name: 'CallbackError' }, 'error.name is "ActionError", expected "CallbackError"'],
      ['another cause', { cause: { message: 'bang' } }, 'error.cause.message is "boom", expected "bang"'],
      ['a message not matching', { message: /timeout/ }, 'does not match /timeout/'],
    ] as const) {
      it(`fails, saying why, on ${what}`, () => {
        const ts = createTestScheduler();
        let thrown: unknown;
        try {
          ts.run(({ cold, expectObservable }) => {
            expectObservable(cold('a|').pipe(agentOperator(failing, { scheduler: ts }))).toBe(
              '3ms #',
              undefined,
              matchError(match),
            );
          });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(AssertionError);
        expect((thrown as AssertionError).message).to.contain(reason);
      });
    }

    it('a plain Error is compared deeply as before (no matcher, no change)', () => {
      const ts = createTestScheduler();
      expect(() =>
        ts.run(({ expectObservable }) => {
          expectObservable(of(1)).toBe('(x|)', { x: 2 });
        }),
      ).to.throw(AssertionError);
      expect(matchError({ name: 'X' }).mismatch(new ActionError('a', 'k', 1, new Error('e')))).to.equal(
        'error.name is "ActionError", expected "X"',
      );
    });
  });

  describe('what virtual time cannot see is said, not shown as an empty marble (S11)', () => {
    it('an async action under a TestScheduler: VirtualTimeError naming the action and the fix', () => {
      const agent = defineAgent({
        name: 'triage',
        actions: (action) => [
          action('classify', InputEvent, async (event, ctx) => {
            ctx.sendEvent(OutputEvent.of(await ctx.executeAsync(() => virtualDelay(event.payload, 1))));
          }),
        ],
      });
      const ts = createTestScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|').pipe(agentOperator(agent, { scheduler: ts }))).toBe(
          '#',
          undefined,
          matchError({
            name: 'VirtualTimeError',
            code: 'ERR_VIRTUAL_TIME',
            agent: 'triage',
            action: 'classify',
            kind: 'async-action',
            message: /async action `classify`.*Write `classify` as a generator action/,
          }),
        );
      });
      // The default scheduler inside run() is virtual too.
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|').pipe(agentOperator(agent))).toBe(
          '#',
          undefined,
          matchError({ name: 'VirtualTimeError', kind: 'async-action' }),
        );
      });
    });

    it('a Promise-returning block under a TestScheduler: the call fails with VirtualTimeError', () => {
      const agent = defineAgent({
        name: 'p',
        actions: (action) => [
          action('fetch', InputEvent, function* (_event, ctx) {
            yield* ctx.executeAsync(() => Promise.reject(new Error('never read')));
          }),
        ],
      });
      const ts = createTestScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|').pipe(agentOperator(agent, { scheduler: ts }))).toBe(
          '#',
          undefined,
          matchError({
            name: 'ActionError',
            action: 'fetch',
            cause: matchError({
              name: 'VirtualTimeError',
              kind: 'promise-block',
              message: /returned a Promise under a TestScheduler.*Return an Observable instead/,
            }),
          }),
        );
      });
    });

    it('in real time the same agents run as before', async () => {
      const agent = defineAgent({
        name: 'real',
        actions: (action) => [
          action('a', InputEvent, async (event, ctx) => {
            ctx.sendEvent(OutputEvent.of(await ctx.executeAsync(() => Promise.resolve(`${String(event.payload)}!`))));
          }),
        ],
      });
      const { lastValueFrom } = await import('rxjs');
      expect(await lastValueFrom(of('x').pipe(agentOperator(agent, { scheduler: asapScheduler })))).to.equal('x!');
      expect(new VirtualTimeError('a', 'b', 'promise-block').code).to.equal('ERR_VIRTUAL_TIME');
      expect(TestScheduler).to.be.a('function');
    });
  });
});
