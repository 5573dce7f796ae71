import { expect } from 'chai';
import { lastValueFrom, range } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { agentOperator, createExecutor, defineAgent, InputEvent, OutputEvent, type ExecutorTask } from '../../lib';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A task that records when it starts and finishes after `ms` real milliseconds. */
function task(
  key: unknown,
  log: string[],
  name: string,
  ms: number,
  probe: { running: number; max: number },
): ExecutorTask {
  return {
    key,
    wanted: true,
    start(done) {
      probe.running++;
      probe.max = Math.max(probe.max, probe.running);
      log.push(name);
      void sleep(ms).then(() => {
        probe.running--;
        done();
      });
    },
  };
}

describe('executor (createExecutor)', () => {
  it('never runs more than `concurrency` tasks; runs them all', async () => {
    const pool = createExecutor(3);
    const probe = { running: 0, max: 0 };
    const log: string[] = [];
    for (let i = 0; i < 20; i++) pool.submit(task(i % 4, log, `t${i}`, 1 + (i % 3), probe));
    expect(pool.active).to.equal(3);
    expect(pool.queued).to.equal(17);
    while (log.length < 20 || pool.active > 0) await sleep(2);
    expect(probe.max).to.equal(3);
    expect(pool.queued).to.equal(0);
  });

  it('takes turns across keys: a key that fans out 10 tasks does not starve another key', async () => {
    const pool = createExecutor(1);
    const probe = { running: 0, max: 0 };
    const log: string[] = [];
    pool.submit(task('busy', log, 'busy0', 1, probe));
    for (let i = 1; i < 10; i++) pool.submit(task('busy', log, `busy${i}`, 1, probe));
    pool.submit(task('other', log, 'other0', 1, probe));
    pool.submit(task('other', log, 'other1', 1, probe));
    while (log.length < 12 || pool.active > 0) await sleep(2);
    expect(log.slice(0, 6)).to.deep.equal(['busy0', 'busy1', 'other0', 'busy2', 'other1', 'busy3']);
  });

  it('skips tasks that are no longer wanted without using a slot', () => {
    const pool = createExecutor(1);
    const started: string[] = [];
    let finish!: () => void;
    pool.submit({ key: 1, wanted: true, start: (done) => ((finish = done), started.push('a')) });
    pool.submit({ key: 1, wanted: false, start: () => started.push('cancelled') });
    pool.submit({ key: 1, wanted: true, start: (done) => (started.push('c'), done()) });
    finish();
    expect(started).to.deep.equal(['a', 'c']);
    expect(pool.active).to.equal(0);
  });

  it('an action waiting on a full pool cannot deadlock it: only blocks hold slots (concurrency 1, nested fan-out)', async () => {
    const agent = defineAgent({
      name: 'nested',
      actions: (action) => [
        action('fan', InputEvent, function* (event, ctx) {
          const calls = [1, 2, 3].map((i) =>
            ctx.executeAsync((x: number) => sleep(1).then(() => x * i), event.payload as number),
          );
          const results = yield* ctx.all(calls);
          const again = yield* ctx.executeAsync(() => sleep(1).then(() => results.reduce((a, b) => a + b, 0)));
          ctx.sendEvent(OutputEvent.of(again));
        }),
      ],
    });
    const out = await lastValueFrom(
      range(1, 20).pipe(agentOperator(agent, { key: (x: number) => x % 5, concurrency: 1 }), toArray()),
    );
    expect((out as number[]).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => (i + 1) * 6));
  });

  it('a shared executor caps blocks across two operators', async () => {
    const pool = createExecutor(2);
    let running = 0;
    let max = 0;
    const agent = defineAgent({
      name: 'shared',
      actions: (action) => [
        action('work', InputEvent, async (event, ctx) => {
          await ctx.executeAsync(async () => {
            running++;
            max = Math.max(max, running);
            await sleep(2);
            running--;
          });
          ctx.sendEvent(OutputEvent.of(event.payload));
        }),
      ],
    });
    const a = lastValueFrom(
      range(0, 10).pipe(agentOperator(agent, { key: (x: number) => x, executor: pool }), toArray()),
    );
    const b = lastValueFrom(
      range(0, 10).pipe(agentOperator(agent, { key: (x: number) => x, executor: pool }), toArray()),
    );
    await Promise.all([a, b]);
    expect(max).to.equal(2);
  });
});
