import { asyncScheduler, from, isObservable, Observable, of, timeout as rxTimeout, type SchedulerLike } from 'rxjs';
import { catchError, last, map } from 'rxjs/operators';
import { z } from 'zod/v4';
import { optionError, type ValidationIssue } from '../errors';
import { toIssues } from '../events/define-event';
import type { ToolSpec } from './chat-model';
import { ToolCallError, ToolDefinitionError } from './errors';
import { Limiter } from './limiter';
import { anchorShape, MappedResult } from '../runtime/run-channel';
import type { JsonValue } from './messages';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolExecutionOptions {
  /**
   * Aborts when the run is abandoned or the tool's timeout fires. Made when first read (read it
   * with `options.signal` or `{ signal }`; a spread `{ ...options }` does not copy it).
   */
  readonly signal: AbortSignal;
  /** The model's id of this call. */
  readonly toolCallId: string;
}

/** The definition given to {@link defineTool}. */
export interface ToolConfig<S extends z.ZodType, R> {
  /** What the model calls it: letters, digits, `_` and `-`, at most 64 characters. */
  readonly name: string;
  /** What it does, for the model. */
  readonly description: string;
  /** The arguments' zod schema; the JSON schema the model sees is derived from it (`z.toJSONSchema`). */
  readonly input: S;
  /** Runs the tool. May return a value, a Promise or an Observable (its last value). The result must be JSON data. */
  readonly execute: (args: z.output<S>, options: ToolExecutionOptions) => R | PromiseLike<R> | Observable<R>;
  /** Fail a call that runs longer than this (ms, on the agent's scheduler); the model sees a timeout result. @default none */
  readonly timeout?: number;
  /** At most this many calls of this tool run at once, across all runs and keys; others wait. @default Infinity */
  readonly concurrency?: number;
  /**
   * The call must be approved before it runs (human in the loop). `reactAgent` then sends a
   * `ToolApprovalRequest` event instead of running it; see the README. @default false
   */
  readonly needsApproval?: boolean | ((args: z.output<S>) => boolean);
}

/** The outcome of one tool call: a JSON result, or an error the model is shown. */
export type ToolOutcome =
  { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly error: ToolCallError };

/** A tool made by {@link defineTool} (or `mcpTools`). */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON schema of the arguments (what the model sees). */
  readonly inputSchema: { readonly [k: string]: JsonValue };
  readonly timeout: number | undefined;
  /** Parses the model's arguments; `issues` are zod's issues as data. */
  validate(
    args: unknown,
  ): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: ValidationIssue[] };
  /** Whether calls of this tool need approval: never, always, or depending on the arguments. */
  readonly approval: 'never' | 'always' | 'conditional';
  /** Does this call need approval before it runs? (arguments already validated) */
  needsApproval(args: unknown): boolean;
  /** Runs the tool on validated arguments; never errors: failures are an `ok: false` outcome. */
  invoke(args: unknown, options: ToolExecutionOptions, scheduler?: SchedulerLike): Observable<ToolOutcome>;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool the model can call. The JSON schema is derived from the zod schema; arguments
 * are validated by zod before the tool runs, and invalid arguments, a throwing tool, or a
 * timeout become a result the model sees (with zod's issues), never a crashed stream.
 *
 * @example
 * const lookupOrder = defineTool({
 *   name: 'lookup_order',
 *   description: 'Finds an order by its number',
 *   input: z.object({ orderId: z.string() }),
 *   execute: async ({ orderId }, { signal }) => (await fetch(`${api}/orders/${orderId}`, { signal })).json(),
 *   timeout: 5_000,
 * });
 */
export function defineTool<S extends z.ZodType, R>(config: ToolConfig<S, R>): Tool {
  if (typeof config !== 'object' || config === null)
    throw new ToolDefinitionError('defineTool needs a config object { name, description, input, execute }.');
  const { name, description, input, execute, timeout, concurrency = Infinity, needsApproval = false } = config;
  if (typeof name !== 'string' || !NAME.test(name))
    throw new ToolDefinitionError(
      `Expected the tool name to be 1-64 letters, digits, _ or - (what providers accept), got ${JSON.stringify(name)}.`,
    );
  if (typeof description !== 'string')
    throw new ToolDefinitionError(`Tool \`${name}\` needs a description string (the model reads it).`);
  if (!(input instanceof z.ZodType))
    throw new ToolDefinitionError(
      `The \`input\` of tool \`${name}\` must be a zod schema, e.g. z.object({ id: z.string() }).`,
    );
  if (typeof execute !== 'function')
    throw new ToolDefinitionError(`The \`execute\` of tool \`${name}\` must be a function.`);
  let inputSchema: { [k: string]: JsonValue };
  try {
    inputSchema = z.toJSONSchema(input, { target: 'draft-7', io: 'input' }) as { [k: string]: JsonValue };
  } catch (error) {
    throw new ToolDefinitionError(
      `The input schema of tool \`${name}\` cannot be expressed as JSON schema (${String(error)}): avoid transforms, custom types and dates in tool arguments.`,
      { cause: error },
    );
  }
  delete inputSchema.$schema;
  if (inputSchema.type !== 'object')
    throw new ToolDefinitionError(
      `The input of tool \`${name}\` must be a z.object(...) (providers take an object of arguments), got JSON schema type ${JSON.stringify(inputSchema.type)}.`,
    );
  const approval = typeof needsApproval === 'function' ? needsApproval : () => needsApproval === true;
  return makeTool({
    approval: typeof needsApproval === 'function' ? 'conditional' : needsApproval === true ? 'always' : 'never',
    name,
    description,
    inputSchema,
    timeout,
    concurrency,
    validate: (args) => {
      const result = input.safeParse(args);
      return result.success ? { ok: true, value: result.data } : { ok: false, issues: toIssues(result.error) };
    },
    needsApproval: (args) => approval(args as z.output<S>),
    execute: execute as (args: unknown, options: ToolExecutionOptions) => unknown,
  });
}

/** The parts every tool is made of (defineTool and mcpTools). */
export interface ToolParts {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: { readonly [k: string]: JsonValue };
  readonly timeout: number | undefined;
  readonly concurrency: number;
  readonly approval: Tool['approval'];
  readonly validate: Tool['validate'];
  readonly needsApproval: (args: unknown) => boolean;
  readonly execute: (args: unknown, options: ToolExecutionOptions) => unknown;
}

/** Builds a {@link Tool}: timeout, concurrency budget, and failures as outcomes. */
export function makeTool(parts: ToolParts): Tool {
  const { name, timeout, concurrency, execute } = parts;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0)))
    throw optionError(`timeout\` of tool \`${name}`, 'a number > 0 (ms)', timeout);
  if (concurrency !== Infinity && (!Number.isInteger(concurrency) || concurrency < 1))
    throw optionError(`concurrency\` of tool \`${name}`, 'an integer >= 1 or Infinity', concurrency);
  const limiter = concurrency === Infinity ? null : new Limiter(concurrency);
  /** What the tool returned, as an outcome. */
  const returned = (value: unknown): ToolOutcome => {
    const json = toJson(value);
    return json === undefined
      ? {
          ok: false,
          error: new ToolCallError(name, 'failed', `Tool \`${name}\` returned a value that is not JSON data.`),
        }
      : { ok: true, value: json };
  };
  /** What the tool threw (or its timeout), as an outcome. */
  const thrown = (error: unknown): ToolOutcome => ({
    ok: false,
    error:
      (error as { name?: unknown })?.name === 'TimeoutError'
        ? new ToolCallError(name, 'timeout', `Tool \`${name}\` did not finish within ${timeout} ms.`)
        : new ToolCallError(
            name,
            'failed',
            `Tool \`${name}\` failed: ${error instanceof Error ? error.message : String(error)}`,
            [],
            { cause: error },
          ),
  });
  const invoke = (
    args: unknown,
    options: ToolExecutionOptions,
    scheduler: SchedulerLike = asyncScheduler,
  ): Observable<ToolOutcome> => {
    const run = (): Observable<ToolOutcome> => {
      let result$ = new Observable<unknown>((subscriber) => {
        // Without a timeout, only the run's abort can cancel the tool: its signal is passed as it is. With one, the
        // tool gets its own signal, aborted by the run's or by the timeout (an AbortController per call otherwise).
        const controller = timeout === undefined ? null : new AbortController();
        const abort = (): void => controller?.abort(options.signal.reason);
        if (controller !== null) {
          if (options.signal.aborted) abort();
          else options.signal.addEventListener('abort', abort, { once: true });
        }
        const signal = controller === null ? options.signal : controller.signal;
        let inner: { unsubscribe(): void } | undefined;
        let done = false;
        try {
          const value = execute(args, { signal, toolCallId: options.toolCallId });
          const source = isObservable(value) ? value.pipe(last()) : isThenable(value) ? from(value) : of(value);
          inner = source.subscribe({
            next: (v) => subscriber.next(v),
            error: (e: unknown) => {
              done = true;
              subscriber.error(e);
            },
            complete: () => {
              done = true;
              subscriber.complete();
            },
          });
        } catch (error) {
          subscriber.error(error);
        }
        return () => {
          if (controller !== null) {
            options.signal.removeEventListener('abort', abort);
            // Abort only a tool still running (unsubscribed by the timeout); aborting costs a DOMException.
            if (!done) controller.abort();
          }
          inner?.unsubscribe();
        };
      });
      if (timeout !== undefined) result$ = result$.pipe(rxTimeout({ first: timeout, scheduler }));
      return result$.pipe(
        map(returned),
        catchError((error: unknown) => of(thrown(error))),
      );
    };
    return limiter === null ? run() : limiter.run(run);
  };
  const tool: Tool = {
    name,
    description: parts.description,
    inputSchema: parts.inputSchema,
    timeout,
    validate: parts.validate,
    approval: parts.approval,
    needsApproval: parts.needsApproval,
    invoke,
  };
  if (timeout === undefined && limiter === null) {
    // No timer and no budget to hold: a call is `execute` itself, and its value or Promise is the block's result.
    const outcomes: ToolOutcomes = { returned, thrown };
    const direct: DirectCall = (args, options, promises, finisher) => {
      let value: unknown;
      try {
        value = execute(args, options);
      } catch (error) {
        return finisher.finish(thrown(error));
      }
      if (isObservable(value)) return finished(value.pipe(last()), outcomes, finisher);
      if (!isThenable(value)) return finisher.finish(returned(value));
      // The call maps the tool's Promise to the finished result itself: one step, no `.then` and no closures per call.
      if (promises) return new PromisedOutcome(value, outcomes, finisher);
      return finished(from(value), outcomes, finisher);
    };
    Object.defineProperty(tool, DIRECT, { value: direct });
  }
  return Object.freeze(tool);
}

/**
 * A tool's Observable (or, under virtual time, its Promise as one) as the finisher's result of its
 * outcome. Apart from the direct call, so that its closures' context is made only on this path.
 */
function finished<R>(value: Observable<unknown>, outcomes: ToolOutcomes, finisher: ToolFinisher<R>): Observable<R> {
  return value.pipe(
    map(outcomes.returned),
    catchError((e: unknown) => of(outcomes.thrown(e))),
    map((o) => finisher.finish(o)),
  );
}

/** A tool's outcome makers (what it returned, what it threw). */
interface ToolOutcomes {
  returned(value: unknown): ToolOutcome;
  thrown(error: unknown): ToolOutcome;
}

/** What a direct call hands a tool's outcome to: it makes the block's result (the tool message) of it. */
export interface ToolFinisher<R> {
  finish(outcome: ToolOutcome): R;
}

/** A tool's Promise, settled by the call as the finisher's result of its outcome (a failure too: never a failed call). */
class PromisedOutcome<R> extends MappedResult<unknown> {
  constructor(
    source: PromiseLike<unknown>,
    private readonly outcomes: ToolOutcomes,
    private readonly finisher: ToolFinisher<R>,
  ) {
    super(source);
  }
  override onValue(value: unknown): R {
    return this.finisher.finish(this.outcomes.returned(value));
  }
  override onError(error: unknown): R {
    return this.finisher.finish(this.outcomes.thrown(error));
  }
}

// One per Promise-returning tool call: a dormant one keeps the class's maps across idle gaps (lib/runtime/shape-anchor.ts).
anchorShape(new PromisedOutcome(Promise.resolve(), null as never, null as never));

/**
 * A tool call with the least machinery: `execute` runs at once and the finisher's result of its
 * outcome is the block's result: a value, a {@link MappedResult} of the tool's Promise (when
 * `promises`: the operator's scheduler can follow one; the runtime's call maps it), or an
 * Observable. Only tools without a timeout and without a concurrency budget have one
 * ({@link directCall}).
 */
export type DirectCall = <R>(
  args: unknown,
  options: ToolExecutionOptions,
  promises: boolean,
  finisher: ToolFinisher<R>,
) => R | MappedResult<unknown> | Observable<R>;

const DIRECT = Symbol('rx-agents.tool-direct');

/**
 * The direct form of a tool made by {@link makeTool} (no timeout, no concurrency budget), or
 * `undefined`: then {@link Tool.invoke} runs it. `runTools` uses it so that a tool returning a
 * value or a Promise costs no Observable chain (bench/workloads/llm.ts, the ReAct case).
 */
export function directCall(tool: Tool): DirectCall | undefined {
  return (tool as unknown as { readonly [DIRECT]?: DirectCall })[DIRECT];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** A tool as the model sees it. */
export function toToolSpec(tool: Tool): ToolSpec {
  return { name: tool.name, description: tool.description, inputSchema: tool.inputSchema };
}

/**
 * A tool result as JSON data (`undefined` → null); `undefined` if it cannot be. Plain JSON data is
 * kept as it is; anything else (class instances, Dates, `toJSON`, undefined fields, non-finite
 * numbers, cycles) goes through a JSON round trip, as the journal would see it.
 */
function toJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return null;
  if (isPlainJson(value, 0)) return value;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  } catch {
    return undefined;
  }
}

/** Is `value` JSON data a round trip would give back unchanged? (Deeper than 32 levels: answered by the round trip.) */
function isPlainJson(value: unknown, depth: number): value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      if ('toJSON' in value) return false;
      for (const key in value) if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}
