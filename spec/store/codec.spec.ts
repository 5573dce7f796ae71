import { expect } from 'chai';
import fc from 'fast-check';
import { decodeValue, encodeError, encodeValue, fingerprint } from '../../lib/store/codec';
import { JournalValueError, MemoryPathError, MemoryValueError } from '../../lib';
import { MemoryNode } from '../../lib/runtime/memory';

describe('store: journal value codec', () => {
  it('round-trips what JSON would change: -0, NaN, ±Infinity, undefined, BigInt, Date, Map, Set, `$rx` and `__proto__` keys', () => {
    const proto = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const value = {
      zero: -0,
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      undef: undefined,
      holes: [1, undefined, 3],
      big: 12345678901234567890n,
      date: new Date(1_700_000_000_123),
      bad: new Date(NaN),
      map: new Map<unknown, unknown>([
        [1, 'a'],
        [{ k: 1 }, new Set([1n])],
      ]),
      set: new Set(['x', -0]),
      tagged: { $rx: 'num', v: 'Infinity' },
      proto,
    };
    const back = decodeValue(encodeValue(value, 'test')) as typeof value;
    expect(back).to.deep.equal(value);
    expect(Object.is(back.zero, -0)).to.equal(true);
    expect(Object.hasOwn(back, 'undef')).to.equal(true);
    expect(Object.getPrototypeOf(back.proto)).to.equal(Object.prototype);
    expect(Object.hasOwn(back.proto, '__proto__')).to.equal(true);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });

  it('round-trips any JSON-like value exactly (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(decodeValue(encodeValue(value, 'test'))).to.deep.equal(value);
      }),
      { numRuns: 300 },
    );
  });

  it('writes flat objects and primitives as the JSON text itself, and round-trips them exactly (property)', () => {
    const primitive = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.double(), fc.integer());
    fc.assert(
      fc.property(fc.oneof(primitive, fc.dictionary(fc.string(), primitive)), (value) => {
        const text = encodeValue(value, 'test');
        const back = decodeValue(text);
        expect(back).to.deep.equal(value);
        if (typeof back === 'number') expect(Object.is(back, value)).to.equal(true);
        const special = (v: unknown): boolean => typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0));
        const plain =
          !special(value) &&
          (typeof value !== 'object' ||
            value === null ||
            (!Object.hasOwn(value, '$rx') &&
              !Object.hasOwn(value, '__proto__') &&
              !Object.values(value).some(special)));
        if (plain) expect(text).to.equal(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
    expect(decodeValue(encodeValue({ a: -0, b: NaN }, 'test'))).to.deep.equal({ a: -0, b: NaN });
    expect(Object.is((decodeValue(encodeValue({ a: -0 }, 'test')) as { a: number }).a, -0)).to.equal(true);
    expect(decodeValue(encodeValue({ $rx: 'num', v: 'x' }, 'test'))).to.deep.equal({ $rx: 'num', v: 'x' });
    expect(decodeValue(encodeValue({ u: undefined }, 'test'))).to.deep.equal({ u: undefined });
  });

  it('rejects what it cannot store faithfully, naming the spot', () => {
    class Client {}
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => encodeValue({ a: [0, new Client()] }, 'the result of call `x`')).to.throw(
      JournalValueError,
      'Cannot journal the result of call `x`: at `(value).a[1]`, a Client instance is not data.',
    );
    expect(() => encodeValue({ f: Symbol('s') }, 'it')).to.throw(
      JournalValueError,
      'at `(value).f`, a symbol is not data',
    );
    expect(() => encodeValue(cyclic, 'it')).to.throw(
      JournalValueError,
      'at `(value).self`, the value contains a cycle',
    );
  });

  it('rethrows recorded errors faithfully', () => {
    const error = Object.assign(new TypeError('bad arg'), { code: 'E_ARG' });
    const back = decodeValue(encodeError(error)) as Error & { code: string };
    expect(back).to.be.instanceOf(Error);
    expect([back.name, back.message, back.code, back.stack]).to.deep.equal([
      'TypeError',
      'bad arg',
      'E_ARG',
      error.stack,
    ]);
    expect(decodeValue(encodeError('plain string'))).to.equal('plain string');
    expect(decodeValue(encodeError({ reason: 42 }))).to.deep.equal({ reason: 42 });
  });

  it('fingerprints a call by function name and arguments', () => {
    function fetchIt(_id: number): void {}
    expect(fingerprint(fetchIt, [1])).to.equal(fingerprint(fetchIt, [1]));
    expect(fingerprint(fetchIt, [1])).to.not.equal(fingerprint(fetchIt, [2]));
    expect(fingerprint(fetchIt, ['1'])).to.not.equal(fingerprint(fetchIt, [1]));
    expect(fingerprint(fetchIt, [1])).to.match(/^fetchIt\/1\//);
    expect(fingerprint(() => {}, [new AbortController().signal])).to.equal(
      fingerprint(() => {}, [new AbortController().signal]),
    );
  });
});

describe('memory: values that would not survive a store are rejected at set time', () => {
  it('rejects `__proto__` as a key or path segment', () => {
    const node = new MemoryNode();
    expect(() => node.set('a', JSON.parse('{"__proto__": 1}'))).to.throw(
      MemoryValueError,
      'Cannot store a value at memory path `a.__proto__`',
    );
    expect(() => node.set('a.__proto__.b', 1)).to.throw(MemoryPathError);
  });

  it('treats a stored object as a level, before and after a restore alike', () => {
    const live = new MemoryNode();
    live.set('user', { name: 'ada', langs: ['en'] });
    const restored = MemoryNode.fromJSON(decodeValue(encodeValue(live.toJSON(), 'm')) as never);
    for (const node of [live, restored]) {
      node.set('user.age', 36);
      expect(node.delete('user.langs')).to.equal(true);
      expect(node.toJSON()).to.deep.equal({ user: { name: 'ada', age: 36 } });
    }
  });
});

describe('S13 the journal codec types every failure and keeps array holes', () => {
  it('a value whose reading throws (getter, revoked proxy) is a JournalValueError at the spot, with the cause', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = {
      get token(): string {
        throw new Error('denied');
      },
    };
    expect(() => encodeValue({ a: getter }, 'the input of run 3'))
      .to.throw(
        JournalValueError,
        'Cannot journal the input of run 3: at `(value).a.token`, reading the value threw (Error: denied)',
      )
      .with.property('cause');
    expect(() => encodeValue([proxy], 'it')).to.throw(
      JournalValueError,
      'at `(value)[0]`, reading the value threw (TypeError',
    );
  });

  it('50k-deep nesting is a JournalValueError, not a RangeError', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    expect(() => encodeValue(deep, 'it')).to.throw(JournalValueError, 'the value nests deeper than 2000 levels');
  });

  it('array holes come back as holes (not undefined)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = decodeValue(encodeValue({ list: [1, , 3], empty: new Array(2) }, 'it')) as {
      list: unknown[];
      empty: unknown[];
    };
    expect(back.list).to.have.length(3);
    expect(1 in back.list).to.equal(false);
    expect(back.empty).to.have.length(2);
    expect(0 in back.empty).to.equal(false);
  });
});
