import type { SchedulerLike } from 'rxjs';
import type { z } from 'zod/v4';
import { defineAgent, type ActionDef, type ActionFactory, type Agent } from '../agent/define-agent';
import { AgentDefinitionError, optionError } from '../errors';
import { InputEvent, OutputEvent, type EventType } from '../events/define-event';
import type { Call } from '../context/call';
import type { RunnerContext } from '../context/runner-context';
import { chat } from './chat';
import type { CallSettings, ChatModel, ChatResponse, ModelRequest, TokenUsage } from './chat-model';
import { toToolSpec, type Tool } from './define-tool';
import { MaxStepsError, StructuredOutputError } from './errors';
import {
  ChatRequestEvent,
  ChatRequestState,
  ChatResponseEvent,
  ChatResponseState,
  type ChatResponsePayload,
  type LoopState,
  type ToolRequestPayload,
  ToolApprovalRequestEvent,
  ToolApprovalResponseEvent,
  ToolRequestEvent,
  ToolRequestState,
  ToolResponseEvent,
  ToolResponseState,
} from './events';
import type { ChatMessage, ToolCall, ToolMessage } from './messages';
import { startTools, type ApprovalDecision } from './run-tools';
import { structuredOutput } from './structured-output';
import { trimHistory } from './history';

/** The output of a {@link reactAgent} run. */
export interface AgentAnswer<T = string> {
  /** The final answer's text. */
  readonly text: string;
  /** The structured result (the `output` schema's type), or the text without a schema. */
  readonly output: T;
  /** Model calls made by this run. */
  readonly steps: number;
  /** Tokens used by this run, all model calls summed. */
  readonly usage: TokenUsage;
}

/** Options of {@link reactAgent}. */
export interface ReactAgentOptions<In, T> {
  /** Names the agent (errors, traces, the journal). @default 'react-agent' */
  readonly name?: string;
  readonly model: ChatModel;
  /** @default [] */
  readonly tools?: readonly Tool[];
  /** The system prompt. @default none */
  readonly system?: string;
  /** The step cap: at most this many model calls per run; reaching it fails the run with `MaxStepsError` (per `errorPolicy`). @default 10 */
  readonly maxSteps?: number;
  /** A zod schema: the answer is structured output, validated; `AgentAnswer.output` has its type. @default plain text */
  readonly output?: z.ZodType<T>;
  /** Repair rounds when the structured answer fails validation, before `StructuredOutputError`. @default 1 */
  readonly repairs?: number;
  /** The user message of an input. @default strings as they are, other inputs as JSON */
  readonly prompt?: (input: In) => string;
  /**
   * Conversation history per key in short-term memory (`llm.history`), so a key's next input
   * continues the conversation; at most `maxMessages` (older turns are dropped whole). `false`: none.
   * @default { maxMessages: 40 }
   */
  readonly history?: false | { readonly maxMessages: number };
  /** Stream model chunks downstream as they arrive (S16, `isStreamChunk`). @default false */
  readonly stream?: boolean;
  /** Options of every model call (temperature, maxTokens, stop, providerOptions…). @default {} */
  readonly settings?: CallSettings;
  /** Where tool timeouts run. Pass the operator's scheduler when it is not the default. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * Your own actions, added to the loop's: triggered by the loop's events (ChatRequestEvent,
   * ToolResponseEvent…) to inspect or act between steps, or by `ToolApprovalRequestEvent` to decide approvals.
   */
  readonly actions?: (action: ActionFactory<In>) => readonly ActionDef[];
  /** External event types the runs wait for (S14), e.g. `[ToolApprovalSignal]` with `humanApproval`. @default [] */
  readonly signals?: readonly EventType[];
  /**
   * `defineAgent`'s `upgradeCallIds`, for ids of your own actions' calls: applied after the loop's own mapping
   * of journals written before `llm.decide` / `llm.observe` were folded into `llm.model` / `llm.tools`.
   * @default ids unchanged
   */
  readonly upgradeCallIds?: (id: string) => string;
}

const HISTORY = 'llm.history';

/**
 * Journals written before the loop's `llm.decide` and `llm.observe` actions were folded into the actions before
 * them: `llm.model:0>llm.decide:0>llm.tools#0` is `llm.model:1>llm.tools#0` now (the folded action sent the
 * next event as its send 0; the action before it now sends it after its notification, as send 1). The same
 * rewrite covers `llm.tools:0>llm.observe:0>llm.model`, `llm.approved:0>llm.observe:0>` and a repair round's request.
 */
const LEGACY_LOOP = /:0>llm\.(?:decide|observe):0>/g;
const upgradeLoopIds = (id: string): string =>
  id.includes('>llm.decide:') || id.includes('>llm.observe:') ? id.replace(LEGACY_LOOP, ':1>') : id;
const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const NONE: readonly ToolCall[] = [];
const NO_MESSAGES: readonly ChatMessage[] = [];

/**
 * A ReAct agent: the model answers or calls tools; the tool calls of one turn run in parallel;
 * their results go back to the model; until it answers. It is an ordinary {@link Agent}
 * (use it with `agentOperator` / `runAgent`), made of events and actions:
 *
 * ```
 * InputEvent ─llm.start→ ChatRequestEvent ─llm.model→ (ChatResponseEvent) → OutputEvent (answer)
 *                              ↑                                         └→ ToolRequestEvent ─llm.tools→ (ToolResponseEvent)
 *                              └─────────────────────────────────────────────────────────────────────────────────┘
 * ```
 *
 * ChatResponseEvent and ToolResponseEvent are notifications: `llm.model` sends ChatResponseEvent
 * and then what follows (ToolRequestEvent, the answer, or a repair request); `llm.tools` sends
 * ToolResponseEvent and then the next ChatRequestEvent. Your actions on them start before the
 * next step's action (events are routed in send order, S4).
 *
 * Semantics: each model call and each tool call is its own `executeAsync` block and journal
 * entry (S13); runs of one key are serial (S1), so a key's conversation is never interleaved;
 * the step cap (`maxSteps`) is mandatory and reaching it is a `MaxStepsError`; tool failures are
 * results the model sees. Tools marked `needsApproval` need an action of yours for
 * `ToolApprovalRequestEvent` (checked at definition).
 *
 * @example
 * const agent = reactAgent({ model, tools: [lookupOrder], system: 'You are a support agent.', maxSteps: 6 });
 * tickets$.pipe(agentOperator(agent, { key: (t) => t.customer }));
 */
export function reactAgent<In = unknown, T = string>(options: ReactAgentOptions<In, T>): Agent<In, AgentAnswer<T>> {
  if (typeof options !== 'object' || options === null)
    throw optionError('options', 'an object { model, tools, ... }', options);
  const {
    name = 'react-agent',
    model,
    tools = [],
    system,
    maxSteps = 10,
    output,
    repairs = 1,
    prompt = (input: In) => (typeof input === 'string' ? input : JSON.stringify(input)),
    history = { maxMessages: 40 },
    stream = false,
    settings = {},
    scheduler,
    actions,
    signals = [],
    upgradeCallIds,
  } = options;
  if (typeof model !== 'object' || model === null || typeof model.call !== 'function')
    throw optionError('model', 'a ChatModel (e.g. fromAiSdk(provider.chatModel(id)))', model);
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw optionError('maxSteps', 'an integer >= 1', maxSteps);
  if (upgradeCallIds !== undefined && typeof upgradeCallIds !== 'function')
    throw optionError('upgradeCallIds', 'a function from a journaled call id to its id now', upgradeCallIds);
  if (!Number.isInteger(repairs) || repairs < 0) throw optionError('repairs', 'an integer >= 0', repairs);
  if (history !== false && (!Number.isInteger(history.maxMessages) || history.maxMessages < 2))
    throw optionError('history.maxMessages', 'an integer >= 2 (or history: false)', history.maxMessages);
  const byName = new Map<string, Tool>();
  for (const tool of tools) {
    if (byName.has(tool.name))
      throw new AgentDefinitionError(
        `Agent \`${name}\` has two tools named \`${tool.name}\`: tool names must be unique.`,
      );
    byName.set(tool.name, tool);
  }
  const specs = tools.map(toToolSpec);
  const gatedTools = tools.some((t) => t.approval !== 'never');
  const structured = output === undefined ? undefined : structuredOutput(output);
  // One frozen system message shared by every run's conversation (messages are never changed in place).
  const systemMessage: ChatMessage | undefined =
    system === undefined ? undefined : Object.freeze({ role: 'system' as const, content: system });
  const runOptions = scheduler === undefined ? {} : { scheduler };

  /** A model request from the conversation. */
  // What every request of this agent has after its messages, built once (the key order is part of the call's fingerprint).
  const tail = { ...(specs.length > 0 ? { tools: specs } : {}), ...(stream ? { stream: true } : {}) };
  // No settings (the usual case): a literal of the same keys in the same order, without two object spreads per call.
  const plainRequest = Object.keys(settings).length === 0 && !stream;
  const request = (messages: readonly ChatMessage[]): ModelRequest => {
    const base: ModelRequest = !plainRequest
      ? { ...settings, messages, ...tail }
      : specs.length > 0
        ? { messages, tools: specs }
        : { messages };
    return structured === undefined ? base : structured.apply(base, model);
  };
  const add = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  });
  const ask = (
    ctx: RunnerContext,
    messages: readonly ChatMessage[],
    step: number,
    repairsDone: number,
    usage: TokenUsage,
  ): void => {
    if (step >= maxSteps) throw new MaxStepsError(name, maxSteps);
    // The loop's states are their own events (lib/llm/events.ts): no `XEvent.of` wrapper per send.
    ctx.sendEvent(new ChatRequestState(messages, step, repairsDone, usage));
  };

  /** After the model answered (in `llm.model`, once ChatResponseEvent is sent): tool calls to run, a repair round, or the answer. */
  const decide = (ctx: RunnerContext, p: ChatResponsePayload): void => {
    const message = p.response.message;
    const messages: ChatMessage[] = [...p.messages, message];
    if (message.toolCalls.length > 0) {
      ctx.sendEvent(new ToolRequestState(messages, p.step, p.repairs, p.usage, message.toolCalls));
      return;
    }
    let value: T;
    if (structured === undefined) value = message.content as T;
    else {
      const parsed = structured.parse(message.content);
      if (!parsed.ok) {
        if (p.repairs >= repairs) throw new StructuredOutputError(message.content, parsed.issues, p.repairs + 1);
        const fix: ChatMessage = { role: 'user', content: structured.repairPrompt(parsed.issues) };
        return ask(ctx, [...messages, fix], p.step, p.repairs + 1, p.usage);
      }
      value = parsed.value;
    }
    if (history !== false) {
      const kept = trimHistory(
        messages.filter((m) => m.role !== 'system'),
        history.maxMessages,
      );
      ctx.shortTermMemory.set(HISTORY, kept as never);
    }
    ctx.sendEvent(OutputEvent.of({ text: message.content, output: value, steps: p.step, usage: p.usage }));
  };

  /** `llm.model`, once the model answered: ChatResponseEvent, then what follows. */
  const answered = (ctx: RunnerContext, p: LoopState, response: ChatResponse): void => {
    const state = new ChatResponseState(p.messages, p.step + 1, p.repairs, add(p.usage, response.usage), response);
    // A notification (no loop action handles it): your actions on it start before the next step's.
    ctx.sendEvent(state);
    decide(ctx, state);
  };

  /** `llm.tools`: the turn's calls, started; `null` if some need approval (ToolApprovalRequestEvent is sent instead). */
  const turnCalls = (ctx: RunnerContext, p: ToolRequestPayload): Call<ToolMessage>[] | null => {
    const pending = !gatedTools
      ? NONE
      : p.calls.filter((c) => {
          const tool = byName.get(c.name);
          if (tool === undefined) return false;
          const parsed = tool.validate(c.arguments);
          return parsed.ok && tool.needsApproval(parsed.value);
        });
    if (pending.length === 0) return startTools(ctx, byName, p.calls, runOptions);
    ctx.sendEvent(ToolApprovalRequestEvent.of({ ...p, pending }));
    return null;
  };

  /** `llm.approved`: the calls, started with the decisions. */
  const approvedCalls = (
    ctx: RunnerContext,
    p: { readonly calls: readonly ToolCall[]; readonly approvals: unknown },
  ): Call<ToolMessage>[] =>
    startTools(ctx, byName, p.calls, { ...runOptions, approvals: p.approvals as Record<string, ApprovalDecision> });

  /** After the tools answered (in `llm.tools` / `llm.approved`): ToolResponseEvent, then the next model call. */
  const observe = (ctx: RunnerContext, p: LoopState, results: ToolMessage[]): void => {
    const messages = [...p.messages, ...results];
    ctx.sendEvent(new ToolResponseState(messages, p.step, p.repairs, p.usage, results));
    ask(ctx, messages, p.step, p.repairs, p.usage);
  };

  const agent = defineAgent<In, AgentAnswer<T>>({
    name,
    signals,
    upgradeCallIds: upgradeCallIds === undefined ? upgradeLoopIds : (id: string) => upgradeCallIds(upgradeLoopIds(id)),
    // Sent for your actions and for the lifecycle/timeline; the loop itself goes on in the action that sent them.
    events: [ChatResponseEvent, ToolResponseEvent],
    actions: (action) => {
      const loop = [
        action('llm.start', InputEvent, (event, ctx) => {
          const question: ChatMessage = { role: 'user', content: prompt(event.payload) };
          const past = history === false ? NO_MESSAGES : (ctx.shortTermMemory.get(HISTORY) as unknown as ChatMessage[]);
          const messages: ChatMessage[] =
            past === undefined || past.length === 0
              ? systemMessage === undefined
                ? [question]
                : [systemMessage, question]
              : [...(systemMessage === undefined ? NO_MESSAGES : [systemMessage]), ...past, question];
          ask(ctx, messages, 0, 0, NO_USAGE);
        }),
        // The generators are kept small (a generator object holds all of its function's registers), wait with
        // `yield call` (the runtime resumes them with the call's value: no iterator steps as with `yield*`),
        // and leave the work before and after the wait to plain functions.
        action('llm.model', ChatRequestEvent, function* (event, ctx) {
          const response = (yield chat(ctx, model, request(event.payload.messages))) as ChatResponse;
          answered(ctx, event.payload, response);
        }),
        action('llm.tools', ToolRequestEvent, function* (event, ctx) {
          const calls = turnCalls(ctx, event.payload);
          if (calls === null) return;
          // Last first: calls started together usually settle in start order, so by the time it has, the others
          // have too, and the action resumes once (no combined call either: this is the per-step path).
          const results = new Array<ToolMessage>(calls.length);
          for (let i = calls.length - 1; i >= 0; i--) results[i] = (yield calls[i] as Call<ToolMessage>) as ToolMessage;
          observe(ctx, event.payload, results);
        }),
        action('llm.approved', ToolApprovalResponseEvent, function* (event, ctx) {
          const calls = approvedCalls(ctx, event.payload);
          const results = new Array<ToolMessage>(calls.length);
          for (let i = calls.length - 1; i >= 0; i--) results[i] = (yield calls[i] as Call<ToolMessage>) as ToolMessage;
          observe(ctx, event.payload, results);
        }),
      ];
      const own = actions === undefined ? [] : actions(action as ActionFactory<In>);
      const approvers = own.some((a) => a.triggers.some((t) => t.type === ToolApprovalRequestEvent.type));
      if (!approvers) {
        const gated = tools.filter((t) => t.approval !== 'never');
        if (gated.length > 0)
          throw new AgentDefinitionError(
            `Agent \`${name}\`: tool(s) ${gated.map((t) => `\`${t.name}\``).join(', ')} need approval, but no action handles ToolApprovalRequestEvent. ` +
              'Add one (actions: (action) => [action("approve", ToolApprovalRequestEvent, …)]) that sends ToolApprovalResponseEvent with the decisions.',
          );
      }
      return [...loop, ...own];
    },
  });
  return agent;
}
