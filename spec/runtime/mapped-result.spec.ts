import { expect } from 'chai';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type RunnerContext } from '../../lib';
import { virtualDelay, virtualFailure } from '../../lib/testing';
import { MappedResult, SKIP } from '../../lib/runtime/async-call';
import { oneActionTimeline } from '../fixtures/virtual-timeline';

/** Runs a one-action agent over one input in virtual time and returns `frame:value` notifications (errors with their name). */
const virtual = (body: (ctx: RunnerContext) => Generator<unknown, void, unknown>): string[] =>
  oneActionTimeline(body, { name: 'mapped', errorNames: true });

/** Runs a one-action async agent over one input on the real clock; resolves with its output. */
async function real(body: (ctx: RunnerContext) => Promise<unknown>): Promise<unknown> {
  const agent = defineAgent({
    name: 'mapped-real',
    actions: (action) => [
      action('act', InputEvent, async (_e, ctx) => {
        ctx.sendEvent(OutputEvent.of(await body(ctx)));
      }),
    ],
  });
  return lastValueFrom(of(0).pipe(agentOperator(agent)));
}

/** A MappedResult of functions (the agent layer subclasses it with what its mapping needs instead). */
class With<S> extends MappedResult<S> {
  constructor(
    source: PromiseLike<S> | Observable<S>,
    private readonly map: (value: S) => unknown,
    private readonly caught?: (error: unknown) => unknown,
  ) {
    super(source);
  }
  override onValue(value: S): unknown {
    return this.map(value);
  }
  override onError(error: unknown): unknown {
    return this.caught === undefined ? super.onError(error) : this.caught(error);
  }
}

const double = (v: number): number => v * 2;
const evenOnly = (v: number): number | typeof SKIP => (v % 2 === 0 ? v * 10 : SKIP);

// The agent layer's model and tool blocks return MappedResult in the runtime's context (lib/llm/chat.ts, define-tool.ts).
describe('MappedResult: a block result the call maps itself (internal to the agent layer)', () => {
  it('an Observable: each value mapped, SKIP dropped, the last kept value settles the call', () => {
    const seen = virtual(function* (ctx) {
      const s = yield* ctx.executeAsync(() => new With(of(1, 2, 3, 4, 5), evenOnly) as unknown as number);
      ctx.sendEvent(OutputEvent.of(s));
    });
    expect(seen).to.deep.equal(['0:40', '0:|']);
  });

  it('an Observable whose values are all skipped fails the call with EmptyAsyncResultError', () => {
    const seen = virtual(function* (ctx) {
      yield* ctx.executeAsync(() => new With(virtualDelay(1, 3), evenOnly));
    });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.match(/^3:# ActionError: .*EmptyAsyncResultError/);
  });

  it('a failure goes through onError when given (the call settles with its value), else fails the call', () => {
    expect(
      virtual(function* (ctx) {
        const r = yield* ctx.executeAsync(
          () => new With(virtualFailure(new Error('boom'), 2), double, (e) => `caught ${(e as Error).message}`),
        );
        ctx.sendEvent(OutputEvent.of(r));
      }),
    ).to.deep.equal(['2:"caught boom"', '2:|']);
    const seen = virtual(function* (ctx) {
      yield* ctx.executeAsync(
        () =>
          new With(
            throwError(() => new Error('boom')),
            double,
          ),
      );
    });
    expect(seen[0]).to.match(/^0:# ActionError: .*Error: boom/);
  });

  it('a throw in onValue fails the call (onError is not asked), and the source is unsubscribed', () => {
    let torn = false;
    const seen = virtual(function* (ctx) {
      yield* ctx.executeAsync(
        () =>
          new With(
            new Observable<number>((subscriber) => {
              subscriber.next(1); // never completes: only the call's failure ends the subscription
              return () => (torn = true);
            }),
            () => {
              throw new Error('bad map');
            },
            () => 'not asked',
          ),
      );
    });
    expect(seen[0]).to.match(/^0:# ActionError: .*bad map/);
    expect(torn).to.equal(true);
  });

  it('a Promise: mapped in one step, its rejection through onError, a throw in onValue fails the call', async () => {
    expect(await real(async (ctx) => ctx.executeAsync(() => new With(Promise.resolve(21), double)))).to.equal(42);
    expect(
      await real(async (ctx) =>
        ctx.executeAsync(() => new With(Promise.reject(new Error('no')), double, (e) => (e as Error).message)),
      ),
    ).to.equal('no');
    expect(
      await real(async (ctx) => {
        try {
          return await ctx.executeAsync(
            () =>
              new With(Promise.resolve(1), () => {
                throw new Error('bad map');
              }),
          );
        } catch (error) {
          return `failed: ${(error as Error).message}`;
        }
      }),
    ).to.equal('failed: bad map');
  });

  it('a Promise that settles after its call timed out changes nothing (the outcome stays the timeout)', async () => {
    let resolve: (v: number) => void = () => undefined;
    const late = new Promise<number>((r) => (resolve = r));
    const out = await real(async (ctx) => {
      try {
        return await ctx.executeAsyncWith({ timeout: 5 }, () => new With(late, double));
      } catch (error) {
        return (error as Error).name;
      }
    });
    resolve(1);
    await late;
    expect(out).to.equal('AsyncTimeoutError');
  });

  it('S11: a Promise source under a TestScheduler fails with VirtualTimeError, like a Promise result', () => {
    const seen = virtual(function* (ctx) {
      yield* ctx.executeAsync(() => new With(Promise.resolve(1), double));
    });
    expect(seen[0]).to.match(/^0:# ActionError: .*VirtualTimeError/);
  });
});
