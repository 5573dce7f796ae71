import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { MockLanguageModelV3, convertArrayToReadableStream } from 'ai/test';
import { expect } from 'chai';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { fromAiSdk, ModelAdapterError, ModelCallError, type AiSdkLanguageModel, type ModelEvent } from '../../lib/llm';
import { startOpenAiServer, type OpenAiServer } from './fixtures/openai-server';

// Type check: a real LanguageModelV3 fits the structural port (checked by tsc --noEmit).
const _fits = (m: LanguageModelV3): AiSdkLanguageModel => m;
void _fits;

function provider(server: OpenAiServer) {
  return createOpenAICompatible({ name: 'loopback', baseURL: server.baseURL, apiKey: 'test-key', includeUsage: true });
}

describe('llm/fromAiSdk — real @ai-sdk/openai-compatible against a loopback OpenAI server', () => {
  let server: OpenAiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a JSON completion: text, usage, settings sent as the protocol says', async () => {
    server = await startOpenAiServer([{ text: 'Hello there', usage: { prompt: 21, completion: 3 } }]);
    const model = fromAiSdk(provider(server).chatModel('m-1'));
    const events = await lastValueFrom(
      model
        .call({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'hi' },
          ],
          temperature: 0.2,
          maxTokens: 64,
          stop: ['END'],
        })
        .pipe(toArray()),
    );
    expect(events).to.have.length(1);
    const final = events[0] as Extract<ModelEvent, { type: 'response' }>;
    expect(final.response).to.deep.equal({
      message: { role: 'assistant', content: 'Hello there', toolCalls: [] },
      finishReason: 'stop',
      usage: { inputTokens: 21, outputTokens: 3, totalTokens: 24 },
      provider: 'loopback.chat',
      model: 'm-1',
    });
    const seen = server.requests[0]!;
    expect(seen.path).to.equal('/v1/chat/completions');
    expect(seen.authorization).to.equal('Bearer test-key');
    expect(seen.body).to.include({ model: 'm-1', temperature: 0.2, max_tokens: 64 });
    expect(seen.body.stop).to.deep.equal(['END']);
    expect(seen.body.messages).to.deep.equal([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('parallel tool calls (JSON), then tool results sent back as tool messages', async () => {
    server = await startOpenAiServer([
      {
        toolCalls: [
          { id: 'c1', name: 'lookup', arguments: { id: 1 } },
          { id: 'c2', name: 'lookup', arguments: { id: 2 } },
        ],
      },
      { text: 'done' },
    ]);
    const model = fromAiSdk(provider(server).chatModel('m'));
    const tools = [
      { name: 'lookup', description: 'd', inputSchema: { type: 'object', properties: { id: { type: 'number' } } } },
    ];
    const first = (await firstValueFrom(model.call({ messages: [{ role: 'user', content: 'go' }], tools }))) as Extract<
      ModelEvent,
      { type: 'response' }
    >;
    expect(first.response.finishReason).to.equal('tool-calls');
    expect(first.response.message.toolCalls).to.deep.equal([
      { id: 'c1', name: 'lookup', arguments: { id: 1 } },
      { id: 'c2', name: 'lookup', arguments: { id: 2 } },
    ]);
    await firstValueFrom(
      model.call({
        messages: [
          { role: 'user', content: 'go' },
          first.response.message,
          { role: 'tool', toolCallId: 'c1', toolName: 'lookup', content: { found: 1 }, isError: false },
          { role: 'tool', toolCallId: 'c2', toolName: 'lookup', content: 'missing', isError: true },
        ],
        tools,
      }),
    );
    const second = server.requests[1]!.body;
    expect(second.tools!.map((t) => t.function.name)).to.deep.equal(['lookup']);
    expect(second.messages.slice(1).map((m) => m.role)).to.deep.equal(['assistant', 'tool', 'tool']);
    expect(second.messages[2]).to.include({ tool_call_id: 'c1' });
  });

  it('SSE streaming: text deltas and tool calls as chunks as they arrive, then the response with usage', async () => {
    server = await startOpenAiServer([
      {
        text: 'one two three',
        chunks: ['one ', 'two ', 'three'],
        toolCalls: [{ id: 't1', name: 'x', arguments: { a: 1 } }],
        usage: { prompt: 5, completion: 9 },
      },
    ]);
    const model = fromAiSdk(provider(server).chatModel('m'));
    const events = await lastValueFrom(
      model.call({ messages: [{ role: 'user', content: 'go' }], stream: true }).pipe(toArray()),
    );
    expect(server.requests[0]!.body.stream).to.equal(true);
    expect(events.filter((e) => e.type === 'text-delta').map((e) => (e as { delta: string }).delta)).to.deep.equal([
      'one ',
      'two ',
      'three',
    ]);
    expect(events.filter((e) => e.type === 'tool-call')).to.deep.equal([
      { type: 'tool-call', call: { id: 't1', name: 'x', arguments: { a: 1 } } },
    ]);
    const last = events[events.length - 1] as Extract<ModelEvent, { type: 'response' }>;
    expect(last.type).to.equal('response');
    expect(last.response.message.content).to.equal('one two three');
    expect(last.response.usage).to.deep.equal({ inputTokens: 5, outputTokens: 9, totalTokens: 14 });
  });

  it('429 with Retry-After and 500 become ModelCallError with status, retryable and retryAfter', async () => {
    server = await startOpenAiServer([{ status: 429, retryAfter: 2 }, { status: 500 }, { status: 400 }]);
    const model = fromAiSdk(provider(server).chatModel('m'));
    const fail = async (): Promise<ModelCallError> => {
      try {
        await lastValueFrom(model.call({ messages: [{ role: 'user', content: 'x' }] }));
      } catch (error) {
        return error as ModelCallError;
      }
      throw new Error('expected a failure');
    };
    const e429 = await fail();
    expect(e429).to.be.instanceOf(ModelCallError);
    expect(e429).to.include({
      name: 'ModelCallError',
      code: 'ERR_MODEL_CALL',
      status: 429,
      retryable: true,
      retryAfter: 2000,
      provider: 'loopback.chat',
      model: 'm',
    });
    const e500 = await fail();
    expect(e500).to.include({ status: 500, retryable: true, retryAfter: undefined });
    const e400 = await fail();
    expect(e400).to.include({ status: 400, retryable: false });
    expect(e400.message).to.match(/HTTP 400.*not retryable/);
  });

  it('unsubscribing aborts the HTTP request of a hanging response', async () => {
    server = await startOpenAiServer([{ hang: true }]);
    const model = fromAiSdk(provider(server).chatModel('m'));
    const subscription = model.call({ messages: [{ role: 'user', content: 'x' }] }).subscribe();
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    subscription.unsubscribe();
    while (server.aborted === 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.aborted).to.equal(1);
  });

  it('a refused connection is a retryable network ModelCallError', async () => {
    server = await startOpenAiServer([]);
    const baseURL = server.baseURL;
    await server.close();
    server = undefined;
    const model = fromAiSdk(createOpenAICompatible({ name: 'gone', baseURL }).chatModel('m'));
    const error = await lastValueFrom(model.call({ messages: [{ role: 'user', content: 'x' }] })).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ModelCallError);
    expect(error).to.include({ retryable: true, status: undefined });
  });
});

describe('llm/fromAiSdk — adapter units with the AI SDK mock model (ai/test)', () => {
  it('refuses what is not a V3/V4 language model, with a typed error', () => {
    expect(() => fromAiSdk({ specificationVersion: 'v2' } as never)).to.throw(
      ModelAdapterError,
      /specificationVersion "v2"/,
    );
    expect(() => fromAiSdk(null as never)).to.throw(ModelAdapterError);
  });

  it('maps doGenerate content, finish reason and usage; passes settings and provider options through', async () => {
    const mock = new MockLanguageModelV3({
      provider: 'mock',
      modelId: 'mock-1',
      doGenerate: {
        content: [
          { type: 'text', text: 'a' },
          { type: 'tool-call', toolCallId: 'x', toolName: 'f', input: '{"q":"z"}' },
          { type: 'tool-call', toolCallId: 'y', toolName: 'f', input: '{not json' },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage: {
          inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: undefined, text: undefined, reasoning: undefined },
        },
        warnings: [],
      },
    });
    const model = fromAiSdk(mock);
    const event = (await firstValueFrom(
      model.call({
        messages: [{ role: 'user', content: 'q' }],
        seed: 7,
        topP: 0.5,
        toolChoice: { tool: 'f' },
        responseFormat: { type: 'json', schema: { type: 'object' }, name: 'out' },
        providerOptions: { mock: { user: 'u1' } },
      }),
    )) as Extract<ModelEvent, { type: 'response' }>;
    expect(event.response.message.toolCalls).to.deep.equal([
      { id: 'x', name: 'f', arguments: { q: 'z' } },
      { id: 'y', name: 'f', arguments: '{not json' },
    ]);
    expect(event.response.usage).to.deep.equal({ inputTokens: 3, outputTokens: 0, totalTokens: 3 });
    const sent = mock.doGenerateCalls[0]!;
    expect(sent).to.include({ seed: 7, topP: 0.5 });
    expect(sent.toolChoice).to.deep.equal({ type: 'tool', toolName: 'f' });
    expect(sent.responseFormat).to.deep.equal({ type: 'json', schema: { type: 'object' }, name: 'out' });
    expect(sent.providerOptions).to.deep.equal({ mock: { user: 'u1' } });
    expect(sent.abortSignal).to.be.instanceOf(AbortSignal);
  });

  it("accepts specificationVersion 'v4' (same stream protocol), and an 'error' stream part fails the call", async () => {
    const mock = new MockLanguageModelV3({
      doStream: {
        stream: convertArrayToReadableStream([
          { type: 'text-delta', id: '1', delta: 'par' },
          { type: 'error', error: new Error('upstream broke') },
        ]),
      },
    });
    const v4 = Object.assign(Object.create(mock) as object, {
      specificationVersion: 'v4',
    }) as unknown as AiSdkLanguageModel;
    const seen: ModelEvent[] = [];
    const error = await lastValueFrom(
      fromAiSdk(v4)
        .call({ messages: [{ role: 'user', content: 'q' }], stream: true })
        .pipe(),
    ).catch((e: unknown) => e);
    void seen;
    expect(error).to.be.instanceOf(ModelCallError);
    expect((error as ModelCallError).message).to.match(/upstream broke/);
  });
});
