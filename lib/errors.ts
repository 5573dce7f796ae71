import { describeKey } from './describe-key';

/**
 * Every error rx-agents raises, in one place. Each has a fixed `name`, a string `code`
 * and, where it wraps something, a `cause`. Messages say what is wrong, where, and what
 * to do about it.
 */

/** Base class: `code` is stable and safe to branch on; `message` is for people. */
export class RxAgentsError extends Error {
  override readonly name: string = 'RxAgentsError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An agent definition is malformed (thrown by `defineAgent`). */
export class AgentDefinitionError extends RxAgentsError {
  override readonly name = 'AgentDefinitionError';
  constructor(message: string) {
    super('ERR_AGENT_DEFINITION', message);
  }
}

/** One zod issue, kept as data. */
export interface ValidationIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
  readonly code: string;
}

/** A payload failed its event type's schema when it was sent (or an input failed the agent's input schema). */
export class EventValidationError extends RxAgentsError {
  override readonly name = 'EventValidationError';
  constructor(
    readonly eventType: string,
    readonly issues: ReadonlyArray<ValidationIssue>,
    where: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_EVENT_VALIDATION',
      `Invalid payload for event \`${eventType}\` ${where}: ` +
        issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ') +
        '. Fix the payload or the schema given to defineEvent.',
      options,
    );
  }
}

/** Code inside an `executeAsync` block touched the context (memory, sendEvent, resources) — S5. */
export class AsyncBlockAccessError extends RxAgentsError {
  override readonly name = 'AsyncBlockAccessError';
  constructor(
    readonly action: string,
    readonly member: string,
  ) {
    super(
      'ERR_ASYNC_BLOCK_ACCESS',
      `\`ctx.${member}\` was used outside a sync block of action \`${action}\` (for example inside an executeAsync block). ` +
        'Async blocks may not touch memory, sendEvent or resources: return a value from the block and use it in the action after it resumes.',
    );
  }
}

/** A value given to memory `set` cannot be stored faithfully. */
export class MemoryValueError extends RxAgentsError {
  override readonly name = 'MemoryValueError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      'ERR_MEMORY_VALUE',
      `Cannot store a value at memory path \`${path}\`: ${reason}. Memory holds JSON-like data only ` +
        '(null, booleans, finite numbers, strings, arrays and plain objects of these); convert the value first.',
    );
  }
}

/** A memory path is malformed. */
export class MemoryPathError extends RxAgentsError {
  override readonly name = 'MemoryPathError';
  constructor(readonly path: unknown) {
    super(
      'ERR_MEMORY_PATH',
      `Expected a memory path like \`a.b.c\` (non-empty segments separated by dots), got \`${describeKey(path)}\` (${typeof path}).`,
    );
  }
}

/** An action threw (or its async block failed and the action did not catch it). */
export class ActionError extends RxAgentsError {
  override readonly name = 'ActionError';
  constructor(
    readonly action: string,
    readonly key: unknown,
    readonly run: number,
    cause: unknown,
  ) {
    super(
      'ERR_ACTION_FAILED',
      `Action \`${action}\` failed in run ${run} of key \`${describeKey(key)}\`: ${describe(cause)}`,
      { cause },
    );
  }
}

/** A user callback given to the operator (key selector, hook) threw. */
export class CallbackError extends RxAgentsError {
  override readonly name = 'CallbackError';
  constructor(
    readonly callback: string,
    cause: unknown,
  ) {
    super('ERR_CALLBACK_FAILED', `The \`${callback}\` callback threw: ${describe(cause)}`, { cause });
  }
}

/** More inputs arrived than `maxBufferedInputs` allows and the overflow policy is `error`. */
export class BufferOverflowError extends RxAgentsError {
  override readonly name = 'BufferOverflowError';
  constructor(readonly limit: number) {
    super(
      'ERR_BUFFER_OVERFLOW',
      `More than ${limit} inputs are waiting for their key's previous run (maxBufferedInputs = ${limit}). ` +
        'Slow the source down, raise maxBufferedInputs, or choose overflow: "drop-newest" / "drop-oldest" with an onDropped callback.',
    );
  }
}

/** An async block ran past its `timeout`. */
export class AsyncTimeoutError extends RxAgentsError {
  override readonly name = 'AsyncTimeoutError';
  constructor(
    readonly action: string,
    readonly timeout: number,
  ) {
    super('ERR_ASYNC_TIMEOUT', `An async block of action \`${action}\` did not finish within ${timeout} ms.`);
  }
}

/** The run was aborted (unsubscribe, stream failure, or the run failing) before the async block finished. */
export class AbortedError extends RxAgentsError {
  override readonly name = 'AbortedError';
  constructor(reason: string) {
    super('ERR_ABORTED', `Aborted: ${reason}.`);
  }
}

/** An Observable-returning async block completed without emitting a value. */
export class EmptyAsyncResultError extends RxAgentsError {
  override readonly name = 'EmptyAsyncResultError';
  constructor(readonly action: string) {
    super(
      'ERR_EMPTY_ASYNC_RESULT',
      `An Observable given to executeAsync by action \`${action}\` completed without a value; its result is its last value. ` +
        'Emit a value (e.g. `defaultIfEmpty(null)`) or return a Promise.',
    );
  }
}

/** A store file cannot be used: it is corrupt, or it is not an rx-agents store (never silently replaced). */
export class StoreOpenError extends RxAgentsError {
  override readonly name = 'StoreOpenError';
  constructor(
    code: 'ERR_STORE_CORRUPT' | 'ERR_STORE_FOREIGN',
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      code,
      `Cannot open the rx-agents store at \`${location}\`: ${reason}. ` +
        (code === 'ERR_STORE_CORRUPT'
          ? 'Restore it from a backup, or move it away to start with an empty journal (pending inputs in it are then lost).'
          : 'Point the store at a file of its own (a new path creates a fresh store).'),
      options,
    );
  }
}

/** A store was written by an incompatible version of rx-agents. */
export class StoreVersionError extends RxAgentsError {
  override readonly name = 'StoreVersionError';
  constructor(
    readonly location: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'ERR_STORE_VERSION',
      `The rx-agents store at \`${location}\` has schema version ${found}, but this version of rx-agents reads version ${supported}. ` +
        (found > supported
          ? 'Upgrade rx-agents to the version that wrote it.'
          : 'Finish its pending runs with the rx-agents version that wrote it, then start with a fresh store.'),
    );
  }
}

/** A store cannot be used right now: it is closed, or another live subscription holds the agent's journal. */
export class StoreUnavailableError extends RxAgentsError {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options);
  }
}

/** Writing the journal failed (disk full, I/O error, a server-backed store's error). The stream fails: progress can no longer be made durable. */
export class StoreWriteError extends RxAgentsError {
  override readonly name = 'StoreWriteError';
  constructor(
    readonly agent: string,
    cause: unknown,
  ) {
    super(
      'ERR_STORE_WRITE',
      `Writing the journal of agent \`${agent}\` failed: ${describe(cause)}. The stream stops; restart it on the same store to resume.`,
      { cause },
    );
  }
}

/** A value that must be journaled (an input, a key, a call result) cannot be stored faithfully. */
export class JournalValueError extends RxAgentsError {
  override readonly name = 'JournalValueError';
  constructor(
    readonly where: string,
    readonly path: string,
    reason: string,
  ) {
    super(
      'ERR_JOURNAL_VALUE',
      `Cannot journal ${where}: at \`${path}\`, ${reason}. With a store, inputs and call results must be data ` +
        '(JSON-like values, plus undefined, Date, BigInt, Map, Set, NaN/Infinity/-0); return plain data from the block (e.g. value.toJSON()).',
    );
  }
}

/** On replay, an action made a different call at a journaled position: the agent code (or its inputs) is not deterministic. */
export class NonDeterminismError extends RxAgentsError {
  override readonly name = 'NonDeterminismError';
  constructor(
    readonly call: string,
    readonly recorded: string,
    readonly replayed: string,
  ) {
    super(
      'ERR_NON_DETERMINISM',
      `Replaying call \`${call}\` made a different call than the one journaled (recorded ${recorded}, now ${replayed}). ` +
        'An action must make the same calls (function name and arguments) in the same order when it replays: move clocks, ' +
        'randomness and I/O into executeAsync blocks, and finish pending runs before deploying changed agent code.',
    );
  }
}

// ---- worker threads (lib/workers) ----------------------------------------------------------

/** A function or module given to a worker pool cannot run on a worker (bad argument, native/bound function, missing export, uncloneable data). */
export class WorkerFunctionError extends RxAgentsError {
  override readonly name = 'WorkerFunctionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WORKER_FUNCTION', message, options);
  }
}

/** A self-contained function sent to a worker used a variable from its surroundings, which does not exist on the worker. */
export class WorkerCaptureError extends RxAgentsError {
  override readonly name = 'WorkerCaptureError';
  constructor(
    readonly fn: string,
    readonly variable: string,
  ) {
    super(
      'ERR_WORKER_CAPTURE',
      `The function \`${fn}\` given to pool.fn() uses \`${variable}\`, which is defined outside the function: ` +
        'functions sent to a worker thread are shipped as source text and cannot capture outer variables' +
        (/_\d+$/.test(variable) ? ` (\`${variable}\` looks like a module import compiled by TypeScript)` : '') +
        `. Pass \`${variable}\` as an argument, require() it inside the function, or put the function in a module and use pool.task(modulePath, exportName).`,
    );
  }
}

/** A worker task threw or rejected; `cause` is the worker's error rebuilt on this thread (name, message, stack). */
export class WorkerTaskError extends RxAgentsError {
  override readonly name = 'WorkerTaskError';
  constructor(
    readonly task: string,
    cause: Error,
  ) {
    super('ERR_WORKER_TASK', `Worker task \`${task}\` failed: ${cause.name}: ${cause.message}`, { cause });
  }
}

/** The worker thread running a task died (process.exit, an uncaught error, out of memory); only that task fails and the pool replaces the worker. */
export class WorkerCrashedError extends RxAgentsError {
  override readonly name = 'WorkerCrashedError';
  constructor(
    readonly task: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_WORKER_CRASHED',
      `The worker thread running task \`${task}\` died (${reason}); the pool replaces it. Other tasks are unaffected.`,
      options,
    );
  }
}

/** A task was submitted to (or was still waiting in) a worker pool that is closed. */
export class WorkerPoolClosedError extends RxAgentsError {
  override readonly name = 'WorkerPoolClosedError';
  constructor(readonly task: string) {
    super(
      'ERR_WORKER_POOL_CLOSED',
      `Worker task \`${task}\` cannot run: its worker pool was closed. Create a new pool, or close the pool only after its stream has ended.`,
    );
  }
}

/** An optional peer dependency that a feature needs is not installed (e.g. `@opentelemetry/api` for `createTracing`). */
export class MissingPeerDependencyError extends RxAgentsError {
  override readonly name = 'MissingPeerDependencyError';
  constructor(
    readonly packageName: string,
    readonly feature: string,
    cause: unknown,
  ) {
    super(
      'ERR_MISSING_PEER_DEPENDENCY',
      `${feature} needs the optional peer dependency \`${packageName}\`, which could not be loaded: ${describe(cause)}. ` +
        `Install it next to rx-agents: \`npm install ${packageName}\`.`,
      { cause },
    );
  }
}

/** Describes any thrown value in one line; never throws (a hostile value is described by {@link describeKey}). */
export function describe(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? describeKey(value));
  } catch {
    return describeKey(value);
  }
}

/** `Expected \`name\` to be …, got \`value\` (type)` — the one format for option errors. */
export function optionError(name: string, expected: string, value: unknown): TypeError {
  const shown =
    typeof value === 'function' ? 'a function' : typeof value === 'symbol' ? value.toString() : describe(value);
  return new TypeError(
    `Expected \`${name}\` to be ${expected}, got \`${shown}\` (${value === null ? 'null' : typeof value})`,
  );
}
