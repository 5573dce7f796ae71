import { expect } from 'chai';
import { firstValueFrom, from, toArray } from 'rxjs';
import { z } from 'zod';
import { defineAgent, defineEvent, InputEvent, OutputEvent } from '../../lib';
import { registerDeployment, restateAgent, serveAgents, type AgentEndpoint } from '../../lib/restate';
import { useRestateServer } from './fixtures/server';

/** A promise the test resolves by name: blocks wait on gates, so overlap is shown by order, not by timing. */
class Gates {
  private readonly map = new Map<string, { promise: Promise<void>; open: () => void }>();
  gate(name: string): { promise: Promise<void>; open: () => void } {
    let entry = this.map.get(name);
    if (entry === undefined) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      entry = { promise, open };
      this.map.set(name, entry);
    }
    return entry;
  }
  wait(name: string): Promise<void> {
    return this.gate(name).promise;
  }
  open(name: string): void {
    this.gate(name).open();
  }
}

const gates = new Gates();
const Input = z.object({ user: z.string(), n: z.number(), slow: z.boolean().optional() });
const Scored = defineEvent('scored', z.object({ user: z.string(), n: z.number(), score: z.number() }));

/** S1/S2/S3/S7/S8/S12 in one agent: fan-out to two actions, a chained event, memory of both kinds. */
const agent = defineAgent({
  name: 'conformance',
  input: Input,
  actions: (action) => [
    action('score', InputEvent, function* (event, ctx) {
      const { user, n, slow } = event.payload;
      ctx.sensoryMemory.set('seenInRun', (ctx.sensoryMemory.get<number>('seenInRun') ?? 0) + 1);
      // S3: this block and `tag`'s block overlap: each opens its gate and waits for the other's.
      const score = yield* ctx.executeAsync(async () => {
        gates.open(`score-started:${user}:${n}`);
        await gates.wait(`tag-started:${user}:${n}`);
        if (slow === true) await gates.wait(`release:${user}`);
        return n * 10;
      });
      ctx.sendEvent(Scored.of({ user, n, score }));
    }),
    action('tag', InputEvent, async (event, ctx) => {
      const { user, n } = event.payload;
      const tag = await ctx.executeAsync(async () => {
        gates.open(`tag-started:${user}:${n}`);
        await gates.wait(`score-started:${user}:${n}`);
        return `t${n}`;
      });
      ctx.sensoryMemory.set('tag', tag);
    }),
    action('record', Scored, function* (event, ctx) {
      const { user, n, score } = event.payload;
      // S12: two calls started before waiting, read together.
      const [a, b] = yield* ctx.all([ctx.executeAsync((x: number) => x + 1, score), ctx.executeAsync(() => 'b')]);
      const history = ctx.shortTermMemory.get<number[]>('history') ?? [];
      ctx.shortTermMemory.set('history', [...history, n]);
      ctx.sendEvent(
        OutputEvent.of({
          user,
          n,
          a,
          b,
          run: ctx.run,
          history: [...history, n],
          sensory: ctx.sensoryMemory.get<number>('seenInRun') ?? null,
        }),
      );
      ctx.sendEvent(OutputEvent.of({ user, n, second: true }));
    }),
  ],
});

type Out = {
  user: string;
  n: number;
  a?: number;
  b?: string;
  run?: number;
  history?: number[];
  sensory?: number | null;
  second?: true;
};

describe('restate: conformance through the client operator (real restate-server, S1 S2 S3 S7 S8 S12; S13 memory)', function () {
  this.timeout(60_000);
  const ctx = useRestateServer();
  let endpoint: AgentEndpoint;

  before(async () => {
    endpoint = await serveAgents([agent]);
    await registerDeployment(ctx.server.admin, endpoint.url);
  });
  after(async () => endpoint?.close());

  const operator = () =>
    restateAgent<z.infer<typeof Input>, Out>(agent, { ingress: ctx.server.ingress, key: (x) => x.user });

  it('S1 S8: per key, runs happen in input order and every output of run n precedes run n+1; S13 memory survives runs', async () => {
    const inputs = ['a', 'b', 'c'].flatMap((user) => [1, 2, 3, 4].map((n) => ({ user, n })));
    const outputs = await firstValueFrom(from(inputs).pipe(operator(), toArray()));
    expect(outputs).to.have.length(inputs.length * 2);
    for (const user of ['a', 'b', 'c']) {
      const mine = outputs.filter((o) => o.user === user);
      // S8: each run's two outputs, in send order, before the next run's.
      expect(mine.map((o) => [o.n, o.second === true])).to.deep.equal(
        [1, 2, 3, 4].flatMap((n) => [
          [n, false],
          [n, true],
        ]),
      );
      const firsts = mine.filter((o) => o.second !== true);
      // S1 + short-term memory: each run saw exactly the runs before it, in order.
      expect(firsts.map((o) => o.history)).to.deep.equal([[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
      // Run numbers count a key's runs.
      expect(firsts.map((o) => o.run)).to.deep.equal([1, 2, 3, 4]);
      // S12: both results of ctx.all, in call order.
      expect(firsts.map((o) => [o.a, o.b])).to.deep.equal([1, 2, 3, 4].map((n) => [n * 10 + 1, 'b']));
      // S7: sensory memory was cleared between runs (each run counted only itself).
      expect(firsts.map((o) => o.sensory)).to.deep.equal([1, 1, 1, 1]);
    }
  });

  it('S2: a key whose block is held does not delay other keys; S3: blocks of one run overlap', async () => {
    const inputs = [{ user: 'slow', n: 1, slow: true }, ...['x', 'y', 'z'].map((user) => ({ user, n: 1 }))];
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      from(inputs)
        .pipe(operator())
        .subscribe({
          next: (o) => {
            if (o.second === true) return;
            seen.push(o.user);
            // Release the slow key only after every other key has produced its output.
            if (seen.length === 3) gates.open('release:slow');
          },
          error: reject,
          complete: resolve,
        });
    });
    await done;
    // If the slow key blocked the others, the gate would never open and this test would time out.
    expect(seen.slice(0, 3).sort()).to.deep.equal(['x', 'y', 'z']);
    expect(seen[3]).to.equal('slow');
  });
});
