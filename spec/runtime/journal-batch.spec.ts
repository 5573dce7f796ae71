import { expect } from 'chai';
import { lastValueFrom, range, Subscription, toArray, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { map } from 'rxjs/operators';
import {
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  type AgentStore,
  type JournalBatch,
  type JournalSnapshot,
  type MemoryStore,
} from '../../lib';
import type { JournalCall } from '../../lib/runtime/durability';
import { Journal } from '../../lib/runtime/journal';

/** A memoryStore that keeps a copy of every batch it commits, with a chosen group-commit window. */
function recording(commitDelay: number): { store: AgentStore; inner: MemoryStore; batches: JournalBatch[] } {
  const inner = memoryStore();
  const batches: JournalBatch[] = [];
  const store: AgentStore = {
    location: 'recording',
    commitDelay,
    load: (agent) => inner.load(agent),
    commit: (agent, batch) => {
      batches.push(batch);
      inner.commit(agent, batch);
    },
    close: () => inner.close(),
  };
  return { store, inner, batches };
}

const later = (value: number): Promise<number> => new Promise((resolve) => setImmediate(() => resolve(value)));

const counter = defineAgent<{ i: number; k: number }>({
  name: 'journal-batch',
  actions: (action) => [
    action('count', InputEvent, function* (event, ctx) {
      const a = yield* ctx.executeAsync(later, event.payload.i);
      const b = yield* ctx.executeAsync(later, a + 1);
      const seen = ctx.shortTermMemory.get<number[]>('seen') ?? [];
      ctx.shortTermMemory.set('seen', [...seen, event.payload.i]);
      ctx.sendEvent(OutputEvent.of(b));
    }),
  ],
});

const run = (store: AgentStore, n: number, keys: number): Promise<unknown[]> =>
  lastValueFrom(
    range(0, n).pipe(
      map((i) => ({ i, k: i % keys })),
      agentOperator(counter, { key: (x) => x.k, store }),
      toArray(),
    ),
  );

describe('runtime: what a group commit leaves out (S13)', () => {
  it('writes no call of a run that ends in the same batch, and prunes calls only of runs that have some written', async () => {
    const { store, inner, batches } = recording(0);
    const outputs = await run(store, 60, 3);
    expect(outputs).to.have.length(60);
    let written = 0;
    const stored = new Set<number>();
    for (const batch of batches) {
      const ended = new Set(batch.ends.map((e) => e.seq));
      for (const call of batch.calls) {
        expect(ended.has(call.seq), `call ${call.id} written in the batch that ends its run`).to.equal(false);
        stored.add(call.seq);
        written++;
      }
      for (const end of batch.ends) {
        if (end.prune) expect(end.calls !== false, `end of run ${end.seq}`).to.equal(stored.has(end.seq));
        stored.delete(end.seq);
      }
    }
    expect(written, 'some runs span batches (the workload is meaningful)').to.be.greaterThan(0);
    expect(inner.size('journal-batch')).to.deep.equal({ inputs: 0, calls: 0, keys: 3 });
  });

  it('writes one memory per key per batch — the last — and the memory after the commits is that of every run (S13)', async () => {
    const { store, inner, batches } = recording(200);
    await run(store, 30, 2);
    let memoryWrites = 0;
    for (const batch of batches) {
      const keys = batch.ends.filter((e) => e.memory !== undefined).map((e) => e.key);
      expect(new Set(keys).size, 'one memory write per key in a batch').to.equal(keys.length);
      memoryWrites += keys.length;
    }
    expect(memoryWrites).to.be.lessThan(30);
    // A wide window: most runs start and end within one commit, so most calls are never written.
    expect(batches.reduce((n, b) => n + b.calls.length, 0)).to.be.lessThan(60);
    const snapshot = inner.load('journal-batch') as { memory: ReadonlyArray<{ key: string; data: string }> };
    const memory = Object.fromEntries(snapshot.memory.map((m) => [m.key, JSON.parse(m.data) as unknown]));
    const seen = (k: number): number[] => Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 2 === k);
    expect(memory).to.deep.equal({ n0: { seen: seen(0) }, n1: { seen: seen(1) } });
  });

  describe('an outcome of a run still running is held back for one commit when nothing waits on it (S13)', () => {
    /** A scheduler whose actions run only when the test says so: one `window()` runs what is due now (a commit window). */
    class ManualScheduler implements SchedulerLike {
      private due: Array<() => void> = [];
      now(): number {
        return 0;
      }
      schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void): Subscription {
        const sub = new Subscription();
        this.due.push(() => {
          if (!sub.closed) work.call(undefined as never);
        });
        return sub;
      }
      window(): void {
        const due = this.due;
        this.due = [];
        for (const fn of due) fn();
      }
    }
    function journal(): { j: Journal; scheduler: ManualScheduler; batches: JournalBatch[] } {
      const scheduler = new ManualScheduler();
      const inner = memoryStore();
      const batches: JournalBatch[] = [];
      const store: AgentStore = {
        location: 'manual',
        load: (agent) => inner.load(agent),
        commit: (agent, batch) => {
          batches.push(batch);
          inner.commit(agent, batch);
        },
        close: () => inner.close(),
      };
      const host = {
        scheduler,
        fail: (error: unknown) => {
          throw error;
        },
        callback: (_name: string, fn: () => void) => fn(),
      };
      const j = new Journal(store, 'manual', host, { onAccepted: undefined, position: undefined });
      j.restore(j.load() as JournalSnapshot);
      j.accepted(0, 'x', '"x"');
      j.accepted(1, 'y', '"y"');
      scheduler.window();
      expect(batches.map((b) => b.inputs.length)).to.deep.equal([2]);
      return { j, scheduler, batches };
    }
    const fetchIt = (n: number): number => n;
    const outcome = (seq: number, index: number, value: number, reconcile?: () => number): JournalCall => ({
      id: `${seq}>a#${index}`,
      fn: fetchIt as never,
      args: [value],
      options: reconcile === undefined ? undefined : { reconcile },
      fulfilled: true,
      value,
      error: undefined,
    });
    const ids = (batch: JournalBatch | undefined): string[] => batch?.calls.map((c) => `${c.id}:${c.state}`) ?? [];

    it('written by the commit after the next one; never, if its run ends first', () => {
      const { j, scheduler, batches } = journal();
      j.settled(0, outcome(0, 0, 10));
      j.ended(1, 'y', undefined, false); // something else to commit in this window
      scheduler.window();
      expect(batches).to.have.length(2);
      expect(batches[1]!.ends.map((e) => e.seq)).to.deep.equal([1]);
      expect(ids(batches[1])).to.deep.equal([]); // held back
      scheduler.window();
      expect(ids(batches[2])).to.deep.equal(['0>a#0:1']); // run 0 is still running: now it is written
      j.settled(0, outcome(0, 1, 11));
      scheduler.window(); // only a held outcome is waiting: no commit at all
      expect(batches).to.have.length(3);
      j.ended(0, 'x', undefined, false);
      scheduler.window();
      expect(batches).to.have.length(4);
      expect(ids(batches[3])).to.deep.equal([]); // its run ended first: never written, the end prunes the run
      expect(batches[3]!.ends.map((e) => [e.seq, e.calls])).to.deep.equal([[0, undefined]]); // calls were written: delete them
      scheduler.window();
      expect(batches).to.have.length(4);
    });

    it('written at once when something waits on the commit: a reconciled start, an afterCommit, the last commit', () => {
      const { j, scheduler, batches } = journal();
      j.settled(0, outcome(0, 0, 10));
      let started = false;
      j.starting(
        0,
        outcome(0, 1, 0, () => 1),
        () => (started = true),
      ); // its start must be durable before it runs: commits now
      expect(ids(batches[1])).to.deep.equal(['0>a#1:0', '0>a#0:1']);
      expect(started).to.equal(true);
      j.settled(1, outcome(1, 0, 20));
      let after = false;
      j.afterCommit(() => (after = true));
      scheduler.window();
      expect(ids(batches[2])).to.deep.equal(['1>a#0:1']);
      expect(after).to.equal(true);
      j.settled(1, outcome(1, 1, 21));
      scheduler.window(); // held
      expect(batches).to.have.length(3);
      j.close(); // the subscription ends: what is held is written, so a restart does not run it again
      expect(ids(batches[3])).to.deep.equal(['1>a#1:1']);
    });

    it("never held while a later record of its run is committed: a parked call's deadline, a signal (S13, S14: the journal stays a prefix)", () => {
      const { j, scheduler, batches } = journal();
      j.settled(0, outcome(0, 0, 10)); // e.g. startedAt = yield* ctx.executeAsync(stamp)
      j.parked(0, { ...outcome(0, 1, 0), id: '0>a#1' }, 5_000); // then yield* ctx.sleep(…) in the same window
      j.settled(1, outcome(1, 0, 20)); // run 1 recorded nothing else: its outcome may wait
      scheduler.window();
      expect(ids(batches[1])).to.deep.equal(['0>a#1:0', '0>a#0:1']);
      j.settled(0, outcome(0, 2, 12));
      j.signalled(0, '0>signal#0', 'Go', { by: 'p' });
      scheduler.window();
      expect(ids(batches[2]).sort()).to.deep.equal(['0>a#2:1', '0>signal#0:1', '1>a#0:1']);
    });

    it('drain (the stream completes) writes held outcomes too', () => {
      const { j, scheduler, batches } = journal();
      j.settled(0, outcome(0, 0, 10));
      scheduler.window();
      expect(batches).to.have.length(1);
      let done = false;
      j.drain(() => (done = true));
      expect(ids(batches[1])).to.deep.equal(['0>a#0:1']);
      expect(done).to.equal(true);
    });
  });
});
