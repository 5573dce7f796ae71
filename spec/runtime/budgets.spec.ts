import { expect } from 'chai';
import fc from 'fast-check';
import { merge, type Observable } from 'rxjs';
import {
  agentOperator,
  createBudgets,
  createExecutor,
  defineAgent,
  exponentialBackoff,
  InputEvent,
  OutputEvent,
  RetryPolicyError,
  UnknownBudgetError,
  type AsyncCallOptions,
  type Budgets,
  type ExecutorTask,
} from '../../lib';
import { createTestScheduler, virtualDelay, virtualFailure } from '../../lib/testing';
import { timeline } from '../fixtures/virtual-timeline';

interface Job {
  readonly key: string;
  readonly id: number;
  readonly frames?: number;
}

/** One action per input: one call of `frames` under `options`, then an output `<id>`. */
function budgeted(options: AsyncCallOptions, calls = 1) {
  return defineAgent({
    name: 'budgeted',
    actions: (action) => [
      action('call', InputEvent, function* (event, ctx) {
        const job = event.payload as Job;
        const pending = Array.from({ length: calls }, (_, i) =>
          ctx.executeAsyncWith(options, () => virtualDelay(`${job.id}${calls > 1 ? `.${i}` : ''}`, job.frames ?? 10)),
        );
        for (const c of pending) ctx.sendEvent(OutputEvent.of(yield* c));
      }),
    ],
  });
}

describe('named budgets (createBudgets, executeAsyncWith({ budget }))', () => {
  it('concurrency caps calls in flight across keys, in virtual time', () => {
    const seen = timeline((cold) => {
      const budgets = createBudgets({ llm: 2 });
      return cold<Job>('(abcd|)', {
        a: { key: 'a', id: 1 },
        b: { key: 'b', id: 2 },
        c: { key: 'c', id: 3 },
        d: { key: 'd', id: 4 },
      }).pipe(agentOperator(budgeted({ budget: 'llm' }), { key: (j) => j.key, budgets }));
    });
    expect(seen).to.deep.equal(['10:1', '10:2', '20:3', '20:4', '20:|']);
  });

  it('is shared between operators (and so between agents): one budget, two streams', () => {
    const seen = timeline((cold) => {
      const budgets = createBudgets({ llm: 1 });
      const one = cold<Job>('(a|)', { a: { key: 'a', id: 1 } }).pipe(
        agentOperator(budgeted({ budget: 'llm' }), { key: (j) => j.key, budgets }),
      );
      const two = cold<Job>('(b|)', { b: { key: 'b', id: 2 } }).pipe(
        agentOperator(budgeted({ budget: 'llm' }), { key: (j) => j.key, budgets }),
      );
      return merge(one, two);
    });
    expect(seen).to.deep.equal(['10:1', '20:2', '20:|']);
  });

  it('perKey caps one key while other keys use the rest of the budget; FIFO within the key', () => {
    const seen = timeline((cold) =>
      cold<Job>('(ab|)', { a: { key: 'hot', id: 1 }, b: { key: 'cold', id: 2 } }).pipe(
        agentOperator(budgeted({ budget: 'llm' }, 3), {
          key: (j) => j.key,
          budgets: createBudgets({ llm: { concurrency: 4, perKey: 1 } }),
        }),
      ),
    );
    // hot's three calls go one at a time (done at 10, 20, 30) in call order; cold's do too, beside them.
    expect(seen).to.deep.equal(['10:1.0', '10:2.0', '20:1.1', '20:2.1', '30:1.2', '30:2.2', '30:|']);
  });

  it('rate: at most `limit` starts in any `per` ms; the budget wakes itself on the scheduler', () => {
    const starts: number[] = [];
    const ts = createTestScheduler();
    const seen: string[] = [];
    ts.run(({ cold }) => {
      const budgets = createBudgets({ api: { rate: { limit: 2, per: 10 } } });
      const agent = defineAgent({
        name: 'rated',
        actions: (action) => [
          action('call', InputEvent, function* (event, ctx) {
            const r = yield* ctx.executeAsyncWith({ budget: 'api' }, () => {
              starts.push(ts.now());
              return virtualDelay(event.payload as number, 1);
            });
            ctx.sendEvent(OutputEvent.of(r));
          }),
        ],
      });
      cold<number>('(abcde|)', { a: 1, b: 2, c: 3, d: 4, e: 5 })
        .pipe(agentOperator(agent, { key: (n) => n, budgets }))
        .subscribe({ next: (v) => seen.push(`${ts.now()}:${v}`), complete: () => seen.push(`${ts.now()}:|`) });
      ts.schedule(() => {
        const s = budgets.stats()['api'];
        seen.push(`stats@5 running=${s?.running} waiting=${s?.waiting} used=${s?.rate?.used}`);
      }, 5);
    });
    expect(starts).to.deep.equal([0, 0, 10, 10, 20]);
    expect(seen).to.deep.equal(['1:1', '1:2', 'stats@5 running=0 waiting=3 used=2', '11:3', '11:4', '21:5', '21:|']);
  });

  it('stats(): running and waiting per budget, freed keys afterwards (S10)', () => {
    const ts = createTestScheduler();
    let during: unknown;
    let after: unknown;
    const budgets = createBudgets({ llm: { concurrency: 1 }, search: 4 });
    ts.run(({ cold }) => {
      cold<Job>('(abc|)', { a: { key: 'a', id: 1 }, b: { key: 'b', id: 2 }, c: { key: 'c', id: 3 } })
        .pipe(agentOperator(budgeted({ budget: 'llm' }), { key: (j) => j.key, budgets }))
        .subscribe();
      ts.schedule(() => (during = budgets.stats()), 5);
      ts.schedule(() => (after = budgets.stats()), 100);
    });
    expect(during).to.deep.equal({
      llm: { concurrency: 1, perKey: Infinity, running: 1, waiting: 2, keys: 3 },
      search: { concurrency: 4, perKey: Infinity, running: 0, waiting: 0, keys: 0 },
    });
    expect((after as Record<string, { keys: number; running: number }>)['llm']).to.include({ keys: 0, running: 0 });
  });

  it('a budget permit is taken before the executor slot (no slot is held while a call waits for its budget)', () => {
    const seen = timeline((cold) => {
      const executor = createExecutor(1);
      const budgets = createBudgets({ slow: 1 });
      const agent = defineAgent({
        name: 'two-budgets',
        actions: (action) => [
          action('call', InputEvent, function* (event, ctx) {
            const job = event.payload as Job;
            const options: AsyncCallOptions = job.key === 'free' ? {} : { budget: 'slow' };
            ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsyncWith(options, () => virtualDelay(job.id, 10))));
          }),
        ],
      });
      // Two calls on `slow` (the second waits for the budget), then one unbudgeted: it gets the executor at 10.
      return cold<Job>('(abc|)', { a: { key: 'x', id: 1 }, b: { key: 'y', id: 2 }, c: { key: 'free', id: 3 } }).pipe(
        agentOperator(agent, { key: (j) => j.key, executor, budgets }),
      );
    });
    expect(seen).to.deep.equal(['10:1', '20:3', '30:2', '30:|']);
  });

  it('an unknown budget name fails the action with UnknownBudgetError naming the known ones', () => {
    const seen = timeline((cold) =>
      cold<Job>('(a|)', { a: { key: 'a', id: 1 } }).pipe(
        agentOperator(budgeted({ budget: 'opneai' }), { budgets: createBudgets({ openai: 2 }) }),
      ),
    );
    expect(seen).to.deep.equal([
      '0:# Action `call` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): UnknownBudgetError: Action `call` asked for budget `opneai`, but the operator has only `openai`. Add it to createBudgets({ ... }) or fix the name.',
    ]);
    const error = new UnknownBudgetError('x', 'act', []);
    expect([error.name, error.code]).to.deep.equal(['UnknownBudgetError', 'ERR_UNKNOWN_BUDGET']);
  });

  it('bad budget specs are refused at creation with a TypeError that says what to fix', () => {
    expect(() => createBudgets({ llm: 0 })).to.throw(
      TypeError,
      'Expected `budget `llm`.concurrency` to be an integer >= 1 or Infinity, got `0` (number)',
    );
    expect(() => createBudgets({ llm: { rate: { limit: 5, per: -1 } } })).to.throw(TypeError, 'rate.per');
    expect(() => createBudgets({ llm: { perKey: 1.5 } })).to.throw(TypeError, 'perKey');
    expect(() => createBudgets(null as never)).to.throw(TypeError, 'createBudgets config');
    expect(() => agentOperator(budgeted({}), { budgets: {} as Budgets })).to.throw(TypeError, 'createBudgets');
  });

  it('property: FIFO within a key, never more than `concurrency` permits out, every call runs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(5) }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(4), { maxLength: 60 }),
        (keys, concurrency, completions) => {
          const budgets = createBudgets({ b: concurrency });
          const started: Array<{ key: number; n: number }> = [];
          const running: Array<() => void> = [];
          const executor = createExecutor(Infinity);
          const submitted = new Map<number, number>();
          const submit = (key: number): void => {
            const n = submitted.get(key) ?? 0;
            submitted.set(key, n + 1);
            const task: ExecutorTask = {
              key,
              wanted: true,
              start: (done) => {
                started.push({ key, n });
                running.push(done);
                expect(running.length).to.be.at.most(concurrency);
              },
            };
            budgets.submit('b', task, executor);
          };
          // Submit in bursts, completing some running calls between bursts.
          let c = 0;
          keys.forEach((key, i) => {
            submit(key);
            if (i % 3 === 2 && running.length > 0) running.splice((completions[c++] ?? 0) % running.length, 1)[0]?.();
          });
          while (running.length > 0) running.shift()?.();
          expect(started.length).to.equal(keys.length);
          // FIFO within a key.
          for (const key of submitted.keys()) {
            const ns = started.filter((s) => s.key === key).map((s) => s.n);
            expect(ns).to.deep.equal([...ns].sort((a, b) => a - b));
          }
          return budgets.stats()['b']?.keys === 0;
        },
      ),
    );
  });

  it('property: a hot key flooding the budget cannot starve others (each waiting key is served within one round)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 200 }),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 20 }),
        (hot, others) => {
          const budgets = createBudgets({ b: 1 });
          const order: number[] = [];
          const running: Array<() => void> = [];
          const executor = createExecutor(Infinity);
          const submit = (key: number): void =>
            void budgets.submit(
              'b',
              { key, wanted: true, start: (done) => (order.push(key), running.push(done)) },
              executor,
            );
          for (let i = 0; i < hot; i++) submit(-1); // the hot key floods first
          for (const k of others) submit(k);
          while (running.length > 0) running.shift()?.();
          // After the first grant, every other key's first call starts before the hot key's (distinct keys + 1)-th call.
          const distinct = new Set(others).size;
          const hotIndex = order.reduce<number[]>((acc, k, i) => (k === -1 ? [...acc, i] : acc), []);
          const lastFirst = Math.max(...[...new Set(others)].map((k) => order.indexOf(k)));
          return lastFirst < (hotIndex[distinct + 1] ?? Infinity);
        },
      ),
    );
  });
});

describe('retries: exponential backoff with jitter, retryIf', () => {
  const failing = (failures: number, error: (n: number) => unknown = (n) => new Error(`fail ${n}`)) => {
    let attempts = 0;
    return (): Observable<string> =>
      ++attempts <= failures ? virtualFailure(error(attempts), 1) : virtualDelay(`ok after ${attempts}`, 1);
  };

  function one(options: AsyncCallOptions, block: () => Observable<string>, budgets?: Budgets): string[] {
    const agent = defineAgent({
      name: 'retrying',
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsyncWith(options, block)));
        }),
      ],
    });
    return timeline((cold) => cold('(a|)').pipe(agentOperator(agent, budgets === undefined ? {} : { budgets })));
  }

  it('exponential backoff without jitter waits 10, 20, 40 ms (scheduler time)', () => {
    // attempts at 0, 1+10, 12+20, 33+40; the last succeeds at 74.
    expect(
      one({ retries: 3, retryDelay: exponentialBackoff({ initial: 10, jitter: 'none' }) }, failing(3)),
    ).to.deep.equal(['74:ok after 4', '74:|']);
  });

  it('full jitter scales each delay by the random source; max caps the base', () => {
    const delays = exponentialBackoff({ initial: 100, max: 250, random: () => 0.5 });
    expect([1, 2, 3, 4].map((n) => delays(n, null))).to.deep.equal([50, 100, 125, 125]);
    const equal = exponentialBackoff({ initial: 100, jitter: 'equal', random: () => 0 });
    expect(equal(2, null)).to.equal(100);
    expect(() => exponentialBackoff({ factor: 0.5 })).to.throw(TypeError, 'factor');
    expect(() => exponentialBackoff({ jitter: 'some' as never })).to.throw(TypeError, 'jitter');
  });

  it('retryIf: only matching errors are retried; others fail at once', () => {
    const status = (n: number) =>
      Object.assign(new Error(`HTTP ${n === 1 ? 503 : 400}`), { status: n === 1 ? 503 : 400 });
    const retryIf = (e: unknown): boolean => ((e as { status: number }).status ?? 0) >= 500;
    const seen = one({ retries: 5, retryIf }, failing(3, status));
    expect(seen).to.deep.equal([
      '2:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: HTTP 400',
    ]);
  });

  it('a throwing retryIf or a bad retryDelay fails the call with RetryPolicyError (never unhandled)', () => {
    const seen = one(
      {
        retries: 2,
        retryIf: () => {
          throw new Error('boom');
        },
      },
      failing(1),
    );
    expect(seen).to.deep.equal([
      '1:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): RetryPolicyError: The `retryIf` of a call in action `act` threw, so the call failed without another attempt. Make retryIf return a boolean for every error it gets.',
    ]);
    const nan = one({ retries: 2, retryDelay: () => NaN }, failing(1));
    expect(nan[0]).to.contain('RetryPolicyError: The `retryDelay` of a call in action `act` threw');
    expect(new RetryPolicyError('a', 'retryIf', null).code).to.equal('ERR_RETRY_POLICY');
  });

  it('a retry waiting for its delay gives its budget permit back (another key runs meanwhile), and takes a new one', () => {
    const seen = timeline((cold) => {
      const budgets = createBudgets({ llm: 1 });
      let attempts = 0;
      const agent = defineAgent({
        name: 'retry-budget',
        actions: (action) => [
          action('act', InputEvent, function* (event, ctx) {
            const job = event.payload as Job;
            const r = yield* ctx.executeAsyncWith(
              { budget: 'llm', retries: 1, retryDelay: 20 },
              (): Observable<string> =>
                job.key === 'flaky' && ++attempts === 1
                  ? virtualFailure(new Error('429'), 1)
                  : virtualDelay(`${job.id}`, 5),
            );
            ctx.sendEvent(OutputEvent.of(r));
          }),
        ],
      });
      return cold<Job>('(ab|)', { a: { key: 'flaky', id: 1 }, b: { key: 'other', id: 2 } }).pipe(
        agentOperator(agent, { key: (j) => j.key, budgets }),
      );
    });
    // flaky fails at 1 and waits until 21; other takes the permit at 1 and is done at 6; flaky's retry ends at 26.
    expect(seen).to.deep.equal(['6:2', '26:1', '26:|']);
  });

  it('bad call options fail the action with a TypeError naming the option', () => {
    const seen = one({ retries: -1 }, failing(0));
    expect(seen[0]).to.contain(
      'TypeError: Expected `retries` of executeAsyncWith in action `act` to be an integer from 0 to 1000000, got `-1`',
    );
    expect(one({ retries: 1_000_001 }, failing(0))[0]).to.contain('`retries`');
    expect(one({ timeout: NaN }, failing(0))[0]).to.contain('`timeout`');
    expect(one({ retryDelay: -5 }, failing(0))[0]).to.contain('`retryDelay`');
    expect(one({ budget: 42 as never }, failing(0))[0]).to.contain('`budget`');
  });
});
