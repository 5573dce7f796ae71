/**
 * `npm start`: the same agent and the same workload, run twice.
 *  1. one run at a time, one block at a time — how Flink Agents executed before its asynchronous
 *     design (here: a single key and a pool of one slot, so nothing overlaps);
 *  2. with rx-agents: runs of different keys concurrent, independent actions of a run in parallel,
 *     runs of one key still strictly in order.
 * It prints both times and the speedup, and checks that both produced the same outputs.
 */
import { interval, lastValueFrom, range, take } from 'rxjs';
import { map, toArray } from 'rxjs/operators';
import { z } from 'zod';
import { writeFileSync } from 'node:fs';
import {
  agentOperator,
  createAgentState,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type AgentOperatorOptions,
  type Inspector,
  type LifecycleEvent,
} from '../lib';
import { createInspector, renderTimeline } from '../lib/observe';
import { serveInspector, type InspectorServer } from '../lib/inspect';
import { startProgress } from './support/progress';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Ticket {
  readonly id: number;
  readonly customer: string;
  readonly text: string;
}

const Classified = defineEvent('classified', z.object({ id: z.number(), label: z.string() }));
const Drafted = defineEvent('drafted', z.object({ id: z.number(), draft: z.string() }));

// Stand-ins for model calls: 5 ms + 10 ms in sequence (the seed's action1), 10 ms in parallel.
const classify = async (text: string): Promise<string> => (await sleep(5), text.length % 2 ? 'billing' : 'bug');
const retrieve = async (label: string): Promise<string> => (await sleep(10), `kb:${label}`);
const draft = async (text: string): Promise<string> => (await sleep(10), `Re: ${text.slice(0, 12)}`);

export const supportAgent = defineAgent({
  name: 'support-desk',
  input: z.object({ id: z.number(), customer: z.string(), text: z.string() }),
  output: z.object({ id: z.number(), reply: z.string() }),
  actions: (action) => [
    action('triage', InputEvent, function* (event, ctx) {
      const label = yield* ctx.executeAsync(classify, event.payload.text);
      const article = yield* ctx.executeAsync(retrieve, label);
      ctx.shortTermMemory.set('lastLabel', label);
      ctx.sendEvent(Classified.of({ id: event.payload.id, label: `${label}/${article}` }));
    }),
    action('draft', InputEvent, function* (event, ctx) {
      const text = yield* ctx.executeAsync(draft, event.payload.text);
      ctx.sendEvent(Drafted.of({ id: event.payload.id, draft: text }));
    }),
    action('reply', [Classified, Drafted], (event, ctx) => {
      const parts = ctx.sensoryMemory;
      if (Classified.is(event)) parts.set('label', event.payload.label);
      else parts.set('draft', event.payload.draft);
      if (parts.has('label') && parts.has('draft')) {
        ctx.sendEvent(
          OutputEvent.of({
            id: event.payload.id,
            reply: `[${String(parts.get('label'))}] ${String(parts.get('draft'))}`,
          }),
        );
      }
    }),
  ],
});

export interface DemoOptions {
  readonly inputs: number;
  readonly customers: number;
  /** Extra operator options for the concurrent run (e.g. `inspect`). */
  readonly extra?: AgentOperatorOptions<Ticket> & { readonly output?: 'payload' };
  /** Lifecycle events of the serial run (for progress). */
  readonly serialInspect?: Inspector;
}

function tickets(n: number, customers: number) {
  return range(0, n).pipe(
    map((id): Ticket => ({ id, customer: `c${id % customers}`, text: `ticket ${id} from customer ${id % customers}` })),
  );
}

/** Runs the workload with the given options; returns outputs sorted by id, and the wall time in ms. */
async function timed(
  options: AgentOperatorOptions<Ticket> & { readonly output?: 'payload' },
  n: number,
  customers: number,
) {
  const started = performance.now();
  const outputs = await lastValueFrom(tickets(n, customers).pipe(agentOperator(supportAgent, options), toArray()));
  return { ms: performance.now() - started, outputs: outputs.sort((a, b) => a.id - b.id) };
}

export async function runDemo({ inputs, customers, extra = {}, serialInspect }: DemoOptions) {
  const serial = await timed(
    { key: () => 'everything', concurrency: 1, ...(serialInspect ? { inspect: serialInspect } : {}) },
    inputs,
    customers,
  );
  const concurrent = await timed({ key: (t) => t.customer, concurrency: 256, ...extra }, inputs, customers);
  const same = JSON.stringify(serial.outputs) === JSON.stringify(concurrent.outputs);
  return {
    serialMs: serial.ms,
    concurrentMs: concurrent.ms,
    speedup: serial.ms / concurrent.ms,
    same,
    outputs: concurrent.outputs.length,
  };
}

/**
 * `npm start -- --inspect [port]`: the concurrent agent on a live stream of tickets (one every
 * `every` ms, `customers` keys), watched by the live inspector page. Runs until `durationMs`
 * (default: until Ctrl-C); returns the server so callers (the smoke test) can look, then `stop()`.
 */
export async function runLive(options: {
  readonly port: number;
  readonly every?: number;
  readonly customers?: number;
  readonly durationMs?: number;
}): Promise<{ server: InspectorServer; stop: () => Promise<void>; done: Promise<void> }> {
  const { port, every = 5, customers = 40, durationMs } = options;
  const inspector = createInspector();
  const state = createAgentState();
  const server = await serveInspector(inspector, {
    port,
    state,
    payloads: true,
    title: 'rx-agents demo: support desk',
  });
  const count = durationMs === undefined ? Infinity : Math.ceil(durationMs / every);
  const sub = interval(every)
    .pipe(
      take(count),
      map((id): Ticket => ({
        id,
        customer: `c${id % customers}`,
        text: `ticket ${id} from customer ${id % customers}`,
      })),
      agentOperator(supportAgent, { key: (t) => t.customer, concurrency: 256, inspect: inspector.inspect, state }),
    )
    .subscribe();
  const done = new Promise<void>((resolve) => sub.add(() => resolve()));
  return {
    server,
    done,
    stop: async () => {
      sub.unsubscribe();
      await server.close();
    },
  };
}

if (require.main === module && process.argv.includes('--inspect')) {
  const at = process.argv.indexOf('--inspect');
  const given = process.argv[at + 1];
  const port = given !== undefined && /^\d+$/.test(given) ? Number(given) : 4600;
  void runLive({ port }).then(({ server, stop }) => {
    console.log(
      `rx-agents demo: a ticket every 5 ms from 40 customers; live inspector at ${server.url} (Ctrl-C to stop)`,
    );
    process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  });
} else if (require.main === module) {
  const inputs = 200;
  const customers = 40;
  // `npm start -- --timeline out.html` also writes the concurrent run's timeline (see README, Observability).
  const flag = process.argv.indexOf('--timeline');
  const timelinePath = flag >= 0 ? process.argv[flag + 1] : undefined;
  if (flag >= 0 && (timelinePath === undefined || timelinePath.startsWith('--')))
    throw new TypeError('Usage: npm start -- --timeline <file.html>');
  console.log(
    `rx-agents demo: ${inputs} support tickets from ${customers} customers; per ticket 3 model calls (5+10 ms in sequence, 10 ms alongside)`,
  );
  // Live progress (runs done, rate, active keys, async blocks in flight) from an inspector per run.
  const serialInspector = createInspector();
  const concurrentInspector = createInspector();
  const recorded: LifecycleEvent[] = [];
  if (timelinePath !== undefined) concurrentInspector.events$.subscribe((e) => recorded.push(e));
  let progress = startProgress('serial', serialInspector, { total: inputs });
  serialInspector.events$.subscribe((e) => {
    if (e.type !== 'run.ended' || e.run !== inputs - 1) return;
    progress.stop();
    progress = startProgress('rx-agents', concurrentInspector, { total: inputs });
  });
  void runDemo({
    inputs,
    customers,
    serialInspect: serialInspector.inspect,
    extra: { inspect: concurrentInspector.inspect },
  }).then((r) => {
    progress.stop();
    if (timelinePath !== undefined) {
      writeFileSync(
        timelinePath,
        renderTimeline(recorded, { title: `rx-agents demo: ${inputs} tickets, ${customers} customers (keys)` }),
      );
      console.log(`timeline of the rx-agents run written to ${timelinePath} (open it in a browser)`);
    }
    console.log(`one run at a time (before the async design): ${r.serialMs.toFixed(0)} ms`);
    console.log(`rx-agents (keys concurrent, actions parallel): ${r.concurrentMs.toFixed(0)} ms`);
    console.log(
      `speedup: ${r.speedup.toFixed(1)}x; ${r.outputs} replies, identical in both runs: ${r.same ? 'yes' : 'NO'}`,
    );
    if (!r.same) process.exitCode = 1;
  });
}
