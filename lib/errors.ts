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
        (eventType === 'rx-agents/input'
          ? '. Fix the input or the `input` schema given to defineAgent.'
          : eventType === 'rx-agents/output'
            ? '. Fix the payload or the `output` schema given to defineAgent.'
            : '. Fix the payload or the schema given to defineEvent.'),
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
    /**
     * `outside`: not in one of the action's sync blocks; `after`: the action had already finished;
     * `suspended`: an async action's context, used while the action was suspended on an `await` by
     * code that is not the action's own (a timer, a `.then` callback, a bound function, a helper it did not await).
     */
    readonly when: 'outside' | 'after' | 'suspended' = 'outside',
  ) {
    super(
      'ERR_ASYNC_BLOCK_ACCESS',
      when === 'after'
        ? `\`ctx.${member}\` was used after action \`${action}\` had finished (by a timer or a callback that outlived it?). ` +
            'A context is usable only while its action runs: await (or yield*) what the action starts, and use the context in the action itself.'
        : when === 'suspended'
          ? `\`ctx.${member}\` was used while action \`${action}\` was suspended on an await, by code that is not the action's own ` +
            '(a timer, a .then callback, an AsyncResource.bind or AsyncLocalStorage.snapshot wrapper, or a helper the action did not await). ' +
            'A context is usable only by the action itself and by async functions it awaits (also through Promise.all): await the helper, or use the context after the await.'
          : `\`ctx.${member}\` was used outside a sync block of action \`${action}\` (for example inside an executeAsync block). ` +
            'Async blocks may not touch memory, sendEvent or resources: return a value from the block and use it in the action after it resumes.',
    );
  }
}

/** A value given to memory `set` cannot be stored faithfully (or reading it threw: a getter, a revoked Proxy). */
export class MemoryValueError extends RxAgentsError {
  override readonly name = 'MemoryValueError';
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_MEMORY_VALUE',
      `Cannot store a value at memory path \`${describeKey(path)}\`: ${reason}. Memory holds JSON-like data only ` +
        '(null, booleans, finite numbers, strings, arrays without holes and plain objects of these, nested at most ' +
        `${MAX_MEMORY_DEPTH} levels); convert the value first.`,
      options,
    );
  }
}

/** How deep a memory value may nest (arrays and objects inside each other); deeper values are refused at `set`. */
export const MAX_MEMORY_DEPTH = 1000;
/** How many dot-separated segments a memory path may have. */
export const MAX_MEMORY_PATH_SEGMENTS = 256;

/** A memory path is malformed (not a string, empty segments, `__proto__`, too many segments). */
export class MemoryPathError extends RxAgentsError {
  override readonly name = 'MemoryPathError';
  constructor(
    readonly path: unknown,
    reason?: string,
  ) {
    super(
      'ERR_MEMORY_PATH',
      `Expected a memory path like \`a.b.c\` (non-empty segments separated by dots, at most ${MAX_MEMORY_PATH_SEGMENTS}), ` +
        `got \`${describeKey(path)}\` (${typeof path})${reason === undefined ? '' : `: ${reason}`}.`,
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
      `Action \`${action}\` failed in run ${run} ${
        key === undefined
          ? '(key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined)'
          : `of key \`${describeKey(key)}\``
      }: ${describe(cause)}`,
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

/** A run sent more events than `maxEventsPerRun` allows: a loop between actions, or an unbounded `sendEvent` loop (S10). */
export class RunLimitError extends RxAgentsError {
  override readonly name = 'RunLimitError';
  constructor(
    readonly key: unknown,
    readonly run: number,
    readonly action: string,
    readonly limit: number,
  ) {
    super(
      'ERR_RUN_LIMIT',
      `Run ${run} of key \`${describeKey(key)}\` sent more than ${limit} events (maxEventsPerRun = ${limit}); ` +
        `the last one was sent by action \`${action}\`. Two actions that trigger each other, or a sendEvent loop without an end? ` +
        'Give the loop an end, or raise maxEventsPerRun if the agent really needs more events per run.',
    );
  }
}

/**
 * An action sent an event that no action of the agent is triggered by (it would be lost).
 *
 * @example
 * error.code === 'ERR_UNROUTED_EVENT'; error.eventType; // 'stray' (undefined: not an event at all)
 */
export class UnroutedEventError extends RxAgentsError {
  override readonly name = 'UnroutedEventError';
  constructor(
    readonly action: string,
    readonly agent: string,
    readonly eventType: string | undefined,
  ) {
    super(
      'ERR_UNROUTED_EVENT',
      `Action \`${action}\` sent ${eventType === undefined ? 'something that is not an event' : `event \`${eventType}\``}, ` +
        `but no action of agent \`${agent}\` is triggered by it, so it would be lost. ` +
        'Send an event made by an event type that some action lists as a trigger, or OutputEvent.of(...) to emit downstream.',
    );
  }
}

/**
 * `ctx.resource(name)` asked for a resource the agent was not given.
 *
 * @example
 * error.code === 'ERR_UNKNOWN_RESOURCE'; error.known; // ['llm', 'db']
 */
export class UnknownResourceError extends RxAgentsError {
  override readonly name = 'UnknownResourceError';
  constructor(
    readonly action: string,
    readonly agent: string,
    readonly resource: string,
    readonly known: readonly string[],
  ) {
    super(
      'ERR_UNKNOWN_RESOURCE',
      `Action \`${action}\` asked for resource \`${resource}\`, but agent \`${agent}\` has ` +
        `${known.length ? known.map((n) => `\`${n}\``).join(', ') : 'no resources'}.`,
    );
  }
}

/** An async block ran past its `timeout`. */
export class AsyncTimeoutError extends RxAgentsError {
  override readonly name = 'AsyncTimeoutError';
  constructor(
    readonly action: string,
    readonly timeout: number,
    /** Attempts made before the timeout fired (the timeout covers the whole call, retries included). */
    readonly attempts = 1,
    /** The `retries` the call was allowed. */
    readonly retries = 0,
  ) {
    super(
      'ERR_ASYNC_TIMEOUT',
      `An async block of action \`${action}\` did not finish within ${timeout} ms` +
        (retries > 0
          ? `, all attempts counted: ${attempts} of ${retries + 1} (1 + ${retries} retries) were made when it fired. ` +
            'The timeout covers the whole call, retries and their delays included: raise `timeout`, or lower `retries` / `retryDelay`.'
          : '.'),
    );
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

/**
 * Virtual time (a TestScheduler) met something it cannot see: an async action, or an async block
 * that returned a Promise. Without this error the marble would just show nothing (`+ []`).
 */
export class VirtualTimeError extends RxAgentsError {
  override readonly name = 'VirtualTimeError';
  constructor(
    readonly agent: string,
    readonly action: string,
    readonly kind: 'async-action' | 'promise-block',
  ) {
    super(
      'ERR_VIRTUAL_TIME',
      kind === 'async-action'
        ? `Agent \`${agent}\` has the async action \`${action}\`, and it runs under a TestScheduler: async actions resume ` +
            'on Promises, which a TestScheduler cannot see, so its outputs would never appear in the marble. ' +
            `Write \`${action}\` as a generator action (\`function* (event, ctx) { const r = yield* ctx.executeAsync(...) }\`), ` +
            'or test this agent in real time, without a TestScheduler.'
        : `An async block of action \`${action}\` (agent \`${agent}\`) returned a Promise under a TestScheduler, which ` +
            'cannot see Promises: the call would never complete in virtual time. Return an Observable instead ' +
            "(virtualDelay, virtualFailure or fakeAsyncFn from 'rx-agents/testing'), or test this agent in real time, without a TestScheduler.",
    );
  }
}

/** Why a store file was refused (the `code` of a {@link StoreOpenError}). */
export type StoreOpenErrorCode =
  'ERR_STORE_CORRUPT' | 'ERR_STORE_FOREIGN' | 'ERR_STORE_READONLY' | 'ERR_STORE_BUSY' | 'ERR_STORE_PATH';

const STORE_OPEN_ADVICE: Record<StoreOpenErrorCode, string> = {
  ERR_STORE_CORRUPT:
    'Restore it from a backup, or move it away to start with an empty journal (pending inputs in it are then lost).',
  ERR_STORE_FOREIGN: 'Point the store at a file of its own (a new path creates a fresh store).',
  ERR_STORE_READONLY:
    'The store writes its journal: give this process write permission on the file and its directory (SQLite creates `-wal` and `-shm` files beside it), or use another path.',
  ERR_STORE_BUSY:
    'Another connection holds a lock on the file (a process writing to it, or a `sqlite3` shell inside a transaction): end it, or raise `busyTimeout`.',
  ERR_STORE_PATH: 'Give the path of a file in an existing, writable directory (the file is created if missing).',
};

/** A store file cannot be used: corrupt, not an rx-agents store, read-only, locked by another connection, or a bad path (never silently replaced). */
export class StoreOpenError extends RxAgentsError {
  override readonly name = 'StoreOpenError';
  constructor(
    code: StoreOpenErrorCode,
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(code, `Cannot open the rx-agents store at \`${location}\`: ${reason}. ${STORE_OPEN_ADVICE[code]}`, options);
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

/**
 * The background WAL checkpointer of a `sqliteStore` (`checkpoint: 'worker'`) failed: its worker
 * thread could not start, open the file, or checkpoint, or it died. No commit is at risk (every
 * commit is in the WAL, which any later checkpoint or open copies into the file); the store falls
 * back to SQLite's own checkpoints on the writer (`checkpoint: 'inline'`) for the rest of its life.
 * Reported to `onCheckpointError` (default: `process.emitWarning`), never thrown into a stream.
 */
export class StoreCheckpointError extends RxAgentsError {
  override readonly name = 'StoreCheckpointError';
  constructor(
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_STORE_CHECKPOINT',
      `The background checkpointer of the rx-agents store at \`${location}\` failed: ${reason}. ` +
        "The store checkpoints on the writer from now on (as with `checkpoint: 'inline'`); no commit is lost. " +
        "Check the file and its directory (disk, permissions), or pass `checkpoint: 'inline'`.",
      options,
    );
  }
}

/** There is no store file at the given path (the store reader, the CLI and repairs never create one). */
export class StoreNotFoundError extends RxAgentsError {
  override readonly name = 'StoreNotFoundError';
  constructor(readonly location: string) {
    super(
      'ERR_STORE_NOT_FOUND',
      `There is no rx-agents store at \`${location}\`: the file does not exist. Check the path (sqliteStore(path) creates the file when an agent first runs).`,
    );
  }
}

/** A store repair was refused: its target is not in the journal, or not in a state the repair applies to. Nothing was changed. */
export class StoreRepairError extends RxAgentsError {
  override readonly name = 'StoreRepairError';
  constructor(code: 'ERR_REPAIR_NOT_FOUND' | 'ERR_REPAIR_STATE', message: string) {
    super(code, `${message} Nothing was changed.`);
  }
}

/**
 * A state snapshot of a running operator was asked for where it cannot be consistent (inside a
 * sync block, S4), or a state view was attached to a second live subscription.
 */
export class StateAccessError extends RxAgentsError {
  override readonly name = 'StateAccessError';
  constructor(code: 'ERR_STATE_IN_SYNC_BLOCK' | 'ERR_STATE_ATTACHED', message: string) {
    super(code, message);
  }
}

/** A value that must be journaled (an input, a key, a call result) cannot be stored faithfully. */
export class JournalValueError extends RxAgentsError {
  override readonly name = 'JournalValueError';
  constructor(
    readonly where: string,
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_JOURNAL_VALUE',
      `Cannot journal ${where}: at \`${describeKey(path)}\`, ${reason}. With a store, inputs and call results must be data ` +
        '(JSON-like values, plus undefined, Date, BigInt, Map, Set, NaN/Infinity/-0); return plain data from the block (e.g. value.toJSON()).',
      options,
    );
  }
}

/** Which journal row could not be read (see {@link JournalCorruptError}). */
export interface JournalRow {
  readonly table: 'inputs' | 'calls' | 'memory' | 'agents';
  /** The run it belongs to (inputs, calls). */
  readonly seq?: number;
  /** The call id (calls). */
  readonly id?: string;
  /** The encoded key (memory). */
  readonly key?: string;
}

/**
 * A row of a store's journal cannot be read back: it is not valid journal text (garbage JSON, an
 * unknown value tag) or it has the wrong shape. Only what owns the row fails — the run of an
 * input or call row, the first run of a key whose memory row it is — under the error policy.
 */
export class JournalCorruptError extends RxAgentsError {
  override readonly name = 'JournalCorruptError';
  constructor(
    readonly agent: string,
    readonly location: string,
    readonly row: JournalRow,
    reason: string,
    options?: { cause?: unknown },
  ) {
    const where = Object.entries(row)
      .filter(([name]) => name !== 'table')
      .map(([name, value]) => `${name} = ${JSON.stringify(value)}`);
    const sql =
      `DELETE FROM ${row.table} WHERE agent = ${sqlText(agent)}` +
      (row.seq !== undefined ? ` AND seq = ${row.seq}` : '') +
      (row.id !== undefined ? ` AND id = ${sqlText(row.id)}` : '') +
      (row.key !== undefined ? ` AND key = ${sqlText(row.key)}` : '');
    super(
      'ERR_JOURNAL_CORRUPT',
      `The journal of agent \`${agent}\` in store \`${location}\` holds a row it cannot read: table \`${row.table}\`` +
        `${where.length > 0 ? ` (${where.join(', ')})` : ''}: ${reason}. ` +
        `Restore the store from a backup, or delete that row to go on without it (in a sqliteStore file: \`${sql}\`; ` +
        (row.table === 'inputs'
          ? 'that input is then lost).'
          : row.table === 'calls'
            ? 'that call then runs again).'
            : row.table === 'memory'
              ? "that key's short-term memory is then empty)."
              : 'the recorded position is then lost).'),
      options,
    );
  }
}

function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
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
