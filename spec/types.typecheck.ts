/**
 * Type behaviour, checked by `tsc --noEmit` (npm test runs it): every `@ts-expect-error` below
 * must be an error, and everything else must compile. Nothing here runs.
 */
import { of, type Observable } from 'rxjs';
import { z } from 'zod';
import { agentOperator, allOf, defineAgent, defineEvent, InputEvent, OutputEvent, type AgentOutput } from '../lib';

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
