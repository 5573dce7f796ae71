import { expect } from 'chai';
import { lastValueFrom, of, timer } from 'rxjs';
import { map, toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type AgentEvent } from '../../lib';
import { createTestScheduler } from '../../lib/testing';
import { defineTool, runTools, type ToolCall, type ToolExecutionOptions, type ToolMessage } from '../../lib/llm';

const input = z.object({ x: z.number() });
const plain = { list: [1, 'two', { three: null }], ok: true };
const tools = [
  defineTool({ name: 'later', description: 'a Promise', input, execute: async ({ x }) => ({ twice: x * 2 }) }),
  defineTool({ name: 'now', description: 'a value', input, execute: ({ x }) => x + 1 }),
  defineTool({
    name: 'stream',
    description: 'an Observable (its last value)',
    input,
    execute: ({ x }) => of(x, x + 10),
  }),
  defineTool({
    name: 'rejects',
    description: 'a rejected Promise',
    input,
    execute: async () => Promise.reject(new Error('down')),
  }),
  defineTool({
    name: 'throws',
    description: 'throws',
    input,
    execute: () => {
      throw new Error('boom');
    },
  }),
  defineTool({ name: 'odd', description: 'not JSON', input, execute: async () => 10n }),
  defineTool({
    name: 'dated',
    description: 'JSON after a round trip',
    input,
    execute: () => ({ at: new Date(0), gone: undefined, n: [1, -0] }),
  }),
  defineTool({ name: 'plain', description: 'plain JSON data', input, execute: async () => plain }),
  defineTool({
    name: 'broken',
    description: 'a thenable whose then throws',
    input,
    execute: () =>
      ({
        then() {
          throw new Error('then threw');
        },
      }) as unknown as Promise<number>,
  }),
];
const calls: ToolCall[] = tools.map((t, i) => ({ id: `c${i}`, name: t.name, arguments: { x: i } }));

/** An agent whose one action runs `calls` with runTools and outputs the results. */
const agent = defineAgent<number, ToolMessage[]>({
  name: 'tools',
  actions: (action) => [
    action('run', InputEvent, function* (_event: AgentEvent, ctx) {
      ctx.sendEvent(OutputEvent.of(yield* runTools(ctx, tools, calls)));
    }),
  ],
});

const expected = [
  { toolCallId: 'c0', toolName: 'later', content: { twice: 0 }, isError: false },
  { toolCallId: 'c1', toolName: 'now', content: 2, isError: false },
  { toolCallId: 'c2', toolName: 'stream', content: 12, isError: false },
  { toolCallId: 'c3', toolName: 'rejects', content: { error: 'Tool `rejects` failed: down' }, isError: true },
  { toolCallId: 'c4', toolName: 'throws', content: { error: 'Tool `throws` failed: boom' }, isError: true },
  {
    toolCallId: 'c5',
    toolName: 'odd',
    content: { error: 'Tool `odd` returned a value that is not JSON data.' },
    isError: true,
  },
  { toolCallId: 'c6', toolName: 'dated', content: { at: '1970-01-01T00:00:00.000Z', n: [1, 0] }, isError: false },
  { toolCallId: 'c7', toolName: 'plain', content: plain, isError: false },
  { toolCallId: 'c8', toolName: 'broken', content: { error: 'Tool `broken` failed: then threw' }, isError: true },
];

describe('llm/runTools — every kind of tool result, in call order (S12)', () => {
  it('real time: values, Promises and Observables, failures as results the model sees', async () => {
    const [results] = await lastValueFrom(of(1).pipe(agentOperator(agent), toArray()));
    expect(results).to.deep.equal(expected.map((m) => ({ role: 'tool', ...m })));
    expect(results?.[7]?.content).to.equal(plain, 'plain JSON data is kept as it is, not copied');
  });

  it('virtual time: the same results (Promise tools are followed as Observables, S11)', async () => {
    const ts = createTestScheduler();
    let results: ToolMessage[] | undefined;
    ts.run(() => {
      timer(1)
        .pipe(
          map(() => 1),
          agentOperator(agent),
        )
        .subscribe((r) => (results = r));
    });
    // The Promise tools settle on microtasks, after the virtual frames.
    for (let i = 0; i < 20 && results === undefined; i++) await Promise.resolve();
    expect(results).to.deep.equal(expected.map((m) => ({ role: 'tool', ...m })));
  });

  it("a tool's signal is the run's, made when read: aborted when the run is abandoned, even if first read after (S9)", async () => {
    const seen: string[] = [];
    let late: ToolExecutionOptions | undefined;
    const waits = [
      defineTool({
        name: 'reads',
        description: 'reads its signal at once',
        input,
        execute: (_args, { signal }) =>
          new Promise<string>(() =>
            signal.addEventListener('abort', () => seen.push(`aborted: ${String(signal.reason)}`)),
          ),
      }),
      defineTool({
        name: 'later',
        description: 'keeps its options',
        input,
        execute: (_args, options) => {
          late = options;
          return new Promise<string>(() => undefined);
        },
      }),
    ];
    const hanging = (list: ToolCall[]) =>
      defineAgent<number, ToolMessage[]>({
        name: 'hanging',
        actions: (action) => [
          action('run', InputEvent, function* (_event: AgentEvent, ctx) {
            ctx.sendEvent(OutputEvent.of(yield* runTools(ctx, waits, list)));
          }),
        ],
      });
    const a = { id: 'a', name: 'reads', arguments: { x: 1 } };
    const b = { id: 'b', name: 'later', arguments: { x: 2 } };
    const both = of(1)
      .pipe(agentOperator(hanging([a, b])))
      .subscribe();
    await new Promise((resolve) => setTimeout(resolve, 5));
    both.unsubscribe();
    expect(seen).to.have.length(1);
    expect(seen[0]).to.match(/^aborted: AbortedError/);
    expect(late?.signal.aborted).to.equal(true);
    // A run whose signal nobody read before it was abandoned: read afterwards, it is aborted too.
    late = undefined;
    const alone = of(1)
      .pipe(agentOperator(hanging([b])))
      .subscribe();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(late).to.have.property('toolCallId', 'b');
    alone.unsubscribe();
    expect((late as ToolExecutionOptions | undefined)?.signal.aborted).to.equal(true);
  });
});
