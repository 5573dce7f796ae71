import { expect } from 'chai';
import { MemoryPathError, MemoryValueError, action, defineAgent, InputEvent, OutputEvent, type Agent } from '../../lib';
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
    for (const path of ['', 'a..b', '.a', 'a.']) {
      expect(() => m.set(path, 1)).to.throw(
        MemoryPathError,
        `Expected a memory path like \`a.b.c\` (non-empty segments separated by dots), got \`${path}\` (string).`,
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
