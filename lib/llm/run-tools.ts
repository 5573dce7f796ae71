import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { map } from 'rxjs/operators';
import type { RunnerContext } from '../context/runner-context';
import type { Call } from '../context/call';
import { anchorShape, runChannel, type MappedResult, type RunChannel } from '../runtime/run-channel';
import { directCall, type Tool, type ToolExecutionOptions, type ToolFinisher, type ToolOutcome } from './define-tool';
import { ToolCallError } from './errors';
import { toolResult, type JsonValue, type ToolCall, type ToolMessage } from './messages';

/** A decision on a call that needs approval. */
export interface ApprovalDecision {
  readonly approved: boolean;
  /** Shown to the model when denied. */
  readonly reason?: string;
}

/** Options of {@link runTools}. */
export interface RunToolsOptions {
  /** Decisions for calls of tools marked `needsApproval`, by tool call id; an undecided one is not run. @default {} */
  readonly approvals?: Readonly<Record<string, ApprovalDecision>>;
  /** Where tool timeouts are scheduled. @default asyncScheduler (virtual under TestScheduler.run) */
  readonly scheduler?: SchedulerLike;
}

/** The content a model sees for a failed call. */
export function errorContent(error: ToolCallError): JsonValue {
  return error.issues.length > 0
    ? {
        error: error.message,
        issues: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      }
    : { error: error.message };
}

/**
 * Runs the tool calls of one model turn, **in parallel**, as one async block per call
 * (journaled by call index, S13), and returns their results in the order of the calls.
 *
 * Semantics: every call's arguments are validated by its tool's zod schema before any tool
 * runs. An unknown tool, invalid arguments (with zod's issues), a throwing tool, a timeout or a
 * call that needs approval and has none become an error result the model sees (`isError: true`),
 * never a failed action. Each tool's `concurrency` budget is shared by all runs. The returned call
 * fails only when the run is aborted.
 *
 * @example
 * const results = yield* runTools(ctx, [lookupOrder, refund], response.message.toolCalls);
 */
export function runTools(
  ctx: RunnerContext,
  tools: readonly Tool[] | ReadonlyMap<string, Tool>,
  calls: readonly ToolCall[],
  options: RunToolsOptions = {},
): Call<ToolMessage[]> {
  return ctx.all(startTools(ctx, tools, calls, options)) as unknown as Call<ToolMessage[]>;
}

/**
 * {@link runTools} without the final `ctx.all`: validates every call, starts them all, and returns
 * one call per tool call, in order (the ReAct loop waits on them one by one, which costs less
 * than a combined call; they run in parallel either way).
 */
export function startTools(
  ctx: RunnerContext,
  tools: readonly Tool[] | ReadonlyMap<string, Tool>,
  calls: readonly ToolCall[],
  options: RunToolsOptions = {},
): Call<ToolMessage>[] {
  const byName = tools instanceof Map ? tools : new Map((tools as readonly Tool[]).map((t) => [t.name, t]));
  const scheduler = options.scheduler ?? asyncScheduler;
  const approvals = options.approvals ?? {};
  // 1. Validate every call before any tool runs: each is refused (an error) or its parsed arguments.
  const checks = new Array<ToolCallError | { readonly value: unknown }>(calls.length);
  for (let i = 0; i < calls.length; i++) checks[i] = check(calls[i] as ToolCall, byName, approvals);
  // 2. Start them all, then wait for all (S12).
  const channel = runChannel(ctx);
  const inspecting = channel?.inspecting === true;
  const started = inspecting ? channel.now() : 0;
  // A block may return a Promise unless the scheduler is virtual (S11); a test double context gets Observables.
  const promises = channel !== undefined && !channel.virtualTime;
  // The run's signal is made only if a tool reads it (lazily, through the channel).
  const signal = channel ?? ctx.signal;
  const pending = new Array<Call<ToolMessage>>(calls.length);
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i] as ToolCall;
    const checked = checks[i] as ToolCallError | { readonly value: unknown };
    const c: Call<ToolMessage> =
      checked instanceof ToolCallError
        ? ctx.executeAsync(failedTool, call.name, toolResult(call, errorContent(checked), true))
        : ctx.executeAsync(
            toolBlock(new ToolTask(call, byName.get(call.name) as Tool, checked.value, signal, scheduler, promises)),
            call.name,
            call.arguments,
          );
    if (inspecting) report(channel, ctx.action, c, call.name, started);
    pending[i] = c;
  }
  return pending;
}

/** Why `call` cannot run (unknown tool, invalid arguments, not approved), or its parsed arguments. */
function check(
  call: ToolCall,
  byName: ReadonlyMap<string, Tool>,
  approvals: Readonly<Record<string, ApprovalDecision>>,
): ToolCallError | { readonly value: unknown } {
  const tool = byName.get(call.name);
  if (tool === undefined)
    return new ToolCallError(
      call.name,
      'unknown-tool',
      `There is no tool named \`${call.name}\`; the tools are: ${[...byName.keys()].join(', ') || '(none)'}.`,
    );
  const parsed = tool.validate(call.arguments);
  if (!parsed.ok)
    return new ToolCallError(
      call.name,
      'invalid-arguments',
      `The arguments of \`${call.name}\` do not match its schema; fix them and call again.`,
      parsed.issues,
    );
  if (tool.needsApproval(parsed.value)) {
    const decision = approvals[call.id];
    if (decision === undefined)
      return new ToolCallError(
        call.name,
        'needs-approval',
        `\`${call.name}\` needs approval before it runs, and it was not approved.`,
      );
    if (!decision.approved)
      return new ToolCallError(
        call.name,
        'needs-approval',
        `The call of \`${call.name}\` was denied${decision.reason ? `: ${decision.reason}` : ''}.`,
      );
  }
  return parsed;
}

/**
 * The block of one tool call, `callTool(name, arguments)` (its journal fingerprint, S13). A tool
 * with a direct form answers with a value, or its Promise mapped by the call, when it gives one,
 * with no Observable chain; the others run through `invoke`.
 */
function toolBlock(task: ToolTask): (name: string, args: JsonValue) => ToolMessage | Observable<ToolMessage> {
  // Typed as what the call settles with: its MappedResult settles with the tool message too.
  return function callTool() {
    return task.run() as ToolMessage | Observable<ToolMessage>;
  };
}

/** One tool call's parts (one object per call, no closures but its block) and the maker of its message. */
class ToolTask implements ToolFinisher<ToolMessage> {
  constructor(
    private readonly call: ToolCall,
    private readonly tool: Tool,
    private readonly args: unknown,
    private readonly signal: AbortSignal | RunChannel,
    private readonly scheduler: SchedulerLike,
    private readonly promises: boolean,
  ) {}

  run(): ToolMessage | MappedResult<unknown> | Observable<ToolMessage> {
    const { call, signal } = this;
    const options: ToolExecutionOptions =
      signal instanceof AbortSignal ? { signal, toolCallId: call.id } : new LazySignal(signal, call.id);
    const direct = directCall(this.tool);
    if (direct === undefined) return this.invoked(options);
    return direct(this.args, options, this.promises, this);
  }

  /** A tool without a direct form (a timeout, a budget, MCP), through `invoke`. Apart: its closure's context is made only here. */
  private invoked(options: ToolExecutionOptions): Observable<ToolMessage> {
    return this.tool.invoke(this.args, options, this.scheduler).pipe(map((o) => this.finish(o)));
  }

  /** The tool message of an outcome (the block's result). */
  finish(o: ToolOutcome): ToolMessage {
    return o.ok ? toolResult(this.call, o.value) : toolResult(this.call, errorContent(o.error), true);
  }
}

/** Tool options whose `signal` is the run's, made when the tool first reads it. */
class LazySignal implements ToolExecutionOptions {
  constructor(
    private readonly channel: RunChannel,
    readonly toolCallId: string,
  ) {}
  get signal(): AbortSignal {
    return this.channel.signal;
  }
}

// One of each per tool call: dormant ones keep their classes' maps across idle gaps (lib/runtime/shape-anchor.ts).
anchorShape(new ToolTask(null as never, null as never, null, null as never, null as never, false));
anchorShape(new LazySignal(null as never, ''));

/** Reports a `tool.called` lifecycle event when the call settles. */
function report(channel: RunChannel, action: string, c: Call<ToolMessage>, tool: string, started: number): void {
  channel.whenSettled(c, (settled) => {
    const message = settled.value;
    channel.report({
      type: 'tool.called',
      action,
      call: settled.id,
      tool,
      ok: message !== undefined && !message.isError,
      replayed: settled.replayed,
      started,
      ...(message === undefined ? { error: settled.error } : message.isError ? { error: message.content } : {}),
    });
  });
}

/** The block of a call refused before running: its result is the error (journaled like any result). */
function failedTool(_name: string, result: ToolMessage): ToolMessage {
  return result;
}
