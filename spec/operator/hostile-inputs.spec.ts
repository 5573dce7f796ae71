import { expect } from 'chai';
import fc from 'fast-check';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { Subject, fromEvent, lastValueFrom, toArray, type Observable } from 'rxjs';
import { z } from 'zod';
import {
  agentOperator,
  CallbackError,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  RxAgentsError,
  type RunFailure,
} from '../../lib';
import { createEventLog } from '../../lib/observe';

/**
 * S9 / S10: every user-supplied code path on admission (key selector, input schema with refine and
 * transform, getters on the input, `position`, the journal encoding) is guarded. A hostile input is a
 * failed run under the error policy — never a throw into the producer, never a stuck key — and a
 * control key's runs are untouched.
 */

/** Hostile values, made fresh per use (a revoked proxy or a cycle cannot be shared safely between runs). */
const hostile: Array<() => unknown> = [
  () => NaN,
  () => undefined,
  () => Symbol('s'),
  () => 10n ** 30n,
  () => 'x'.repeat(1 << 20),
  () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    return deep;
  },
  () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    return cyclic;
  },
  () => ({
    get id(): number {
      throw new Error('getter id');
    },
    get key(): string {
      throw new Error('getter key');
    },
    data: 1,
  }),
  () => {
    const { proxy, revoke } = Proxy.revocable({ id: 1, key: 'k', data: 1 }, {});
    revoke();
    return proxy;
  },
  () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"bad": 1}}, "id": 1, "key": "p"}'),
  () => Object.create(null) as object,
  () => ({ id: 1, key: 'r', data: { boom: true } }), // the schema's refine throws
  () => ({ id: 1, key: 't', data: 'explode' }), // the schema's transform throws
  () => ({ id: () => 1, key: 'f', data: 1 }), // position returns a function: not journalable
  () => ({ id: 2, key: 'm', data: new Array(3) }), // accepted, then memory.set refuses the hole
  () => ({ id: 3, key: 'c', data: new (class Client {})() }), // passes z.unknown(), cannot be journaled
];

const schema = z
  .object({ id: z.number(), key: z.string(), data: z.unknown() })
  .superRefine((v) => {
    if (typeof v.data === 'object' && v.data !== null && 'boom' in v.data) throw new Error('refine threw');
  })
  .transform((v) => {
    if (v.data === 'explode') throw new Error('transform threw');
    return v;
  });

type In = z.input<typeof schema>;

const agent = defineAgent({
  name: 'hostile',
  input: schema,
  actions: (action) => [
    action('work', InputEvent, function* (event, ctx) {
      ctx.shortTermMemory.set('last', event.payload.data as never);
      yield* ctx.executeAsync((n: number) => Promise.resolve(n), ctx.run);
      ctx.sendEvent(OutputEvent.of({ run: ctx.run, key: event.payload.key }));
    }),
  ],
});

const sink = (): Writable =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** The key selector reads `key` from the input: it throws for getters and revoked proxies. */
const keyOf = (x: unknown): unknown => (x as { key?: unknown } | null | undefined)?.key ?? 'none';

describe('S9 hostile inputs on admission: failed runs under the error policy, never a throw into the producer', () => {
  it('fuzz (fast-check): thousands of hostile inputs leave every input output or reported, and the control key untouched', async () => {
    let total = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: hostile.length - 1 }).map((i) => ({ hostile: i })),
            fc.constant('control' as const),
            fc
              .anything({ withNullPrototype: true, withSparseArray: true, withBigInt: true, withMap: true })
              .map((v) => ({ any: v })),
          ),
          { minLength: 20, maxLength: 120 },
        ),
        async (plan) => {
          const store = memoryStore();
          const failures: RunFailure[] = [];
          const source = new Subject<In>();
          const log = createEventLog({ stream: sink(), level: 'all', payloads: true });
          const plain = createEventLog({ stream: sink(), level: 'all' });
          const done = lastValueFrom(
            source.pipe(
              agentOperator(agent, {
                key: keyOf,
                store,
                position: (x) => (x as { id?: unknown } | null | undefined)?.id as number,
                errorPolicy: 'isolate',
                onRunFailed: (f) => failures.push(f),
                inspect: (e) => {
                  log.inspect(e);
                  plain.inspect(e);
                },
              }),
              toArray(),
            ),
          );
          let control = 0;
          const controlRuns: number[] = [];
          let seq = 0;
          for (const step of plan) {
            let input: unknown;
            if (step === 'control') {
              input = { id: control++, key: 'control', data: 'ok' };
              controlRuns.push(seq);
            } else input = 'hostile' in step ? hostile[step.hostile]!() : step.any;
            expect(() => source.next(input as In)).to.not.throw();
            seq++;
          }
          source.complete();
          const outputs = (await done) as Array<{ run: number; key: string }>;
          total += plan.length;
          // Every input is either output or reported, exactly once.
          const seen = [...outputs.map((o) => o.run), ...failures.map((f) => f.run)].sort((a, b) => a - b);
          expect(seen).to.deep.equal(Array.from({ length: plan.length }, (_, i) => i));
          // Failures are typed.
          for (const f of failures) expect(f.error).to.be.instanceOf(RxAgentsError);
          // The control key: every run output, in order.
          expect(outputs.filter((o) => o.key === 'control').map((o) => o.run)).to.deep.equal(controlRuns);
          await log.close();
          await plain.close();
        },
      ),
      { numRuns: 40 },
    );
    expect(total).to.be.greaterThan(1000);
  });

  it('a throwing refine / transform is a failed run with CallbackError (input schema); the key goes on', async () => {
    const failures: RunFailure[] = [];
    const source = new Subject<In>();
    const done = lastValueFrom(
      source.pipe(
        agentOperator(agent, { key: keyOf, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f) }),
        toArray(),
      ),
    );
    source.next({ id: 1, key: 'k', data: { boom: true } });
    source.next({ id: 2, key: 'k', data: 'explode' });
    source.next({ id: 3, key: 'k', data: 'fine' });
    source.complete();
    expect(await done).to.deep.equal([{ run: 2, key: 'k' }]);
    expect(failures.map((f) => f.error)).to.have.length(2);
    for (const f of failures) {
      expect(f.error).to.be.instanceOf(CallbackError);
      expect(f.error.message).to.match(/^The `input schema` callback threw: Error: (refine|transform) threw$/);
    }
  });

  it("errorPolicy 'fail': a hostile input fails the stream with a typed error; the producer's next() never throws", async () => {
    for (const make of hostile) {
      const source = new Subject<In>();
      const done = lastValueFrom(
        source.pipe(
          agentOperator(agent, {
            key: keyOf,
            store: memoryStore(),
            position: (x) => (x as { id?: unknown } | null | undefined)?.id as number,
          }),
          toArray(),
        ),
      ).catch((e: unknown) => e);
      const input = make();
      expect(() => source.next(input as In)).to.not.throw();
      expect(() => source.next({ id: 9, key: 'after', data: 1 })).to.not.throw();
      source.complete();
      const result = await done;
      if (!Array.isArray(result)) expect(result).to.be.instanceOf(RxAgentsError);
    }
  });

  it('a fromEvent source (an EventEmitter) never gets a throw back from emit, so the host process cannot crash', async () => {
    const emitter = new EventEmitter();
    const failures: RunFailure[] = [];
    const outputs: unknown[] = [];
    const sub = (fromEvent(emitter, 'input') as Observable<In>)
      .pipe(
        agentOperator(agent, {
          key: keyOf,
          store: memoryStore(),
          position: (x) => (x as { id?: unknown } | null | undefined)?.id as number,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
        }),
      )
      .subscribe((o) => outputs.push(o));
    for (const make of hostile) expect(() => emitter.emit('input', make())).to.not.throw();
    emitter.emit('input', { id: 99, key: 'control', data: 'ok' });
    for (let i = 0; i < 20 && outputs.length + failures.length < hostile.length + 1; i++)
      await new Promise((r) => setImmediate(r));
    sub.unsubscribe();
    expect(outputs.length + failures.length).to.equal(hostile.length + 1);
    expect(outputs).to.deep.include({ run: hostile.length, key: 'control' });
  });
});
