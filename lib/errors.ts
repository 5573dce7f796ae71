/**
 * Every error rx-agents raises, in one place. Each has a fixed `name`, a string `code`
 * and, where it wraps something, a `cause`. Messages say what is wrong, where, and what
 * to do about it.
 */

/** Base class: `code` is stable and safe to branch on; `message` is for people. */
export class RxAgentsError extends Error {
  override readonly name: string = 'RxAgentsError';
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
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
  constructor(readonly action: string, readonly member: string) {
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
  constructor(readonly path: string, reason: string) {
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
      `Expected a memory path like \`a.b.c\` (non-empty segments separated by dots), got \`${String(path)}\` (${typeof path}).`,
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
      `Action \`${action}\` failed in run ${run} of key \`${String(key)}\`: ${describe(cause)}`,
      { cause },
    );
  }
}

/** A user callback given to the operator (key selector, hook) threw. */
export class CallbackError extends RxAgentsError {
  override readonly name = 'CallbackError';
  constructor(readonly callback: string, cause: unknown) {
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
  constructor(readonly action: string, readonly timeout: number) {
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

/** Describes any thrown value in one line. */
export function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `Expected \`name\` to be …, got \`value\` (type)` — the one format for option errors. */
export function optionError(name: string, expected: string, value: unknown): TypeError {
  const shown = typeof value === 'function' ? 'a function' : typeof value === 'symbol' ? value.toString() : describe(value);
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${shown}\` (${value === null ? 'null' : typeof value})`);
}
