import { z } from 'zod';
import { defineEvent } from '../events/define-event';
import { chatMessageSchema, toolCallSchema } from './messages';

const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() });
/** What every event of the loop carries: the conversation so far, model calls made, tokens used. */
const loop = {
  messages: z.array(chatMessageSchema).readonly(),
  /** Model calls made so far in this run (the step cap counts these). */
  step: z.number().int().min(0),
  /** Structured-output repair rounds made so far. */
  repairs: z.number().int().min(0),
  /** Tokens used so far in this run. */
  usage: usageSchema,
};

const toolMessageSchema = z.object({
  role: z.literal('tool'),
  toolCallId: z.string(),
  toolName: z.string(),
  content: z.unknown(),
  isError: z.boolean(),
});

const responseSchema = z.object({
  message: z.object({
    role: z.literal('assistant'),
    content: z.string(),
    toolCalls: z.array(toolCallSchema).readonly(),
  }),
  finishReason: z.enum(['stop', 'length', 'content-filter', 'tool-calls', 'error', 'other']),
  usage: usageSchema,
  provider: z.string(),
  model: z.string(),
});

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
  z.object({ ...loop, calls: z.array(toolCallSchema).readonly() }),
);

/**
 * Some calls need approval (tools marked `needsApproval`): an action of yours handles this event
 * and answers with {@link ToolApprovalResponseEvent} (the human-in-the-loop extension point).
 */
export const ToolApprovalRequestEvent = defineEvent(
  'rx-agents/llm/tool-approval-request',
  z.object({ ...loop, calls: z.array(toolCallSchema).readonly(), pending: z.array(toolCallSchema).readonly() }),
);

/** The decisions on a {@link ToolApprovalRequestEvent}, by tool call id. Handled by `llm.approved`. */
export const ToolApprovalResponseEvent = defineEvent(
  'rx-agents/llm/tool-approval-response',
  z.object({
    ...loop,
    calls: z.array(toolCallSchema).readonly(),
    approvals: z.record(z.string(), z.object({ approved: z.boolean(), reason: z.string().optional() })),
  }),
);

/** The tools answered (`messages` ends with their results, in call order). Handled by `llm.observe`. */
export const ToolResponseEvent = defineEvent(
  'rx-agents/llm/tool-response',
  z.object({ ...loop, results: z.array(toolMessageSchema).readonly() }),
);
