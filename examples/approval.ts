/**
 * Human approval (S14): a refund agent drafts a refund, then its run parks on
 * `ctx.waitForEvent(Approval, { timeout })` — holding no executor slot — until a person's decision
 * arrives as a signal for the ticket's key. Large refunds wait for a human; a decision that never
 * comes ends in `WaitTimeoutError` and the refund is escalated instead.
 * Run: `npx ts-node --transpile-only examples/approval.ts`
 */
import { lastValueFrom, Subject } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  signal,
  WaitTimeoutError,
  type Signal,
} from '../lib';

interface Ticket {
  readonly id: string;
  readonly amount: number;
}

/** The decision a person sends for a ticket. */
export const Approval = defineEvent('approval', z.object({ approved: z.boolean(), by: z.string() }));

const draftRefund = (t: Ticket): Promise<string> =>
  new Promise((resolve) => setTimeout(() => resolve(`refund ${t.amount} EUR on ${t.id}`), 10));

export const agent = defineAgent({
  name: 'refunds',
  input: z.object({ id: z.string(), amount: z.number() }),
  output: z.string(),
  signals: [Approval],
  actions: (action) => [
    action('refund', InputEvent, function* (event, ctx) {
      const ticket = event.payload;
      const draft = yield* ctx.executeAsync(draftRefund, ticket);
      if (ticket.amount <= 100) return ctx.sendEvent(OutputEvent.of(`${draft}: auto-approved`));
      try {
        // Parked: the key stays busy (its next tickets wait), no pool slot is held, durable with a store.
        const decision = yield* ctx.waitForEvent(Approval, { timeout: 300 });
        const verdict = decision.payload.approved ? 'approved' : 'rejected';
        ctx.sendEvent(OutputEvent.of(`${draft}: ${verdict} by ${decision.payload.by}`));
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        ctx.sendEvent(OutputEvent.of(`${draft}: no decision, escalated`));
      }
    }),
  ],
});

/** Three tickets; a "reviewer" approves t-2 after 50 ms; nobody answers for t-3. */
export async function main(): Promise<string[]> {
  const tickets = new Subject<Ticket>();
  const signals = new Subject<Signal>();
  const outputs = lastValueFrom(tickets.pipe(agentOperator(agent, { key: (t) => t.id, signals }), toArray()));
  tickets.next({ id: 't-1', amount: 40 });
  tickets.next({ id: 't-2', amount: 900 });
  tickets.next({ id: 't-3', amount: 500 });
  tickets.complete();
  // The reviewer's UI (or a webhook) answers later: a signal for the ticket's key.
  setTimeout(() => signals.next(signal('t-2', Approval.of({ approved: true, by: 'ana' }))), 50);
  return outputs;
}

if (require.main === module) void main().then((outputs) => console.log(outputs.join('\n')));
