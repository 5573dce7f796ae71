import { expect } from 'chai';
import { from, lastValueFrom, timer } from 'rxjs';
import { toArray } from 'rxjs/operators';
import {
  AsyncBlockAccessError,
  agentOperator,
  defineAgent,
  InputEvent,
  OutputEvent,
  type RunFailure,
  type RunnerContext,
} from '../../lib';

// A sync agent's run ends inside its input's `accept`, and admission hands the freed key state to the next
// new key at once (lib/runtime/admission.ts). Everything reported about a run must name the run's own key.
interface Job {
  readonly k: string;
  readonly fail?: 'sync' | 'later';
}

const kept: RunnerContext[] = [];
const agent = defineAgent<Job>({
  name: 'reuse',
  actions: (action) => [
    action('act', InputEvent, function* (event, ctx) {
      kept.push(ctx);
      if (event.payload.fail === 'sync') throw new Error(`sync ${event.payload.k}`);
      if (event.payload.fail === 'later') {
        yield* ctx.executeAsync(() => timer(5));
        throw new Error(`later ${event.payload.k}`);
      }
      ctx.sendEvent(OutputEvent.of(event.payload.k));
    }),
  ],
});

async function run(jobs: readonly Job[]): Promise<{ outputs: unknown[]; failed: RunFailure[] }> {
  const failed: RunFailure[] = [];
  const outputs = await lastValueFrom(
    from(jobs).pipe(
      agentOperator(agent, {
        key: (j) => j.k,
        errorPolicy: 'isolate',
        output: 'envelope',
        onRunFailed: (f) => void failed.push(f),
      }),
      toArray(),
    ),
  );
  return { outputs, failed };
}

describe('runtime: a reused key state never lends its key to another run (S9 isolate reports, S8 envelopes)', () => {
  beforeEach(() => (kept.length = 0));

  it('sync runs of many keys, some failing: every report and envelope names its own input key', async () => {
    const jobs: Job[] = [];
    for (let i = 0; i < 60; i++) jobs.push({ k: `k${i % 7}`, ...(i % 3 === 1 ? { fail: 'sync' as const } : {}) });
    const { outputs, failed } = await run(jobs);
    expect(
      failed.map((f) => [f.key, (f.input as Job).k, f.error.message.includes(`sync ${f.key as string}`)]),
    ).to.deep.equal(jobs.filter((j) => j.fail === 'sync').map((j) => [j.k, j.k, true]));
    expect(outputs.map((o) => [(o as { key: unknown }).key, (o as { payload: unknown }).payload])).to.deep.equal(
      jobs.filter((j) => j.fail === undefined).map((j) => [j.k, j.k]),
    );
  });

  it('a run that fails later, while other keys took and freed key states meanwhile: its report names its key', async () => {
    const jobs: Job[] = [{ k: 'slow', fail: 'later' }];
    for (let i = 0; i < 20; i++) jobs.push({ k: `fast${i}` });
    const { outputs, failed } = await run(jobs);
    expect(failed.map((f) => f.key)).to.deep.equal(['slow']);
    expect(failed[0]?.error.message).to.contain('later slow');
    expect(outputs.map((o) => (o as { key: unknown }).key)).to.deep.equal(jobs.slice(1).map((j) => j.k));
  });

  it("a context kept past its run still refuses sendEvent after its state went to another key (S5 'after')", async () => {
    await run([{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
    expect(kept).to.have.length(3);
    for (const ctx of kept) {
      let thrown: unknown;
      try {
        ctx.sendEvent(OutputEvent.of('late'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(AsyncBlockAccessError);
      expect((thrown as AsyncBlockAccessError).action).to.equal('act');
      expect((thrown as AsyncBlockAccessError).when).to.equal('after');
    }
  });
});
