import { expect } from 'chai';
import { NEVER, type Observable } from 'rxjs';
import { z } from 'zod';
import { agentOperator, signal, type Signal } from '../../lib';
import { createTestScheduler } from '../../lib/testing';
import { defineTool, humanApproval, reactAgent, ToolApprovalSignal, type ToolMessage } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

/** S14 + rx-agents/llm: tools marked needsApproval wait for a person's decision through waitForEvent. */
describe('llm/humanApproval: needsApproval tool calls park the run until a signal decides (S14)', () => {
  function setup(
    signals: (cold: <T>(m: string, v?: Record<string, T>) => Observable<T>) => Observable<Signal>,
    timeout?: number,
  ) {
    const refunded: Array<{ id: number; amount: number }> = [];
    const refund = defineTool({
      name: 'refund',
      description: 'Refunds an order',
      input: z.object({ id: z.number(), amount: z.number() }),
      execute: (args) => {
        refunded.push(args);
        return { ok: true };
      },
      needsApproval: ({ amount }) => amount > 100,
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { id: 'c1', name: 'refund', arguments: { id: 1, amount: 500 } },
          { id: 'c2', name: 'refund', arguments: { id: 2, amount: 300 } },
          { id: 'c3', name: 'refund', arguments: { id: 3, amount: 20 } },
        ],
      },
      { text: 'done' },
    ]);
    const agent = reactAgent({
      model,
      tools: [refund],
      signals: [ToolApprovalSignal],
      actions: (action) => [humanApproval(action, timeout === undefined ? {} : { timeout })],
    });
    const ts = createTestScheduler();
    const seen: string[] = [];
    ts.run(({ cold }) => {
      cold('a|', { a: 'refund them' })
        .pipe(agentOperator(agent, { key: () => 'ticket-1', scheduler: ts, signals: signals(cold) }))
        .subscribe({
          next: () => seen.push(`${ts.now()}:answer`),
          error: (e: Error) => seen.push(`${ts.now()}:# ${e.message}`),
          complete: () => seen.push(`${ts.now()}:|`),
        });
    });
    const results = () =>
      (model.requests[1]?.messages ?? [])
        .filter((m): m is ToolMessage => m.role === 'tool')
        .map((m) => `${m.toolCallId}:${m.isError ? 'denied' : 'ok'}`);
    return { seen, refunded, results, model };
  }

  it('approve one, edit one (new arguments), and the run resumes when the signal arrives', () => {
    const decision = ToolApprovalSignal.of({
      decisions: { c1: { approved: true }, c2: { approved: true, arguments: { id: 2, amount: 150 } } },
    });
    const { seen, refunded, results } = setup((cold) => cold('-------s', { s: signal('ticket-1', decision) }));
    expect(seen).to.deep.equal(['7:answer', '7:|']);
    expect(refunded).to.deep.equal([
      { id: 1, amount: 500 },
      { id: 2, amount: 150 },
      { id: 3, amount: 20 },
    ]);
    expect(results()).to.deep.equal(['c1:ok', 'c2:ok', 'c3:ok']);
  });

  it('reject: the call does not run and the model sees the reason', () => {
    const decision = ToolApprovalSignal.of({
      decisions: { c1: { approved: false, reason: 'too much' }, c2: { approved: true } },
    });
    const { refunded, results, model } = setup((cold) => cold('--s', { s: signal('ticket-1', decision) }));
    expect(refunded.map((r) => r.id)).to.deep.equal([2, 3]);
    expect(results()).to.deep.equal(['c1:denied', 'c2:ok', 'c3:ok']);
    const denied = model.requests[1]!.messages.find(
      (m): m is ToolMessage => m.role === 'tool' && m.toolCallId === 'c1',
    );
    expect(denied?.content).to.deep.equal({ error: 'The call of `refund` was denied: too much.' });
  });

  it('a decision that does not cover every pending call waits for one that does; timeout rejects what is left', () => {
    const partial = ToolApprovalSignal.of({ decisions: { c1: { approved: true } } });
    const { seen, refunded, results } = setup((cold) => cold('--s', { s: signal('ticket-1', partial) }), 20);
    // The partial decision stays buffered; at 20 both pending calls are rejected; when the run ends the unused
    // signal is reported (here, without onSignalRejected, by failing the stream: never dropped in silence).
    expect(seen).to.deep.equal([
      '20:answer',
      '20:# Signal `0:signal#0` of type `rx-agents/llm/tool-approval` for key `ticket-1` was buffered, but run 0 ended without a wait taking it. Pass `onSignalRejected` to agentOperator to handle signals that cannot be delivered.',
    ]);
    expect(refunded.map((r) => r.id)).to.deep.equal([3]);
    expect(results()).to.deep.equal(['c1:denied', 'c2:denied', 'c3:ok']);
  });

  it('without a decision the run stays parked (no answer, no pool slot) until the stream ends', () => {
    const { seen, refunded } = setup(() => NEVER);
    expect(seen).to.deep.equal([]);
    expect(refunded).to.deep.equal([]);
  });
});
