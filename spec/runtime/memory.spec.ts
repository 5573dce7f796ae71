import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, of, toArray } from 'rxjs';
import {
  MemoryPathError,
  MemoryValueError,
  action,
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  type Agent,
  type RunFailure,
} from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { decodeValue, encodeValue } from '../../lib/store/codec';
import { resolveOptions } from '../../lib/operator/options';
import { MemoryNode } from '../../lib/runtime/memory';
import { Runtime } from '../../lib/runtime/runtime';

describe('memory (MemoryRef)', () => {
  it('dot paths: set/get/has/delete/keys/toJSON', () => {
    const m = new MemoryNode();
    m.set('user.name', 'ada');
    m.set('user.age', 36);
    m.set('tags', ['a', 'b']);
    expect(m.get('user')).to.deep.equal({ name: 'ada', age: 36 });
    expect(m.get('user.name')).to.equal('ada');
    expect(m.has('user.age')).to.equal(true);
    expect(m.has('user.none')).to.equal(false);
    expect(m.keys()).to.deep.equal(['user', 'tags']);
    expect(m.keys('user')).to.deep.equal(['name', 'age']);
    expect(m.delete('user.age')).to.equal(true);
    expect(m.delete('user.age')).to.equal(false);
    expect(m.toJSON()).to.deep.equal({ user: { name: 'ada' }, tags: ['a', 'b'] });
    m.set('obj', { nested: { deep: 1 } });
    expect(m.get('obj.nested.deep')).to.equal(1);
    expect(m.keys('obj.nested')).to.deep.equal(['deep']);
  });

  it('stores a frozen copy: changing the original later does not change memory', () => {
    const m = new MemoryNode();
    const value = { list: [1, 2] };
    m.set('v', value);
    value.list.push(3);
    expect(m.get('v')).to.deep.equal({ list: [1, 2] });
    expect(Object.isFrozen(m.get('v'))).to.equal(true);
  });

  it('round-trips exactly through JSON (what a store persists)', () => {
    const m = new MemoryNode();
    m.set('a.b', { n: 1.5, s: 'x', t: true, z: null, arr: [0, -0.25, 'y', { q: [] }] });
    const restored = MemoryNode.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(restored.toJSON()).to.deep.equal(m.toJSON());
  });

  const bad: Array<[string, unknown, string]> = [
    ['undefined', undefined, 'undefined is not storable (use delete to remove a value)'],
    ['NaN', NaN, 'NaN is not a finite number'],
    ['Infinity', Infinity, 'Infinity is not a finite number'],
    ['a bigint', 1n, 'a bigint is not storable (store it as a string)'],
    ['a function', () => 1, 'a function is not storable'],
    ['a Date', new Date(0), 'a Date instance is not storable (store date.toISOString())'],
    ['a Map', new Map(), 'a Map instance is not storable'],
  ];
  for (const [what, value, reason] of bad) {
    it(`rejects ${what} at set time with MemoryValueError`, () => {
      const m = new MemoryNode();
      expect(() => m.set('x.y', value as never)).to.throw(
        MemoryValueError,
        `Cannot store a value at memory path \`x.y\`: ${reason}. Memory holds JSON-like data only`,
      );
      expect(m.has('x.y')).to.equal(false);
    });
  }

  it('names the bad spot inside a nested value, and rejects cycles', () => {
    const m = new MemoryNode();
    expect(() => m.set('v', { list: [1, { when: new Date(0) }] } as never)).to.throw(
      MemoryValueError,
      'memory path `v.list[1].when`',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => m.set('c', cyclic as never)).to.throw(MemoryValueError, 'the value contains a cycle');
  });

  it('rejects malformed paths with MemoryPathError', () => {
    const m = new MemoryNode();
    expect(() => m.set('', 1)).to.throw(
      MemoryPathError,
      'Expected a memory path like `a.b.c` (non-empty segments separated by dots, at most 256), got `` (string).',
    );
    for (const path of ['a..b', '.a', 'a.']) {
      expect(() => m.set(path, 1)).to.throw(
        MemoryPathError,
        `Expected a memory path like \`a.b.c\` (non-empty segments separated by dots, at most 256), got \`${path}\` (string): a segment is empty.`,
      );
    }
  });
});

describe('S10 per-key state is freed when a key has no work left', () => {
  /** Each run writes short-term memory and deletes it again; a few keys keep theirs. */
  const agent = defineAgent({
    name: 'keys',
    actions: [
      action('touch', InputEvent, function* (event, ctx) {
        const n = event.payload as number;
        ctx.shortTermMemory.set('last', n);
        ctx.sensoryMemory.set('scratch', n);
        yield* ctx.executeAsync((x: number) => Promise.resolve(x), n);
        if (n % 10_000 !== 0) ctx.shortTermMemory.delete('last');
        ctx.sendEvent(OutputEvent.of(n));
      }),
    ],
  }) as Agent;

  it('100k distinct keys: after the runs end, only keys that kept memory remain', async () => {
    const { makeExecutor, ...settings } = resolveOptions({ key: (x: unknown) => x } as never);
    let outputs = 0;
    let completed!: () => void;
    const done = new Promise<void>((resolve) => (completed = resolve));
    const runtime = new Runtime(
      agent,
      { ...settings, executor: makeExecutor() },
      {
        next: () => void outputs++,
        error: (e) => {
          throw e;
        },
        complete: () => completed(),
      },
    );
    for (let i = 0; i < 100_000; i++) runtime.accept(i);
    expect(runtime.footprint().activeRuns).to.be.greaterThan(0);
    runtime.sourceComplete();
    await done;
    expect(outputs).to.equal(100_000);
    const after = runtime.footprint();
    // disposed on completion: everything is released
    expect(after).to.deep.include({ keys: 0, buffered: 0, activeRuns: 0, mailbox: 0 });
  });

  it('while the stream stays open, idle keys are freed but memories that hold data stay', async () => {
    const { makeExecutor, ...settings } = resolveOptions({ key: (x: unknown) => x } as never);
    let outputs = 0;
    const runtime = new Runtime(
      agent,
      { ...settings, executor: makeExecutor() },
      { next: () => void outputs++, error: () => {}, complete: () => {} },
    );
    for (let i = 0; i < 100_000; i++) runtime.accept(i);
    while (outputs < 100_000) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(runtime.footprint()).to.deep.equal({ keys: 0, memories: 10, buffered: 0, activeRuns: 0, mailbox: 0 });
    runtime.dispose();
  });
});

describe('S13 memory holds data only: hostile paths and values get typed errors, what set accepts round-trips', () => {
  const revoked = (): object => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };

  it('a 30k-segment path is a MemoryPathError (not a RangeError later, in toJSON or the journal)', () => {
    const m = new MemoryNode();
    const path = Array.from({ length: 30_000 }, (_, i) => `a${i}`).join('.');
    expect(() => m.set(path, 1))
      .to.throw(MemoryPathError, 'it has 30000 segments; nest the data in the value instead')
      .with.property('code', 'ERR_MEMORY_PATH');
    expect(() => m.get(path)).to.throw(MemoryPathError);
    expect(m.toJSON()).to.deep.equal({});
  });

  it('null-prototype objects, revoked proxies and objects as paths are MemoryPathErrors with a readable message', () => {
    const m = new MemoryNode();
    expect(() => m.set(Object.create(null) as never, 1)).to.throw(
      MemoryPathError,
      'got `[object null-prototype]` (object)',
    );
    expect(() => m.get(revoked() as never)).to.throw(MemoryPathError, 'got `[unprintable object]` (object)');
  });

  it('values whose reading throws (getters, revoked proxies) are MemoryValueErrors at the spot, with the cause', () => {
    const m = new MemoryNode();
    const getter = {
      ok: 1,
      get secret(): number {
        throw new Error('no access');
      },
    };
    const error = (() => {
      try {
        m.set('user', getter as never);
      } catch (e) {
        return e as MemoryValueError;
      }
    })();
    expect(error).to.be.instanceOf(MemoryValueError);
    expect(error!.path).to.equal('user.secret');
    expect(error!.message).to.include(
      'Cannot store a value at memory path `user.secret`: reading the value threw (Error: no access)',
    );
    expect((error!.cause as Error).message).to.equal('no access');
    expect(() => m.set('p', { inner: revoked() } as never)).to.throw(
      MemoryValueError,
      'memory path `p.inner`: reading the value threw (TypeError',
    );
    expect(m.has('user')).to.equal(false);
  });

  it('50k-deep nesting is a MemoryValueError (not a stack overflow)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    let deepArray: unknown = 1;
    for (let i = 0; i < 50_000; i++) deepArray = [deepArray];
    const m = new MemoryNode();
    expect(() => m.set('deep', deep as never)).to.throw(MemoryValueError, 'it nests deeper than 1000 levels');
    expect(() => m.set('deep', deepArray as never)).to.throw(MemoryValueError, 'it nests deeper than 1000 levels');
  });

  it('sparse arrays are refused at set (they came back as "undefined is not storable" after a restart and poisoned the key)', () => {
    const m = new MemoryNode();
    expect(() => m.set('a', new Array(3) as never))
      .to.throw(
        MemoryValueError,
        'Cannot store a value at memory path `a[0]`: a hole in an array (a sparse array) is not storable',
      )
      .with.property('path', 'a[0]');
    // eslint-disable-next-line no-sparse-arrays
    expect(() => m.set('b', { list: [1, , 3] } as never)).to.throw(MemoryValueError, 'memory path `b.list[1]`');
    m.set('c', [1, null, 3]);
    expect(m.get('c')).to.deep.equal([1, null, 3]);
  });

  it('whatever set accepts round-trips through the journal encoding exactly (property, hostile-ish values)', () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.sparseArray(fc.jsonValue(), { maxLength: 5 }),
      fc.anything({ withNullPrototype: true, withSparseArray: true, withBigInt: true, withDate: true, withMap: true }),
    );
    fc.assert(
      fc.property(value, (v) => {
        const m = new MemoryNode();
        try {
          m.set('v', v as never);
        } catch (error) {
          expect(error).to.be.instanceOf(MemoryValueError); // refused, typed
          return;
        }
        const restored = MemoryNode.fromJSON(decodeValue(encodeValue(m.toJSON(), 'memory')) as never);
        expect(restored.toJSON()).to.deep.equal(m.toJSON());
      }),
      { numRuns: 500 },
    );
  });
});

describe('S13 memory round-trips through every store: a restart never poisons a key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-mem-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const values: Array<[string, unknown]> = [
    ['nested data', { a: [1, 'two', null, { three: true }], b: -1.5, c: '' }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { x: 1 })],
    ['a sparse array', new Array(3)],
  ];

  for (const kind of ['memoryStore', 'sqliteStore'] as const) {
    it(`${kind}: each value is either refused in the run that sets it, or read back equal after a restart`, async () => {
      const store = kind === 'memoryStore' ? memoryStore() : sqliteStore(join(dir, 'm.db'));
      const setter = defineAgent({
        name: 'mem',
        actions: [
          action('set', InputEvent, (event, ctx) => {
            const [name, value] = event.payload as [string, unknown];
            ctx.shortTermMemory.set('v', value as never);
            ctx.sendEvent(OutputEvent.of(name));
          }),
        ],
      });
      const reader = defineAgent({
        name: 'mem',
        actions: [
          action('get', InputEvent, (event, ctx) => {
            const [name] = event.payload as [string];
            ctx.sendEvent(OutputEvent.of([name, ctx.shortTermMemory.get('v') ?? 'none']));
          }),
        ],
      });
      const failures: string[] = [];
      const set = await lastValueFrom(
        of(...values).pipe(
          agentOperator(setter, {
            key: ([name]: [string, unknown]) => name,
            store,
            errorPolicy: 'isolate',
            onRunFailed: (f: RunFailure) => failures.push(((f.error as Error).cause as Error).name),
          }),
          toArray(),
        ),
      );
      expect(set).to.deep.equal(['nested data', 'a null-prototype object']);
      expect(failures).to.deep.equal(['MemoryValueError']);
      const read = await lastValueFrom(
        of(...values).pipe(agentOperator(reader, { key: ([name]: [string, unknown]) => name, store }), toArray()),
      );
      expect(read).to.deep.equal([
        ['nested data', values[0]![1]],
        ['a null-prototype object', { x: 1 }],
        ['a sparse array', 'none'],
      ]);
      await store.close();
    });
  }
});
