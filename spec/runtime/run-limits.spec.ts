import { expect } from 'chai';
import { NEVER, lastValueFrom, of, toArray } from 'rxjs';
import { z } from 'zod';
import {
  ActionError,
  AsyncTimeoutError,
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  RunLimitError,
  type RunFailure,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

const Ping = defineEvent('ping', z.number());
const Pong = defineEvent('pong', z.number());

/** Two actions that trigger each other forever (an agent bug), unless the input is 'fine'. */
const pingPong = defineAgent({
  name: 'pingpong',
  actions: (action) => [
    action('start', InputEvent, (event, ctx) => {
      if (event.payload === 'fine') ctx.sendEvent(OutputEvent.of('fine'));
      else ctx.sendEvent(Ping.of(0));
    }),
    action('ping', Ping, (event, ctx) => ctx.sendEvent(Pong.of(event.payload + 1))),
    action('pong', Pong, (event, ctx) => ctx.sendEvent(Ping.of(event.payload + 1))),
  ],
});

describe('S10 runaway runs: maxEventsPerRun, long chains yield, default block timeout', () => {
  it("an event ping-pong fails its run with RunLimitError under 'isolate' (default budget 10000); the key and other keys go on", () => {
    const ts = createTestScheduler();
    const failures: RunFailure[] = [];
    ts.run(({ cold, expectObservable }) => {
      const out = cold('(abc)|', { a: 'loop', b: 'fine', c: 'fine' }).pipe(
        agentOperator(pingPong, {
          key: (x) => x,
          scheduler: ts,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
        }),
      );
      expectObservable(out).toBe('(xx)-|', { x: 'fine' });
    });
    expect(failures).to.have.length(1);
    const error = failures[0]!.error as RunLimitError;
    expect(error).to.be.instanceOf(RunLimitError);
    expect(error.code).to.equal('ERR_RUN_LIMIT');
    expect(error.limit).to.equal(10_000);
    expect(error.message).to.match(
      /^Run 0 of key `loop` sent more than 10000 events \(maxEventsPerRun = 10000\); the last one was sent by action `(ping|pong)`\./,
    );
  });

  it("under 'fail' the stream errors with the RunLimitError", () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: 'loop' }).pipe(agentOperator(pingPong, { scheduler: ts, maxEventsPerRun: 50 }));
      expectObservable(out).toBe('#', undefined, new RunLimitError(undefined, 0, 'pong', 50));
    });
  });

  it('a sendEvent loop inside one block stops at the budget (it exhausted the heap at ~3M events), even if the action catches the error', async () => {
    let caught = 0;
    const flood = defineAgent({
      name: 'flood',
      actions: (action) => [
        action('flood', InputEvent, (_event, ctx) => {
          for (let i = 0; i < 20_000; i++) {
            try {
              ctx.sendEvent(OutputEvent.of(i));
            } catch (error) {
              if (error instanceof RunLimitError) caught++;
              else throw error;
            }
          }
        }),
      ],
    });
    const failures: RunFailure[] = [];
    const out = await lastValueFrom(
      of(1).pipe(
        agentOperator(flood, { maxEventsPerRun: 1000, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f) }),
        toArray(),
      ),
    );
    expect(out.length).to.be.at.most(1000);
    expect(caught).to.equal(19_000); // every send past the budget throws; nothing more is queued
    expect(failures.map((f) => f.error.name)).to.deep.equal(['RunLimitError']);
  });

  it('a long synchronous chain of one key lets another key queued in the same turn go first (no 1M-event stall)', () => {
    const Next = defineEvent('next', z.number());
    const chain = defineAgent({
      name: 'chain',
      actions: (action) => [
        action('begin', InputEvent, function* (event, ctx) {
          yield* ctx.executeAsync(() => virtualDelay(null, 1));
          if (event.payload === 'long') ctx.sendEvent(Next.of(0));
          else ctx.sendEvent(OutputEvent.of('short'));
        }),
        action('step', Next, (event, ctx) =>
          ctx.sendEvent(event.payload < 5000 ? Next.of(event.payload + 1) : OutputEvent.of('long')),
        ),
      ],
    });
    const ts = createTestScheduler();
    const order: string[] = [];
    ts.run(({ cold }) => {
      cold('(ab)|', { a: 'long', b: 'short' })
        .pipe(agentOperator(chain, { key: (x) => x, scheduler: ts }))
        .subscribe((o) => order.push(o as string));
    });
    expect(order).to.deep.equal(['short', 'long']);
  });

  it('defaultTimeout: never-settling blocks fail with AsyncTimeoutError and give their slots back, so other keys run', () => {
    const hung = defineAgent({
      name: 'hung',
      actions: (action) => [
        action('call', InputEvent, function* (event, ctx) {
          const key = event.payload as string;
          yield* ctx.executeAsync(() => (key.startsWith('hung') ? NEVER : virtualDelay(null, 1)));
          ctx.sendEvent(OutputEvent.of(key));
        }),
      ],
    });
    const inputs = {
      a: 'hung1',
      b: 'hung2',
      c: 'hung3',
      d: 'hung4',
      e: 'ok1',
      f: 'ok2',
    };
    for (const defaultTimeout of [undefined, 50]) {
      const ts = createTestScheduler();
      const failures: RunFailure[] = [];
      const outputs: string[] = [];
      ts.run(({ cold }) => {
        cold('(abcdef)', inputs)
          .pipe(
            agentOperator(hung, {
              key: (x) => x,
              scheduler: ts,
              concurrency: 4,
              errorPolicy: 'isolate',
              onRunFailed: (f) => failures.push(f),
              ...(defaultTimeout === undefined ? {} : { defaultTimeout }),
            }),
          )
          .subscribe((o) => outputs.push(o as string));
      });
      if (defaultTimeout === undefined) {
        expect(outputs).to.deep.equal([]); // starved: four hung blocks hold all four slots
      } else {
        expect(outputs).to.deep.equal(['ok1', 'ok2']);
        expect(failures.map((f) => ((f.error as ActionError).cause as Error).constructor)).to.deep.equal(
          Array(4).fill(AsyncTimeoutError),
        );
      }
    }
  });

  it('validates maxEventsPerRun and defaultTimeout', () => {
    expect(() => agentOperator(pingPong, { maxEventsPerRun: 0 })).to.throw(
      TypeError,
      'Expected `maxEventsPerRun` to be an integer >= 1 or Infinity, got `0` (number)',
    );
    expect(() => agentOperator(pingPong, { defaultTimeout: -5 })).to.throw(
      TypeError,
      'Expected `defaultTimeout` to be a number of ms > 0',
    );
  });
});
