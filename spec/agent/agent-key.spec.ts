import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  agentOperator,
  CallbackError,
  defineAgent,
  InputEvent,
  OutputEvent,
  runAgent,
  type AgentOutput,
} from '../../lib';
import { createTestScheduler } from '../../lib/testing';

// `defineAgent({ key })`: the agent's own key selector types `ctx.key` (spec/types.typecheck.ts) and is
// the default key of agentOperator and runAgent; the operator's `key` overrides it (S1 per that key).

const Ticket = z.object({ id: z.number(), customer: z.string() });

/** A fresh agent per test: its key selector comes from the definition. */
const keyedAgent = () =>
  defineAgent({
    name: 'keyed',
    input: Ticket,
    output: z.object({ id: z.number(), key: z.string() }),
    key: (t) => t.customer,
    actions: (action) => [
      action('reply', InputEvent, (event, ctx) =>
        ctx.sendEvent(OutputEvent.of({ id: event.payload.id, key: ctx.key })),
      ),
    ],
  });

const [ada1, bob2, ada3] = [
  { id: 1, customer: 'ada' },
  { id: 2, customer: 'bob' },
  { id: 3, customer: 'ada' },
] as const;
const tickets = [ada1, bob2, ada3];

describe('defineAgent({ key }): the agent’s key selector', () => {
  it('is the operator’s default key: ctx.key and the envelope carry it (S1 per key)', async () => {
    const envelopes = await lastValueFrom(
      of(...tickets).pipe(agentOperator(keyedAgent(), { output: 'envelope' }), toArray()),
    );
    expect(envelopes.map((e: AgentOutput<{ id: number; key: string }>) => [e.key, e.payload])).to.deep.equal([
      ['ada', { id: 1, key: 'ada' }],
      ['bob', { id: 2, key: 'bob' }],
      ['ada', { id: 3, key: 'ada' }],
    ]);
  });

  it('the operator’s `key` overrides it', async () => {
    const outputs = await lastValueFrom(
      of(...tickets).pipe(agentOperator(keyedAgent(), { key: (t) => `${t.customer}#${t.id}` }), toArray()),
    );
    expect(outputs.map((o) => o.key)).to.deep.equal(['ada#1', 'bob#2', 'ada#3']);
  });

  it('is runAgent’s default key too', async () => {
    const seen: string[] = [];
    for await (const output of runAgent(keyedAgent(), tickets)) seen.push(`${output.id}:${output.key}`);
    expect(seen.sort()).to.deep.equal(['1:ada', '2:bob', '3:ada']);
  });

  it('keys runs: a key’s runs stay serial while other keys go on (marble, S1/S2)', () => {
    const ts = createTestScheduler();
    const slow = defineAgent({
      name: 'slow',
      input: Ticket,
      key: (t) => t.customer,
      actions: (action) => [
        action('reply', InputEvent, function* (event, ctx) {
          yield* ctx.sleep(5);
          ctx.sendEvent(OutputEvent.of(`${ctx.key}${event.payload.id}`));
        }),
      ],
    });
    ts.run(({ cold, expectObservable }) => {
      const inputs = cold('(abc)|', { a: ada1, b: bob2, c: ada3 });
      // ada's second run waits for her first; bob's does not wait for ada's.
      expectObservable(inputs.pipe(agentOperator(slow, { scheduler: ts }))).toBe('5ms (xy) 1ms (z|)', {
        x: 'ada1',
        y: 'bob2',
        z: 'ada3',
      });
    });
  });

  it('a throwing agent key selector fails the stream like an operator one', async () => {
    const agent = defineAgent({
      name: 'bad-key',
      key: (): string => {
        throw new Error('no key');
      },
      actions: (action) => [action('a', InputEvent, () => undefined)],
    });
    const error = await lastValueFrom(of(1).pipe(agentOperator(agent))).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CallbackError);
    expect((error as CallbackError).callback).to.equal('key');
    expect(((error as CallbackError).cause as Error).message).to.equal('no key');
  });
});
