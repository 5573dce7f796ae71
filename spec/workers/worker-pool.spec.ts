import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import {
  AbortedError,
  WorkerCaptureError,
  WorkerCrashedError,
  WorkerFunctionError,
  WorkerPoolClosedError,
  WorkerTaskError,
} from '../../lib/errors';
import { createWorkerPool, type WorkerPool } from '../../lib/workers/worker-pool';
import { double } from './fixtures/helper';
import { closePoolAndDir, openPoolAndDir, sleep } from './fixtures/pool';

const TASKS = join(__dirname, 'fixtures', 'tasks.js');

/** A task that writes `path` after `ms` unless its worker is stopped first: proves whether a cancel reached the worker. */
const writeLater = (path: string, ms: number): Promise<string> =>
  new Promise((resolve) =>
    setTimeout(() => {
      require('node:fs').writeFileSync(path, 'ran');
      resolve('written');
    }, ms),
  );

describe('createWorkerPool (real worker threads)', () => {
  let pool: WorkerPool;
  let dir: string;
  beforeEach(() => ({ pool, dir } = openPoolAndDir('rx-agents-workers-')));
  afterEach(() => closePoolAndDir({ pool, dir }));

  describe('pool.fn (self-contained functions)', () => {
    it('runs the function on another thread with explicit arguments', async () => {
      const where = pool.fn((a: number, b: number) => ({
        sum: a + b,
        thread: require('node:worker_threads').threadId as number,
      }));
      const result = await lastValueFrom(where(2, 3));
      expect(result.sum).to.equal(5);
      expect(result.thread).to.not.equal(threadId);
    });

    it('keeps the main thread free while a task computes', async () => {
      const spin = pool.fn((ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return 'spun';
      });
      const order: string[] = [];
      const task = spin
        .withSignal()(400)
        .then((v) => void order.push(v));
      await sleep(10).then(() => void order.push('main-thread timer'));
      await task;
      expect(order).to.deep.equal(['main-thread timer', 'spun']);
    });

    it('warmUp() starts the threads; tasks then run on them', async () => {
      await pool.warmUp();
      const ids = await Promise.all(
        [1, 2].map(() => pool.fn(() => require('node:worker_threads').threadId as number).withSignal()()),
      );
      expect(ids.every((id) => id !== threadId)).to.equal(true);
    });

    it('awaits async functions and structured-clones results', async () => {
      const later = pool.fn(async (n: number) => new Map([[n, new Uint8Array([n])]]));
      const map = await later.withSignal()(7);
      expect(map.get(7)).to.deep.equal(new Uint8Array([7]));
    });

    it('accepts method shorthand', async () => {
      const tasks = {
        triple(n: number) {
          return n * 3;
        },
      };
      expect(await pool.fn(tasks.triple).withSignal()(4)).to.equal(12);
    });

    it('fails a function that captures an outer variable with WorkerCaptureError naming the variable', async () => {
      const factor = 10;
      const scale = pool.fn((n: number) => n * factor);
      const error = await scale
        .withSignal()(2)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerCaptureError);
      expect((error as WorkerCaptureError).code).to.equal('ERR_WORKER_CAPTURE');
      expect((error as WorkerCaptureError).variable).to.equal('factor');
      expect((error as Error).message).to.match(/uses `factor`, which is defined outside the function/);
      expect((error as Error).message).to.match(/Pass `factor` as an argument/);
    });

    it('names a captured TypeScript import and says what it is', async () => {
      const twice = pool.fn((n: number) => double(n));
      const error = await twice
        .withSignal()(2)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerCaptureError);
      expect((error as Error).message).to.match(/`helper_1` looks like a module import compiled by TypeScript/);
    });

    it('does not mistake a ReferenceError about a name the function does not mention for a capture', async () => {
      const indirect = pool.fn(() => (0, eval)(['not', 'Defined', 'Anywhere'].join('') + ' + 1'));
      const error = await indirect
        .withSignal()()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerTaskError);
      expect((error as Error).message).to.match(/ReferenceError: notDefinedAnywhere is not defined/);
    });

    it('rejects what cannot travel as source text at pool.fn() time', () => {
      expect(() => pool.fn(42 as never)).to.throw(
        WorkerFunctionError,
        /Expected pool\.fn\(\) to get a function, got `42` \(number\)/,
      );
      expect(() => pool.fn(Math.max)).to.throw(WorkerFunctionError, /native or bound/);
      expect(() => pool.fn(((n: number) => n).bind(null))).to.throw(WorkerFunctionError, /native or bound/);
      expect(() => pool.fn(class Foo {} as never)).to.throw(WorkerFunctionError, /class `Foo`/);
      expect(() => pool.fn(function* gen() {} as never)).to.throw(WorkerFunctionError, /generator function `gen`/);
    });

    it('fails a throwing task with WorkerTaskError carrying the worker error', async () => {
      const boom = pool.fn(function boom(m: string) {
        throw new TypeError(m);
      });
      const error = (await boom
        .withSignal()('bad input')
        .then(
          () => null,
          (e: unknown) => e,
        )) as WorkerTaskError;
      expect(error).to.be.instanceOf(WorkerTaskError);
      expect(error.code).to.equal('ERR_WORKER_TASK');
      expect(error.message).to.equal('Worker task `boom` failed: TypeError: bad input');
      expect((error.cause as Error).name).to.equal('TypeError');
      expect((error.cause as Error).stack).to.be.a('string');
    });

    it('fails a task whose result cannot be cloned, and the worker stays usable', async () => {
      const returnsFn = pool.fn(() => () => 1);
      const error = await returnsFn
        .withSignal()()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerFunctionError);
      expect((error as Error).message).to.match(/cannot be sent between threads/);
      expect(await pool.fn((n: number) => n + 1).withSignal()(1)).to.equal(2);
    });

    it('fails uncloneable arguments with WorkerFunctionError', async () => {
      const id = pool.fn((x: unknown) => x);
      const error = await id
        .withSignal()(() => 1)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerFunctionError);
      expect((error as Error).message).to.match(/cannot be sent to a worker thread/);
    });
  });

  describe('pool.task (module path + export name)', () => {
    it('loads the export in the worker and runs it', async () => {
      const square = pool.task<(n: number) => number>(TASKS, 'square');
      expect(await lastValueFrom(square(9))).to.equal(81);
      expect(square.label).to.equal(`${TASKS}#square`);
      expect(await firstValueFrom(pool.task<() => number>(TASKS, 'whereAmI')())).to.not.equal(threadId);
    });

    it('reports a missing module at pool.task() time', () => {
      expect(() => pool.task(join(dir, 'nope.js'), 'x')).to.throw(WorkerFunctionError, /cannot find module/);
    });

    it('reports a missing or non-function export with the exports it has', async () => {
      for (const name of ['missing', 'notAFunction']) {
        const error = await pool
          .task(TASKS, name)
          .withSignal()()
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(error).to.be.instanceOf(WorkerFunctionError);
        expect((error as Error).message).to.match(
          new RegExp(`no function export "${name}" \\(its function exports: square, whereAmI, later, fails\\)`),
        );
      }
    });

    it('passes errors thrown by module functions through as WorkerTaskError', async () => {
      const error = await pool
        .task(TASKS, 'fails')
        .withSignal()('out of range')
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerTaskError);
      expect((error as Error).message).to.match(/RangeError: out of range/);
    });
  });

  describe('crashes', () => {
    it('process.exit in a worker fails only that task; the pool replaces the worker', async () => {
      const exit = pool.fn((code: number) => process.exit(code));
      const later = pool.task<(ms: number, v: string) => Promise<string>>(TASKS, 'later');
      const [crashed, other] = await Promise.allSettled([exit.withSignal()(7), later.withSignal()(50, 'fine')]);
      expect(crashed.status).to.equal('rejected');
      const error = (crashed as PromiseRejectedResult).reason as WorkerCrashedError;
      expect(error).to.be.instanceOf(WorkerCrashedError);
      expect(error.code).to.equal('ERR_WORKER_CRASHED');
      expect(error.message).to.match(/died \(exit code 7\)/);
      expect(other).to.deep.equal({ status: 'fulfilled', value: 'fine' });
      expect(await later.withSignal()(1, 'after')).to.equal('after');
    });

    it('an uncaught error thrown later inside the worker fails the task it was running', async () => {
      const bomb = pool.fn(
        () =>
          new Promise(() =>
            setTimeout(() => {
              throw new Error('kaboom');
            }, 5),
          ),
      );
      const error = await bomb
        .withSignal()()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(WorkerCrashedError);
      expect((error as Error).message).to.match(/uncaught Error: kaboom/);
    });
  });

  describe('cancellation', () => {
    it('unsubscribing from a running task terminates its worker, so the task never finishes', async () => {
      const marker = join(dir, 'running');
      const sub = pool.fn(writeLater)(marker, 300).subscribe();
      await sleep(100);
      expect(pool.running).to.equal(1);
      sub.unsubscribe();
      expect(pool.running).to.equal(0);
      await sleep(400);
      expect(existsSync(marker)).to.equal(false);
    });

    it('unsubscribing from a queued task drops it before it starts', async () => {
      const one = createWorkerPool({ threads: 1 });
      try {
        const first = join(dir, 'first');
        const second = join(dir, 'second');
        const write = one.fn(writeLater);
        const running = write.withSignal()(first, 100);
        const queued = write(second, 0).subscribe();
        expect(one.queued).to.equal(1);
        queued.unsubscribe();
        expect(one.queued).to.equal(0);
        expect(await running).to.equal('written');
        await sleep(100);
        expect(existsSync(first)).to.equal(true);
        expect(existsSync(second)).to.equal(false);
      } finally {
        await one.close();
      }
    });

    it('withSignal: aborting rejects with AbortedError and stops the worker', async () => {
      const marker = join(dir, 'signal');
      const controller = new AbortController();
      const pending = pool.fn(writeLater).withSignal(controller.signal)(marker, 300);
      await sleep(100);
      controller.abort();
      const error = await pending.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(AbortedError);
      await sleep(400);
      expect(existsSync(marker)).to.equal(false);
      const aborted = await pool
        .fn(() => 1)
        .withSignal(controller.signal)()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(aborted).to.be.instanceOf(AbortedError);
    });

    it('withSignal leaves no abort listener behind, also when the task fails at once (closed pool, uncloneable arguments)', async () => {
      const signal = new AbortController().signal;
      const id = pool.fn((x: unknown) => x);
      expect(await id.withSignal(signal)(1)).to.equal(1);
      expect(
        await id
          .withSignal(signal)(() => 1)
          .then(
            () => null,
            (e: unknown) => e,
          ),
      ).to.be.instanceOf(WorkerFunctionError);
      await pool.close();
      expect(
        await id
          .withSignal(signal)(1)
          .then(
            () => null,
            (e: unknown) => e,
          ),
      ).to.be.instanceOf(WorkerPoolClosedError);
      expect(getEventListeners(signal, 'abort')).to.have.length(0);
    });
  });

  describe('bounds and lifetime', () => {
    it('runs at most `threads` tasks at once, on at most `threads` threads', async () => {
      const where = pool.fn(async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return require('node:worker_threads').threadId as number;
      });
      const all = Array.from({ length: 6 }, () => where.withSignal()(40));
      expect(pool.running).to.equal(2);
      expect(pool.queued).to.equal(4);
      const threads = new Set(await Promise.all(all));
      expect(threads.size).to.be.at.most(2);
      expect(pool.running).to.equal(0);
    });

    it('close() fails running and queued tasks with WorkerPoolClosedError, and later calls too', async () => {
      const later = pool.task<(ms: number, v: number) => Promise<number>>(TASKS, 'later');
      const pending = [1, 2, 3].map((v) =>
        later
          .withSignal()(1000, v)
          .then(
            () => null,
            (e: unknown) => e,
          ),
      );
      await pool.close();
      for (const error of await Promise.all(pending)) expect(error).to.be.instanceOf(WorkerPoolClosedError);
      expect(pool.closed).to.equal(true);
      const after = await later
        .withSignal()(1, 1)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(after).to.be.instanceOf(WorkerPoolClosedError);
      expect((after as Error).message).to.match(/its worker pool was closed/);
    });

    it('validates its options', () => {
      expect(() => createWorkerPool({ threads: 0 })).to.throw(
        TypeError,
        'Expected `threads` to be an integer >= 1, got `0` (number)',
      );
      expect(() => createWorkerPool({ execArgv: 'x' as never })).to.throw(
        TypeError,
        /Expected `execArgv` to be an array of strings/,
      );
      expect(() => pool.task('' as string)).to.throw(TypeError, /Expected `modulePath`/);
    });
  });
});
