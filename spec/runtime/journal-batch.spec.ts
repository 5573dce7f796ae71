import { expect } from 'chai';
import { lastValueFrom, range, toArray } from 'rxjs';
import { map } from 'rxjs/operators';
import {
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  type AgentStore,
  type JournalBatch,
  type MemoryStore,
} from '../../lib';

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
});
