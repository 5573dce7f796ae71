import { expect } from 'chai';
import { NEVER, Subject, filter, firstValueFrom, map, type Observable } from 'rxjs';
import {
  ActionError,
  AsyncTimeoutError,
  agentOperator,
  defineAgent,
  InputEvent,
  OutputEvent,
  type LifecycleEvent,
  type RunFailure,
} from '../../lib';
import { createInspector, type AgentStats } from '../../lib/observe';
import { createTestScheduler, virtualDelay, virtualFailure } from '../../lib/testing';

interface Job {
  readonly key: string;
  /** Frames the block runs; `Infinity`: it never settles. */
  readonly frames: number;
}

/** One action, one async block per input that runs `frames` virtual frames. */
const agent = defineAgent<Job>({
  name: 'slowpoke',
  actions: (action) => [
    action('call', InputEvent, function* (event, ctx) {
      const { key, frames } = event.payload;
      yield* ctx.executeAsync(() => (frames === Infinity ? NEVER : virtualDelay(key, frames)));
      ctx.sendEvent(OutputEvent.of(key));
    }),
  ],
});

type Slow = Extract<LifecycleEvent, { type: 'async.slow' }>;

const slowEvents = (events$: Observable<LifecycleEvent>): Observable<string> =>
  events$.pipe(
    filter((e): e is Slow => e.type === 'async.slow'),
    map((e) => `${String(e.key)} run ${e.run} ${e.action} ${e.call} attempt ${e.attempt} age ${e.age}`),
  );

describe('S11 slow async blocks are visible in virtual time: async.slow and stats().slowAsync', () => {
  it('a block past slowBlockAfter is reported once, at exactly start + threshold; quicker blocks are not', () => {
    const ts = createTestScheduler();
    const inspector = createInspector({ clock: () => ts.now() });
    const snapshots: Array<[number, AgentStats]> = [];
    ts.run(({ cold, expectObservable }) => {
      expectObservable(slowEvents(inspector.events$)).toBe('30ms a 9ms b', {
        a: 'slow run 0 call 0>call#0 attempt 1 age 30',
        b: 'hung run 2 call 2>call#0 attempt 1 age 30',
      });
      const inputs = cold<Job>('a 9ms (bc)', {
        a: { key: 'slow', frames: 100 },
        b: { key: 'quick', frames: 29 },
        c: { key: 'hung', frames: Infinity },
      });
      const out = inputs.pipe(
        agentOperator(agent, { key: (j) => j.key, scheduler: ts, slowBlockAfter: 30, inspect: inspector.inspect }),
      );
      expectObservable(out, '^ 200ms !').toBe('39ms q 60ms s', { q: 'quick', s: 'slow' });
      for (const at of [29, 35, 45, 150]) ts.schedule(() => snapshots.push([at, inspector.stats()]), at);
    });
    const view = snapshots.map(([at, s]) => [at, s.slowAsync, s.oldestSlowAsync?.call, s.oldestSlowAsync?.age]);
    expect(view).to.deep.equal([
      [29, 0, undefined, undefined],
      [35, 1, '0>call#0', 35],
      [45, 2, '0>call#0', 45], // the hung block too, since frame 40; the oldest is still the first
      [150, 1, '2>call#0', 140], // the first completed at 100; the hung one goes on
    ]);
  });

  it('a retry starts the clock again: each attempt past the threshold is reported, with its attempt number', () => {
    const ts = createTestScheduler();
    const inspector = createInspector({ clock: () => ts.now() });
    let attempt = 0;
    const flaky = defineAgent({
      name: 'flaky',
      actions: (action) => [
        action('call', InputEvent, function* (_e, ctx) {
          // attempt 1 fails at 40, attempt 2 (after a 10-frame delay, at 50) succeeds at 90
          yield* ctx.executeAsyncWith({ retries: 1, retryDelay: 10 }, () =>
            ++attempt === 1 ? virtualFailure(new Error('503'), 40) : virtualDelay('ok', 40),
          );
          ctx.sendEvent(OutputEvent.of('done'));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      expectObservable(slowEvents(inspector.events$)).toBe('30ms a 49ms b', {
        a: 'undefined run 0 call 0>call#0 attempt 1 age 30',
        b: 'undefined run 0 call 0>call#0 attempt 2 age 30',
      });
      expectObservable(
        cold('a|').pipe(agentOperator(flaky, { scheduler: ts, slowBlockAfter: 30, inspect: inspector.inspect })),
      ).toBe('90ms (d|)', { d: 'done' });
    });
    expect(inspector.stats().slowAsync).to.equal(0);
  });

  it('one timer per operator, not per block, and nothing scheduled while idle', () => {
    const counts: Record<string, number> = {};
    for (const slowBlockAfter of [Infinity, 30]) {
      const ts = createTestScheduler();
      const inspector = createInspector({ clock: () => ts.now() });
      let scheduled = 0;
      const counting = Object.create(ts) as typeof ts;
      counting.schedule = ((...args: Parameters<typeof ts.schedule>) => {
        scheduled++;
        return ts.schedule(...args);
      }) as typeof ts.schedule;
      let slow = 0;
      inspector.events$.subscribe((e) => void (e.type === 'async.slow' && slow++));
      ts.run(({ cold }) => {
        // 100 blocks of 100 frames on 100 keys, all in flight together; the source stays open (no `|`).
        const jobs = Object.fromEntries(
          Array.from({ length: 100 }, (_, i) => [`k${i}`, { key: `k${i}`, frames: 100 }]),
        );
        const burst = `(${Object.keys(jobs)
          .map((_, i) => String.fromCharCode(0x100 + i))
          .join('')})`;
        const values = Object.fromEntries(Object.values(jobs).map((j, i) => [String.fromCharCode(0x100 + i), j]));
        cold<Job>(burst, values)
          .pipe(
            agentOperator(agent, {
              key: (j) => j.key,
              scheduler: counting,
              concurrency: Infinity,
              slowBlockAfter,
              inspect: inspector.inspect,
            }),
          )
          .subscribe();
      });
      counts[String(slowBlockAfter)] = scheduled;
      expect(slow).to.equal(slowBlockAfter === 30 ? 100 : 0);
      // The blocks end at 100. Had a sweep been left scheduled after that, flush would have run it later.
      expect(ts.frame).to.equal(100);
    }
    // Through the operator's scheduler the blocks' own timers and wake-ups are the same; the watch adds one
    // timer at a time: set at 0 for 30 (all 100 reported), then at 30, 60 and 90 to look at the reported blocks
    // again (one dropped without settling is forgotten); cancelled at 100 when the last block settles.
    expect(counts['30']! - counts['Infinity']!).to.equal(4);
  });

  it('costs nothing without an inspector, and validates slowBlockAfter', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold<Job>('a|', { a: { key: 'x', frames: 100 } }).pipe(
        agentOperator(agent, { scheduler: ts, slowBlockAfter: 1 }),
      );
      expectObservable(out).toBe('100ms (x|)', { x: 'x' });
    });
    expect(() => agentOperator(agent, { slowBlockAfter: 0 })).to.throw(
      TypeError,
      'Expected `slowBlockAfter` to be a number of ms > 0 or Infinity, got `0` (number)',
    );
    expect(() => agentOperator(agent, { slowBlockAfter: Number.NaN })).to.throw(TypeError, 'slowBlockAfter');
    expect(() => createInspector({ clock: 5 as unknown as () => number })).to.throw(TypeError, 'clock');
  });
});

describe('S9 slow blocks in real time: a hung Promise block is visible while it hangs', () => {
  /** A block whose Promise never settles (a dependency that hangs), for key 'hung'; 5 ms for the others. */
  const hanging = defineAgent<string>({
    name: 'hanging',
    actions: (action) => [
      action('fetch', InputEvent, async (event, ctx) => {
        const key = event.payload;
        await ctx.executeAsync(() =>
          key === 'hung' ? new Promise<never>(() => undefined) : new Promise((r) => setTimeout(r, 5)),
        );
        ctx.sendEvent(OutputEvent.of(key));
      }),
    ],
  });
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('async.slow names the hung call, stats() counts it with its age; the other key is not reported; unsubscribing leaves no timer', async () => {
    const inspector = createInspector();
    await new Promise((r) => setImmediate(r)); // mocha sets its test timer once the test returned its promise
    const before = timers();
    const inputs = new Subject<string>();
    const outputs: unknown[] = [];
    const slow = firstValueFrom(inspector.events$.pipe(filter((e): e is Slow => e.type === 'async.slow')));
    const subscription = inputs
      .pipe(agentOperator(hanging, { key: (k) => k, slowBlockAfter: 50, inspect: inspector.inspect }))
      .subscribe((o) => outputs.push(o));
    inputs.next('hung');
    inputs.next('fine');
    const event = await slow;
    expect([event.key, event.run, event.action, event.call, event.attempt]).to.deep.equal([
      'hung',
      0,
      'fetch',
      '0>fetch#0',
      1,
    ]);
    expect(event.age).to.be.at.least(50);
    expect(outputs).to.deep.equal(['fine']);
    const stats = inspector.stats();
    expect(stats.slowAsync).to.equal(1);
    expect(stats.runningAsync).to.equal(1);
    expect(stats.oldestSlowAsync?.call).to.equal('0>fetch#0');
    expect(stats.oldestSlowAsync?.age).to.be.at.least(event.age);
    subscription.unsubscribe();
    expect(inspector.stats().slowAsync).to.equal(0); // its run ended (aborted)
    expect(timers()).to.equal(before);
  });

  it('with defaultTimeout the hung block is first reported slow, then fails with AsyncTimeoutError; the count goes back to 0', async () => {
    const inspector = createInspector();
    const seen: string[] = [];
    inspector.events$.subscribe((e) => {
      if (e.type === 'async.slow' || (e.type === 'async.completed' && e.key === 'hung')) seen.push(e.type);
    });
    const failures: RunFailure[] = [];
    const inputs = new Subject<string>();
    const done = firstValueFrom(
      inputs.pipe(
        agentOperator(hanging, {
          key: (k) => k,
          slowBlockAfter: 20,
          defaultTimeout: 120,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
          inspect: inspector.inspect,
        }),
        filter(() => false),
      ),
      { defaultValue: 'completed' },
    );
    inputs.next('hung');
    inputs.complete();
    expect(await done).to.equal('completed');
    expect(seen).to.deep.equal(['async.slow', 'async.completed']);
    expect(((failures[0]?.error as ActionError).cause as Error).constructor).to.equal(AsyncTimeoutError);
    expect(inspector.stats().slowAsync).to.equal(0);
  });
});
