import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import { ASK_ZOD, fastCheck, fastParse } from '../../lib/events/fast-parse';

describe('events: the fast path of payload validation accepts only what zod accepts and builds what zod builds', () => {
  const simple = z.object({ n: z.number(), s: z.string(), b: z.boolean() });
  const anything = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(NaN, Infinity, -Infinity, -0),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.integer(), { maxLength: 2 }),
  );

  it('agrees with safeParse on every payload, valid or not (property)', () => {
    const payload = fc.oneof(
      anything,
      fc.record({ n: anything, s: anything, b: anything }, { requiredKeys: [] }),
      fc.record({ n: fc.double(), s: fc.string(), b: fc.boolean(), extra: anything }),
    );
    fc.assert(
      fc.property(payload, (value) => {
        const fast = fastParse(simple, value);
        const zod = simple.safeParse(value);
        if (fast === ASK_ZOD) return;
        expect(zod.success, 'the fast path accepted what zod rejects').to.equal(true);
        expect(fast).to.deep.equal(zod.data);
        expect(Object.keys(fast as object)).to.deep.equal(Object.keys(zod.data as object));
        expect(fast).not.to.equal(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the fast path for valid payloads of a simple object schema, stripping unknown keys', () => {
    expect(fastParse(simple, { b: true, s: 'x', n: 1, extra: [1] })).to.deep.equal({ n: 1, s: 'x', b: true });
    class Payload {
      n = 2;
      s = '';
      b = false;
    }
    expect(fastParse(simple, new Payload())).to.deep.equal(simple.parse(new Payload()));
    for (const bad of [{ n: NaN, s: '', b: true }, { n: 1, s: 1, b: true }, { n: 1, s: '' }, null, [], 'x'])
      expect(fastParse(simple, bad)).to.equal(ASK_ZOD);
  });

  it('leaves every other schema to zod: checks, refinements, transforms, optional fields, strict objects, coercion', () => {
    const others: z.ZodType[] = [
      z.object({ n: z.number().int() }),
      z.object({ n: z.number().min(0) }),
      z.object({ s: z.string().min(1) }),
      z.object({ n: z.number() }).refine((x) => x.n > 0),
      z.object({ n: z.number() }).transform((x) => x.n),
      z.object({ n: z.number().optional() }),
      z.object({ n: z.number() }).strict(),
      z.object({ n: z.number() }).passthrough(),
      z.object({ n: z.coerce.number() }),
      z.object({ n: z.int() }),
      z.object({ o: z.object({ n: z.number() }) }),
      z.number(),
      z.unknown(),
    ];
    for (const schema of others) expect(fastParse(schema, { n: 1, s: 'x', o: { n: 1 } })).to.equal(ASK_ZOD);
  });

  it('compiles a check for any field names — quotes, backslashes, newlines, digits, unicode — that builds what zod builds (property)', () => {
    const names = fc.uniqueArray(
      fc.oneof(fc.string(), fc.constantFrom('"', "'", '\\', '`${x}`', '}; throw 1; {', '\u2028', '0', '12', 'a b')),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(
        names.filter((ns) => !ns.includes('__proto__')),
        (ns) => {
          const schema = z.object(Object.fromEntries(ns.map((n) => [n, z.number()])));
          expect(fastCheck(schema)?.name).to.equal('fastCheck'); // the generated code
          const payload = Object.fromEntries(ns.map((n, i) => [n, i]));
          const fast = fastParse(schema, { ...payload, extra: true });
          expect(fast).to.deep.equal(schema.parse(payload));
          expect(Object.keys(fast as object)).to.deep.equal(Object.keys(schema.parse(payload) as object));
          if (ns.length > 0) expect(fastParse(schema, { ...payload, [ns[0] as string]: 'x' })).to.equal(ASK_ZOD);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("generates no code under zod's z.config({ jitless: true }): the loop decides, with the same answers", () => {
    const before = z.config().jitless;
    z.config({ jitless: true });
    try {
      const schema = z.object({ n: z.number(), s: z.string(), b: z.boolean() });
      expect(fastCheck(schema)?.name).not.to.equal('fastCheck');
      expect(fastParse(schema, { b: true, s: 'x', n: 1, extra: [1] })).to.deep.equal({ n: 1, s: 'x', b: true });
      for (const bad of [{ n: Infinity, s: '', b: true }, { n: 1, s: 1, b: true }, { n: 1, s: '' }, null, [], 'x'])
        expect(fastParse(schema, bad)).to.equal(ASK_ZOD);
    } finally {
      z.config({ jitless: before });
    }
  });
});
