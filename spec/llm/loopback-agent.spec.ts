import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, lastValueFrom, NEVER, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, ActionError, sqliteStore } from '../../lib';
import {
  defineTool,
  fromAiSdk,
  isStreamChunk,
  ModelCallError,
  reactAgent,
  RecordingMissError,
  withModelPolicy,
  type AgentAnswer,
  type ChatModel,
} from '../../lib/llm';
import { recordModel } from '../../lib/llm/testing';
import { startOpenAiServer, type OpenAiServer, type SeenRequest, type ServerTurn } from './fixtures/openai-server';

/** The support script: two parallel lookups, then an answer naming what the tools returned. */
function support(request: SeenRequest): ServerTurn {
  const tools = request.body.messages.filter((m) => m.role === 'tool');
  if (tools.length === 0)
    return {
      toolCalls: [
        { id: 'call_a', name: 'order_status', arguments: { orderId: 'A1' } },
        { id: 'call_b', name: 'order_status', arguments: { orderId: 'B2' } },
      ],
    };
  return { text: `Status: ${tools.map((t) => String(t.content)).join(' / ')}` };
}

const orderStatus = (log: string[]) =>
  defineTool({
    name: 'order_status',
    description: 'The status of an order',
    input: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => {
      log.push(orderId);
      await new Promise((r) => setTimeout(r, 5));
      return { orderId, status: orderId === 'A1' ? 'shipped' : 'packing' };
    },
  });

function model(server: OpenAiServer): ChatModel {
  return fromAiSdk(
    createOpenAICompatible({ name: 'loopback', baseURL: server.baseURL, includeUsage: true }).chatModel('gpt-test'),
  );
}

describe('llm over the real stack: reactAgent → fromAiSdk → @ai-sdk/openai-compatible → loopback HTTP server', () => {
  let server: OpenAiServer | undefined;
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-llm-'))));
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a ReAct turn with two parallel tool calls over HTTP, usage summed, tools given as JSON schema', async () => {
    server = await startOpenAiServer(support);
    const log: string[] = [];
    const agent = reactAgent<string>({
      model: model(server),
      tools: [orderStatus(log)],
      system: 'Support.',
      settings: { temperature: 0 },
    });
    const [answer] = await lastValueFrom(of('where are my orders?').pipe(agentOperator(agent), toArray()));
    expect(answer!.text).to.equal('Status: {"orderId":"A1","status":"shipped"} / {"orderId":"B2","status":"packing"}');
    expect(answer!.usage).to.deep.equal({ inputTokens: 24, outputTokens: 14, totalTokens: 38 });
    expect(log.sort()).to.deep.equal(['A1', 'B2']);
    const first = server.requests[0]!.body;
    expect(first.temperature).to.equal(0);
    expect(first.tools![0]!.function).to.deep.include({ name: 'order_status' });
    expect(first.tools![0]!.function.parameters).to.deep.include({ type: 'object', required: ['orderId'] });
  });

  it('streams over SSE: chunks arrive before the answer, in order', async () => {
    server = await startOpenAiServer([{ text: 'one two three', chunks: ['one ', 'two ', 'three'], chunkDelay: 5 }]);
    const agent = reactAgent({ model: model(server), stream: true });
    const out = await lastValueFrom(of('x').pipe(agentOperator(agent), toArray()));
    expect(server.requests[0]!.body.stream).to.equal(true);
    expect(
      out.map((v) => (isStreamChunk(v) ? (v.chunk as { delta: string }).delta : (v as AgentAnswer).text)),
    ).to.deep.equal(['one ', 'two ', 'three', 'one two three']);
  });

  it('429 with Retry-After is retried after the server’s delay; a 500 too; a 400 fails the run with ModelCallError', async () => {
    server = await startOpenAiServer([
      { status: 429, retryAfter: 1 },
      { status: 500 },
      { text: 'finally' },
      { status: 400 },
    ]);
    const m = withModelPolicy(model(server), { retries: 2, initialDelay: 10, jitter: 'none' });
    const agent = reactAgent<string>({ model: m });
    const t0 = performance.now();
    const [answer] = await lastValueFrom(of('x').pipe(agentOperator(agent), toArray()));
    expect(answer!.text).to.equal('finally');
    expect(server.requests).to.have.length(3);
    expect(performance.now() - t0).to.be.greaterThan(990); // Retry-After: 1 s was honoured (a lower bound, not a timing threshold)
    const error = (await lastValueFrom(of('y').pipe(agentOperator(agent))).catch((e: unknown) => e)) as ActionError;
    expect(error.cause).to.be.instanceOf(ModelCallError);
    expect(error.cause).to.include({ status: 400, retryable: false });
  });

  it('a hanging response times out, its HTTP request is aborted, and the fallback answers', async () => {
    server = await startOpenAiServer([{ hang: true }, { text: 'from fallback' }]);
    const m = withModelPolicy(model(server), { retries: 0, timeout: 200, fallback: model(server) });
    const [answer] = await lastValueFrom(of('x').pipe(agentOperator(reactAgent({ model: m })), toArray()));
    expect(answer!.text).to.equal('from fallback');
    while (server.aborted === 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.aborted).to.equal(1);
  });

  it('unsubscribing aborts the in-flight model request (S9)', async () => {
    server = await startOpenAiServer([{ hang: true }]);
    const sub = of('x')
      .pipe(agentOperator(reactAgent({ model: model(server) })))
      .subscribe();
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe();
    while (server.aborted === 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.aborted).to.equal(1);
  });

  it('durable per step (S13): after a crash in step 2, a restart on the SQLite file does not call the model or the tools of step 1 again', async () => {
    let hang = true;
    server = await startOpenAiServer((request, n) => (n === 1 && hang ? { hang: true } : support(request)));
    const log: string[] = [];
    const path = join(dir, 'agents.db');
    const agent = reactAgent<string>({ name: 'durable-support', model: model(server), tools: [orderStatus(log)] });
    const store1 = sqliteStore(path);
    const sub = concat(of('where?'), NEVER)
      .pipe(agentOperator(agent, { store: store1 }))
      .subscribe();
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe(); // step 2's model call is in flight: the "crash"
    await new Promise((r) => setTimeout(r, 20));
    store1.close();
    expect(log.sort()).to.deep.equal(['A1', 'B2']);
    hang = false;
    const store2 = sqliteStore(path);
    const out = await lastValueFrom(of<string>().pipe(agentOperator(agent, { store: store2 }), toArray()));
    store2.close();
    expect(out.map((a) => a.text)).to.deep.equal([
      'Status: {"orderId":"A1","status":"shipped"} / {"orderId":"B2","status":"packing"}',
    ]);
    expect(server.requests).to.have.length(3); // step 1 once, step 2 twice (in flight at the crash: at least once)
    expect(log).to.have.length(2); // the tools never ran again
  });

  it('record & replay: recorded once against the server, replayed with no network; a new question is a RecordingMissError naming it', async () => {
    server = await startOpenAiServer(support);
    const file = join(dir, 'support.recording.json');
    const log: string[] = [];
    const recording = reactAgent<string>({
      model: recordModel(model(server), { file, mode: 'record' }),
      tools: [orderStatus(log)],
    });
    const recorded = await lastValueFrom(of('where?').pipe(agentOperator(recording), toArray()));
    await server.close();
    server = undefined;
    expect(JSON.parse(readFileSync(file, 'utf8')).calls).to.have.length(2);

    const replaying = reactAgent<string>({ model: recordModel(undefined, { file }), tools: [orderStatus(log)] });
    const replayed = await lastValueFrom(of('where?').pipe(agentOperator(replaying), toArray()));
    expect(replayed).to.deep.equal(recorded);
    const error = (await lastValueFrom(of('something else').pipe(agentOperator(replaying))).catch(
      (e: unknown) => e,
    )) as ActionError;
    expect(error.cause).to.be.instanceOf(RecordingMissError);
    expect((error.cause as Error).message).to.match(
      /has no model call for this request .*the last \(user\): "something else"/,
    );
  });
});
