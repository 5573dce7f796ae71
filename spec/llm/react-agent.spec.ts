import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, AgentDefinitionError, ActionError, type LifecycleEvent } from '../../lib';
import { createTestScheduler, recordLifecycle, virtualDelay } from '../../lib/testing';
import {
  defineTool,
  MaxStepsError,
  reactAgent,
  StructuredOutputError,
  ToolApprovalRequestEvent,
  ToolApprovalResponseEvent,
  ToolResponseEvent,
  type AgentAnswer,
  type ToolMessage,
} from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an order up',
  input: z.object({ id: z.number().int() }),
  execute: ({ id }) => virtualDelay({ id, status: id === 1 ? 'shipped' : 'pending' }, 4),
});

describe('llm/reactAgent — the ReAct loop in virtual time (S3, S11, S12)', () => {
  it('two parallel tool calls, frame by frame: model 5 → tools 4 (overlapping) → model 3 = answer at frame 12', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const model = scriptedModel([
        {
          toolCalls: [
            { name: 'lookup', arguments: { id: 1 } },
            { name: 'lookup', arguments: { id: 2 } },
          ],
          frames: 5,
        },
        { text: 'Order 1 shipped, order 2 pending.', frames: 3 },
      ]);
      const agent = reactAgent<string>({ model, tools: [lookup], system: 'You help.', maxSteps: 4 });
      const out = cold('a|').pipe(agentOperator(agent, { scheduler: ts }));
      expectObservable(out).toBe('12ms (x|)', {
        x: {
          text: 'Order 1 shipped, order 2 pending.',
          output: 'Order 1 shipped, order 2 pending.',
          steps: 2,
          usage: { inputTokens: 20, outputTokens: 10, totalTokens: 30 },
        },
      });
      ts.flush();
      // The second request carries both results, in call order.
      const second = model.requests[1]!;
      expect(second.messages.map((m) => m.role)).to.deep.equal(['system', 'user', 'assistant', 'tool', 'tool']);
      expect((second.messages[3] as ToolMessage).content).to.deep.equal({ id: 1, status: 'shipped' });
      expect((second.messages[4] as ToolMessage).content).to.deep.equal({ id: 2, status: 'pending' });
      expect(second.tools!.map((t) => t.name)).to.deep.equal(['lookup']);
      expect(second.tools![0]!.inputSchema).to.deep.include({ type: 'object', required: ['id'] });
    });
  });

  it('keys run concurrently and a key continues its conversation from short-term memory (S1, S2)', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const model = scriptedModel((request) => ({ text: `#${request.messages.length}`, frames: 2 }));
      const agent = reactAgent<{ user: string; text: string }, string>({
        model,
        prompt: (input) => input.text,
        history: { maxMessages: 4 },
      });
      const out = cold('ab--c|', {
        a: { user: 'u1', text: 'hi' },
        b: { user: 'u2', text: 'hey' },
        c: { user: 'u1', text: 'again' },
      }).pipe(agentOperator(agent, { scheduler: ts, key: (i) => i.user }));
      // u1's second input sees its first turn (user + assistant) before its own message: 3 messages.
      expectObservable(out).toBe('--xy--(z|)', {
        x: { text: '#1', output: '#1', steps: 1, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } },
        y: { text: '#1', output: '#1', steps: 1, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } },
        z: { text: '#3', output: '#3', steps: 1, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } },
      });
    });
  });

  it('bad arguments, an unknown tool and a throwing tool become results the model sees, validated before any tool runs', async () => {
    let ran = 0;
    const boom = defineTool({
      name: 'boom',
      description: 'fails',
      input: z.object({}),
      execute: () => {
        ran++;
        throw new Error('kaput');
      },
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'lookup', arguments: { id: 'one' } },
          { name: 'nope', arguments: {} },
          { name: 'boom', arguments: {} },
        ],
      },
      { text: 'sorry' },
    ]);
    const agent = reactAgent({ model, tools: [lookup, boom] });
    const out = await lastValueFrom(of('x').pipe(agentOperator(agent), toArray()));
    expect(out).to.have.length(1);
    expect(ran).to.equal(1);
    const results = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === 'tool');
    expect(results.map((r) => r.isError)).to.deep.equal([true, true, true]);
    expect(results[0]!.content).to.deep.include({
      issues: [{ path: 'id', message: 'Invalid input: expected number, received string' }],
    });
    expect(JSON.stringify(results[1]!.content)).to.match(/no tool named `nope`; the tools are: lookup, boom/);
    expect(JSON.stringify(results[2]!.content)).to.match(/Tool `boom` failed: kaput/);
  });

  it('a tool timeout is a result the model sees (virtual time)', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const slow = defineTool({
        name: 'slow',
        description: 's',
        input: z.object({}),
        execute: () => virtualDelay('late', 50),
        timeout: 10,
      });
      const model = scriptedModel([
        { toolCalls: [{ name: 'slow', arguments: {} }], frames: 1 },
        { text: 'ok', frames: 1 },
      ]);
      const agent = reactAgent({ model, tools: [slow] });
      expectObservable(cold('a|').pipe(agentOperator(agent, { scheduler: ts }))).toBe('12ms (x|)', {
        x: { text: 'ok', output: 'ok', steps: 2, usage: { inputTokens: 20, outputTokens: 10, totalTokens: 30 } },
      });
      ts.flush();
      const result = model.requests[1]!.messages[2] as ToolMessage;
      expect(result).to.deep.include({ isError: true, content: { error: 'Tool `slow` did not finish within 10 ms.' } });
    });
  });

  it('the step cap is mandatory (default 10) and reaching it is a MaxStepsError under the error policy', async () => {
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', arguments: { id: 1 } }] }));
    const lookupNow = defineTool({
      name: 'lookup',
      description: 'd',
      input: z.object({ id: z.number() }),
      execute: ({ id }) => ({ id }),
    });
    const agent = reactAgent({ model, tools: [lookupNow], maxSteps: 3 });
    const error = await lastValueFrom(of('x').pipe(agentOperator(agent))).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ActionError);
    expect((error as ActionError).cause).to.be.instanceOf(MaxStepsError);
    expect((error as ActionError).cause).to.include({ code: 'ERR_MAX_STEPS', maxSteps: 3 });
    expect(model.requests).to.have.length(3);
    // isolate: the other keys go on
    const failures: unknown[] = [];
    const ok = scriptedModel((r) =>
      r.messages.some((m) => m.role === 'user' && m.content === 'loop')
        ? { toolCalls: [{ name: 'lookup', arguments: { id: 1 } }] }
        : { text: 'fine' },
    );
    const mixed = reactAgent<string>({ model: ok, tools: [lookupNow], maxSteps: 2 });
    const outs = await lastValueFrom(
      of('loop', 'calm').pipe(
        agentOperator(mixed, { key: (s) => s, errorPolicy: 'isolate', onRunFailed: (f) => failures.push(f.error) }),
        toArray(),
      ),
    );
    expect(outs.map((o) => (o as AgentAnswer).text)).to.deep.equal(['fine']);
    expect(failures).to.have.length(1);
  });

  it('validates its options at creation', () => {
    const model = scriptedModel([]);
    expect(() => reactAgent({ model, maxSteps: 0 })).to.throw(
      TypeError,
      /Expected `maxSteps` to be an integer >= 1, got `0`/,
    );
    expect(() => reactAgent({ model: {} as never })).to.throw(TypeError, /`model` to be a ChatModel/);
    expect(() => reactAgent({ model, tools: [lookup, lookup] })).to.throw(
      AgentDefinitionError,
      /two tools named `lookup`/,
    );
    expect(() => reactAgent({ model, history: { maxMessages: 1 } })).to.throw(TypeError, /history.maxMessages/);
  });

  it('structured output: prompt strategy, one repair round, then a typed result', async () => {
    const model = scriptedModel([
      { text: '{"priority": "urgent"}' },
      { text: '```json\n{"priority": "high", "reply": "On it"}\n```' },
    ]);
    const agent = reactAgent({
      model,
      output: z.object({ priority: z.enum(['low', 'high']), reply: z.string() }),
      system: 'Triage.',
    });
    const [answer] = await lastValueFrom(of('help').pipe(agentOperator(agent), toArray()));
    expect(answer!.output).to.deep.equal({ priority: 'high', reply: 'On it' });
    expect(answer!.steps).to.equal(2);
    const first = model.requests[0]!;
    expect(first.responseFormat).to.equal(undefined);
    expect(first.messages[0]!.content).to.match(/^Triage\.\n\nAnswer with only a JSON value.*"priority"/s);
    const repair = model.requests[1]!.messages.at(-1)!;
    expect(repair.role).to.equal('user');
    expect(repair.content).to.match(/does not match the required JSON schema: priority: .*reply: /);
  });

  it('structured output: native response format when supported; failing repairs end in StructuredOutputError with the issues', async () => {
    const model = scriptedModel([{ text: 'nope' }, { text: '{"n": "x"}' }], { supportsJsonSchema: true });
    const agent = reactAgent({ model, output: z.object({ n: z.number() }), repairs: 1 });
    const error = (await lastValueFrom(of('q').pipe(agentOperator(agent))).catch((e: unknown) => e)) as ActionError;
    expect(model.requests[0]!.responseFormat).to.deep.include({ type: 'json', name: 'output' });
    expect(model.requests[0]!.responseFormat!.schema).to.deep.include({ type: 'object', required: ['n'] });
    const cause = error.cause as StructuredOutputError;
    expect(cause).to.be.instanceOf(StructuredOutputError);
    expect(cause).to.include({ code: 'ERR_STRUCTURED_OUTPUT', attempts: 2, text: '{"n": "x"}' });
    expect(cause.issues[0]).to.deep.include({ path: ['n'] });
  });

  it('user actions between steps, and the approval hook: needsApproval tools wait for a ToolApprovalResponseEvent', async () => {
    const refunded: number[] = [];
    const refund = defineTool({
      name: 'refund',
      description: 'Refunds an order',
      input: z.object({ id: z.number(), amount: z.number() }),
      execute: ({ id }) => {
        refunded.push(id);
        return { ok: true };
      },
      needsApproval: ({ amount }) => amount > 100,
    });
    expect(() => reactAgent({ model: scriptedModel([]), tools: [refund] })).to.throw(
      AgentDefinitionError,
      /`refund` need approval, but no action handles ToolApprovalRequestEvent/,
    );
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'refund', arguments: { id: 1, amount: 500 } },
          { name: 'refund', arguments: { id: 2, amount: 20 } },
        ],
      },
      { text: 'done' },
    ]);
    const seenResults: number[] = [];
    const agent = reactAgent({
      model,
      tools: [refund],
      actions: (action) => [
        action('policy', ToolApprovalRequestEvent, (event, ctx) => {
          const approvals = Object.fromEntries(
            event.payload.pending.map((c) => [c.id, { approved: false, reason: 'over the limit' }]),
          );
          ctx.sendEvent(ToolApprovalResponseEvent.of({ ...event.payload, approvals }));
        }),
        action('audit', ToolResponseEvent, (event) => void seenResults.push(event.payload.results.length)),
      ],
    });
    const recorder = recordLifecycle();
    await lastValueFrom(of('refund both').pipe(agentOperator(agent, { inspect: recorder.inspect }), toArray()));
    expect(refunded).to.deep.equal([2]);
    expect(seenResults).to.deep.equal([2]);
    const results = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === 'tool');
    expect(results[0]).to.deep.include({
      isError: true,
      content: { error: 'The call of `refund` was denied: over the limit.' },
    });
    expect(results[1]).to.deep.include({ isError: false, content: { ok: true } });
    const actions = recorder.events
      .filter((e): e is Extract<LifecycleEvent, { type: 'action.started' }> => e.type === 'action.started')
      .map((e) => e.action);
    // ChatResponseEvent / ToolResponseEvent are notifications: the loop goes on in the action that sent them,
    // and `audit` (on ToolResponseEvent) starts before the next model call's action.
    expect(actions).to.deep.equal([
      'llm.start',
      'llm.model',
      'llm.tools',
      'policy',
      'llm.approved',
      'audit',
      'llm.model',
    ]);
  });
});
