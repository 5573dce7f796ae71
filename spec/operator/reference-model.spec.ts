import { expect } from 'chai';
import fc from 'fast-check';
import { concat, defer, EMPTY, merge, of, timer, type Observable } from 'rxjs';
import { concatMap, groupBy, map, mergeMap } from 'rxjs/operators';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type ActionDef,
  type EventType,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

// The shape the library promises, as a checked fact: agentOperator behaves like the literal
// composition "group the input by key, serialise runs per group (concatMap), merge independent
// actions and the events they send (mergeMap), async blocks as timers". Random agents (a DAG of
// event types, actions of random steps) and random workloads run through both, in virtual time;
// per key, the outputs are the same, at the same frames, in the same order.

/** One step of an action: an optional async block of `delay` frames, then sends (an event type index, or an output). */
interface Step {
  readonly delay: number | null;
  readonly sends: readonly (number | 'out')[];
}
/** An action triggered by event type `trigger` (0 = InputEvent). */
interface ActionSpec {
  readonly trigger: number;
  readonly steps: readonly Step[];
}
interface AgentSpec {
  readonly types: number;
  readonly actions: readonly ActionSpec[];
}
interface Input {
  readonly id: number;
  readonly key: number;
  readonly gap: number;
}

const step = fc.record({
  delay: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  sends: fc.array(fc.oneof(fc.constant<'out'>('out'), fc.integer({ min: 1, max: 3 })), { maxLength: 3 }),
});
const agentSpec: fc.Arbitrary<AgentSpec> = fc
  .record({
    types: fc.integer({ min: 1, max: 4 }),
    actions: fc.array(fc.record({ trigger: fc.integer({ min: 0, max: 3 }), steps: fc.array(step, { maxLength: 3 }) }), {
      minLength: 1,
      maxLength: 5,
    }),
  })
  .map(({ types, actions }) => {
    // Every agent has an action for InputEvent; triggers exist; an action sends only to higher event types that
    // some action handles (so runs end: the events form a DAG), anything else becomes an output.
    const list = actions.map((a, i) => ({ trigger: i === 0 ? 0 : a.trigger % types, steps: a.steps }));
    const handled = new Set(list.map((a) => a.trigger));
    return {
      types,
      actions: list.map((a) => ({
        trigger: a.trigger,
        steps: a.steps.map((s) => ({
          delay: s.delay,
          sends: s.sends.map((t) => (t !== 'out' && t > a.trigger && t < types && handled.has(t) ? t : 'out')),
        })),
      })),
    };
  });
const inputs: fc.Arbitrary<Input[]> = fc
  .array(fc.record({ key: fc.integer({ min: 0, max: 3 }), gap: fc.integer({ min: 0, max: 3 }) }), { maxLength: 10 })
  .map((list) => list.map((x, id) => ({ ...x, id })));

/**
 * What an output says: which input, which activation (the path of sends that triggered it, then the
 * action), which step and send made it. `|` ends the activation part.
 */
const label = (input: number, path: string, action: number, step: number, send: number): string =>
  `${input}/${path}/a${action}|s${step}/${send}`;
/** The path of an event sent by `action` at `step`, send `send`, from an activation triggered along `path`. */
const sentPath = (path: string, action: number, step: number, send: number): string =>
  `${path}>a${action}.${step}.${send}`;

const Sent = z.object({ input: z.number(), path: z.string() });
type SentPayload = z.infer<typeof Sent>;

/** The agent under test, built from the spec with the library's API. */
function buildAgent(spec: AgentSpec): ReturnType<typeof defineAgent<Input, string>> {
  const types: EventType<string, SentPayload>[] = [];
  for (let t = 1; t < spec.types; t++) types[t] = defineEvent(`e${t}`, Sent);
  return defineAgent<Input, string>({
    name: 'reference-model',
    actions: (action) =>
      spec.actions.map((a, ai): ActionDef => {
        const run = function* (input: number, path: string, ctx: Parameters<Parameters<typeof action>[2]>[1]) {
          for (const [si, s] of a.steps.entries()) {
            if (s.delay !== null) yield* ctx.executeAsync(() => virtualDelay(null, s.delay as number));
            s.sends.forEach((t, n) =>
              ctx.sendEvent(
                t === 'out'
                  ? OutputEvent.of(label(input, path, ai, si, n))
                  : (types[t] as EventType<string, SentPayload>).of({ input, path: sentPath(path, ai, si, n) }),
              ),
            );
          }
        };
        return a.trigger === 0
          ? action(`a${ai}`, InputEvent, function* (event, ctx) {
              yield* run(event.payload.id, 'in', ctx);
            })
          : action(`a${ai}`, types[a.trigger] as EventType<string, SentPayload>, function* (event, ctx) {
              yield* run(event.payload.input, event.payload.path, ctx);
            });
      }),
  });
}

/**
 * The reference model: the literal composition. One run = the InputEvent routed to its actions, merged;
 * one action = its steps, each an optional timer, then its sends; a send of an event starts the actions it
 * triggers, merged with the rest of the sender (the sender does not wait for them); a run completes when all
 * of that has completed; runs of one key are serial (concatMap inside groupBy), keys are merged.
 */
function referenceModel(spec: AgentSpec): (input$: Observable<Input>) => Observable<{ key: number; out: string }> {
  const route = (type: number, input: number, path: string): Observable<string> =>
    merge(...spec.actions.flatMap((a, ai) => (a.trigger === type ? [runAction(ai, 0, input, path)] : [])));
  const runAction = (ai: number, si: number, input: number, path: string): Observable<string> => {
    const s = (spec.actions[ai] as ActionSpec).steps[si];
    if (s === undefined) return EMPTY;
    const block: Observable<unknown> = s.delay === null ? of(null) : timer(s.delay);
    return block.pipe(
      mergeMap(() =>
        merge(
          ...s.sends.map((t, n) =>
            t === 'out' ? of(label(input, path, ai, si, n)) : route(t, input, sentPath(path, ai, si, n)),
          ),
          defer(() => runAction(ai, si + 1, input, path)),
        ),
      ),
    );
  };
  return (input$) =>
    input$.pipe(
      groupBy((input) => input.key),
      mergeMap((group$) =>
        group$.pipe(
          concatMap((input) => concat(route(0, input.id, 'in')).pipe(map((out) => ({ key: input.key, out })))),
        ),
      ),
    );
}

/** Per key, `[frame, output]` in emission order. */
type PerKey = Record<number, Array<[number, string]>>;

function runBoth(spec: AgentSpec, list: readonly Input[]): { ours: PerKey; reference: PerKey } {
  const ts = createTestScheduler();
  const ours: PerKey = {};
  const reference: PerKey = {};
  ts.run(({ cold }) => {
    let marble = '';
    const values: Record<string, Input> = {};
    list.forEach((x, i) => {
      const name = String.fromCharCode(0x4e00 + i);
      values[name] = x;
      marble += name + '-'.repeat(x.gap);
    });
    const input$ = cold(marble + '|', values);
    input$
      .pipe(
        agentOperator(buildAgent(spec), {
          key: (x) => x.key,
          scheduler: ts,
          concurrency: Infinity,
          output: 'envelope',
        }),
      )
      .subscribe((o) => (ours[o.key as number] ??= []).push([ts.now(), o.payload]));
    input$.pipe(referenceModel(spec)).subscribe((o) => (reference[o.key] ??= []).push([ts.now(), o.out]));
  });
  return { ours, reference };
}

/**
 * Within one frame, outputs sent by *different* actions of one run may come in another order: the
 * operator routes sent events breadth-first through its mailbox (S4: after the sending block ends), the
 * reference subscribes depth-first. So per key and frame the outputs are compared as a set, and the
 * order is compared exactly where the library promises it: per activation (S8, send order), and across
 * runs (S1/S8, the input id in the label).
 */
function normalised(perKey: PerKey): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const [key, list] of Object.entries(perKey)) {
    const byFrame = new Map<number, string[]>();
    for (const [frame, o] of list) byFrame.set(frame, [...(byFrame.get(frame) ?? []), o]);
    out[Number(key)] = [...byFrame.entries()].flatMap(([frame, os]) => [...os].sort().map((o) => `${frame}:${o}`));
  }
  return out;
}

/** Per key and activation: its outputs in emission order. */
function perActivation(perKey: PerKey): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(perKey)) {
    for (const [, o] of list) (out[`${key}:${o.split('|')[0] as string}`] ??= []).push(o);
  }
  return out;
}

describe('agentOperator as groupBy + concatMap + mergeMap (reference model, fast-check, virtual time)', () => {
  it('S1/S2/S3/S8: random agents and workloads give, per key, the outputs of the literal composition, at the same frames', () => {
    fc.assert(
      fc.property(agentSpec, inputs, (spec, list) => {
        const { ours, reference } = runBoth(spec, list);
        expect(normalised(ours)).to.deep.equal(normalised(reference));
        expect(perActivation(ours)).to.deep.equal(perActivation(reference));
        // Runs of one key never interleave (S1/S8): input ids are non-decreasing per key.
        for (const list of Object.values(ours)) {
          const ids = list.map(([, o]) => Number(o.split('/')[0]));
          expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the model is not trivially equal: it sees a change of semantics (runs of one key made concurrent)', () => {
    // The same comparison against a model with mergeMap instead of concatMap per key finds a counterexample.
    const broken =
      (spec: AgentSpec) =>
      (input$: Observable<Input>): Observable<{ key: number; out: string }> =>
        referenceModel(spec)(input$.pipe(map((x) => ({ ...x, key: x.id * 100 + x.key }))));
    const spec: AgentSpec = { types: 1, actions: [{ trigger: 0, steps: [{ delay: 3, sends: ['out'] }] }] };
    const list: Input[] = [
      { id: 0, key: 0, gap: 0 },
      { id: 1, key: 0, gap: 0 },
    ];
    const ts = createTestScheduler();
    const frames: number[] = [];
    ts.run(({ cold }) => {
      cold('ab|', { a: list[0] as Input, b: list[1] as Input })
        .pipe(broken(spec))
        .subscribe(() => frames.push(ts.now()));
    });
    const { ours } = runBoth(spec, list);
    expect(ours[0]?.map(([f]) => f)).to.deep.equal([3, 6]); // serial per key
    expect(frames).to.deep.equal([3, 4]); // the broken model overlaps the runs
  });
});
