import { expect } from 'chai';
import { NEVER, Subject, firstValueFrom, from, lastValueFrom, of, toArray, concat } from 'rxjs';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  memoryStore,
  NonDeterminismError,
  OutputEvent,
  JournalValueError,
  recordedPosition,
  type AgentStore,
  type JournalSnapshot,
  type MemoryStore,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An agent whose first call is counted and whose second call waits on a gate the test controls. */
function gatedAgent(effects: string[], gate: { open: boolean; waiting: Array<() => void> }) {
  const Step = defineEvent('step', z.object({ n: z.number() }));
  return defineAgent({
    name: 'gated',
    input: z.object({ key: z.string(), n: z.number() }),
    actions: (action) => [
      action('first', InputEvent, function* (event, ctx) {
        const a = yield* ctx.executeAsync(function fetchA(n: number) {
          effects.push(`A${n}`);
          return Promise.resolve(n * 10);
        }, event.payload.n);
        ctx.shortTermMemory.set('last', a);
        ctx.sendEvent(Step.of({ n: a }));
      }),
      action('second', Step, function* (event, ctx) {
        const b = yield* ctx.executeAsync(function fetchB(n: number) {
          effects.push(`B${n}`);
          return gate.open
            ? Promise.resolve(n + 1)
            : new Promise<number>((resolve) => gate.waiting.push(() => resolve(n + 1)));
        }, event.payload.n);
        ctx.shortTermMemory.set('count', (ctx.shortTermMemory.get<number>('count') ?? 0) + 1);
        ctx.sendEvent(OutputEvent.of({ key: ctx.key, b }));
      }),
    ],
  });
}

describe('store: replay after a restart (S13)', () => {
  let store: MemoryStore;
  beforeEach(() => (store = memoryStore()));

  it('resumes an unfinished run without re-running its journaled call, then prunes it', async () => {
    const effects: string[] = [];
    const gate = { open: false, waiting: [] as Array<() => void> };
    const agent = gatedAgent(effects, gate);
    const outputs: unknown[] = [];
    const sub = concat(of({ key: 'k', n: 1 }), NEVER)
      .pipe(agentOperator(agent, { key: (x) => x.key, store }))
      .subscribe((v) => outputs.push(v));
    await settle();
    await settle();
    expect(effects).to.deep.equal(['A1', 'B10']);
    sub.unsubscribe(); // "crash": B10 is in flight, A1's outcome is journaled
    expect(store.size('gated')).to.deep.equal({ inputs: 1, calls: 1, keys: 0 });

    gate.open = true;
    const replayed = await lastValueFrom(
      of<{ key: string; n: number }>().pipe(agentOperator(agent, { key: (x) => x.key, store }), toArray()),
    );
    expect(replayed).to.deep.equal([{ key: 'k', b: 11 }]);
    expect(effects).to.deep.equal(['A1', 'B10', 'B10']); // A1 not again; B10 was in doubt (no reconciler): runs again
    expect(store.size('gated')).to.deep.equal({ inputs: 0, calls: 0, keys: 1 });
    expect(outputs).to.deep.equal([]);
  });

  it('keeps short-term memory across subscriptions and continues run sequences', async () => {
    const effects: string[] = [];
    const agent = gatedAgent(effects, { open: true, waiting: [] });
    const seqs: number[] = [];
    const run = (inputs: { key: string; n: number }[]) =>
      lastValueFrom(
        from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, store, output: 'envelope' }), toArray()),
      );
    const first = await run([
      { key: 'a', n: 1 },
      { key: 'a', n: 2 },
    ]);
    const second = await run([{ key: 'a', n: 3 }]);
    seqs.push(...first.map((o) => o.run), ...second.map((o) => o.run));
    expect(seqs).to.deep.equal([0, 1, 2]);
    expect(second[0]!.id).to.equal('2>first:0>second:0');
    // count is 3: memory of the first subscription was restored for the second
    const mem = await lastValueFrom(
      of({ key: 'a', n: 4 }).pipe(
        agentOperator(
          defineAgent({
            name: 'gated',
            actions: (action) => [
              action('first', InputEvent, (_e, ctx) => ctx.sendEvent(OutputEvent.of(ctx.shortTermMemory.toJSON()))),
            ],
          }),
          { key: (x) => x.key, store },
        ),
        toArray(),
      ),
    );
    expect(mem).to.deep.equal([{ last: 30, count: 3 }]);
  });

  it('replays recorded errors faithfully (name, message, code)', async () => {
    let calls = 0;
    const gate: Array<() => void> = [];
    const agent = defineAgent({
      name: 'errs',
      actions: (action) => [
        action('a', InputEvent, function* (_e, ctx) {
          let caught: unknown;
          try {
            yield* ctx.executeAsync(function boom() {
              calls++;
              throw Object.assign(new RangeError('too far'), { code: 'E_FAR' });
            });
          } catch (error) {
            caught = error;
          }
          yield* ctx.executeAsync(() => new Promise<void>((resolve) => gate.push(resolve)));
          const e = caught as Error & { code: string };
          ctx.sendEvent(OutputEvent.of([e instanceof Error, e.name, e.message, e.code]));
        }),
      ],
    });
    const sub = concat(of(1), NEVER).pipe(agentOperator(agent, { store })).subscribe();
    await settle();
    sub.unsubscribe();
    const out = firstValueFrom(of().pipe(agentOperator(agent, { store })));
    await settle();
    gate[1]!();
    expect(await out).to.deep.equal([true, 'RangeError', 'too far', 'E_FAR']);
    expect(calls).to.equal(1);
  });

  it('a different call at a journaled position fails with NonDeterminismError', async () => {
    let variant = 'x';
    const gate: Array<() => void> = [];
    const agent = defineAgent({
      name: 'nd',
      actions: (action) => [
        action('a', InputEvent, function* (_e, ctx) {
          yield* ctx.executeAsync(function lookup(q: string) {
            return q.toUpperCase();
          }, variant);
          yield* ctx.executeAsync(() => new Promise<void>((resolve) => gate.push(resolve)));
        }),
      ],
    });
    const sub = concat(of(1), NEVER).pipe(agentOperator(agent, { store })).subscribe();
    await settle();
    sub.unsubscribe();
    variant = 'y';
    const error = await lastValueFrom(of().pipe(agentOperator(agent, { store }))).catch((e: unknown) => e);
    expect(error).to.have.property('code', 'ERR_ACTION_FAILED');
    const cause = (error as { cause: unknown }).cause;
    expect(cause).to.be.instanceOf(NonDeterminismError);
    expect((cause as Error).message).to.match(
      /^Replaying call `0>a#0` made a different call than the one journaled \(recorded lookup\/1\/3:"x", now lookup\/1\/3:"y"\)\. An action must make the same calls/,
    );
  });

  it('rejects a result that cannot be journaled with JournalValueError (never a silent at-least-once)', async () => {
    class Client {}
    const agent = defineAgent({
      name: 'bad-result',
      actions: (action) => [
        action('a', InputEvent, function* (_e, ctx) {
          yield* ctx.executeAsync(() => new Client());
        }),
      ],
    });
    const error = await lastValueFrom(of(1).pipe(agentOperator(agent, { store }))).catch((e: unknown) => e);
    const cause = (error as { cause: unknown }).cause;
    expect(cause).to.be.instanceOf(JournalValueError);
    expect((cause as Error).message).to.equal(
      'Cannot journal the result of call `0>a#0`: at `(value)`, a Client instance is not data. With a store, inputs and call results must be data ' +
        '(JSON-like values, plus undefined, Date, BigInt, Map, Set, NaN/Infinity/-0); return plain data from the block (e.g. value.toJSON()).',
    );
  });

  it('rejects an input or a key that cannot be journaled', async () => {
    const agent = defineAgent({ name: 'bad-input', actions: (action) => [action('a', InputEvent, () => {})] });
    const e1 = await lastValueFrom(of({ f: () => 1 }).pipe(agentOperator(agent, { store }))).catch((e: unknown) => e);
    expect(e1)
      .to.be.instanceOf(JournalValueError)
      .and.have.property('message')
      .that.match(/^Cannot journal the input of run 0: at `\(value\)\.f`, a function is not data/);
    const e2 = await lastValueFrom(of({ k: {} }).pipe(agentOperator(agent, { store, key: (x) => x.k }))).catch(
      (e: unknown) => e,
    );
    expect(e2)
      .to.be.instanceOf(JournalValueError)
      .and.have.property('message')
      .that.match(/cannot identify a key across restarts; return a string or a number/);
  });

  it('acknowledges inputs after their commit and records the source position', async () => {
    const agent = defineAgent({ name: 'acks', actions: (action) => [action('a', InputEvent, () => {})] });
    const acked: Array<[number, number]> = [];
    const source = new Subject<{ offset: number }>();
    const done = lastValueFrom(
      source.pipe(
        agentOperator(agent, { store, onAccepted: (x, seq) => acked.push([x.offset, seq]), position: (x) => x.offset }),
      ),
      { defaultValue: null },
    );
    source.next({ offset: 40 });
    source.next({ offset: 41 });
    expect(acked).to.deep.equal([]); // not yet committed: the group commit runs on the next tick
    await settle();
    expect(acked).to.deep.equal([
      [40, 0],
      [41, 1],
    ]);
    expect(await recordedPosition(store, 'acks')).to.equal(41);
    source.complete();
    await done;
  });

  it('refuses a second live subscription on the same journal', async () => {
    const agent = defineAgent({ name: 'one', actions: (action) => [action('a', InputEvent, () => {})] });
    const sub = NEVER.pipe(agentOperator(agent, { store })).subscribe();
    const error = await lastValueFrom(NEVER.pipe(agentOperator(agent, { store }))).catch((e: unknown) => e);
    expect(error).to.have.property('code', 'ERR_STORE_UNAVAILABLE');
    sub.unsubscribe();
    await lastValueFrom(of().pipe(agentOperator(agent, { store })), { defaultValue: null }); // released
  });

  it('works with a store whose load and commit are asynchronous (server-backed)', async () => {
    const later = <T>(fn: () => T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(fn())));
    const asyncStore: AgentStore = {
      location: 'async',
      load: (agent) => later(() => store.load(agent) as JournalSnapshot),
      commit: (agent, batch) => later(() => void store.commit(agent, batch)),
      close: () => undefined,
    };
    const effects: string[] = [];
    const gate = { open: false, waiting: [] as Array<() => void> };
    const agent = gatedAgent(effects, gate);
    const acked: number[] = [];
    const sub = concat(of({ key: 'k', n: 1 }, { key: 'k', n: 2 }), NEVER)
      .pipe(agentOperator(agent, { key: (x) => x.key, store: asyncStore, onAccepted: (x) => acked.push(x.n) }))
      .subscribe();
    for (let i = 0; i < 6; i++) await settle();
    expect(acked).to.deep.equal([1, 2]);
    expect(effects).to.deep.equal(['A1', 'B10']);
    sub.unsubscribe();
    for (let i = 0; i < 3; i++) await settle();
    gate.open = true;
    // Inputs that arrive while the journal loads wait behind the recovered runs (S1 across restarts).
    const out = await lastValueFrom(
      of({ key: 'k', n: 3 }).pipe(agentOperator(agent, { key: (x) => x.key, store: asyncStore }), toArray()),
    );
    expect(out).to.deep.equal([
      { key: 'k', b: 11 },
      { key: 'k', b: 21 },
      { key: 'k', b: 31 },
    ]);
    expect(effects).to.deep.equal(['A1', 'B10', 'B10', 'A2', 'B20', 'A3', 'B30']);
  });

  it('commits in virtual time under a TestScheduler: acknowledgements come commitDelay frames later (S11)', () => {
    const scheduler = createTestScheduler();
    const delayed: AgentStore = {
      location: 'memory',
      commitDelay: 5,
      load: (a) => store.load(a),
      commit: (a, b) => store.commit(a, b),
      close: () => undefined,
    };
    const agent = defineAgent({
      name: 'virtual',
      actions: (action) => [
        action('a', InputEvent, function* (e, ctx) {
          const v = yield* ctx.executeAsync(() => virtualDelay(e.payload, 3, scheduler));
          ctx.sendEvent(OutputEvent.of(v));
        }),
      ],
    });
    scheduler.run(({ cold, expectObservable }) => {
      const acks: string[] = [];
      const out = cold('a-b|').pipe(
        agentOperator(agent, { store: delayed, scheduler, onAccepted: (x) => acks.push(`${x}@${scheduler.now()}`) }),
      );
      expectObservable(out).toBe('---a--(b|)'); // one key: b's run starts when a's ends (frame 3)
      scheduler.schedule(() => expect(acks).to.deep.equal(['a@5', 'b@5']), 20);
    });
    expect(store.size('virtual')).to.deep.equal({ inputs: 0, calls: 0, keys: 0 });
  });
});
