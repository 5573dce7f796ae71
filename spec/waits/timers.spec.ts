import { expect } from 'chai';
import { NEVER, type Observable } from 'rxjs';
import { z } from 'zod';
import {
  agentOperator,
  createExecutor,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  signal,
  type RunnerContext,
  type Signal,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';
import { timeline, type Cold } from '../fixtures/virtual-timeline';

const Approval = defineEvent('approval', z.object({ by: z.string() }));
const Reminder = defineEvent('reminder', z.number());

/** One action over one input, with Approval as a signal type and Reminder routed to an output. */
function one(
  body: (ctx: RunnerContext) => Generator<unknown, void, unknown>,
  signals: (cold: Cold) => Observable<Signal> = () => NEVER,
): string[] {
  const agent = defineAgent({
    name: 'timers',
    signals: [Approval],
    actions: (action) => [
      action('act', InputEvent, function* (_e, ctx) {
        yield* body(ctx) as Generator<never, void, unknown>;
      }),
      action('remind', Reminder, (e, ctx) => ctx.sendEvent(OutputEvent.of(`reminder ${e.payload}`))),
    ],
  });
  return timeline((cold) => cold('(a|)').pipe(agentOperator(agent, { signals: signals(cold) })));
}

describe('S14 timers: sleep, sleepUntil, delayed sendEvent, ctx.any (virtual time)', () => {
  it('sleep(ms) parks the action for ms of scheduler time', () => {
    expect(
      one(function* (ctx) {
        yield* ctx.sleep(10);
        ctx.sendEvent(OutputEvent.of(`woke at ${ctx.now()}`));
        yield* ctx.sleep(0);
        ctx.sendEvent(OutputEvent.of('again'));
      }),
    ).to.deep.equal(['10:woke at 10', '10:again', '10:|']);
  });

  it('sleepUntil(t) wakes at t; a time already past wakes at once', () => {
    expect(
      one(function* (ctx) {
        yield* ctx.sleepUntil(25);
        ctx.sendEvent(OutputEvent.of('at 25'));
        yield* ctx.sleepUntil(3);
        ctx.sendEvent(OutputEvent.of('past'));
      }),
    ).to.deep.equal(['25:at 25', '25:past', '25:|']);
  });

  it('sendEvent(e, { delay }) routes the event after the delay; the run lasts until then', () => {
    expect(
      one(function* (ctx) {
        ctx.sendEvent(Reminder.of(1), { delay: 7 });
        ctx.sendEvent(Reminder.of(2), { delay: 3 });
        ctx.sendEvent(OutputEvent.of('now'));
      }),
    ).to.deep.equal(['0:now', '3:reminder 2', '7:reminder 1', '7:|']);
  });

  it('a delayed event is validated when it is sent, not when it fires', () => {
    const seen = one(function* (ctx) {
      ctx.sendEvent(Reminder.of('x' as never), { delay: 5 });
    });
    expect(seen[0]).to.match(/^0:# Action `act` failed .*Invalid payload for event `reminder`/);
  });

  it('sleeps hold no executor slot: 100 parked runs, concurrency 1, all wake at 10', () => {
    const agent = defineAgent({
      name: 'many',
      actions: (action) => [
        action('act', InputEvent, function* (event, ctx) {
          yield* ctx.sleep(10);
          ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(() => virtualDelay(event.payload as number, 0))));
        }),
      ],
    });
    const seen = timeline((cold) =>
      cold<number>(`(${'a'.repeat(100)}|)`, { a: 1 }).pipe(
        agentOperator(agent, { key: () => Math.random(), executor: createExecutor(1) }),
      ),
    );
    expect(seen.length).to.equal(101);
    expect(new Set(seen.map((s) => s.split(':')[0]))).to.deep.equal(new Set(['10']));
  });

  it('ctx.any: the first to settle wins (index and value); the others are cancelled without failing the action', () => {
    const race = function* (ctx: RunnerContext) {
      const r = yield* ctx.any([ctx.waitForEvent(Approval), ctx.sleep(10)] as const);
      ctx.sendEvent(OutputEvent.of(r.index === 0 ? `approved by ${r.value.payload.by}` : 'timer won'));
    };
    expect(one(race, (cold) => cold('---a', { a: signal(undefined, Approval.of({ by: 'ana' })) }))).to.deep.equal([
      '3:approved by ana',
      '3:|',
    ]);
    expect(one(race)).to.deep.equal(['10:timer won', '10:|']);
  });

  it('ctx.any with executeAsync calls: the loser is aborted (its block unsubscribed)', () => {
    let unsubscribed = 0;
    const seen = one(function* (ctx) {
      const slow = ctx.executeAsync(
        () => new (NEVER.constructor as typeof import('rxjs').Observable)<string>(() => () => void unsubscribed++),
      );
      const r = yield* ctx.any([slow, ctx.executeAsync(() => virtualDelay('fast', 4))]);
      ctx.sendEvent(OutputEvent.of(`${r.index}:${String(r.value)}`));
    });
    expect(seen).to.deep.equal(['4:1:fast', '4:|']);
    expect(unsubscribed).to.equal(1);
  });

  it('a failing winner throws into the action', () => {
    const seen = one(function* (ctx) {
      try {
        yield* ctx.any([ctx.waitForEvent(Approval, { timeout: 2 }), ctx.sleep(10)]);
      } catch (error) {
        ctx.sendEvent(OutputEvent.of((error as Error).name));
      }
    });
    expect(seen).to.deep.equal(['2:WaitTimeoutError', '2:|']);
  });

  it('S9 unsubscribing cancels parked timers and waits: no scheduled action is left behind', () => {
    const ts = createTestScheduler();
    const agent = defineAgent({
      name: 'cancel',
      signals: [Approval],
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          ctx.sendEvent(OutputEvent.of('started'), { delay: 50 });
          yield* ctx.any([ctx.sleep(100), ctx.waitForEvent(Approval, { timeout: 200 })]);
        }),
      ],
    });
    const seen: string[] = [];
    let left = -1;
    ts.run(({ cold }) => {
      const sub = cold('(a|)')
        .pipe(agentOperator(agent))
        .subscribe((v) => seen.push(String(v)));
      ts.schedule(() => sub.unsubscribe(), 5);
      ts.schedule(() => (left = ts.actions.length), 6);
    });
    expect(seen).to.deep.equal([]);
    expect(left).to.equal(0);
  });

  it('bad any() arguments fail the action with a TypeError', () => {
    const seen = one(function* (ctx) {
      yield* ctx.any([] as never);
    });
    expect(seen[0]).to.contain('TypeError: Expected ctx.any in action `act` to get a non-empty array of calls');
  });
});
