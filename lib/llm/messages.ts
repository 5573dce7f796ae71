import { z } from 'zod';

/**
 * A JSON value: what message contents, tool arguments and tool results are made of, so that
 * every message can be journaled (S13) and kept in short-term memory.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/** zod schema of {@link JsonValue}. */
export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValueSchema),
    z.record(z.string(), jsonValueSchema),
  ]),
);

/** A tool call the model asked for: `arguments` is the parsed JSON (or the raw text if the model sent invalid JSON). */
export interface ToolCall {
  /** The provider's id of the call, echoed in the tool result. */
  readonly id: string;
  readonly name: string;
  readonly arguments: JsonValue;
}

/** A system prompt. */
export interface SystemMessage {
  readonly role: 'system';
  readonly content: string;
}
/** What the user said. */
export interface UserMessage {
  readonly role: 'user';
  readonly content: string;
}
/** What the model answered: text, and the tool calls it asked for (in the order it gave them). */
export interface AssistantMessage {
  readonly role: 'assistant';
  readonly content: string;
  readonly toolCalls: readonly ToolCall[];
}
/** The result of one tool call; `isError` marks a failed call (bad arguments, a throwing tool, a timeout). */
export interface ToolMessage {
  readonly role: 'tool';
  readonly toolCallId: string;
  readonly toolName: string;
  readonly content: JsonValue;
  readonly isError: boolean;
}

/** One message of a conversation. Plain JSON data: journaled, stored in memory, sent in events. */
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** zod schema of {@link ToolCall}. */
export const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: jsonValueSchema });

/** zod schema of {@link ChatMessage} (used by the loop's event types). */
export const chatMessageSchema: z.ZodType<ChatMessage> = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.string(), toolCalls: z.array(toolCallSchema).readonly() }),
  z.object({
    role: z.literal('tool'),
    toolCallId: z.string(),
    toolName: z.string(),
    content: jsonValueSchema,
    isError: z.boolean(),
  }),
]);

/** A system message. @example system('You are a support agent.') */
export function system(content: string): SystemMessage {
  return { role: 'system', content };
}

/** A user message. @example user('Where is my order 42?') */
export function user(content: string): UserMessage {
  return { role: 'user', content };
}

/** An assistant message (text and optional tool calls). */
export function assistant(content: string, toolCalls: readonly ToolCall[] = []): AssistantMessage {
  return { role: 'assistant', content, toolCalls };
}

/** A tool result message. */
export function toolResult(call: ToolCall, content: JsonValue, isError = false): ToolMessage {
  return { role: 'tool', toolCallId: call.id, toolName: call.name, content, isError };
}
