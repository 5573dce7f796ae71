/**
 * Type behaviour, checked by `tsc --noEmit` (npm test runs it): every `@ts-expect-error` below
 * must be an error, and everything else must compile. Nothing here runs.
 */
import { of, type Observable } from 'rxjs';
import { z } from 'zod';
import {
  action,
  agentOperator,
  allOf,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  runAgent,
  type AgentOutput,
} from '../lib';

const Scored = defineEvent('scored', z.object({ id: z.number(), score: z.number() }));
Scored.of({ id: 1, score: 0.5 });
// @ts-expect-error: the payload type comes from the schema
Scored.of({ id: '1', score: 0.5 });

const fetchScore = async (id: number): Promise<number> => id / 10;
const streamWords = (n: number): Observable<string> => of(String(n));

export const agent = defineAgent({
  name: 'typed',
  input: z.object({ id: z.number(), userId: z.string() }),
  output: z.object({ id: z.number(), score: z.number() }),
  actions: (action) => [
    action('gen', InputEvent, function* (event, ctx) {
      const id: number = event.payload.id; // input type flows into the InputEvent payload
      // @ts-expect-error: userId is a string
      const wrong: number = event.payload.userId;
      const score: number = yield* ctx.executeAsync(fetchScore, id); // Promise<number> → number
      const word: string = yield* ctx.executeAsync(streamWords, 3); // Observable<string> → string
      // @ts-expect-error: the result of fetchScore is a number
      const bad: string = yield* ctx.executeAsync(fetchScore, id);
      // @ts-expect-error: arguments are checked against the function's parameters
      ctx.executeAsync(fetchScore, 'one');
      const [a, b] = yield* ctx.all([ctx.executeAsync(fetchScore, 1), ctx.executeAsync(streamWords, 2)] as const);
      const sum: number = a + score;
      const text: string = b + word;
      void [wrong, bad, sum, text];
      ctx.sendEvent(Scored.of({ id, score }));
    }),
    action('async', Scored, async (event, ctx) => {
      const s: number = event.payload.score; // trigger payload typed
      const r: number = await ctx.executeAsync(fetchScore, s);
      ctx.sendEvent(OutputEvent.of({ id: event.payload.id, score: r }));
    }),
    action('plain', [Scored, InputEvent], (event) => {
      if (Scored.is(event)) {
        const s: number = event.payload.score; // narrowed by the type guard
        void s;
      }
    }),
  ],
});

const inputs = of({ id: 1, userId: 'u' });
export const outputs: Observable<{ id: number; score: number }> = inputs.pipe(
  agentOperator(agent, { key: (x) => x.userId }),
);
export const envelopes: Observable<AgentOutput<{ id: number; score: number }>> = inputs.pipe(
  agentOperator(agent, { output: 'envelope' }),
);
// @ts-expect-error: the key selector sees the input type
inputs.pipe(agentOperator(agent, { key: (x) => x.missing }));
// @ts-expect-error: the source must carry the agent's input type
of('not an input').pipe(agentOperator(agent));

// Joins (allOf): the action gets a tuple of the joined events, typed; ctx.input carries the agent's input type.
export const joined = defineAgent({
  name: 'joined',
  input: z.object({ text: z.string() }),
  actions: (action) => [
    action('start', InputEvent, (event, ctx) => ctx.sendEvent(Scored.of({ id: event.payload.text.length, score: 1 }))),
    action('both', allOf(Scored, InputEvent), ([scored, input], ctx) => {
      const score: number = scored.payload.score;
      const text: string = input.payload.text;
      const again: string = ctx.input.text;
      // @ts-expect-error: the joined Scored event has no `label`
      void scored.payload.label;
      void [score, text, again];
    }),
  ],
});

// ---- Types that carry what the definition says: key, resources, output, memory ----

interface Deps {
  readonly lookup: (id: number) => Promise<string>;
}
const deps: Deps = { lookup: async (id) => `user ${id}` };
const Reply = z.object({ id: z.number(), kind: z.enum(['urgent', 'normal']), tags: z.array(z.string()) });

export const keyed = defineAgent({
  name: 'keyed',
  input: z.object({ id: z.number(), userId: z.string() }),
  output: Reply,
  key: (input) => input.userId, // ctx.key is a string in every action
  resources: { deps, prompt: 'Be brief.' },
  actions: (action) => [
    action('start', InputEvent, function* (event, ctx) {
      const user: string = ctx.key;
      // @ts-expect-error: the key is a string, from `key`
      const wrongKey: number = ctx.key;
      const found = ctx.resource('deps'); // typed by `resources`: Deps
      const name: string = yield* ctx.executeAsync(found.lookup, event.payload.id);
      const prompt: string = ctx.resource('prompt');
      // @ts-expect-error: `db` is not a resource of this agent
      ctx.resource('db');
      // @ts-expect-error: `prompt` is a string, not a number
      const wrongResource: number = ctx.resource('prompt');
      const legacy = ctx.resource<Deps>('deps'); // the older explicit form still compiles (a cast)
      // Outputs are checked against `output`: literal types, arrays, missing and wrong fields.
      ctx.sendEvent(OutputEvent.of({ id: event.payload.id, kind: 'urgent', tags: [user, name, prompt] }));
      // @ts-expect-error: `kind` must be 'urgent' or 'normal'
      ctx.sendEvent(OutputEvent.of({ id: 1, kind: 'later', tags: [] }));
      // @ts-expect-error: `tags` is missing
      ctx.sendEvent(OutputEvent.of({ id: 1, kind: 'normal' }));
      // @ts-expect-error: `id` is a number
      ctx.sendEvent(OutputEvent.of({ id: '1', kind: 'normal', tags: [] }));
      // A union of an output and another event is checked too.
      const done = event.payload.id > 1;
      ctx.sendEvent(
        done ? OutputEvent.of({ id: 1, kind: 'normal' as const, tags: [] }) : Scored.of({ id: 1, score: 1 }),
      );
      // @ts-expect-error: the output in the union does not fit `output`
      ctx.sendEvent(done ? OutputEvent.of({ id: 1 }) : Scored.of({ id: 1, score: 1 }));
      ctx.sendEvent(Scored.of({ id: 1, score: 2 })); // other events: their own schema
      void [wrongKey, wrongResource, legacy];
    }),
    action('later', Scored, (event, ctx) => {
      const user: string = ctx.key; // in every action, not only the InputEvent one
      ctx.sendEvent(OutputEvent.of({ id: event.payload.id, kind: 'normal', tags: [user] }));
    }),
  ],
});
const keyedInputs = of({ id: 1, userId: 'u' });
export const keyedOutputs: Observable<z.infer<typeof Reply>> = keyedInputs.pipe(agentOperator(keyed)); // the agent's key
keyedInputs.pipe(agentOperator(keyed, { key: (x) => `${x.userId}!` })); // an override of the same type
// @ts-expect-error: the operator's key must return the agent's key type (string)
keyedInputs.pipe(agentOperator(keyed, { key: (x) => x.id }));
// @ts-expect-error: runAgent checks it too
runAgent(keyed, [{ id: 1, userId: 'u' }], { key: (x) => x.id });

// Without `key` and `output`, as before: ctx.key is unknown, any selector works, any output goes.
export const loose = defineAgent({
  name: 'loose',
  actions: (action) => [
    action('start', InputEvent, (event, ctx) => {
      const key: unknown = ctx.key;
      // @ts-expect-error: unknown until the agent declares its key
      const s: string = ctx.key;
      ctx.sendEvent(OutputEvent.of({ anything: event.payload }));
      ctx.sendEvent(OutputEvent.of(42));
      void [key, s];
    }),
  ],
});
of(1).pipe(agentOperator(loose, { key: (x) => x % 2 }));
// A standalone action (the exported `action`) is untyped: any resource name, cast like before.
export const standalone = action('start', InputEvent, (_event, ctx) => {
  const d = ctx.resource<Deps>('deps');
  void d;
});

// Memory: JSON-like data, including interfaces and zod's optional fields; not functions, dates, symbols.
interface Profile {
  name: string;
  tags: string[];
  address?: { city: string };
}
const Prefs = z.object({
  theme: z.string().optional(),
  sizes: z.array(z.number()),
  nested: z.object({ on: z.boolean().optional() }),
});
type Prefs = z.infer<typeof Prefs>;
interface Tree {
  label: string;
  children: Tree[];
}
export const remembering = defineAgent({
  name: 'remembering',
  input: Prefs,
  actions: (action) => [
    action('start', InputEvent, (event, ctx) => {
      const memory = ctx.shortTermMemory;
      const profile: Profile | undefined = memory.get<Profile>('profile'); // an interface (no index signature)
      const prefs: Prefs | undefined = memory.get<Prefs>('prefs'); // zod's `theme?: string | undefined`
      const tree = memory.get<Tree>('tree'); // recursive
      const pair = memory.get<[string, number]>('pair');
      const plain = memory.get('x'); // MemoryValue
      memory.set('prefs', event.payload); // a zod-typed value, optional fields and all
      memory.set('profile', { name: 'ada', tags: ['x'] } satisfies Profile);
      if (profile !== undefined) memory.set('profile', profile);
      if (tree !== undefined) memory.set('tree', tree);
      if (plain !== undefined) memory.set('copy', plain);
      memory.set('list', [1, 'two', null, { three: true }]);
      // @ts-expect-error: a Date is not JSON-like (store date.toISOString())
      memory.get<Date>('at');
      // @ts-expect-error: a Map is not JSON-like
      memory.get<Map<string, number>>('m');
      // @ts-expect-error: an object with a function is not JSON-like
      memory.get<{ run: () => void }>('f');
      // @ts-expect-error: a function is not storable
      memory.set('fn', () => 1);
      // @ts-expect-error: a Date is not storable
      memory.set('at', new Date());
      // @ts-expect-error: a symbol is not storable
      memory.set('s', Symbol('s'));
      // @ts-expect-error: a bigint is not storable
      memory.set('n', 1n);
      // @ts-expect-error: a method inside an object is not storable
      ctx.sensoryMemory.set('o', { name: 'x', greet() {} });
      // @ts-expect-error: undefined is not storable (delete the path instead)
      memory.set('u', undefined);
      void [prefs, pair];
    }),
  ],
});

// ---- The README's "Types that carry what the definition says" example, kept true here ----
const ReadmeReply = z.object({ id: z.number(), kind: z.enum(['urgent', 'normal']) });
export const readmeTriage = defineAgent({
  name: 'triage',
  input: z.object({ id: z.number(), customer: z.string(), text: z.string() }),
  output: ReadmeReply,
  key: (ticket) => ticket.customer,
  resources: { deps: { lookup: async (id: number) => `order ${id}` }, prompt: 'Be brief.' },
  actions: (action) => [
    action('reply', InputEvent, function* (event, ctx) {
      const customer: string = ctx.key;
      const { lookup } = ctx.resource('deps');
      const order = yield* ctx.executeAsync(lookup, event.payload.id);
      ctx.shortTermMemory.set('last', { order, customer });
      ctx.sendEvent(OutputEvent.of({ id: event.payload.id, kind: 'urgent' }));
      // @ts-expect-error: not 'urgent' | 'normal'
      ctx.sendEvent(OutputEvent.of({ id: 1, kind: 'later' }));
      // @ts-expect-error: not a resource of triage
      ctx.resource('db');
      interface ReadmeProfile {
        name: string;
        visits: number;
      }
      const ReadmePrefs = z.object({ theme: z.string().optional() });
      const profile: ReadmeProfile | undefined = ctx.shortTermMemory.get<ReadmeProfile>('profile');
      ctx.shortTermMemory.set('prefs', ReadmePrefs.parse(event.payload));
      // @ts-expect-error: store date.toISOString()
      ctx.shortTermMemory.set('at', new Date());
      void profile;
    }),
  ],
});
declare const readmeTickets$: Observable<{ id: number; customer: string; text: string }>;
readmeTickets$.pipe(agentOperator(readmeTriage));
readmeTickets$.pipe(agentOperator(readmeTriage, { key: (t) => `${t.customer}/${t.id}` }));
// @ts-expect-error: the key is a string
readmeTickets$.pipe(agentOperator(readmeTriage, { key: (t) => t.id }));
