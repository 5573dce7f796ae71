import { expect } from 'chai';
import { NEVER, Subject, concat, from, lastValueFrom, of, toArray } from 'rxjs';
import {
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  StoreWriteError,
  type AgentStore,
  type JournalBatch,
  type JournalSnapshot,
  type MemoryStore,
  type RunFailure,
} from '../../lib';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The async (server-style) store adapter of replay.spec.ts — every load and commit resolves on a
 * later event-loop turn — over a memoryStore, except that commits wait on a gate the test opens,
 * and a commit can be made to fail.
 */
function gatedStore(inner: MemoryStore) {
  const later = <T>(fn: () => T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(fn())));
  const state = { open: true, failNext: false, waiting: [] as Array<() => void>, commits: 0 };
  const store: AgentStore = {
    location: 'async',
    load: (agent) => later(() => inner.load(agent) as JournalSnapshot),
    commit: (agent: string, batch: JournalBatch) =>
      new Promise<void>((resolve, reject) => {
        const apply = (): void => {
          state.commits++;
          if (state.failNext) return reject(new Error('disk full'));
          inner.commit(agent, batch);
          resolve();
        };
        if (state.open) setImmediate(apply);
        else state.waiting.push(apply);
      }),
    close: () => undefined,
  };
  const release = (): void => {
    state.open = true;
    for (const apply of state.waiting.splice(0)) apply();
  };
  return { store, state, release };
}

const counter = defineAgent({
  name: 'counter',
  actions: (action) => [
    action('count', InputEvent, (event, ctx) => {
      ctx.shortTermMemory.set('n', (ctx.shortTermMemory.get<number>('n') ?? 0) + 1);
      ctx.sendEvent(OutputEvent.of(event.payload));
    }),
  ],
});

describe('store: completion waits for the last commit (S9 + S13)', () => {
  let inner: MemoryStore;
  beforeEach(() => (inner = memoryStore()));

  it('with an async store, the output completes only after every write is committed (run ends and memory included)', async () => {
    const { store, state, release } = gatedStore(inner);
    state.open = false;
    const events: string[] = [];
    const acked: number[] = [];
    const sub = from([1, 2, 3])
      .pipe(agentOperator(counter, { store, onAccepted: (x) => acked.push(x) }))
      .subscribe({
        next: (v) => events.push(`next ${v}`),
        complete: () => {
          // At completion the journal holds the finished state: no unfinished run, the memory of all three runs.
          const snapshot = inner.load('counter') as JournalSnapshot;
          events.push(`complete inputs=${snapshot.inputs.length} memory=${snapshot.memory.map((m) => m.data).join()}`);
        },
      });
    for (let i = 0; i < 5; i++) await settle();
    expect(events).to.deep.equal(['next 1', 'next 2', 'next 3']); // every run ended; the commit is still in flight
    expect(acked).to.deep.equal([]);
    release();
    for (let i = 0; i < 5; i++) await settle();
    expect(events).to.deep.equal(['next 1', 'next 2', 'next 3', 'complete inputs=0 memory={"n":3}']);
    expect(acked).to.deep.equal([1, 2, 3]); // acknowledgements came before completion
    expect(sub.closed).to.equal(true);
  });

  it('with an async store, inputs that arrived during the load all run even if the source completed first', async () => {
    const { store } = gatedStore(inner);
    const slow = defineAgent({
      name: 'slow',
      actions: (action) => [
        action('a', InputEvent, function* (event, ctx) {
          // Run 1 ends at once (no call), while inputs 2 and 3 are still being admitted.
          const v =
            event.payload === 1
              ? 1
              : yield* ctx.executeAsync(
                  (x: unknown) => new Promise((resolve) => setTimeout(() => resolve(x), 20)),
                  event.payload,
                );
          ctx.sendEvent(OutputEvent.of(v));
        }),
      ],
    });
    expect(
      await lastValueFrom(from([1, 2, 3]).pipe(agentOperator(slow, { store, key: (x) => x }), toArray())),
    ).to.deep.equal([1, 2, 3]);
  });

  it('with an async store, a failing final commit fails the stream with StoreWriteError instead of completing', async () => {
    const { store, state } = gatedStore(inner);
    state.failNext = true;
    const error = await lastValueFrom(of(1).pipe(agentOperator(counter, { store }))).then(
      () => 'completed',
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreWriteError);
    expect((error as Error).message).to.equal(
      'Writing the journal of agent `counter` failed: Error: disk full. The stream stops; restart it on the same store to resume.',
    );
    expect(state.commits).to.equal(1); // nothing written after the failed batch
    expect((inner.load('counter') as JournalSnapshot).memory).to.deep.equal([]);
  });

  it('with a synchronous store, a throwing final commit fails the stream with StoreWriteError (not swallowed)', async () => {
    const failing: AgentStore = {
      location: 'sync',
      load: (agent) => inner.load(agent),
      commit: () => {
        throw new Error('read-only file system');
      },
      close: () => undefined,
    };
    const error = await lastValueFrom(of(1).pipe(agentOperator(counter, { store: failing }))).then(
      () => 'completed',
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreWriteError);
    expect(error).to.have.property('code', 'ERR_STORE_WRITE');
  });

  it("a next subscription on the same store loads only after the previous one's last commit landed", async () => {
    const { store, state, release } = gatedStore(inner);
    const sub = concat(of(1), NEVER).pipe(agentOperator(counter, { store })).subscribe();
    for (let i = 0; i < 5; i++) await settle();
    sub.unsubscribe(); // run 1 ended and was committed (n = 1)
    state.open = false;
    const sub2 = concat(of(2), NEVER).pipe(agentOperator(counter, { store })).subscribe();
    for (let i = 0; i < 5; i++) await settle();
    sub2.unsubscribe(); // run 2 ended; its end and memory (n = 2) are in a commit still in flight
    // No live subscription holds the journal, so a third may subscribe at once — and must see n = 2.
    const reader = defineAgent({
      name: 'counter',
      actions: (action) => [
        action('count', InputEvent, (_e, ctx) => ctx.sendEvent(OutputEvent.of(ctx.shortTermMemory.get('n')))),
      ],
    });
    const out = lastValueFrom(of(0).pipe(agentOperator(reader, { store }), toArray()));
    for (let i = 0; i < 5; i++) await settle();
    release();
    expect(await out).to.deep.equal([2]);
  });

  it('a store answering with thenables of another Promise library (not native Promises) is loaded and waited for all the same', async () => {
    const foreign = <T>(fn: () => T): Promise<T> =>
      ({
        then: (ok?: (v: T) => unknown, fail?: (e: unknown) => unknown) =>
          new Promise<T>((resolve) => setImmediate(() => resolve(fn()))).then(ok, fail),
      }) as unknown as Promise<T>;
    const store: AgentStore = {
      location: 'foreign-thenables',
      load: (agent) => foreign(() => inner.load(agent) as JournalSnapshot),
      commit: (agent, batch) => foreign(() => void inner.commit(agent, batch)),
      close: () => undefined,
    };
    const completedWith: string[] = [];
    const out = await lastValueFrom(from([1, 2, 3]).pipe(agentOperator(counter, { store }), toArray())).finally(() =>
      completedWith.push((inner.load('counter') as JournalSnapshot).memory.map((m) => m.data).join()),
    );
    expect(out).to.deep.equal([1, 2, 3]);
    expect(completedWith).to.deep.equal(['{"n":3}']); // completion came after the last commit
  });
});

describe('store: run sequence numbers stay unique across restarts (S13)', () => {
  let store: MemoryStore;
  beforeEach(() => (store = memoryStore()));

  const echo = defineAgent({
    name: 'echo',
    actions: (action) => [action('a', InputEvent, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload)))],
  });
  const key = (x: { k?: string; bad?: boolean; f?: () => void }): string => {
    if (x.bad === true) throw new Error('no key');
    return x.k ?? 'k';
  };

  it('a sequence number used by an input whose key selector threw is not handed out again after a restart', async () => {
    const failures: RunFailure[] = [];
    const first = await lastValueFrom(
      of({ bad: true }).pipe(
        agentOperator(echo, {
          store,
          key,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
          output: 'envelope',
        }),
        toArray(),
      ),
    );
    expect(first).to.deep.equal([]);
    expect(failures.map((f) => [f.run, f.error.code])).to.deep.equal([[0, 'ERR_CALLBACK_FAILED']]);
    expect((store.load('echo') as JournalSnapshot).nextSeq).to.equal(1); // journaled although no input was
    const second = await lastValueFrom(
      of({ k: 'a' }).pipe(agentOperator(echo, { store, key, output: 'envelope' }), toArray()),
    );
    expect(second.map((o) => o.run)).to.deep.equal([1]);
  });

  it('so is one used by an input that cannot be journaled', async () => {
    const failures: number[] = [];
    await lastValueFrom(
      of({ f: () => undefined }).pipe(
        agentOperator(echo, { store, key, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f.run) }),
      ),
      { defaultValue: null },
    );
    const second = await lastValueFrom(
      of({ k: 'a' }).pipe(agentOperator(echo, { store, key, output: 'envelope' }), toArray()),
    );
    expect([failures, second.map((o) => o.run)]).to.deep.equal([[0], [1]]);
  });

  it('the failure naming that sequence number is reported only once it is committed', async () => {
    const { store: slow, state, release } = gatedStore(store);
    state.open = false;
    const failures: number[] = [];
    const source = new Subject<{ bad?: boolean; k?: string }>();
    const done = lastValueFrom(
      source.pipe(
        agentOperator(echo, { store: slow, key, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f.run) }),
      ),
      { defaultValue: null },
    );
    for (let i = 0; i < 3; i++) await settle(); // the journal has loaded
    source.next({ bad: true });
    for (let i = 0; i < 3; i++) await settle();
    expect(failures).to.deep.equal([]); // a crash now would leave seq 0 unused: nobody has heard of it
    release();
    for (let i = 0; i < 3; i++) await settle();
    expect(failures).to.deep.equal([0]);
    expect((store.load('echo') as JournalSnapshot).nextSeq).to.equal(1);
    source.complete();
    await done;
  });
});
