// A consumer of the packed tarball. The packaging spec copies this one file into a CommonJS, an ESM
// (nodenext), an ESM (bundler, then bundled by esbuild) and a node10 TypeScript app, type-checks it
// with `strict` and `skipLibCheck: false`, and runs it: it exits non-zero and says why when anything
// it checks is wrong, and prints `consumer ok` at the end. Only rxjs, zod and @types/node are installed.
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  MissingPeerDependencyError,
  OutputEvent,
  RxAgentsError,
} from 'rx-agents';
import { createInspector, createTracing } from 'rx-agents/observe';
import { sqliteStore, StoreOpenError } from 'rx-agents/sqlite';
import { createTestScheduler, virtualDelay } from 'rx-agents/testing';
import { createWorkerPool, WorkerPoolClosedError } from 'rx-agents/workers';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`consumer check failed: ${what}`);
}

const Ticket = z.object({ id: z.number(), customer: z.string(), text: z.string() });
const Triaged = defineEvent('triaged', z.object({ id: z.number(), urgent: z.boolean() }));

const triage = defineAgent({
  name: 'triage',
  input: Ticket,
  output: z.object({ id: z.number(), reply: z.string() }),
  actions: (action) => [
    action('classify', InputEvent, function* (event, ctx) {
      const urgent = yield* ctx.executeAsync(async (text: string) => text.includes('down'), event.payload.text);
      ctx.sendEvent(Triaged.of({ id: event.payload.id, urgent }));
    }),
    action('reply', Triaged, (event, ctx) => {
      ctx.sendEvent(OutputEvent.of({ id: event.payload.id, reply: event.payload.urgent ? 'paging' : 'queued' }));
    }),
  ],
});

async function main(): Promise<void> {
  // The root entry: a real agent over a real stream.
  const tickets = [
    { id: 1, customer: 'ada', text: 'site is down' },
    { id: 2, customer: 'bob', text: 'question' },
    { id: 3, customer: 'ada', text: 'thanks' },
  ];
  const inspector = createInspector();
  const replies = await lastValueFrom(
    of(...tickets).pipe(agentOperator(triage, { key: (t) => t.customer, inspect: inspector.inspect }), toArray()),
  );
  const sorted = replies.map((r) => `${r.id}:${r.reply}`).sort();
  check(sorted.join(',') === '1:paging,2:queued,3:queued', `replies ${JSON.stringify(replies)}`);
  check(inspector.stats().runsCompleted === 3, 'rx-agents/observe counted 3 runs');

  // rx-agents/testing: a marble test in virtual time.
  const ts = createTestScheduler();
  const echo = defineAgent({
    name: 'echo',
    actions: (action) => [
      action('a', InputEvent, function* (event, ctx) {
        const v = yield* ctx.executeAsync(() => virtualDelay(`got ${String(event.payload)}`, 5));
        ctx.sendEvent(OutputEvent.of(v));
      }),
    ],
  });
  ts.run(({ cold, expectObservable }) => {
    expectObservable(cold('a|').pipe(agentOperator(echo, { scheduler: ts }))).toBe('5ms (x|)', { x: 'got a' });
  });

  // rx-agents/workers: a real worker thread.
  const pool = createWorkerPool({ threads: 1 });
  const double = pool.fn((n: number) => n * 2);
  check((await double.withSignal(new AbortController().signal)(21)) === 42, 'a worker doubled 21');
  await pool.close();
  check(
    await double
      .withSignal(new AbortController().signal)(1)
      .then(
        () => false,
        (e: unknown) => e instanceof WorkerPoolClosedError && e instanceof RxAgentsError,
      ),
    'a closed pool refuses with WorkerPoolClosedError',
  );

  // Optional peers that are not installed: a typed error naming the package, from the subpath only.
  for (const [name, load] of [
    ['better-sqlite3', () => sqliteStore(':memory:')],
    ['@opentelemetry/api', () => createTracing()],
  ] as const) {
    try {
      load();
      check(false, `${name} is not installed, yet its feature loaded`);
    } catch (error) {
      check(error instanceof MissingPeerDependencyError, `${name} missing → MissingPeerDependencyError (${error})`);
      check(String(error).includes(name), `the error names ${name}`);
    }
  }
  check(new StoreOpenError('ERR_STORE_CORRUPT', 'x.db', 'broken').code === 'ERR_STORE_CORRUPT', 'sqlite errors');

  console.log('consumer ok');
}

/** Never called: compile-time checks that the published types carry what the schemas say. */
export function typeChecks(): void {
  // @ts-expect-error -- the input schema makes `id` a number
  triage.input?.parse({}).id.toUpperCase();
  // @ts-expect-error -- `urgent` is a boolean in the schema of Triaged
  Triaged.of({ id: 1, urgent: 'yes' });

  // The key, resources, outputs and memory types carried from defineAgent into every action.
  interface Profile {
    name: string;
    visits: number;
  }
  const Prefs = z.object({ theme: z.string().optional() });
  const typed = defineAgent({
    name: 'typed',
    input: Ticket,
    output: z.object({ id: z.number(), reply: z.string() }),
    key: (ticket) => ticket.customer,
    resources: { greeting: 'Hello' },
    actions: (action) => [
      action('reply', InputEvent, (event, ctx) => {
        const customer: string = ctx.key;
        const greeting: string = ctx.resource('greeting');
        ctx.sendEvent(OutputEvent.of({ id: event.payload.id, reply: `${greeting} ${customer}` }));
        // @ts-expect-error -- `reply` must be a string (the agent's output schema)
        ctx.sendEvent(OutputEvent.of({ id: event.payload.id, reply: 1 }));
        // @ts-expect-error -- `missing` is not a resource of this agent
        ctx.resource('missing');
        // @ts-expect-error -- the key is a string
        const wrong: number = ctx.key;
        const profile = ctx.shortTermMemory.get<Profile>('profile'); // an interface
        ctx.shortTermMemory.set('prefs', Prefs.parse({})); // a zod type with an optional field
        const prefs = ctx.shortTermMemory.get<z.infer<typeof Prefs>>('prefs');
        // @ts-expect-error -- a Date is not JSON-like
        ctx.shortTermMemory.set('at', new Date());
        void [wrong, profile, prefs];
      }),
    ],
  });
  // @ts-expect-error -- the operator's key must return the agent's key type
  of({ id: 1, customer: 'ada', text: 'hi' }).pipe(agentOperator(typed, { key: (t) => t.id }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
