import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
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

/** What a context use gave: `ok` or the refusal's `when`. */
type Verdict = string;

/** Tries `ctx.shortTermMemory.get` (and a send-free write) and records the verdict under `label`. */
function tryUse(ctx: RunnerContext, seen: Record<string, Verdict>, label: string): void {
  try {
    ctx.shortTermMemory.set(label, 1);
    seen[label] = 'ok';
  } catch (error) {
    seen[label] = error instanceof AsyncBlockAccessError ? error.when : `other: ${String(error)}`;
  }
}

/** Runs one async action `body` to its end (its run is kept going by `hold` ms of a second action) and returns the verdicts. */
async function verdicts(
  body: (ctx: RunnerContext, seen: Record<string, Verdict>) => Promise<void>,
  hold = 0,
): Promise<Record<string, Verdict>> {
  const Hold = defineEvent('hold', z.null());
  const seen: Record<string, Verdict> = {};
  const agent = defineAgent({
    name: 'suspended',
    actions: (action) => [
      action('act', InputEvent, async (_e, ctx) => {
        if (hold > 0) ctx.sendEvent(Hold.of(null));
        await body(ctx, seen);
        ctx.sendEvent(OutputEvent.of('done'));
      }),
      action('hold', Hold, async (_e, ctx) => {
        await ctx.executeAsync(() => sleep(hold));
      }),
    ],
  });
  const out = await lastValueFrom(of(1).pipe(agentOperator(agent), toArray()));
  expect(out).to.deep.equal(['done']);
  return seen;
}

describe('S5 async actions: while the action is suspended on an await, only its own code may use the context', () => {
  it('a timer, a .then callback, an AsyncResource.bind and an AsyncLocalStorage.snapshot wrapper running while it waits are refused (suspended)', async () => {
    const seen = await verdicts(async (ctx, seen) => {
      setTimeout(() => tryUse(ctx, seen, 'timer'), 5);
      void sleep(5).then(() => tryUse(ctx, seen, 'then callback'));
      const bound = AsyncResource.bind(() => tryUse(ctx, seen, 'AsyncResource.bind'));
      setTimeout(bound, 5);
      const snapshot = AsyncLocalStorage.snapshot();
      setTimeout(() => snapshot(() => tryUse(ctx, seen, 'AsyncLocalStorage.snapshot')), 5);
      queueMicrotask(() => tryUse(ctx, seen, 'queueMicrotask'));
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          tryUse(ctx, seen, 'timer inside the awaited promise');
          resolve();
        }, 10),
      );
      await ctx.executeAsync(() => sleep(10)); // suspended on a call of its own while the timers fire
      tryUse(ctx, seen, 'the action after its awaits');
    });
    expect(seen).to.deep.equal({
      queueMicrotask: 'suspended',
      timer: 'suspended',
      'then callback': 'suspended',
      'AsyncResource.bind': 'suspended',
      'AsyncLocalStorage.snapshot': 'suspended',
      'timer inside the awaited promise': 'suspended',
      'the action after its awaits': 'ok',
    });
  });

  it('the action itself and the async helpers it awaits may use it: nested, Promise.all/allSettled/any/race, await p.then(cb), for await, ctx calls', async () => {
    const helper = async (ctx: RunnerContext, seen: Record<string, Verdict>, label: string): Promise<number> => {
      tryUse(ctx, seen, `${label} before its await`);
      await sleep(1);
      tryUse(ctx, seen, `${label} after its await`);
      const r = await ctx.executeAsync((x: number) => Promise.resolve(x + 1), 1); // a ctx call from an awaited helper
      tryUse(ctx, seen, `${label} after its ctx call`);
      return r;
    };
    const nested = async (ctx: RunnerContext, seen: Record<string, Verdict>): Promise<void> => {
      await sleep(1);
      await helper(ctx, seen, 'nested');
    };
    async function* pages(ctx: RunnerContext, seen: Record<string, Verdict>): AsyncGenerator<number> {
      for (let page = 0; page < 2; page++) {
        await sleep(1);
        tryUse(ctx, seen, `async generator page ${page}`);
        yield page;
      }
    }
    const seen = await verdicts(async (ctx, seen) => {
      tryUse(ctx, seen, 'first block');
      await helper(ctx, seen, 'awaited');
      await nested(ctx, seen);
      await Promise.all([helper(ctx, seen, 'all[0]'), helper(ctx, seen, 'all[1]'), sleep(2)]);
      await Promise.allSettled([helper(ctx, seen, 'allSettled')]);
      await Promise.any([helper(ctx, seen, 'any')]);
      await Promise.race([helper(ctx, seen, 'race')]);
      await sleep(1).then(() => tryUse(ctx, seen, 'await p.then(cb)'));
      await Promise.all([sleep(1).then(() => tryUse(ctx, seen, 'await Promise_all of p.then(cb)'))]);
      for await (const page of pages(ctx, seen)) tryUse(ctx, seen, `for await body ${page}`);
      const [a, b] = await ctx.all([
        ctx.executeAsync(() => Promise.resolve(1)),
        ctx.executeAsync(() => Promise.resolve(2)),
      ]);
      tryUse(ctx, seen, `after ctx.all ${a + b}`);
      await ctx.sleep(1);
      tryUse(ctx, seen, 'after ctx.sleep');
    });
    const refused = Object.entries(seen).filter(([, v]) => v !== 'ok');
    expect(refused).to.deep.equal([]);
    expect(Object.keys(seen)).to.have.length(30);
  });

  it('a helper the action does not await is refused after its first await (before it, it runs inside the action)', async () => {
    const seen = await verdicts(async (ctx, seen) => {
      const forgotten = async (): Promise<void> => {
        tryUse(ctx, seen, 'before its first await');
        await sleep(1);
        tryUse(ctx, seen, 'after its first await');
      };
      void forgotten();
      await ctx.executeAsync(() => sleep(10));
    });
    expect(seen).to.deep.equal({ 'before its first await': 'ok', 'after its first await': 'suspended' });
  });

  it("a function bound in action A's scope and called by action B's own code is refused: B's wrapper is not A's", async () => {
    const Go = defineEvent('go', z.null());
    const seen: Record<string, Verdict> = {};
    let stolen: (() => void) | undefined;
    const agent = defineAgent({
      name: 'two',
      actions: (action) => [
        action('a', InputEvent, async (_e, ctx) => {
          stolen = AsyncResource.bind(() => tryUse(ctx, seen, "A's context from B"));
          ctx.sendEvent(Go.of(null));
          await ctx.executeAsync(() => sleep(20));
        }),
        action('b', Go, async (_e, ctx) => {
          await ctx.executeAsync(() => sleep(5));
          stolen?.();
          ctx.sendEvent(OutputEvent.of('b'));
        }),
      ],
    });
    expect(await lastValueFrom(of(1).pipe(agentOperator(agent), toArray()))).to.deep.equal(['b']);
    expect(seen).to.deep.equal({ "A's context from B": 'suspended' });
  });

  it('the refusal says what happened and what to do', async () => {
    const seen: unknown[] = [];
    await verdicts(async (ctx) => {
      setTimeout(() => {
        try {
          ctx.sendEvent(OutputEvent.of('late'));
        } catch (error) {
          seen.push(error);
        }
      }, 1);
      await ctx.executeAsync(() => sleep(10));
    });
    const error = seen[0] as AsyncBlockAccessError;
    expect(error).to.be.instanceOf(AsyncBlockAccessError);
    expect(error.code).to.equal('ERR_ASYNC_BLOCK_ACCESS');
    expect([error.action, error.member, error.when]).to.deep.equal(['act', 'sendEvent', 'suspended']);
    expect(error.message).to.equal(
      "`ctx.sendEvent` was used while action `act` was suspended on an await, by code that is not the action's own " +
        '(a timer, a .then callback, an AsyncResource.bind or AsyncLocalStorage.snapshot wrapper, or a helper the action did not await). ' +
        'A context is usable only by the action itself and by async functions it awaits (also through Promise.all): await the helper, or use the context after the await.',
    );
  });
});
