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
    expect((error as Error).message).to.equal('Action `double` failed in run 0 of key `undefined`: RangeError: negative');
  });
});
