import { expect } from 'chai';
import { z } from 'zod';
import {
  AgentDefinitionError,
  agentOperator,
  allOf,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
} from '../../lib';
import { virtualDelay } from '../../lib/testing';
import { timeline } from '../fixtures/virtual-timeline';

const Classified = defineEvent('classified', z.object({ label: z.string() }));
const CustomerLoaded = defineEvent('customer-loaded', z.object({ tier: z.string() }));

interface Ticket {
  readonly key: string;
  readonly text: string;
  /** How many of each event the run sends. */
  readonly labels?: number;
  readonly customers?: number;
}

const agent = defineAgent({
  name: 'join',
  input: z.object({
    key: z.string(),
    text: z.string(),
    labels: z.number().optional(),
    customers: z.number().optional(),
  }),
  actions: (action) => [
    action('classify', InputEvent, function* (event, ctx) {
      for (let i = 0; i < (event.payload.labels ?? 1); i++)
        ctx.sendEvent(Classified.of({ label: yield* ctx.executeAsync(() => virtualDelay(`L${i}`, 5)) }));
    }),
    action('load', InputEvent, function* (event, ctx) {
      for (let i = 0; i < (event.payload.customers ?? 1); i++)
        ctx.sendEvent(CustomerLoaded.of({ tier: yield* ctx.executeAsync(() => virtualDelay(`T${i}`, 10)) }));
    }),
    action('combine', allOf(Classified, CustomerLoaded), ([classified, customer], ctx) => {
      const label: string = classified.payload.label; // typed from the joined event types
      const tier: string = customer.payload.tier;
      ctx.sendEvent(OutputEvent.of(`${ctx.input.text}:${label}+${tier}`)); // ctx.input: the run's input, in any action
    }),
  ],
});

describe('joins: allOf(A, B) triggers, ctx.input', () => {
  it('S3 a join action starts once both event types were sent in the run, with one event of each', () => {
    const seen = timeline((cold) =>
      cold<Ticket>('(a|)', { a: { key: 'k', text: 'refund' } }).pipe(agentOperator(agent, { key: (t) => t.key })),
    );
    expect(seen).to.deep.equal(['10:refund:L0+T0', '10:|']);
  });

  it('pairs events first in, first out: two of each make two activations in send order', () => {
    const seen = timeline((cold) =>
      cold<Ticket>('(a|)', { a: { key: 'k', text: 't', labels: 3, customers: 2 } }).pipe(agentOperator(agent)),
    );
    // labels at 5, 10, 15; customers at 10, 20: pairs (L0,T0) at 10 and (L1,T1) at 20; L2 never completes a join.
    expect(seen).to.deep.equal(['10:t:L0+T0', '20:t:L1+T1', '20:|']);
  });

  it('a join never pairs events of two runs (one key, two inputs) or two keys', () => {
    const half = defineAgent({
      name: 'half',
      actions: (action) => [
        action('start', InputEvent, (event, ctx) => {
          const n = event.payload as number;
          if (n % 2 === 0) ctx.sendEvent(Classified.of({ label: `L${n}` }));
          else ctx.sendEvent(CustomerLoaded.of({ tier: `T${n}` }));
        }),
        action('combine', allOf(Classified, CustomerLoaded), ([a, b], ctx) =>
          ctx.sendEvent(OutputEvent.of(`${a.payload.label}+${b.payload.tier}`)),
        ),
      ],
    });
    const seen = timeline((cold) =>
      cold<number>('(abcd|)', { a: 0, b: 1, c: 2, d: 3 }).pipe(agentOperator(half, { key: (n) => n % 2 })),
    );
    expect(seen).to.deep.equal(['0:|']);
  });

  it('ctx.input is the validated input of the run, in every action (also async ones)', async () => {
    const Next = defineEvent('next', z.null());
    const reader = defineAgent({
      name: 'reader',
      input: z.object({ n: z.coerce.number() }),
      actions: (action) => [
        action('start', InputEvent, (_e, ctx) => ctx.sendEvent(Next.of(null))),
        action('later', Next, async (_e, ctx) => {
          await ctx.executeAsync(async () => 1);
          ctx.sendEvent(OutputEvent.of(ctx.input.n + 1));
        }),
      ],
    });
    const { lastValueFrom, of } = await import('rxjs');
    expect(await lastValueFrom(of({ n: '41' as unknown as number }).pipe(agentOperator(reader)))).to.equal(42);
  });

  it('bad joins are refused when the action is defined', () => {
    expect(() => allOf(Classified as never)).to.throw(AgentDefinitionError, 'at least two event types');
    expect(() => allOf(Classified, Classified)).to.throw(AgentDefinitionError, 'twice');
    expect(() => allOf(Classified, OutputEvent)).to.throw(AgentDefinitionError, 'OutputEvent');
    expect(() => allOf(Classified, {} as never)).to.throw(AgentDefinitionError, 'Argument 1 of allOf');
  });
});
