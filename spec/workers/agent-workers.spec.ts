import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent, type RunFailure } from '../../lib';
import { ActionError, AsyncTimeoutError, WorkerCrashedError } from '../../lib/errors';
import { closeWorkerPoolOnEnd } from '../../lib/workers/close-worker-pool-on-end';
import type { WorkerPool } from '../../lib/workers/worker-pool';
import { closePoolAndDir, openPoolAndDir, sleep } from './fixtures/pool';

/** CPU work standing in for the seed's time.sleep: self-contained, so it can be shipped to a worker. */
function myFunc1(id: number): number {
  let x = id;
  for (let i = 0; i < 200_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}
function myFunc2(id: number, salt: string): string {
  return `${salt}:${id * 2}`;
}

describe('worker pool inside agents (executeAsync on worker threads)', () => {
  let pool: WorkerPool;
  let dir: string;
  beforeEach(() => ({ pool, dir } = openPoolAndDir('rx-agents-agent-workers-')));
  afterEach(() => closePoolAndDir({ pool, dir }));

  it("mirrors the seed's execute_async(my_func1, input.id) in generator and async actions", async () => {
    const Mid = defineEvent('mid', z.object({ id: z.number(), r1: z.number() }));
    const f1 = pool.fn(myFunc1);
    const f2 = pool.fn(myFunc2);
    const agent = defineAgent({
      name: 'seed',
      input: z.object({ id: z.number(), key: z.string() }),
      actions: (action) => [
        action('action1', InputEvent, function* (event, ctx) {
          const r1 = yield* ctx.executeAsync(f1, event.payload.id);
          ctx.sendEvent(Mid.of({ id: event.payload.id, r1 }));
        }),
        action('action2', Mid, async (event, ctx) => {
          const r2 = await ctx.executeAsync(f2, event.payload.id, 'k');
          ctx.sendEvent(OutputEvent.of({ id: event.payload.id, r1: event.payload.r1, r2 }));
        }),
      ],
    });
    const inputs = [1, 2, 3, 4].map((id) => ({ id, key: `k${id % 2}` }));
    const out = await lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.key }), toArray()));
    expect((out as Array<{ id: number }>).sort((a, b) => a.id - b.id)).to.deep.equal(
      inputs.map(({ id }) => ({ id, r1: myFunc1(id), r2: myFunc2(id, 'k') })),
    );
  });

  it("a worker crash fails only the run that used it (errorPolicy 'isolate')", async () => {
    const work = pool.fn((n: number) => (n === 3 ? process.exit(1) : n * 10));
    const agent = defineAgent({
      name: 'crashy',
      input: z.number(),
      actions: (action) => [
        action('work', InputEvent, function* (event, ctx) {
          ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(work, event.payload)));
        }),
      ],
    });
    const failures: RunFailure[] = [];
    const out = await lastValueFrom(
      from([1, 2, 3, 4, 5]).pipe(
        agentOperator(agent, { key: (n) => n % 2, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f) }),
        toArray(),
      ),
    );
    expect((out as number[]).sort((a, b) => a - b)).to.deep.equal([10, 20, 40, 50]);
    expect(failures).to.have.length(1);
    expect(failures[0]?.input).to.equal(3);
    expect(failures[0]?.error).to.be.instanceOf(ActionError);
    expect((failures[0]?.error as ActionError).cause).to.be.instanceOf(WorkerCrashedError);
  });

  it('unsubscribing the stream aborts the worker task (it never completes)', async () => {
    const marker = join(dir, 'unsubscribed');
    const slow = pool.fn(
      (path: string) =>
        new Promise((resolve) => setTimeout(() => resolve(require('node:fs').writeFileSync(path, 'x')), 300)),
    );
    const agent = defineAgent({
      name: 'slow',
      input: z.string(),
      actions: (action) => [
        action('slow', InputEvent, function* (event, ctx) {
          yield* ctx.executeAsync(slow, event.payload);
        }),
      ],
    });
    const inputs = new Subject<string>();
    const sub = inputs.pipe(agentOperator(agent)).subscribe();
    inputs.next(marker);
    await sleep(100);
    expect(pool.running).to.equal(1);
    sub.unsubscribe();
    expect(pool.running).to.equal(0);
    await sleep(400);
    expect(existsSync(marker)).to.equal(false);
  });

  it('a timeout cancels the worker task', async () => {
    const spin = pool.fn((ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return 'done';
    });
    const agent = defineAgent({
      name: 'timeout',
      input: z.number(),
      actions: (action) => [
        action('spin', InputEvent, function* (event, ctx) {
          ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsyncWith({ timeout: 50 }, spin, event.payload)));
        }),
      ],
    });
    const error = await lastValueFrom(from([5_000]).pipe(agentOperator(agent))).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ActionError);
    expect((error as ActionError).cause).to.be.instanceOf(AsyncTimeoutError);
    expect(pool.running).to.equal(0); // the spinning worker was terminated, not left burning a core
  });

  it('closeWorkerPoolOnEnd closes the pool when the stream completes', async () => {
    const inc = pool.fn((n: number) => n + 1);
    const agent = defineAgent({
      name: 'inc',
      input: z.number(),
      actions: (action) => [
        action('inc', InputEvent, function* (event, ctx) {
          ctx.sendEvent(OutputEvent.of(yield* ctx.executeAsync(inc, event.payload)));
        }),
      ],
    });
    const out = await lastValueFrom(
      from([1, 2]).pipe(agentOperator(agent, { key: (n) => n }), closeWorkerPoolOnEnd(pool), toArray()),
    );
    expect((out as number[]).sort()).to.deep.equal([2, 3]);
    expect(pool.closed).to.equal(true);
  });

  it('leaves no process hanging: a script that never closes its pool exits on its own', function () {
    this.timeout(30_000);
    const child = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fixtures', 'no-hang.ts')],
      {
        cwd: join(__dirname, '..', '..'),
        encoding: 'utf8',
        timeout: 25_000,
        killSignal: 'SIGKILL',
      },
    );
    expect(child.signal, 'the child had to be killed: something kept it alive').to.equal(null);
    expect(child.status, child.stderr).to.equal(0);
    expect(child.stdout.trim()).to.equal('[1,4,9]');
  });
});
