import { optionError } from '../errors';
import { ThreadPool } from './thread-pool';
import type { WorkerFunction } from './worker-function';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { availableParallelism } = process.getBuiltinModule('node:os');

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads to run tasks on; they start on demand. @default os.availableParallelism() */
  readonly threads?: number;
  /**
   * Node flags for each worker, e.g. `['-r', 'ts-node/register/transpile-only']` so that
   * `pool.task()` can load `.ts` modules. @default the flags of the current process (Node's default)
   */
  readonly execArgv?: readonly string[];
  /**
   * Run every task on a fresh worker thread, terminated when the task ends, so that nothing a
   * task leaves behind (globals, patched built-ins, module state, timers) is seen by a later task —
   * of another key, say. Costs a thread start per task (tens of ms). @default false
   */
  readonly isolateTasks?: boolean;
  /**
   * The environment the workers see as `process.env`. Pass `{}` (or only what tasks need) to keep
   * the host's secrets out of reach of `process.env` in tasks. @default a copy of the host's `process.env` (Node's default)
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** A pool of worker threads for CPU-bound async blocks. Made by {@link createWorkerPool}. */
export interface WorkerPool {
  readonly threads: number;
  /** Tasks running on a worker now. */
  readonly running: number;
  /** Tasks waiting for a free worker. */
  readonly queued: number;
  readonly closed: boolean;
  /** A self-contained function, shipped to the workers as source text. It may use only its parameters, globals and `require()`. */
  // `any` so that functions of every parameter list are accepted; the real types come back through Parameters/ReturnType.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fn<F extends (...args: any[]) => unknown>(fn: F): WorkerFunction<Parameters<F>, Awaited<ReturnType<F>>>;
  /**
   * A function exported by a module, loaded by each worker with `require()` (or `import()` for ESM).
   * `modulePath` is resolved now, from the working directory; prefer `require.resolve('./tasks')`.
   * Pass the function's type for typed calls: `pool.task<typeof import('./tasks').hash>(path, 'hash')`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  task<F extends (...args: any[]) => unknown = (...args: unknown[]) => unknown>(
    modulePath: string,
    exportName?: string,
  ): WorkerFunction<Parameters<F>, Awaited<ReturnType<F>>>;
  /** Starts every thread now and resolves when they are online (otherwise they start on first use). */
  warmUp(): Promise<void>;
  /** Fails queued and running tasks with `WorkerPoolClosedError` and terminates every worker. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a pool of worker threads for CPU-bound async blocks, so they do not block the main
 * thread (where every sync block of every agent runs).
 *
 * This is a thread pool, not a sandbox: tasks run in the host's process, with its permissions,
 * files, network and memory. Only run code you trust on it. What it does guard: a task cannot
 * signal the host with `process.kill` (refused), `process.exit` ends only its worker, and with
 * `isolateTasks` no task sees what an earlier one left behind.
 *
 * Semantics: at most `threads` tasks run at once, the rest wait FIFO. A task that throws fails
 * with `WorkerTaskError`; a worker that dies (`process.exit`, an uncaught error, out of memory)
 * fails only the task it was running, with `WorkerCrashedError`, and is replaced. Cancelling a
 * running task terminates its worker. Idle workers do not keep the process alive (they are
 * `unref`ed; a worker with a task is `ref`ed), and `close()` — or
 * `closeWorkerPoolOnEnd(pool)` in the pipeline — terminates them.
 *
 * @example
 * const pool = createWorkerPool({ threads: 2 });
 * const score = pool.fn((text: string): number => { let h = 0; for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0; return h; });
 * const agent = defineAgent({ name: 'scorer', actions: (action) => [
 *   action('score', InputEvent, function* (event, ctx) {
 *     const s = yield* ctx.executeAsync(score, String(event.payload));
 *     ctx.sendEvent(OutputEvent.of(s));
 *   }),
 * ] });
 * inputs$.pipe(agentOperator(agent), closeWorkerPoolOnEnd(pool));
 */
export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw optionError('threads', 'an integer >= 1', threads);
  if (
    options.execArgv !== undefined &&
    !(Array.isArray(options.execArgv) && options.execArgv.every((a) => typeof a === 'string'))
  ) {
    throw optionError('execArgv', 'an array of strings', options.execArgv);
  }
  const isolateTasks = options.isolateTasks ?? false;
  if (typeof isolateTasks !== 'boolean') throw optionError('isolateTasks', 'a boolean', isolateTasks);
  const env = options.env;
  if (
    env !== undefined &&
    (typeof env !== 'object' || env === null || Object.values(env).some((v) => typeof v !== 'string'))
  )
    throw optionError('env', 'an object of strings', env);
  return new ThreadPool(threads, options.execArgv, { isolateTasks, env });
}
