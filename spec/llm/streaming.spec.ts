import { expect } from 'chai';
import { concat, lastValueFrom, NEVER, of } from 'rxjs';
import { map, toArray } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, memoryStore, OutputEvent } from '../../lib';
import { createTestScheduler } from '../../lib/testing';
import { chat, isStreamChunk, reactAgent, type ModelChunk, type StreamChunk } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

/** Chunks as 'delta' strings, outputs as 'out:<text>'. */
const show = (v: unknown): string =>
  isStreamChunk(v) ? (v.chunk as ModelChunk & { delta: string }).delta : `out:${(v as { text: string }).text}`;

describe('llm/streaming — chunks go downstream as they arrive, in order with outputs (S16)', () => {
  it('chunks at their virtual frames, then the answer; chunks are told apart from outputs', () => {
    const ts = createTestScheduler();
    ts.run(({ cold, expectObservable }) => {
      const model = scriptedModel([
        { text: 'Hello world!', chunks: ['Hel', 'lo ', 'world!'], chunkFrames: 2, frames: 1 },
      ]);
      const agent = reactAgent({ model, stream: true });
      const out = cold('a|').pipe(agentOperator(agent, { scheduler: ts }), map(show));
      expectObservable(out).toBe('--a-b-c(d|)', { a: 'Hel', b: 'lo ', c: 'world!', d: 'out:Hello world!' });
    });
  });

  it('a chunk carries key, run, its source call and its index', async () => {
    const model = scriptedModel([{ text: 'ab', chunks: ['a', 'b'] }]);
    const agent = reactAgent<string>({ model, stream: true });
    const out = await lastValueFrom(of('x').pipe(agentOperator(agent, { key: () => 'k1' }), toArray()));
    const chunks = (out as unknown[]).filter(isStreamChunk) as StreamChunk[];
    expect(chunks.map((c) => ({ ...c }))).to.deep.equal([
      {
        kind: 'chunk',
        key: 'k1',
        run: 0,
        source: '0>llm.start:0>llm.model#0',
        index: 0,
        chunk: { type: 'text-delta', delta: 'a' },
      },
      {
        kind: 'chunk',
        key: 'k1',
        run: 0,
        source: '0>llm.start:0>llm.model#0',
        index: 1,
        chunk: { type: 'text-delta', delta: 'b' },
      },
    ]);
    expect(isStreamChunk(out[2])).to.equal(false);
    expect(isStreamChunk({ kind: 'chunk' })).to.equal(false);
  });

  it('per key, nothing of run n + 1 comes before the end of run n; keys interleave (S1, S8, S16)', () => {
    const ts = createTestScheduler();
    const seen: string[] = [];
    ts.run(({ cold }) => {
      const model = scriptedModel((r) => {
        const said = (r.messages.at(-1) as { content: string }).content;
        return { text: `${said}1 ${said}2`, chunks: [`${said}1 `, `${said}2`], chunkFrames: 1, frames: 1 };
      });
      const agent = reactAgent<{ k: string; t: string }>({ model, stream: true, history: false, prompt: (i) => i.t });
      cold('(abc|)', { a: { k: 'x', t: 'a' }, b: { k: 'x', t: 'b' }, c: { k: 'y', t: 'c' } })
        .pipe(agentOperator(agent, { scheduler: ts, key: (i) => i.k }), map(show))
        .subscribe({ next: (v) => seen.push(`${ts.now()}:${v}`), complete: () => seen.push(`${ts.now()}:|`) });
    });
    expect(seen).to.deep.equal([
      '1:a1 ',
      '1:c1 ',
      '2:a2',
      '2:c2',
      '3:out:a1 a2',
      '3:out:c1 c2',
      '4:b1 ',
      '5:b2',
      '6:out:b1 b2',
      '6:|',
    ]);
  });

  it('chat() streams from any action; a replayed call emits no chunks, only its journaled result (S13)', async () => {
    const store = memoryStore();
    let crashed = false;
    const model = scriptedModel(() => ({ text: 'hi there', chunks: ['hi ', 'there'] }));
    const agent = defineAgent({
      name: 'streamer',
      actions: (action) => [
        action('talk', InputEvent, function* (_event, ctx) {
          const first = yield* chat(ctx, model, { messages: [{ role: 'user', content: 'q' }], stream: true });
          ctx.shortTermMemory.set('first', first.message.content);
          // the second step waits forever the first time: the "crash" comes here
          yield* ctx.executeAsync(() => (crashed ? of('go') : NEVER));
          ctx.sendEvent(OutputEvent.of(first.message.content));
        }),
      ],
    });
    const seen: unknown[] = [];
    const sub = concat(of('x'), NEVER)
      .pipe(agentOperator(agent, { store }))
      .subscribe((v) => seen.push(v));
    await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    expect(seen.map((v) => (isStreamChunk(v) ? 'chunk' : v))).to.deep.equal(['chunk', 'chunk']);
    crashed = true;
    const replayed = await lastValueFrom(of<string>().pipe(agentOperator(agent, { store }), toArray()));
    expect(replayed).to.deep.equal(['hi there']);
    expect(model.requests).to.have.length(1);
  });
});
