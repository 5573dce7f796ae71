import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { z } from 'zod';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createInspector, createTracing } from '../../lib/observe';
import { createTestScheduler, recordLifecycle, virtualDelay } from '../../lib/testing';
import { defineTool, reactAgent } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

function loop() {
  const lookup = defineTool({
    name: 'lookup',
    description: 'd',
    input: z.object({ id: z.number() }),
    execute: ({ id }) => (id < 0 ? Promise.reject(new Error('no')) : virtualDelay({ id }, 2)),
  });
  const model = scriptedModel(
    [
      {
        toolCalls: [
          { name: 'lookup', arguments: { id: 1 } },
          { name: 'lookup', arguments: { id: 'x' } },
        ],
        frames: 3,
        usage: { inputTokens: 100, outputTokens: 20 },
      },
      { text: 'ok', frames: 1, usage: { inputTokens: 150, outputTokens: 7 } },
    ],
    { provider: 'acme.chat', modelId: 'acme-1' },
  );
  return reactAgent({ model, tools: [lookup] });
}

function runWith(inspect: (e: LifecycleEvent) => void): void {
  const ts = createTestScheduler();
  ts.run(({ cold }) => {
    cold('a|')
      .pipe(agentOperator(loop(), { scheduler: ts, inspect }))
      .subscribe();
  });
}

describe('llm observability: lifecycle events, stats per model, GenAI spans', () => {
  it('model.called and tool.called lifecycle events with token usage, no prompt or completion in them', () => {
    const recorder = recordLifecycle();
    runWith(recorder.inspect);
    const llm = recorder.events.filter((e) => e.type === 'model.called' || e.type === 'tool.called');
    expect(llm.map((e) => ({ ...e }))).to.deep.equal([
      {
        type: 'model.called',
        time: 3,
        key: undefined,
        run: 0,
        action: 'llm.model',
        activation: '0>llm.start:0>llm.model',
        call: '0>llm.start:0>llm.model#0',
        provider: 'acme.chat',
        model: 'acme-1',
        ok: true,
        replayed: false,
        started: 0,
        usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
        finishReason: 'tool-calls',
      },
      {
        type: 'tool.called',
        time: 3,
        key: undefined,
        run: 0,
        action: 'llm.tools',
        activation: '0>llm.start:0>llm.model:1>llm.tools',
        call: '0>llm.start:0>llm.model:1>llm.tools#1',
        tool: 'lookup',
        ok: false,
        replayed: false,
        started: 3,
        error: {
          error: 'The arguments of `lookup` do not match its schema; fix them and call again.',
          issues: [{ path: 'id', message: 'Invalid input: expected number, received string' }],
        },
      },
      {
        type: 'tool.called',
        time: 5,
        key: undefined,
        run: 0,
        action: 'llm.tools',
        activation: '0>llm.start:0>llm.model:1>llm.tools',
        call: '0>llm.start:0>llm.model:1>llm.tools#0',
        tool: 'lookup',
        ok: true,
        replayed: false,
        started: 3,
      },
      {
        type: 'model.called',
        time: 6,
        key: undefined,
        run: 0,
        action: 'llm.model',
        activation: '0>llm.start:0>llm.model:1>llm.tools:1>llm.model',
        call: '0>llm.start:0>llm.model:1>llm.tools:1>llm.model#0',
        provider: 'acme.chat',
        model: 'acme-1',
        ok: true,
        replayed: false,
        started: 5,
        usage: { inputTokens: 150, outputTokens: 7, totalTokens: 157 },
        finishReason: 'stop',
      },
    ]);
  });

  it('stats(): calls and tokens per model, calls and failures per tool', () => {
    const inspector = createInspector();
    runWith(inspector.inspect);
    const stats = inspector.stats();
    expect(stats.models).to.deep.equal({
      'acme.chat/acme-1': { calls: 2, failed: 0, replayed: 0, inputTokens: 250, outputTokens: 27, totalTokens: 277 },
    });
    expect(stats.tools).to.deep.equal({ lookup: { calls: 2, failed: 1 } });
  });

  it('tracing: model calls are `chat <model>` spans and tool calls `execute_tool <name>` spans with gen_ai.* attributes', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = createTracing({ tracer: provider.getTracer('spec'), agentName: 'support' });
    runWith(tracing.inspect);
    expect(tracing.openSpans()).to.equal(0);
    const spans = exporter.getFinishedSpans();
    const chats = spans.filter((s) => s.name === 'chat acme-1');
    expect(chats).to.have.length(2);
    expect(chats[0]!.attributes).to.deep.include({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'acme.chat',
      'gen_ai.request.model': 'acme-1',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
    });
    expect(chats[0]!.attributes['gen_ai.response.finish_reasons']).to.deep.equal(['tool-calls']);
    const tools = spans.filter((s) => s.name === 'execute_tool lookup');
    expect(tools).to.have.length(2);
    expect(tools.map((s) => s.attributes['gen_ai.tool.name'])).to.deep.equal(['lookup', 'lookup']);
    expect(tools.filter((s) => s.attributes['error.type'] === 'tool_error')).to.have.length(1);
    for (const s of [...chats, ...tools]) expect(JSON.stringify(s.attributes)).to.not.match(/Invalid input|"ok"/);
  });
});
