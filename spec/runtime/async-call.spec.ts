import { expect } from 'chai';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  ActionError,
  AsyncTimeoutError,
  EmptyAsyncResultError,
  EventValidationError,
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type RunnerContext,
} from '../../lib';
import { virtualDelay, virtualFailure } from '../../lib/testing';
import { EMPTY } from 'rxjs';
import { oneActionTimeline } from '../fixtures/virtual-timeline';

/** Runs a one-action agent over one input in virtual time and returns `frame:value` notifications. */
const runOne = (body: (ctx: RunnerContext) => Generator<unknown, void, unknown>): string[] => oneActionTimeline(body);

describe('executeAsync: results, failures, timeouts, retries', () => {
  it('accepts values, Promises and Observables (last value)', async () => {
    const agent = defineAgent({
      name: 'kinds',
      actions: (action) => [
        action('act', InputEvent, async (_e, ctx) => {
          const a = await ctx.executeAsync((x: number) => x + 1, 1);
          const b = await ctx.executeAsync(async (x: string) => `${x}!`, 'p');
          const c = await ctx.executeAsync(() => of(1, 2, 3));
          ctx.sendEvent(OutputEvent.of([a, b, c]));
        }),
      ],
    });
    expect(await lastValueFrom(of(0).pipe(agentOperator(agent)))).to.deep.equal([2, 'p!', 3]);
  });

  it('a failed block throws into the action, which may catch it', () => {
    expect(
      runOne(function* (ctx) {
        try {
          yield* ctx.executeAsync(() => virtualFailure(new Error('503'), 4));
        } catch (error) {
          ctx.sendEvent(OutputEvent.of(`caught ${(error as Error).message}`));
        }
      }),
    ).to.deep.equal(['4:"caught 503"', '4:|']);
  });

  it('timeout: AsyncTimeoutError after `timeout` ms of scheduler time', () => {
    expect(
      runOne(function* (ctx) {
        try {
          yield* ctx.executeAsyncWith({ timeout: 5 }, () => virtualDelay('late', 50));
        } catch (error) {
          expect(error).to.be.instanceOf(AsyncTimeoutError);
          ctx.sendEvent(OutputEvent.of((error as Error).message));
        }
      }),
    ).to.deep.equal(['5:"An async block of action `act` did not finish within 5 ms."', '5:|']);
  });

  it('a timeout that fires after retries says the retries were used and that the timeout covers them', () => {
    expect(
      runOne(function* (ctx) {
        try {
          yield* ctx.executeAsyncWith({ timeout: 18, retries: 2, retryDelay: 5 }, () =>
            virtualFailure(new Error('flaky'), 3),
          );
        } catch (error) {
          expect(error).to.be.instanceOf(AsyncTimeoutError);
          expect(error).to.include({ attempts: 3, retries: 2, timeout: 18 });
          ctx.sendEvent(OutputEvent.of((error as Error).message));
        }
      }),
    ).to.deep.equal([
      '18:"An async block of action `act` did not finish within 18 ms, all attempts counted: 3 of 3 (1 + 2 retries) were made when it fired. The timeout covers the whole call, retries and their delays included: raise `timeout`, or lower `retries` / `retryDelay`."',
      '18:|',
    ]);
  });

  it('retries with a delay on the scheduler (never sleeping the main thread)', () => {
    let attempts = 0;
    expect(
      runOne(function* (ctx) {
        const r = yield* ctx.executeAsyncWith({ retries: 2, retryDelay: 10 }, () =>
          ++attempts < 3 ? virtualFailure(new Error(`fail ${attempts}`), 1) : virtualDelay(`ok after ${attempts}`, 1),
        );
        ctx.sendEvent(OutputEvent.of(r));
      }),
    ).to.deep.equal(['23:"ok after 3"', '23:|']);
  });

  it('a block whose Observable fails synchronously and is retried at once: the retry is what a timeout unsubscribes', () => {
    let attempts = 0;
    let tornDown = false;
    const seen = runOne(function* (ctx) {
      yield* ctx.executeAsyncWith({ retries: 1, timeout: 5 }, () =>
        ++attempts === 1
          ? throwError(() => new Error('sync failure'))
          : new Observable<never>(() => () => {
              tornDown = true;
            }),
      );
    });
    expect(attempts).to.equal(2);
    expect(seen).to.have.length(1);
    expect(seen[0]).to.match(/^5:# .*AsyncTimeoutError/);
    expect(tornDown, 'the second subscription was released by the timeout').to.equal(true);
  });

  it('an Observable that completes empty fails with EmptyAsyncResultError', () => {
    const seen = runOne(function* (ctx) {
      yield* ctx.executeAsync(() => EMPTY);
    });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.match(
      /^0:# Action `act` failed in run 0 \(key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined\): EmptyAsyncResultError: An Observable given to executeAsync/,
    );
    expect(new EmptyAsyncResultError('act').code).to.equal('ERR_EMPTY_ASYNC_RESULT');
  });

  it('a call that fails without being awaited still fails the action (nothing is silently lost)', () => {
    const seen = runOne(function* (ctx) {
      ctx.executeAsync(() => virtualFailure(new Error('forgotten'), 3));
    });
    expect(seen).to.deep.equal([
      '3:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: forgotten',
    ]);
  });

  it('a run does not end while a call it started is in flight (even if never awaited)', () => {
    const seen = runOne(function* (ctx) {
      ctx.executeAsync(() => virtualDelay(null, 7));
      ctx.sendEvent(OutputEvent.of('sent'));
    });
    expect(seen).to.deep.equal(['0:"sent"', '7:|']);
  });

  it('a bare `yield` (no star) of a call also works, and its result is delivered', () => {
    const seen = runOne(function* (ctx) {
      const r = yield ctx.executeAsync(() => virtualDelay(41, 2));
      ctx.sendEvent(OutputEvent.of((r as number) + 1));
    });
    expect(seen).to.deep.equal(['2:42', '2:|']);
  });

  it('yielding something that is not a call fails with a message that shows the fix', () => {
    const seen = runOne(function* () {
      yield 5;
    });
    expect(seen).to.deep.equal([
      '0:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): TypeError: Action `act` yielded 5; generator actions may only wait on calls: `const r = yield* ctx.executeAsync(fn, ...args)`.',
    ]);
  });
});

describe('sendEvent validation', () => {
  const Score = defineEvent('score', z.object({ value: z.number().min(0) }));
  const Stray = defineEvent('stray', z.string());

  function agentSending(event: () => import('../../lib').AgentEvent, validateEvents = true) {
    const agent = defineAgent({
      name: 'sender',
      output: z.string(),
      actions: (action) => [
        action('start', InputEvent, (_e, ctx) => ctx.sendEvent(event())),
        action('score', Score, (e, ctx) => ctx.sendEvent(OutputEvent.of(`score ${e.payload.value}`))),
      ],
    });
    return lastValueFrom(of(1).pipe(agentOperator(agent, { validateEvents }), toArray())).catch((e: ActionError) => e);
  }

  it('an invalid payload is rejected when it is sent, with zod issues', async () => {
    const error = (await agentSending(() => Score.of({ value: -1 }))) as ActionError;
    expect(error.cause).to.be.instanceOf(EventValidationError);
    expect((error.cause as EventValidationError).issues.map((i) => i.code)).to.deep.equal(['too_small']);
    expect((error.cause as Error).message).to.equal(
      'Invalid payload for event `score` sent by action `start`: value: Too small: expected number to be >=0. Fix the payload or the schema given to defineEvent.',
    );
  });

  it("OutputEvent payloads are checked against the agent's output schema", async () => {
    const error = (await agentSending(() => OutputEvent.of(5))) as ActionError;
    expect((error.cause as Error).message).to.equal(
      "Invalid payload for event `rx-agents/output` sent by action `start` (agent `sender`'s output schema): (root): Invalid input: expected string, received number. Fix the payload or the `output` schema given to defineAgent.",
    );
  });

  it('a simple object schema (checked on the compiled fast path) fails a bad payload with the same error and path as zod', async () => {
    const Point = defineEvent('point', z.object({ x: z.number(), label: z.string() }));
    const agent = defineAgent({
      name: 'points',
      actions: (action) => [
        action('start', InputEvent, (e: { payload: unknown }, ctx) => ctx.sendEvent(Point.of(e.payload as never))),
        action('point', Point, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload))),
      ],
    });
    const inputs = [
      { x: 1, label: 'a', extra: true },
      { x: NaN, label: 'b' },
      { x: 2, label: 3 },
    ];
    const failures: unknown[] = [];
    const out = await lastValueFrom(
      of(...inputs).pipe(
        agentOperator(agent, { errorPolicy: 'isolate', onRunFailed: (f) => void failures.push(f.error) }),
        toArray(),
      ),
    );
    expect(out).to.deep.equal([{ x: 1, label: 'a' }]); // unknown keys stripped, as zod does
    const causes = failures.map((f) => (f as ActionError).cause as EventValidationError);
    expect(causes.map((c) => c instanceof EventValidationError)).to.deep.equal([true, true]);
    expect(causes.map((c) => c.issues.map((i) => i.path.join('.')))).to.deep.equal([['x'], ['label']]);
    expect(causes.map((c) => c.message)).to.deep.equal([
      'Invalid payload for event `point` sent by action `start`: x: Invalid input: expected number, received NaN. Fix the payload or the schema given to defineEvent.',
      'Invalid payload for event `point` sent by action `start`: label: Invalid input: expected string, received number. Fix the payload or the schema given to defineEvent.',
    ]);
  });

  it('validateEvents: false skips payload validation (trusted agents)', async () => {
    expect(await agentSending(() => Score.of({ value: -1 }), false)).to.deep.equal(['score -1']);
  });

  it('an event no action is triggered by is an error, never silently dropped', async () => {
    const error = (await agentSending(() => Stray.of('x'))) as ActionError;
    expect((error.cause as Error).message).to.equal(
      'Action `start` sent event `stray`, but no action of agent `sender` is triggered by it, so it would be lost. Send an event made by an event type that some action lists as a trigger, or OutputEvent.of(...) to emit downstream.',
    );
  });

  it('an unknown resource names the ones that exist', async () => {
    const agent = defineAgent({
      name: 'res',
      resources: { llm: {}, db: {} },
      actions: (action) => [
        // @ts-expect-error -- `cache` is not a resource of this agent: a compile error, and at run time:
        action('start', InputEvent, (_e, ctx) => void ctx.resource('cache')),
      ],
    });
    const error = (await lastValueFrom(of(1).pipe(agentOperator(agent))).catch((e: ActionError) => e)) as ActionError;
    expect((error.cause as Error).message).to.equal(
      'Action `start` asked for resource `cache`, but agent `res` has `llm`, `db`.',
    );
  });
});
