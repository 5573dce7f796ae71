import { expect } from 'chai';
import { lastValueFrom, NEVER, Subject, type Observable } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  agentOperator,
  createExecutor,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  signal,
  SignalRejectedError,
  WaitError,
  WaitTimeoutError,
  type AgentOperatorOptions,
  type Signal,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';
import { timeline as virtualTimeline, type Cold } from '../fixtures/virtual-timeline';

const Approval = defineEvent('approval', z.object({ ok: z.boolean(), by: z.string() }));
const Comment = defineEvent('comment', z.string());

interface Job {
  readonly key: string;
  readonly id: number;
  /** Frames of async work before the wait. */
  readonly before?: number;
  readonly timeout?: number;
}

const approvals = defineAgent({
  name: 'approvals',
  signals: [Approval, Comment],
  actions: (action) => [
    action('ask', InputEvent, function* (event, ctx) {
      const job = event.payload as Job;
      if (job.before !== undefined) yield* ctx.executeAsync(() => virtualDelay(null, job.before as number));
      try {
        const answer = yield* ctx.waitForEvent(Approval, job.timeout === undefined ? {} : { timeout: job.timeout });
        ctx.sendEvent(
          OutputEvent.of(`${job.id}:${answer.payload.ok ? 'approved' : 'rejected'} by ${answer.payload.by}`),
        );
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        ctx.sendEvent(OutputEvent.of(`${job.id}:timed out`));
      }
    }),
  ],
});

/** Runs in virtual time; returns `frame:value` notifications plus the rejected signals (`frame:!code`). */
function timeline(
  make: (cold: Cold, rejected: (e: SignalRejectedError) => void) => Observable<unknown>,
  ts = createTestScheduler(),
): string[] {
  return virtualTimeline((cold, note) => make(cold, (e) => note(`!${e.code}`)), ts);
}

const ok = (by: string): Signal => signal('k', Approval.of({ ok: true, by }));

describe('S14 waitForEvent: parked runs resumed by signals (virtual time)', () => {
  it('parks until a signal for its key arrives; the key stays busy (S1), other keys go on (S2)', () => {
    const seen = timeline((cold, onSignalRejected) =>
      cold<Job>('(ab)c|', { a: { key: 'k', id: 1 }, b: { key: 'k', id: 2 }, c: { key: 'other', id: 3 } }).pipe(
        agentOperator(approvals, {
          key: (j) => j.key,
          onSignalRejected,
          signals: cold<Signal>('-----a--b-c', {
            a: ok('ana'),
            b: signal('k', Approval.of({ ok: false, by: 'bo' })),
            c: signal('other', Approval.of({ ok: true, by: 'cy' })),
          }),
        }),
      ),
    );
    // run 2 of key k starts only when run 1 ends at 5; key `other` is not held up by k.
    expect(seen).to.deep.equal(['5:1:approved by ana', '8:2:rejected by bo', '10:3:approved by cy', '10:|']);
  });

  it('a parked run holds no executor slot: with concurrency 1, another key runs its calls meanwhile', () => {
    const worker = defineAgent({
      name: 'worker',
      signals: [Approval],
      actions: (action) => [
        action('act', InputEvent, function* (event, ctx) {
          const job = event.payload as Job;
          if (job.key === 'waits') yield* ctx.waitForEvent(Approval);
          const r = yield* ctx.executeAsync(() => virtualDelay(job.id, 3));
          ctx.sendEvent(OutputEvent.of(r));
        }),
      ],
    });
    const seen = timeline((cold) =>
      cold<Job>('(ab)', { a: { key: 'waits', id: 1 }, b: { key: 'works', id: 2 } }).pipe(
        agentOperator(worker, {
          key: (j) => j.key,
          executor: createExecutor(1),
          signals: cold<Signal>('----------a', { a: signal('waits', Approval.of({ ok: true, by: 'x' })) }),
        }),
      ),
    );
    expect(seen).to.deep.equal(['3:2', '13:1']);
  });

  it('timeout: WaitTimeoutError at the deadline (scheduler time); the action may catch it', () => {
    const seen = timeline((cold) =>
      cold<Job>('(a|)', { a: { key: 'k', id: 1, timeout: 10 } }).pipe(
        agentOperator(approvals, { key: (j) => j.key, signals: NEVER }),
      ),
    );
    expect(seen).to.deep.equal(['10:1:timed out', '10:|']);
    const e = new WaitTimeoutError('ask', 'approval', 10);
    expect([e.name, e.code]).to.deep.equal(['WaitTimeoutError', 'ERR_WAIT_TIMEOUT']);
    expect(e.message).to.equal(
      'Action `ask` waited 10 ms for event `approval` and none arrived for its key. Catch WaitTimeoutError to go on without it, or give a longer `timeout`.',
    );
  });

  it('a signal that arrives before the wait is buffered for the run and taken when the wait starts', () => {
    const seen = timeline((cold) =>
      cold<Job>('(a|)', { a: { key: 'k', id: 1, before: 5 } }).pipe(
        agentOperator(approvals, { key: (j) => j.key, signals: cold<Signal>('--a', { a: ok('early') }) }),
      ),
    );
    expect(seen).to.deep.equal(['5:1:approved by early', '5:|']);
  });

  it('match picks the signal it wants; one no wait took is reported when the run ends (never silent)', () => {
    const picky = defineAgent({
      name: 'picky',
      signals: [Approval],
      actions: (action) => [
        action('ask', InputEvent, function* (_e, ctx) {
          const a = yield* ctx.waitForEvent(Approval, { match: (e) => e.payload.by === 'boss' });
          ctx.sendEvent(OutputEvent.of(a.payload.by));
        }),
      ],
    });
    const seen = timeline((cold, onSignalRejected) =>
      cold<Job>('(a|)', { a: { key: 'k', id: 1 } }).pipe(
        agentOperator(picky, {
          key: (j) => j.key,
          onSignalRejected,
          signals: cold<Signal>('-a-b', { a: ok('intern'), b: ok('boss') }),
        }),
      ),
    );
    expect(seen).to.deep.equal(['3:boss', '3:!ERR_SIGNAL_UNCONSUMED', '3:|']);
  });

  it('bad signals are rejected with typed errors: unknown type, invalid payload, bad shape, no run, overflow', () => {
    const Other = defineEvent('other', z.number());
    const seen = timeline((cold, onSignalRejected) =>
      cold<Job>('(ab)', { a: { key: 'k', id: 1, before: 10 }, b: { key: 'k', id: 2 } }).pipe(
        agentOperator(approvals, {
          key: (j) => j.key,
          onSignalRejected,
          maxBufferedSignals: 1,
          signals: cold<Signal>('-abcdef', {
            a: signal('k', Other.of(1)),
            b: signal('k', Approval.of({ ok: 'yes' } as never)),
            c: { oops: true } as never,
            d: signal('nobody', Approval.of({ ok: true, by: 'x' })),
            e: ok('first'), // buffered (run 1 waits only from frame 10)
            f: ok('second'), // the buffer of `approval` holds 1: rejected
          }),
        }),
      ),
    );
    expect(seen).to.deep.equal([
      '1:!ERR_SIGNAL_UNKNOWN_TYPE',
      '2:!ERR_SIGNAL_INVALID',
      '3:!ERR_SIGNAL_SHAPE',
      '4:!ERR_SIGNAL_NO_RUN',
      '6:!ERR_SIGNAL_OVERFLOW',
      '10:1:approved by first',
    ]);
  });

  it('without onSignalRejected, a signal that cannot be delivered fails the stream with SignalRejectedError', async () => {
    const signals = new Subject<Signal>();
    const out = lastValueFrom(
      new Subject<Job>().pipe(agentOperator(approvals, { key: (j) => j.key, signals }), toArray()),
    ).catch((e: unknown) => e);
    signals.next(signal('k', Approval.of({ ok: 1 } as never)));
    const error = (await out) as SignalRejectedError;
    expect(error).to.be.instanceOf(SignalRejectedError);
    expect([error.name, error.code, error.key, error.eventType]).to.deep.equal([
      'SignalRejectedError',
      'ERR_SIGNAL_INVALID',
      'k',
      'approval',
    ]);
    expect(error.message).to.match(
      /^Invalid payload for event `approval` in a signal for key `k`: ok: .*onSignalRejected/,
    );
  });

  it('bad waits fail the action with WaitError: OutputEvent, an undeclared type, negative or NaN timeouts', () => {
    const waitOn = (wait: (ctx: import('../../lib').RunnerContext) => unknown): string[] => {
      const agent = defineAgent({
        name: 'bad-wait',
        signals: [Approval],
        actions: (action) => [action('w', InputEvent, (_e, ctx) => void wait(ctx))],
      });
      return timeline((cold) => cold('(a|)').pipe(agentOperator(agent)));
    };
    const codes = [
      waitOn((ctx) => ctx.waitForEvent(OutputEvent)),
      waitOn((ctx) => ctx.waitForEvent(Comment)),
      waitOn((ctx) => ctx.waitForEvent(Approval, { timeout: -1 })),
      waitOn((ctx) => ctx.waitForEvent(Approval, { timeout: NaN })),
      waitOn((ctx) => ctx.sleep(NaN)),
      waitOn((ctx) => ctx.sendEvent(OutputEvent.of(1), { delay: -5 })),
    ].map((seen) => /WaitError: /.test(seen[0] ?? '') && (seen[0] as string));
    expect(codes.every((c) => typeof c === 'string')).to.equal(true);
    expect(codes[0]).to.contain('waits for OutputEvent, but OutputEvents go downstream');
    expect(codes[1]).to.contain('waits for event `comment`, which agent `bad-wait` does not list in its `signals`');
    expect(codes[2]).to.contain('Expected `timeout` in action `w` to be a number of ms >= 0, got `-1`');
    expect(codes[3]).to.contain('got `NaN`');
    const e = new WaitError('ERR_WAIT_TIME', 'w', 'x');
    expect([e.name, e.code]).to.deep.equal(['WaitError', 'ERR_WAIT_TIME']);
  });

  it('bad signal options are refused at operator creation', () => {
    const make = (o: AgentOperatorOptions<Job>) => () => agentOperator(approvals, o);
    expect(make({ signals: [] as never })).to.throw(TypeError, 'Expected `signals` to be an Observable of signals');
    expect(make({ maxBufferedSignals: -1 })).to.throw(TypeError, 'maxBufferedSignals');
    expect(make({ onSignalRejected: 1 as never })).to.throw(TypeError, 'onSignalRejected');
  });

  it('async actions await waits the same way (real time, a Subject of signals)', async () => {
    const agent = defineAgent({
      name: 'awaiting',
      signals: [Approval],
      actions: (action) => [
        action('ask', InputEvent, async (event, ctx) => {
          const answer = await ctx.waitForEvent(Approval);
          ctx.sendEvent(OutputEvent.of(`${String(event.payload)}:${answer.payload.by}`));
        }),
      ],
    });
    const inputs = new Subject<string>();
    const signals = new Subject<Signal>();
    const out = lastValueFrom(inputs.pipe(agentOperator(agent, { key: (x) => x, signals }), toArray()));
    inputs.next('t1');
    inputs.complete();
    await new Promise((r) => setTimeout(r, 5));
    signals.next(signal('t1', Approval.of({ ok: true, by: 'ana' })));
    expect(await out).to.deep.equal(['t1:ana']);
  });
});
