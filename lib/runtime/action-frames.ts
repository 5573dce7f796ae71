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

/** A function whose frame (and the frames above it) a capture leaves out. */
// Any signature: it is only compared by identity (Error.captureStackTrace's second argument).
type Frame = (...args: never[]) => unknown;

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

/** Set by {@link setOwnCodeCheck}. */
let checking = true;

/**
 * Turns the stack check off for async actions started from now on (they keep the scope-only rule):
 * the reference of the benchmark that measures the check (bench/workloads/s5-check.ts). Not exported
 * from the package.
 *
 * @internal
 * @example
 * setOwnCodeCheck(false); // ...time a workload...; setOwnCodeCheck(true);
 */
export function setOwnCodeCheck(on: boolean): void {
  checking = on;
}

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
  return { wrapper, name: checking && isNativeAsync(wrapper) ? name : null };
}

/**
 * Whether the code running now is the action's own: a frame of its wrapper `name` is on the stack.
 * `skip`: the frames down to this function's (the guard) are left out of the capture (they cost
 * time and are never the wrapper).
 * Always `true` where V8 gives no async frames (`node --no-async-stack-traces`; found by a probe at
 * load, which answers within the first microtasks).
 */
export function ownCode(name: string, skip: Frame): boolean {
  return probe !== true || onStack(name, skip);
}

const prepareSites = (_error: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] => sites;

/**
 * Whether a frame of the function named `name` is on the current stack, synchronous or async.
 * A short capture first (the wrapper of an action's own continuation is a few frames down), the
 * whole stack only when that was cut short. `Error.prepareStackTrace` and `Error.stackTraceLimit`
 * are set only for the capture and restored (ts-node and source-map-support install their own).
 * Where they cannot be set (frozen intrinsics), the answer is `true`: the check is left out rather
 * than refusing the action.
 */
function onStack(name: string, skip: Frame): boolean {
  const sites = capture(SHORT, skip);
  if (sites === null) return true;
  if (hasFrame(sites, name)) return true;
  if (sites.length < SHORT) return false;
  const all = capture(Infinity, skip);
  return all === null || hasFrame(all, name);
}

/**
 * Frames in the first capture (each costs about a microsecond): below the guard, the context member
 * (and a memory view's method), the action's code and its wrapper, with room for a few awaited helpers.
 */
const SHORT = 8;

function hasFrame(sites: readonly NodeJS.CallSite[], name: string): boolean {
  for (const site of sites) if (site.getFunctionName() === name) return true;
  return false;
}

/** The current stack as call sites, at most `limit` frames (`null`: it cannot be had here). */
function capture(limit: number, skip: Frame): NodeJS.CallSite[] | null {
  const prepare = Error.prepareStackTrace;
  const previous = Error.stackTraceLimit;
  let sites: unknown;
  try {
    Error.prepareStackTrace = prepareSites;
    Error.stackTraceLimit = limit;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, skip);
    sites = holder.stack;
  } catch {
    return null;
  } finally {
    try {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = previous;
    } catch {
      // frozen: nothing was changed
    }
  }
  return Array.isArray(sites) ? (sites as NodeJS.CallSite[]) : null;
}

/** `undefined` until answered; whether a continuation of an awaited async function sees its caller as an async frame. */
let probe: boolean | undefined;
void (async function rxAgentsProbeOuter(): Promise<void> {
  await (async function rxAgentsProbeInner(): Promise<void> {
    await null;
    probe = onStack('rxAgentsProbeOuter', rxAgentsProbeInner);
  })();
})();
