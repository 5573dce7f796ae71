import { z } from 'zod';
import { defineEvent } from '../events/define-event';
import type { ChatResponse } from './chat-model';
import { isChatMessage, isToolCall, type ToolMessage } from './messages';

/** An array of `T`, checked element by element and returned as it is (no copy; see messages.ts). */
const list = <T>(check: (v: unknown) => v is T, what: string) =>
  z.custom<readonly T[]>((v) => Array.isArray(v) && v.every(check), { message: `Expected an array of ${what}` });

const isToolMessage = (v: unknown): v is ToolMessage => isChatMessage(v) && v.role === 'tool';

const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() });
/** What every event of the loop carries: the conversation so far, model calls made, tokens used. */
const loop = {
  messages: list(isChatMessage, 'chat messages'),
  /** Model calls made so far in this run (the step cap counts these). */
  step: z.number().int().min(0),
  /** Structured-output repair rounds made so far. */
  repairs: z.number().int().min(0),
  /** Tokens used so far in this run. */
  usage: usageSchema,
};

const responseSchema = z.custom<ChatResponse>(
  (v) => {
    const r = v as ChatResponse;
    return (
      typeof v === 'object' &&
      v !== null &&
      isChatMessage(r.message) &&
      r.message.role === 'assistant' &&
      typeof r.finishReason === 'string' &&
      usageSchema.safeParse(r.usage).success &&
      typeof r.provider === 'string' &&
      typeof r.model === 'string'
    );
  },
  { message: 'Expected a ChatResponse { message, finishReason, usage, provider, model }' },
);

/** Ask the model: `messages` is the whole prompt. Handled by the loop's `llm.model` action. */
export const ChatRequestEvent = defineEvent('rx-agents/llm/chat-request', z.object(loop));

/** The model answered (`messages` does not include the answer yet). Handled by `llm.decide`. */
export const ChatResponseEvent = defineEvent(
  'rx-agents/llm/chat-response',
  z.object({ ...loop, response: responseSchema }),
);

/** Run these tool calls (`messages` ends with the assistant message that asked for them). Handled by `llm.tools`. */
export const ToolRequestEvent = defineEvent(
  'rx-agents/llm/tool-request',
  z.object({ ...loop, calls: list(isToolCall, 'tool calls') }),
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

/** The tools answered (`messages` ends with their results, in call order). Handled by `llm.observe`. */
export const ToolResponseEvent = defineEvent(
  'rx-agents/llm/tool-response',
  z.object({ ...loop, results: list(isToolMessage, 'tool messages') }),
);
