import { z } from 'zod/v4';
import { defineEvent, type AgentEvent } from '../events/define-event';
import { ASK_ZOD, setFastPath } from '../events/fast-parse';
import { anchorShape } from '../runtime/run-channel';
import type { ChatResponse, TokenUsage } from './chat-model';
import { isChatMessage, isToolCall, type ChatMessage, type ToolCall, type ToolMessage } from './messages';

/** What every event of the loop carries: the conversation so far, model calls made, tokens used. */
export interface LoopState {
  /** The conversation so far (the whole prompt of the next model call). */
  readonly messages: readonly ChatMessage[];
  /** Model calls made so far in this run (the step cap counts these). */
  readonly step: number;
  /** Structured-output repair rounds made so far. */
  readonly repairs: number;
  /** Tokens used so far in this run. */
  readonly usage: TokenUsage;
}

/** The payload of {@link ChatRequestEvent}. */
export type ChatRequestPayload = LoopState;

/** The payload of {@link ChatResponseEvent}: the loop's state and the model's answer. */
export interface ChatResponsePayload extends LoopState {
  readonly response: ChatResponse;
}

/** The payload of {@link ToolRequestEvent}: the loop's state and the calls to run. */
export interface ToolRequestPayload extends LoopState {
  readonly calls: readonly ToolCall[];
}

/** The payload of {@link ToolResponseEvent}: the loop's state and the calls' results, in call order. */
export interface ToolResponsePayload extends LoopState {
  readonly results: readonly ToolMessage[];
}

/** The loop events' type names. */
const CHAT_REQUEST = 'rx-agents/llm/chat-request';
const CHAT_RESPONSE = 'rx-agents/llm/chat-response';
const TOOL_REQUEST = 'rx-agents/llm/tool-request';
const TOOL_RESPONSE = 'rx-agents/llm/tool-response';

/**
 * The payloads the loop builds itself are instances of these classes. Their parts were checked
 * where they were made (the model's answer by the ChatResponse check, tool results by runTools),
 * so the event schemas accept them without walking the conversation again at every send; a
 * payload built by user code (a plain object) gets the whole check. `bench/workloads/llm.ts`:
 * zod's object schemas cost ~10 % of a ReAct run's CPU, copying the payload at every send.
 *
 * Each is also the event that carries it (`type`, `id` and `payload` — itself — are getters on its
 * prototype, so they add no field and are not enumerated or serialized): the loop sends
 * `ctx.sendEvent(state)`, without an `XEvent.of(state)` wrapper object per send.
 */
abstract class LoopPayload implements LoopState {
  constructor(
    readonly messages: readonly ChatMessage[],
    readonly step: number,
    readonly repairs: number,
    readonly usage: TokenUsage,
  ) {}
  /** The event's id is given by the runtime when it is sent (as for `XEvent.of`). */
  get id(): string {
    return '';
  }
  get payload(): this {
    return this;
  }
}

/** A {@link ChatRequestPayload} built by the loop; also its ChatRequestEvent. */
export class ChatRequestState extends LoopPayload implements AgentEvent<typeof CHAT_REQUEST, ChatRequestPayload> {
  get type(): typeof CHAT_REQUEST {
    return CHAT_REQUEST;
  }
}

/** A {@link ChatResponsePayload} built by the loop (its `response` is still checked: it comes from the model); also its ChatResponseEvent. */
export class ChatResponseState
  extends LoopPayload
  implements ChatResponsePayload, AgentEvent<typeof CHAT_RESPONSE, ChatResponsePayload>
{
  constructor(
    messages: readonly ChatMessage[],
    step: number,
    repairs: number,
    usage: TokenUsage,
    readonly response: ChatResponse,
  ) {
    super(messages, step, repairs, usage);
  }
  get type(): typeof CHAT_RESPONSE {
    return CHAT_RESPONSE;
  }
}

/** A {@link ToolRequestPayload} built by the loop; also its ToolRequestEvent. */
export class ToolRequestState
  extends LoopPayload
  implements ToolRequestPayload, AgentEvent<typeof TOOL_REQUEST, ToolRequestPayload>
{
  constructor(
    messages: readonly ChatMessage[],
    step: number,
    repairs: number,
    usage: TokenUsage,
    readonly calls: readonly ToolCall[],
  ) {
    super(messages, step, repairs, usage);
  }
  get type(): typeof TOOL_REQUEST {
    return TOOL_REQUEST;
  }
}

/** A {@link ToolResponsePayload} built by the loop; also its ToolResponseEvent. */
export class ToolResponseState
  extends LoopPayload
  implements ToolResponsePayload, AgentEvent<typeof TOOL_RESPONSE, ToolResponsePayload>
{
  constructor(
    messages: readonly ChatMessage[],
    step: number,
    repairs: number,
    usage: TokenUsage,
    readonly results: readonly ToolMessage[],
  ) {
    super(messages, step, repairs, usage);
  }
  get type(): typeof TOOL_RESPONSE {
    return TOOL_RESPONSE;
  }
}

// Made at every step of every run: dormant ones keep their classes' maps across idle gaps (lib/runtime/shape-anchor.ts).
const DORMANT_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
anchorShape(new ChatRequestState([], 0, 0, DORMANT_USAGE));
anchorShape(new ChatResponseState([], 0, 0, DORMANT_USAGE, null as never));
anchorShape(new ToolRequestState([], 0, 0, DORMANT_USAGE, []));
anchorShape(new ToolResponseState([], 0, 0, DORMANT_USAGE, []));

/** An array of `T`, checked element by element and returned as it is (no copy; see messages.ts). */
const list = <T>(check: (v: unknown) => v is T, what: string) =>
  z.custom<readonly T[]>((v) => Array.isArray(v) && v.every(check), { message: `Expected an array of ${what}` });

const isToolMessage = (v: unknown): v is ToolMessage => isChatMessage(v) && v.role === 'tool';

const count = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
function isUsage(v: unknown): v is TokenUsage {
  const u = v as TokenUsage;
  return typeof v === 'object' && v !== null && count(u.inputTokens) && count(u.outputTokens) && count(u.totalTokens);
}
const usageSchema = z.custom<TokenUsage>(isUsage, {
  message: 'Expected token usage { inputTokens, outputTokens, totalTokens } (numbers)',
});

function isResponse(v: unknown): v is ChatResponse {
  const r = v as ChatResponse;
  return (
    typeof v === 'object' &&
    v !== null &&
    isChatMessage(r.message) &&
    r.message.role === 'assistant' &&
    typeof r.finishReason === 'string' &&
    isUsage(r.usage) &&
    typeof r.provider === 'string' &&
    typeof r.model === 'string'
  );
}
const responseSchema = z.custom<ChatResponse>(isResponse, {
  message: 'Expected a ChatResponse { message, finishReason, usage, provider, model }',
});

const loop = {
  messages: list(isChatMessage, 'chat messages'),
  step: z.number().int().min(0),
  repairs: z.number().int().min(0),
  usage: usageSchema,
};

/**
 * The schema of a loop event's payload: `built` payloads (made by the loop, see {@link LoopPayload})
 * pass after `trusted` (what in them did not come from the loop); anything else is checked by
 * `full`, whose issues (with their paths) are the event's validation issues. The payload is
 * returned as it is, never copied.
 */
function loopPayload<P>(
  built: abstract new (...args: never[]) => object,
  trusted: (payload: P) => boolean,
  full: z.ZodType,
): z.ZodType<P> {
  // A check function rather than superRefine: no closure is made per parse (this runs at every send of the loop).
  const schema = z.custom<P>().check((ctx) => {
    const payload = ctx.value;
    if (payload instanceof built && trusted(payload)) return;
    const parsed = full.safeParse(payload);
    if (parsed.success) return;
    for (const issue of parsed.error.issues)
      ctx.issues.push({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[], input: payload });
  });
  // The runtime's event validation takes a loop-built payload without zod's parse (4 objects per send): zod
  // would accept it as it is. Anything else still goes through zod, which checks it and builds the error.
  setFastPath(schema, (payload) => (payload instanceof built && trusted(payload as P) ? payload : ASK_ZOD));
  return schema;
}

const always = (): boolean => true;

/** Ask the model: `messages` is the whole prompt. Handled by the loop's `llm.model` action. */
export const ChatRequestEvent = defineEvent(
  CHAT_REQUEST,
  loopPayload<ChatRequestPayload>(ChatRequestState, always, z.object(loop)),
);

/** The model answered (`messages` does not include the answer yet). Sent by `llm.model` before what follows (a notification: no loop action handles it). */
export const ChatResponseEvent = defineEvent(
  CHAT_RESPONSE,
  loopPayload<ChatResponsePayload>(
    ChatResponseState,
    (p) => isResponse(p.response),
    z.object({ ...loop, response: responseSchema }),
  ),
);

/** Run these tool calls (`messages` ends with the assistant message that asked for them). Handled by `llm.tools`. */
export const ToolRequestEvent = defineEvent(
  TOOL_REQUEST,
  loopPayload<ToolRequestPayload>(
    ToolRequestState,
    always,
    z.object({ ...loop, calls: list(isToolCall, 'tool calls') }),
  ),
);

/**
 * Some calls need approval (tools marked `needsApproval`): an action of yours handles this event
 * and answers with {@link ToolApprovalResponseEvent} (the human-in-the-loop extension point).
 */
export const ToolApprovalRequestEvent = defineEvent(
  'rx-agents/llm/tool-approval-request',
  z.object({ ...loop, calls: list(isToolCall, 'tool calls'), pending: list(isToolCall, 'tool calls') }),
);

/** The decisions on a {@link ToolApprovalRequestEvent}, by tool call id. Handled by `llm.approved`. */
export const ToolApprovalResponseEvent = defineEvent(
  'rx-agents/llm/tool-approval-response',
  z.object({
    ...loop,
    calls: list(isToolCall, 'tool calls'),
    approvals: z.record(z.string(), z.object({ approved: z.boolean(), reason: z.string().optional() })),
  }),
);

/** The tools answered (`messages` ends with their results, in call order). Sent by `llm.tools` / `llm.approved` before the next ChatRequestEvent (a notification: no loop action handles it). */
export const ToolResponseEvent = defineEvent(
  TOOL_RESPONSE,
  loopPayload<ToolResponsePayload>(
    ToolResponseState,
    always,
    z.object({ ...loop, results: list(isToolMessage, 'tool messages') }),
  ),
);
