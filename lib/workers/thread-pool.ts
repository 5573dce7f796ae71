import {
  WorkerCaptureError,
  WorkerCrashedError,
  WorkerFunctionError,
  WorkerPoolClosedError,
  WorkerTaskError,
  optionError,
} from '../errors';
import { Fifo } from '../runtime/fifo';
import { functionLabel, functionSource } from './function-source';
import { workerFunction, type TaskRunner, type WorkerFunction } from './worker-function';
import { WORKER_SCRIPT } from './worker-script';
import type { Worker } from 'node:worker_threads';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { createRequire } = process.getBuiltinModule('node:module');
const { Worker: WorkerThread } = process.getBuiltinModule('node:worker_threads');

/** How a worker finds a function the first time it sees its id. */
type FnSpec =
  | { readonly label: string; readonly src: string }
  | { readonly label: string; readonly path: string; readonly name: string };

interface Task {
  readonly id: number;
  readonly fnId: number;
  readonly args: readonly unknown[];
  readonly settle: (ok: boolean, valueOrError: unknown) => void;
  /** 0 queued, 1 running, 2 done or cancelled */
  state: 0 | 1 | 2;
  slot: Slot | null;
}

interface Slot {
  readonly worker: Worker;
  task: Task | null;
  /** Function ids this worker has been sent the spec of. */
  readonly known: Set<number>;
  retired: boolean;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: {
    name: string;
    message: string;
    stack?: string;
    kind: 'task' | 'capture' | 'function';
    variable?: string;
  };
}

/**
 * The pool behind {@link createWorkerPool}'s `WorkerPool` (see its docs for the semantics): a
 * FIFO of tasks, workers started on demand up to `threads`, each worker running one task at a time.
 */
export class ThreadPool implements TaskRunner {
  running = 0;
  closed = false;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue = new Fifo<Task>();
  private cancelledInQueue = 0;
  private readonly specs: FnSpec[] = [];
  private readonly specIds = new Map<string, number>();
  private nextTaskId = 1;

  constructor(
    readonly threads: number,
    private readonly execArgv: readonly string[] | undefined,
    private readonly isolation: {
      /** A fresh worker per task (the worker is terminated when its task ends). */
      readonly isolateTasks: boolean;
      readonly env: Readonly<Record<string, string>> | undefined;
    } = { isolateTasks: false, env: undefined },
  ) {}

  get queued(): number {
    return this.queue.size - this.cancelledInQueue;
  }

  fn<F extends (...args: never[]) => unknown>(fn: F): WorkerFunction<Parameters<F>, Awaited<ReturnType<F>>> {
    const src = functionSource(fn);
    return workerFunction(this, this.specId(`src:${src}`, { label: functionLabel(fn), src }), functionLabel(fn));
  }

  task<F extends (...args: never[]) => unknown>(
    modulePath: string,
    exportName = 'default',
  ): WorkerFunction<Parameters<F>, Awaited<ReturnType<F>>> {
    if (typeof modulePath !== 'string' || modulePath.length === 0)
      throw optionError('modulePath', 'a module path (e.g. require.resolve("./tasks"))', modulePath);
    if (typeof exportName !== 'string' || exportName.length === 0)
      throw optionError('exportName', 'the name of an exported function', exportName);
    let path: string;
    try {
      path = createRequire(`${process.cwd()}/[rx-agents]`).resolve(modulePath);
    } catch (error) {
      throw new WorkerFunctionError(
        `pool.task() cannot find module \`${modulePath}\` (resolved from ${process.cwd()}). Pass an absolute path, e.g. require.resolve('./tasks').`,
        { cause: error },
      );
    }
    const label = `${modulePath}#${exportName}`;
    return workerFunction(this, this.specId(`mod:${path}#${exportName}`, { label, path, name: exportName }), label);
  }

  private specId(key: string, spec: FnSpec): number {
    let id = this.specIds.get(key);
    if (id === undefined) {
      id = this.specs.push(spec) - 1;
      this.specIds.set(key, id);
    }
    return id;
  }

  submit(fnId: number, args: readonly unknown[], settle: (ok: boolean, valueOrError: unknown) => void): () => void {
    if (this.closed) {
      settle(false, new WorkerPoolClosedError((this.specs[fnId] as FnSpec).label));
      return noop;
    }
    const task: Task = { id: this.nextTaskId++, fnId, args, settle, state: 0, slot: null };
    this.queue.push(task);
    this.pump();
    return () => this.cancel(task);
  }

  /** Hands queued tasks to idle workers, starting workers up to `threads`. */
  private pump(): void {
    for (let task = this.queue.peek(); task !== undefined; task = this.queue.peek()) {
      if (task.state !== 0) {
        this.queue.shift();
        this.cancelledInQueue--;
        continue;
      }
      const slot = this.idle.pop() ?? (this.slots.size < this.threads ? this.spawn() : undefined);
      if (slot === undefined) break;
      this.queue.shift();
      this.dispatch(slot, task);
    }
  }

  private dispatch(slot: Slot, task: Task): void {
    const spec = this.specs[task.fnId] as FnSpec;
    const first = !slot.known.has(task.fnId);
    try {
      slot.worker.postMessage(
        first
          ? { id: task.id, fn: task.fnId, args: task.args, ...spec }
          : { id: task.id, fn: task.fnId, args: task.args },
      );
    } catch (error) {
      this.idle.push(slot);
      task.state = 2;
      task.settle(
        false,
        new WorkerFunctionError(
          `The arguments of worker task \`${spec.label}\` cannot be sent to a worker thread: ${(error as Error).message}. Pass plain data (structured-cloneable values).`,
          { cause: error },
        ),
      );
      return;
    }
    if (first) slot.known.add(task.fnId);
    task.state = 1;
    task.slot = slot;
    slot.task = task;
    this.running++;
    slot.worker.ref();
  }

  private spawn(): Slot {
    const worker = new WorkerThread(WORKER_SCRIPT, {
      eval: true,
      ...(this.execArgv === undefined ? {} : { execArgv: [...this.execArgv] }),
      ...(this.isolation.env === undefined ? {} : { env: { ...this.isolation.env } }),
    });
    const slot: Slot = { worker, task: null, known: new Set(), retired: false };
    this.slots.add(slot);
    worker.unref();
    worker.on('message', (reply: Reply) => this.onReply(slot, reply));
    worker.on('error', (error: Error) => this.retire(slot, `uncaught ${error.name}: ${error.message}`, error));
    worker.on('exit', (code: number) => this.retire(slot, `exit code ${code}`, undefined));
    return slot;
  }

  private onReply(slot: Slot, reply: Reply): void {
    const task = slot.task;
    if (task === null || task.id !== reply.id || slot.retired) return;
    slot.task = null;
    this.finish(task);
    slot.worker.unref();
    // isolateTasks: the worker served its one task; a fresh one takes the next (retire() pumps).
    if (this.isolation.isolateTasks) this.retire(slot, 'its isolated task ended', undefined, true);
    else this.idle.push(slot);
    if (reply.ok) task.settle(true, reply.value);
    else
      task.settle(
        false,
        this.toError((this.specs[task.fnId] as FnSpec).label, reply.error as NonNullable<Reply['error']>),
      );
    this.pump();
  }

  private toError(label: string, e: NonNullable<Reply['error']>): Error {
    if (e.kind === 'capture' && e.variable !== undefined) return new WorkerCaptureError(label, e.variable);
    const remote = new Error(e.message);
    remote.name = e.name;
    if (e.stack !== undefined) remote.stack = e.stack;
    if (e.kind === 'function')
      return new WorkerFunctionError(`Worker task \`${label}\` cannot run: ${e.message}.`, { cause: remote });
    return new WorkerTaskError(label, remote);
  }

  private finish(task: Task): void {
    task.state = 2;
    task.slot = null;
    this.running--;
  }

  /** A worker died or was terminated: fail its task (if any), forget it, start a replacement if work waits. */
  private retire(slot: Slot, reason: string, cause: unknown, terminate = false): void {
    if (slot.retired) return;
    slot.retired = true;
    this.slots.delete(slot);
    const at = this.idle.indexOf(slot);
    if (at >= 0) this.idle.splice(at, 1);
    if (terminate) void slot.worker.terminate();
    const task = slot.task;
    slot.task = null;
    if (task !== null && task.state === 1) {
      this.finish(task);
      const label = (this.specs[task.fnId] as FnSpec).label;
      task.settle(
        false,
        this.closed ? new WorkerPoolClosedError(label) : new WorkerCrashedError(label, reason, { cause }),
      );
    }
    if (!this.closed) this.pump();
  }

  private cancel(task: Task): void {
    if (task.state === 0) {
      task.state = 2;
      this.cancelledInQueue++;
    } else if (task.state === 1 && task.slot !== null) {
      const slot = task.slot;
      this.finish(task);
      slot.task = null;
      this.retire(slot, 'task cancelled', undefined, true);
    }
  }

  warmUp(): Promise<void> {
    if (this.closed) return Promise.reject(new WorkerPoolClosedError('warmUp'));
    const started: Promise<void>[] = [];
    while (this.slots.size < this.threads) {
      const slot = this.spawn();
      this.idle.push(slot);
      started.push(new Promise((resolve) => slot.worker.once('online', resolve)));
    }
    return Promise.all(started).then(noop);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const waiting: Task[] = [];
    for (let task = this.queue.shift(); task !== undefined; task = this.queue.shift()) waiting.push(task);
    this.cancelledInQueue = 0;
    for (const task of waiting) {
      if (task.state !== 0) continue;
      task.state = 2;
      task.settle(false, new WorkerPoolClosedError((this.specs[task.fnId] as FnSpec).label));
    }
    const workers = [...this.slots].map((slot) => slot.worker);
    for (const slot of [...this.slots]) this.retire(slot, 'pool closed', undefined);
    this.idle.length = 0;
    return Promise.all(workers.map((w) => w.terminate())).then(noop);
  }
}

function noop(): void {}
