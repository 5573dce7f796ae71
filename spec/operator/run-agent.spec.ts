import { expect } from 'chai';
import { z } from 'zod';
import { ActionError, defineAgent, InputEvent, OutputEvent, runAgent } from '../../lib';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const agent = defineAgent({
  name: 'double',
  input: z.object({ user: z.string(), n: z.number() }),
  output: z.string(),
  actions: (action) => [
    action('double', InputEvent, async (event, ctx) => {
      if (event.payload.n < 0) throw new RangeError('negative');
      const d = await ctx.executeAsync(async (n: number) => (await sleep(1), n * 2), event.payload.n);
      ctx.sendEvent(OutputEvent.of(`${event.payload.user}:${d}`));
    }),
  ],
});

describe('runAgent (AsyncIterable outputs via rxjs-for-await)', () => {
  const inputs = Array.from({ length: 9 }, (_, n) => ({ user: `u${n % 3}`, n }));

  it('iterates every output of an array source; a slow consumer loses nothing; per-key order holds', async () => {
    const seen: string[] = [];
    for await (const out of runAgent(agent, inputs, { key: (x) => x.user })) {
      await sleep(1);
      seen.push(out);
    }
    expect(seen).to.have.length(9);
    for (const user of ['u0', 'u1', 'u2']) {
      const mine = seen.filter((s) => s.startsWith(`${user}:`));
      expect(mine).to.deep.equal([...mine].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])));
    }
  });

  it('break stops the agent: in-flight blocks are aborted (the signal fires)', async () => {
    const aborted: boolean[] = [];
    const slow = defineAgent({
      name: 'slow',
      actions: (action) => [
        action('wait', InputEvent, function* (event, ctx) {
          const signal = ctx.signal;
          signal.addEventListener('abort', () => aborted.push(true));
          yield* ctx.executeAsync(() => sleep(event.payload === 0 ? 0 : 10_000));
          ctx.sendEvent(OutputEvent.of(event.payload));
        }),
      ],
    });
    for await (const out of runAgent(slow, [0, 1, 2], { key: (x: number) => x })) {
      expect(out).to.equal(0);
      break;
    }
    expect(aborted).to.deep.equal([true, true]);
  });

  it('an agent error is thrown from the loop', async () => {
    const error = await (async () => {
      for await (const _ of runAgent(agent, [{ user: 'a', n: -1 }])) void _;
    })().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ActionError);
    expect((error as Error).message).to.equal(
      'Action `double` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): RangeError: negative',
    );
  });
});

describe('runAgent over an AsyncIterable: real backpressure', () => {
  /** A pull source that records how many inputs it has handed out. */
  function counting(n: number, key: (i: number) => string) {
    const state = { pulled: 0, returned: false };
    async function* source() {
      try {
        for (let i = 0; i < n; i++) {
          state.pulled++;
          yield { user: key(i), n: i };
        }
      } finally {
        state.returned = true;
      }
    }
    return { state, source: source() };
  }

  it('takes the next input only while fewer than maxBufferedInputs wait: nothing is dropped, the bound holds', async () => {
    const { state, source } = counting(40, () => 'same-key'); // one key: every input after the first waits
    const seen: string[] = [];
    let maxAhead = 0;
    for await (const out of runAgent(agent, source, { key: (x) => x.user, maxBufferedInputs: 3 })) {
      seen.push(out);
      // pulled - finished runs - the active one = inputs waiting; never more than the bound
      maxAhead = Math.max(maxAhead, state.pulled - seen.length - 1);
    }
    expect(seen).to.deep.equal(Array.from({ length: 40 }, (_, i) => `same-key:${i * 2}`));
    expect(maxAhead).to.be.at.most(3);
    expect(state.returned).to.equal(true);
  });

  it('maxInFlight bounds unfinished inputs across distinct keys (running ones count too)', async () => {
    const { state, source } = counting(50, (i) => `u${i}`);
    let maxUnfinished = 0;
    let done = 0;
    for await (const _ of runAgent(agent, source, { key: (x) => x.user, maxInFlight: 4 })) {
      void _;
      done++;
      maxUnfinished = Math.max(maxUnfinished, state.pulled - done);
    }
    expect(done).to.equal(50);
    expect(maxUnfinished).to.be.at.most(4);
    expect(() => runAgent(agent, source, { maxInFlight: 0 })).to.throw(
      TypeError,
      'Expected `maxInFlight` to be an integer >= 1 or Infinity, got `0` (number)',
    );
  });

  it('keys still run concurrently and in order when pulled', async () => {
    const { source } = counting(30, (i) => `u${i % 3}`);
    const seen: string[] = [];
    for await (const out of runAgent(agent, source, { key: (x) => x.user })) seen.push(out);
    expect(seen).to.have.length(30);
    for (const user of ['u0', 'u1', 'u2']) {
      const mine = seen.filter((s) => s.startsWith(`${user}:`)).map((s) => Number(s.split(':')[1]));
      expect(mine).to.deep.equal([...mine].sort((a, b) => a - b));
    }
  });

  it('break returns the source iterator and aborts in-flight work', async () => {
    const { state, source } = counting(1_000, (i) => `u${i}`);
    for await (const _ of runAgent(agent, source, { key: (x) => x.user, maxInFlight: 5 })) {
      void _;
      break;
    }
    expect(state.returned).to.equal(true);
    expect(state.pulled).to.be.at.most(6);
  });

  it('a throwing source fails the loop with its error', async () => {
    async function* broken() {
      yield { user: 'a', n: 1 };
      throw new Error('consumer disconnected');
    }
    const error = await (async () => {
      for await (const _ of runAgent(agent, broken())) void _;
    })().catch((e: unknown) => e);
    expect((error as Error).message).to.equal('consumer disconnected');
  });
});
