/**
 * S5 for async actions: is the code using a context the action's own code, or something that runs
 * while the action is suspended on an `await` (a timer, a `.then` callback, an `AsyncResource.bind`
 * or `AsyncLocalStorage.snapshot` wrapper) and merely carries its AsyncLocalStorage scope?
 *
 * The answer comes from V8's zero-cost async stack traces. Every async action is called through its
 * own async wrapper, named `rxAgentsAsyncAction#<n>`, that awaits it. V8 keeps that wrapper on the
 * stack: as a synchronous frame before the action's first `await`, and as an async frame (`at async
 * rxAgentsAsyncAction#<n>`) in every continuation of the action — and of every async function the
 * action awaits, directly or through `Promise.all` / `allSettled` / `any` / `race`, because each
 * awaiting function is linked to the promise it awaits. A timer or a callback the action did not
 * await is not on that chain: no wrapper frame.
 *
 * Capturing a stack costs a few microseconds, so it is done once per turn: the verdict is kept
 * for the turn's execution resource when that is a Promise (a promise reaction job, i.e. an await
 * continuation, which runs once; see `executionAsyncResource`).
 */
const hooks = process.getBuiltinModule('node:async_hooks');
// `process.getBuiltinModule` (Node >= 20.16) instead of an import: see activation.ts.

/** The resource of the current callback (a Promise inside a promise reaction job). */
export const currentResource: () => object = hooks.executionAsyncResource;

type ActionFn = (event: never, ctx: never) => PromiseLike<void>;

/** Who hears of the action's end: called in the continuation right after the action's promise settles. */
export interface ActionEnd {
  asyncSettled(failed: boolean, error: unknown): void;
}

/**
 * An async action called through its wrapper: `wrapper(fn, event, ctx, end)`. The wrapper awaits the
 * action and reports its end itself, in the same microtask a `.then` on the action's promise would,
 * so the wrapper costs the action no extra turn.
 */
export type ActionWrapper = (fn: ActionFn, event: unknown, ctx: unknown, end: ActionEnd) => Promise<void>;

const AsyncFunctionPrototype: object = Object.getPrototypeOf(async function () {}) as object;

let count = 0;

/** A native `async` function (not one compiled below ES2017 to `__awaiter`, which has no async frames). */
export function isNativeAsync(fn: unknown): boolean {
  return typeof fn === 'function' && Object.getPrototypeOf(fn) === AsyncFunctionPrototype;
}

/**
 * A fresh async wrapper with a unique name; the name is `null` where the check cannot work: the
 * wrapper was compiled to a non-native async function (a bundler targeting below ES2017).
 */
export function actionWrapper(): { readonly wrapper: ActionWrapper; readonly name: string | null } {
  const name = `rxAgentsAsyncAction#${++count}`;
  const wrapper: ActionWrapper = async function rxAgentsAsyncAction(fn, event, ctx, end) {
    try {
      await fn(event as never, ctx as never);
    } catch (error) {
      return end.asyncSettled(true, error);
    }
    end.asyncSettled(false, undefined);
  };
  Object.defineProperty(wrapper, 'name', { value: name });
  return { wrapper, name: isNativeAsync(wrapper) ? name : null };
}

/**
 * Whether the code running now is the action's own: a frame of its wrapper `name` is on the stack.
 * Always `true` where V8 gives no async frames (`node --no-async-stack-traces`; found by a probe at
 * load, which answers within the first microtasks).
 */
export function ownCode(name: string): boolean {
  return probe !== true || onStack(name);
}

const prepareSites = (_error: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] => sites;

/**
 * Whether a frame of the function named `name` is on the current stack, synchronous or async.
 * `Error.prepareStackTrace` and `Error.stackTraceLimit` are set only for the capture and restored
 * (ts-node and source-map-support install their own). Where they cannot be set (frozen
 * intrinsics), the answer is `true`: the check is left out rather than refusing the action.
 */
function onStack(name: string): boolean {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: unknown;
  try {
    Error.prepareStackTrace = prepareSites;
    Error.stackTraceLimit = Infinity;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, onStack);
    sites = holder.stack;
  } catch {
    return true;
  } finally {
    try {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    } catch {
      // frozen: nothing was changed
    }
  }
  if (!Array.isArray(sites)) return true;
  for (const site of sites as NodeJS.CallSite[]) if (site.getFunctionName() === name) return true;
  return false;
}

/** `undefined` until answered; whether a continuation of an awaited async function sees its caller as an async frame. */
let probe: boolean | undefined;
void (async function rxAgentsProbeOuter(): Promise<void> {
  await (async function rxAgentsProbeInner(): Promise<void> {
    await null;
    probe = onStack('rxAgentsProbeOuter');
  })();
})();
