import { expect } from 'chai';
import { concat, NEVER, of, type Observable, type Subscription } from 'rxjs';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  memoryStore,
  OutputEvent,
  signal,
  WaitTimeoutError,
  type AgentStore,
  type Signal,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

/**
 * S14 with a store, in virtual time: a subscription is "crashed" by unsubscribing it (its last
 * commit lands, nothing else happens) and a new one on the same store resumes. The real-process
 * version (SQLite file, SIGKILL) is spec/waits/crash-waits.spec.ts.
 */
const Go = defineEvent('go', z.object({ by: z.string() }));

interface Plan {
  /** Frames of async work before the wait / after it. */
  readonly before: number;
  readonly after: number;
  readonly timeout?: number;
}

function agentWith(plan: Plan, effects: string[]) {
  return defineAgent({
    name: 'durable-waits',
    signals: [Go],
    actions: (action) => [
      action('act', InputEvent, function* (_e, ctx) {
        yield* ctx.executeAsync(function before() {
          effects.push(`before@${ctx.now()}`);
          return virtualDelay(null, plan.before);
        });
        let by: string;
        try {
          by = (yield* ctx.waitForEvent(Go, plan.timeout === undefined ? {} : { timeout: plan.timeout })).payload.by;
        } catch (error) {
          if (!(error instanceof WaitTimeoutError)) throw error;
          by = 'timeout';
        }
        yield* ctx.executeAsync(function after() {
          effects.push(`after@${ctx.now()}`);
          return virtualDelay(null, plan.after);
        });
        ctx.sendEvent(OutputEvent.of(`${by}@${ctx.now()}`));
      }),
    ],
  });
}

/**
 * Runs subscription 1 from frame 0 to `crashAt` (then unsubscribes it), and subscription 2 from
 * `restartAt` on the same store; returns each one's outputs as `frame:value`.
 */
function crashAndRestart(opts: {
  readonly agent: ReturnType<typeof agentWith>;
  readonly store: AgentStore;
  readonly crashAt: number;
  readonly restartAt: number;
  readonly signals1?: string;
  readonly signals2?: string;
}): { first: string[]; second: string[] } {
  const ts = createTestScheduler();
  const first: string[] = [];
  const second: string[] = [];
  ts.run(({ cold, hot }) => {
    const sig = (marbles: string | undefined): Observable<Signal> =>
      marbles === undefined ? NEVER : hot<Signal>(marbles, { s: signal(undefined, Go.of({ by: 'human' })) });
    const signals1 = sig(opts.signals1);
    const signals2 = sig(opts.signals2);
    let sub: Subscription | undefined;
    const record = (into: string[]) => ({
      next: (v: unknown) => into.push(`${ts.now()}:${String(v)}`),
      error: (e: Error) => into.push(`${ts.now()}:# ${e.message}`),
      complete: () => into.push(`${ts.now()}:|`),
    });
    ts.schedule(() => {
      sub = concat(cold('a'), NEVER)
        .pipe(agentOperator(opts.agent, { store: opts.store, scheduler: ts, signals: signals1 }))
        .subscribe(record(first));
    }, 0);
    ts.schedule(() => sub?.unsubscribe(), opts.crashAt);
    ts.schedule(() => {
      // After a restart the source does not send the input again: the journal holds it.
      of<never>()
        .pipe(agentOperator(opts.agent, { store: opts.store, scheduler: ts, signals: signals2 }))
        .subscribe(record(second));
    }, opts.restartAt);
  });
  return { first, second };
}

describe('S14 durable waits and timers (store, virtual time)', () => {
  it('a parked run is parked again after a restart with the same absolute deadline', () => {
    const effects: string[] = [];
    const { first, second } = crashAndRestart({
      agent: agentWith({ before: 2, after: 1, timeout: 100 }, effects),
      store: memoryStore(),
      crashAt: 10,
      restartAt: 30,
    });
    expect(first).to.deep.equal([]);
    // The deadline is 2 + 100 = 102 (not 30 + 100): the restart does not start the timeout again.
    expect(second).to.deep.equal(['103:timeout@103', '103:|']);
    // The journaled call before the wait ran once; the replay took its outcome from the journal.
    expect(effects).to.deep.equal(['before@0', 'after@102']);
  });

  it('a signal delivered (and consumed) before the crash is not needed again: the wait replays from the journal', () => {
    const effects: string[] = [];
    const { second } = crashAndRestart({
      agent: agentWith({ before: 2, after: 20 }, effects),
      store: memoryStore(),
      signals1: '-----s',
      crashAt: 10,
      restartAt: 30,
    });
    // The wait took the signal at 5; `after` was in flight at the crash and runs again after the restart (at-least-once).
    expect(second).to.deep.equal(['50:human@50', '50:|']);
    expect(effects).to.deep.equal(['before@0', 'after@5', 'after@30']);
  });

  it('a signal buffered before the crash (no wait yet) is restored and taken by the wait after the restart', () => {
    const effects: string[] = [];
    const { second } = crashAndRestart({
      agent: agentWith({ before: 40, after: 1 }, effects),
      store: memoryStore(),
      signals1: '---s',
      crashAt: 10,
      restartAt: 30,
    });
    // `before` restarts at 30 (it had not finished), ends at 70; the wait finds the restored signal at once.
    expect(second).to.deep.equal(['71:human@71', '71:|']);
  });

  it('a sleep is durable: after a restart it wakes at its original deadline', () => {
    const agent = defineAgent({
      name: 'durable-sleep',
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          yield* ctx.sleep(100);
          ctx.sendEvent(OutputEvent.of(`woke@${ctx.now()}`));
        }),
      ],
    });
    const { second } = crashAndRestart({
      agent: agent as never,
      store: memoryStore(),
      crashAt: 10,
      restartAt: 30,
    });
    expect(second).to.deep.equal(['100:woke@100', '100:|']);
  });

  it('a delayed sendEvent is durable too', () => {
    const Later = defineEvent('later', z.null());
    const agent = defineAgent({
      name: 'durable-send',
      actions: (action) => [
        action('act', InputEvent, (_e, ctx) => ctx.sendEvent(Later.of(null), { delay: 60 })),
        action('later', Later, (_e, ctx) => ctx.sendEvent(OutputEvent.of(`later@${ctx.now()}`))),
      ],
    });
    const { second } = crashAndRestart({ agent: agent as never, store: memoryStore(), crashAt: 10, restartAt: 30 });
    expect(second).to.deep.equal(['60:later@60', '60:|']);
  });

  it('a wait that timed out before the crash times out again on replay with a real WaitTimeoutError', () => {
    const effects: string[] = [];
    const { second } = crashAndRestart({
      agent: agentWith({ before: 1, after: 50, timeout: 5 }, effects),
      store: memoryStore(),
      crashAt: 20,
      restartAt: 30,
    });
    expect(second).to.deep.equal(['80:timeout@80', '80:|']);
  });
});
