import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { ActionError, agentOperator, EventValidationError } from '../../lib';
import {
  ChatRequestEvent,
  ChatResponseEvent,
  defineTool,
  reactAgent,
  ToolResponseEvent,
  user,
  type ChatMessage,
} from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';
import { ChatRequestState, ChatResponseState } from '../../lib/llm/events';
import { ASK_ZOD, fastParse } from '../../lib/events/fast-parse';
import { recordLifecycle } from '../../lib/testing';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };

describe('llm/events — the loop events check what user code sends, not what the loop built', () => {
  it('a payload built by user code gets the whole check, with the path of what is wrong', () => {
    const good = { messages: [user('hi')], step: 0, repairs: 0, usage };
    expect(ChatRequestEvent.parse(good)).to.equal(good); // accepted as it is, not copied
    const bad = (payload: unknown): EventValidationError => {
      try {
        ChatRequestEvent.parse(payload);
      } catch (error) {
        return error as EventValidationError;
      }
      throw new Error('expected an EventValidationError');
    };
    expect(bad({ ...good, messages: [{ role: 'user' }] }).issues.map((i) => i.path)).to.deep.equal([['messages']]);
    expect(bad({ ...good, step: -1 }).issues.map((i) => i.path)).to.deep.equal([['step']]);
    expect(bad({ ...good, usage: { inputTokens: 1 } }).issues.map((i) => i.path)).to.deep.equal([['usage']]);
    expect(bad(null)).to.be.instanceOf(EventValidationError);
    const response = {
      message: { role: 'assistant', content: 'x', toolCalls: [] },
      finishReason: 'stop',
      usage,
      provider: 'p',
      model: 'm',
    };
    expect(ChatResponseEvent.parse({ ...good, response })).to.deep.include({ response });
    expect(
      (() => {
        try {
          return ChatResponseEvent.parse({ ...good, response: { ...response, usage: { inputTokens: NaN } } });
        } catch (error) {
          return (error as EventValidationError).issues.map((i) => i.path);
        }
      })(),
    ).to.deep.equal([['response']]);
  });

  it('the runtime takes a loop-built payload without zod (fast path); a user-built one goes to zod', () => {
    const state = new ChatRequestState([user('hi')], 0, 0, usage);
    expect(fastParse(ChatRequestEvent.schema, state)).to.equal(state);
    expect(fastParse(ChatRequestEvent.schema, { messages: [user('hi')], step: 0, repairs: 0, usage })).to.equal(
      ASK_ZOD,
    );
    // The model's answer is not the loop's: a built ChatResponse payload with a bad response goes to zod, which refuses it.
    const response = { message: { role: 'assistant', content: 'x', toolCalls: [] }, finishReason: 'stop', usage };
    const bad = new ChatResponseState([user('hi')], 1, 0, usage, response as never);
    expect(fastParse(ChatResponseEvent.schema, bad)).to.equal(ASK_ZOD);
    expect(ChatResponseEvent.schema.safeParse(bad).success).to.equal(false);
    const good = new ChatResponseState([user('hi')], 1, 0, usage, { ...response, provider: 'p', model: 'm' } as never);
    expect(fastParse(ChatResponseEvent.schema, good)).to.equal(good);
    expect(ChatResponseEvent.schema.safeParse(good).data).to.equal(good); // what zod gives, too
  });

  it('a loop-built state is its own event: type, id and payload on its prototype, nothing added to the payload', () => {
    const messages: ChatMessage[] = [user('hi')];
    const state = new ChatRequestState(messages, 1, 0, usage);
    expect(ChatRequestEvent.is(state)).to.equal(true);
    expect(state.type).to.equal(ChatRequestEvent.type);
    expect(state.id).to.equal('');
    expect(state.payload).to.equal(state);
    // What user code sees of the payload is unchanged: the same own fields, the same JSON, no `type`/`payload` keys.
    expect(Object.keys(state)).to.deep.equal(['messages', 'step', 'repairs', 'usage']);
    expect(JSON.parse(JSON.stringify(state))).to.deep.equal({
      messages: [{ role: 'user', content: 'hi' }],
      step: 1,
      repairs: 0,
      usage,
    });
    expect({ ...state }).to.not.have.property('payload');
    const response = new ChatResponseState(messages, 1, 0, usage, {
      message: { role: 'assistant', content: 'x', toolCalls: [] },
      finishReason: 'stop',
      usage,
      provider: 'p',
      model: 'm',
    });
    expect(ChatResponseEvent.is(response)).to.equal(true);
    expect(ChatRequestEvent.is(response)).to.equal(false);
  });

  it('a bad payload sent by a user action between steps fails the run with EventValidationError', async () => {
    const echo = defineTool({
      name: 'echo',
      description: 'd',
      input: z.object({ x: z.number() }),
      execute: ({ x }) => x,
    });
    const agent = reactAgent({
      model: scriptedModel([{ toolCalls: [{ name: 'echo', arguments: { x: 1 } }] }, { text: 'done' }]),
      tools: [echo],
      actions: (action) => [
        action('meddle', ToolResponseEvent, (event, ctx) =>
          ctx.sendEvent(
            ChatRequestEvent.of({
              ...event.payload,
              messages: [...event.payload.messages, { role: 'robot' } as unknown as ChatMessage],
            }),
          ),
        ),
      ],
    });
    const error = await lastValueFrom(of('go').pipe(agentOperator(agent), toArray())).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ActionError);
    const cause = (error as ActionError).cause;
    expect(cause).to.be.instanceOf(EventValidationError);
    expect((cause as EventValidationError).issues.map((i) => i.path)).to.deep.equal([['messages']]);
  });

  it('ChatResponseEvent and ToolResponseEvent are notifications: sent and routed every step, your actions on them run', async () => {
    const echo = defineTool({
      name: 'echo',
      description: 'd',
      input: z.object({ x: z.number() }),
      execute: ({ x }) => x,
    });
    const seen: string[] = [];
    const agent = reactAgent({
      model: scriptedModel([{ toolCalls: [{ name: 'echo', arguments: { x: 1 } }] }, { text: 'done' }]),
      tools: [echo],
      actions: (action) => [
        action('answers', ChatResponseEvent, (event) => void seen.push(`response ${event.payload.step}`)),
        action('results', ToolResponseEvent, (event) => void seen.push(`results ${event.payload.results.length}`)),
      ],
    });
    const recorder = recordLifecycle();
    const out = await lastValueFrom(of('go').pipe(agentOperator(agent, { inspect: recorder.inspect }), toArray()));
    expect(out).to.have.length(1);
    expect(seen).to.deep.equal(['response 1', 'results 1', 'response 2']);
    const routed = recorder.events.flatMap((e) =>
      e.type === 'event.routed' && e.eventType.startsWith('rx-agents/llm/') ? [[e.eventType.slice(14), e.actions]] : [],
    );
    expect(routed).to.deep.equal([
      ['chat-request', ['llm.model']],
      ['chat-response', ['answers']],
      ['tool-request', ['llm.tools']],
      ['tool-response', ['results']],
      ['chat-request', ['llm.model']],
      ['chat-response', ['answers']],
    ]);
  });
});
