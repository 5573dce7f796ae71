import { expect } from 'chai';
import { Observable, defer, lastValueFrom, of, toArray } from 'rxjs';
import ts from 'typescript';
import { z } from 'zod';
import {
  ActionError,
  AsyncBlockAccessError,
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type RunnerContext,
} from '../../lib';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What an async block may return that runs more of its code later than the call site. */
const laterBodies: Array<[string, (ctx: RunnerContext) => unknown]> = [
  [
    'defer(() => ...) (Observable block body)',
    (ctx) =>
      defer(() => {
        ctx.shortTermMemory.set('stolen', 1);
        return of(1);
      }),
  ],
  [
    'new Observable(subscriber => ...)',
    (ctx) =>
      new Observable<number>((subscriber) => {
        ctx.sendEvent(OutputEvent.of('leak'));
        subscriber.next(1);
        subscriber.complete();
      }),
  ],
  [
    "a custom thenable's then()",
    (ctx) => ({
      then(resolve: (v: number) => void) {
        ctx.sensoryMemory.set('stolen', 1);
        resolve(1);
      },
    }),
  ],
];

describe('S5 bypasses are closed: block code that runs later than the call site is still block code', () => {
  for (const [label, body] of laterBodies) {
    for (const style of ['generator', 'async'] as const) {
      it(`${style} action: ${label} touching the context is refused with AsyncBlockAccessError`, async () => {
        const agent = defineAgent({
          name: 's5',
          actions: (action) => [
            style === 'generator'
              ? action('leaky', InputEvent, function* (_e, ctx) {
                  const r = yield* ctx.executeAsync(() => body(ctx) as Promise<number>);
                  ctx.sendEvent(OutputEvent.of(r));
                })
              : action('leaky', InputEvent, async (_e, ctx) => {
                  const r = await ctx.executeAsync(() => body(ctx) as Promise<number>);
                  ctx.sendEvent(OutputEvent.of(r));
                }),
          ],
        });
        const error = await lastValueFrom(of(1).pipe(agentOperator(agent), toArray())).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ActionError);
        expect((error as ActionError).cause).to.be.instanceOf(AsyncBlockAccessError);
      });
    }
  }

  it('async action: a timer it registered, firing after it finished (its run still going), is refused with AsyncBlockAccessError (after)', async () => {
    const Hold = defineEvent('hold', z.null());
    const seen: unknown[] = [];
    const agent = defineAgent({
      name: 'stale',
      actions: (action) => [
        action('quick', InputEvent, async (_e, ctx) => {
          await ctx.executeAsync(() => Promise.resolve());
          setTimeout(() => {
            try {
              ctx.shortTermMemory.set('written-late', 1);
              seen.push('allowed');
            } catch (error) {
              seen.push(error);
            }
          }, 5);
          ctx.sendEvent(Hold.of(null));
        }),
        action('slow', Hold, function* (_e, ctx) {
          yield* ctx.executeAsync(() => sleep(40)); // keeps the run going while the timer fires
          ctx.sendEvent(OutputEvent.of(ctx.shortTermMemory.get('written-late') ?? 'untouched'));
        }),
      ],
    });
    const out = await lastValueFrom(of(1).pipe(agentOperator(agent), toArray()));
    expect(out).to.deep.equal(['untouched']);
    expect(seen).to.have.length(1);
    const error = seen[0] as AsyncBlockAccessError;
    expect(error).to.be.instanceOf(AsyncBlockAccessError);
    expect(error.when).to.equal('after');
    expect(error.message).to.equal(
      '`ctx.shortTermMemory` was used after action `quick` had finished (by a timer or a callback that outlived it?). ' +
        'A context is usable only while its action runs: await (or yield*) what the action starts, and use the context in the action itself.',
    );
  });

  it('an async action compiled below ES2017 (TypeScript __awaiter, target ES2015) works: the context is usable after its awaits', async () => {
    const source = `
      exports.action = async function (event, ctx) {
        const a = await ctx.executeAsync((x) => Promise.resolve(x * 2), event.payload);
        ctx.shortTermMemory.set('a', a);
        const b = await ctx.executeAsync((x) => Promise.resolve(x + 1), a);
        ctx.sendEvent(OutputEvent.of([a, b, ctx.shortTermMemory.get('a')]));
      };`;
    const compiled = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2015, module: ts.ModuleKind.CommonJS },
    }).outputText;
    expect(compiled).to.include('__awaiter(');
    const exports: { action?: (e: unknown, c: RunnerContext) => Promise<void> } = {};
    new Function('exports', 'OutputEvent', compiled)(exports, OutputEvent);
    const agent = defineAgent({
      name: 'es2015',
      actions: (action) => [action('old', InputEvent, exports.action!)],
    });
    expect(agent.actions[0]!.style).to.equal('async');
    const out = await lastValueFrom(of(5).pipe(agentOperator(agent, { validateEvents: false }), toArray()));
    expect(out).to.deep.equal([[10, 11, 10]]);
  });
});
