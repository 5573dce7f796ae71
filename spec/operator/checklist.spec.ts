import { expect } from 'chai';
import {
  EMPTY,
  NEVER,
  Subject,
  asyncScheduler,
  firstValueFrom,
  from,
  lastValueFrom,
  of,
  range,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { take, tap, toArray } from 'rxjs/operators';
import { z } from 'zod';
import { ActionError, CallbackError, agentOperator, defineAgent, InputEvent, OutputEvent, type Agent } from '../../lib';

/** An agent that echoes `input * 10` after an optional real delay. */
function echo(delayMs = 0): Agent<number, number> {
  return defineAgent({
    name: 'echo',
    input: z.number(),
    actions: (action) => [
      delayMs > 0
        ? action('echo', InputEvent, async (event, ctx) => {
            const r = await ctx.executeAsync((v: number) => sleep(delayMs).then(() => v * 10), event.payload);
            ctx.sendEvent(OutputEvent.of(r));
          })
        : action('echo', InputEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload * 10))),
    ],
  });
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** A scheduler that counts its pending actions: scheduled and neither run nor cancelled. */
function countingScheduler(): SchedulerLike & { readonly pending: number } {
  let pending = 0;
  return {
    now: () => asyncScheduler.now(),
    get pending() {
      return pending;
    },
    schedule(work: (this: unknown, state?: unknown) => void, delay?: number, state?: unknown): Subscription {
      pending++;
      let live = true;
      const done = (): void => {
        if (live) ((live = false), pending--);
      };
      const sub = asyncScheduler.schedule(
        function (this: unknown, s?: unknown) {
          done();
          work.call(this, s);
        },
        delay,
        state,
      );
      sub.add(done);
      return sub;
    },
  } as SchedulerLike & { readonly pending: number };
}

describe('agentOperator: the rxjs operator checklist', () => {
  it('empty source: completes with no values', async () => {
    expect(await lastValueFrom(EMPTY.pipe(agentOperator(echo()), toArray()))).to.deep.equal([]);
  });

  it('never source: emits nothing and does not complete; unsubscribing leaves nothing behind', async () => {
    const scheduler = countingScheduler();
    let done = false;
    const sub = NEVER.pipe(agentOperator(echo(), { scheduler })).subscribe({ complete: () => (done = true) });
    await sleep(5);
    expect(done).to.equal(false);
    sub.unsubscribe();
    expect(scheduler.pending).to.equal(0);
  });

  it('one value and many values, sync and async actions', async () => {
    expect(await lastValueFrom(of(1).pipe(agentOperator(echo()), toArray()))).to.deep.equal([10]);
    expect(
      await lastValueFrom(from([1, 2, 3]).pipe(agentOperator(echo(), { key: (x) => x % 2 }), toArray())),
    ).to.have.members([10, 20, 30]);
    const many = await lastValueFrom(range(0, 200).pipe(agentOperator(echo(1), { key: (x) => x % 7 }), toArray()));
    expect(many.slice().sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i * 10));
  });

  it('source error: is passed through after aborting in-flight blocks', async () => {
    const aborted: boolean[] = [];
    const agent = defineAgent({
      name: 'abortable',
      actions: (action) => [
        action('wait', InputEvent, async (_e, ctx) => {
          const signal = ctx.signal;
          await ctx.executeAsync(() =>
            sleep(10_000, signal).catch((e: unknown) => (aborted.push(signal.aborted), Promise.reject(e))),
          );
        }),
      ],
    });
    const source = new Subject<number>();
    const result = lastValueFrom(source.pipe(agentOperator(agent))).then(
      () => 'completed',
      (e: Error) => e.message,
    );
    source.next(1);
    await sleep(1);
    source.error(new Error('upstream broke'));
    expect(await result).to.equal('upstream broke');
    await sleep(1);
    expect(aborted).to.deep.equal([true]);
  });

  it('early unsubscribe: in-flight async blocks see their AbortSignal abort; no timers are left', async () => {
    const scheduler = countingScheduler();
    const seen: string[] = [];
    const agent = defineAgent({
      name: 'slow',
      actions: (action) => [
        action('wait', InputEvent, function* (_e, ctx) {
          const signal = ctx.signal;
          signal.addEventListener('abort', () => seen.push(`abort:${String((signal.reason as Error).message)}`));
          yield* ctx.executeAsyncWith({ timeout: 60_000 }, () => sleep(60_000, signal));
          seen.push('resumed');
        }),
      ],
    });
    const sub = of(1, 2, 3)
      .pipe(agentOperator(agent, { key: (x) => x, scheduler }))
      .subscribe();
    await sleep(5);
    expect(scheduler.pending).to.equal(3); // the three 60 s timeouts
    sub.unsubscribe();
    expect(seen).to.deep.equal([
      'abort:Aborted: unsubscribed.',
      'abort:Aborted: unsubscribed.',
      'abort:Aborted: unsubscribed.',
    ]);
    expect(scheduler.pending).to.equal(0);
    await sleep(5);
    expect(seen).to.not.include('resumed');
  });

  it('a throwing key selector fails the stream with CallbackError (default policy)', async () => {
    const error = await lastValueFrom(
      of(1, 2).pipe(
        agentOperator(echo(), {
          key: (x) => {
            if (x === 2) throw new Error('no key for 2');
            return x;
          },
        }),
        toArray(),
      ),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CallbackError);
    expect((error as Error).message).to.equal('The `key` callback threw: Error: no key for 2');
  });

  it('a throwing action fails the stream with ActionError carrying the cause', async () => {
    const agent = defineAgent({
      name: 'boom',
      actions: (action) => [
        action('explode', InputEvent, () => {
          throw new RangeError('bad input');
        }),
      ],
    });
    const error = (await lastValueFrom(of('x').pipe(agentOperator(agent, { key: (x) => x }))).catch(
      (e: unknown) => e,
    )) as ActionError;
    expect(error).to.be.instanceOf(ActionError);
    expect(error.message).to.equal('Action `explode` failed in run 0 of key `x`: RangeError: bad input');
    expect(error.cause).to.be.instanceOf(RangeError);
    expect([error.action, error.key, error.run, error.code]).to.deep.equal(['explode', 'x', 0, 'ERR_ACTION_FAILED']);
  });

  it('a synchronous flood is cut by take (the source stops)', async () => {
    let emitted = 0;
    const values = await firstValueFrom(
      range(0, Number.MAX_SAFE_INTEGER).pipe(
        tap(() => emitted++),
        agentOperator(echo(), { key: (x) => x % 3 }),
        take(5),
        toArray(),
      ),
    );
    expect(values).to.deep.equal([0, 10, 20, 30, 40]);
    expect(emitted).to.equal(5);
  });

  it('feedback: outputs pushed back into the source synchronously do not re-enter the runtime', async () => {
    const source = new Subject<number>();
    const out: number[] = [];
    const agent = echo();
    const done = lastValueFrom(source.pipe(agentOperator(agent)), { defaultValue: null });
    source.pipe(agentOperator(agent)).subscribe((v) => {
      out.push(v);
      if (v < 1000) source.next(v);
      else source.complete();
    });
    source.next(1);
    await done;
    expect(out).to.deep.equal([10, 100, 1000]);
  });
});
