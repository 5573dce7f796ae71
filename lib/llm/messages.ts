import { z } from 'zod';

/**
 * A JSON value: what message contents, tool arguments and tool results are made of, so that
 * every message can be journaled (S13) and kept in short-term memory.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

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

/**
 * zod schemas of the message types for the loop's events. They are hand-written checks wrapped in
 * `z.custom`, which return the value itself: zod's object schemas copy what they parse, and a copy
 * of the whole conversation at every step cost more than the rest of the step
 * (bench/workloads/llm.ts). JSON parts (arguments, results) are checked where they are kept
 * (short-term memory, the journal).
 */
export const toolCallSchema = z.custom<ToolCall>(isToolCall, {
  message: 'Expected a tool call { id, name, arguments }',
});

/** zod schema of {@link ChatMessage} (used by the loop's event types). */
export const chatMessageSchema = z.custom<ChatMessage>(isChatMessage, {
  message:
    'Expected a chat message: { role: "system" | "user", content } | { role: "assistant", content, toolCalls } | { role: "tool", toolCallId, toolName, content, isError }',
});

/** Is `v` a {@link ToolCall}? */
export function isToolCall(v: unknown): v is ToolCall {
  const c = v as ToolCall;
  return (
    typeof v === 'object' && v !== null && typeof c.id === 'string' && typeof c.name === 'string' && 'arguments' in c
  );
}

/** Is `v` a {@link ChatMessage}? */
export function isChatMessage(v: unknown): v is ChatMessage {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as {
    role?: unknown;
    content?: unknown;
    toolCalls?: unknown;
    toolCallId?: unknown;
    toolName?: unknown;
    isError?: unknown;
  };
  switch (m.role) {
    case 'system':
    case 'user':
      return typeof m.content === 'string';
    case 'assistant':
      return typeof m.content === 'string' && Array.isArray(m.toolCalls) && m.toolCalls.every(isToolCall);
    case 'tool':
      return (
        typeof m.toolCallId === 'string' &&
        typeof m.toolName === 'string' &&
        typeof m.isError === 'boolean' &&
        'content' in m
      );
    default:
      return false;
  }
}

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
