import type { ChatMessage } from './messages';

/**
 * Keeps at most `max` messages of a conversation, dropping whole turns from the front: the kept
 * part always starts at a user message, so a tool result is never kept without the assistant
 * message that asked for it. A single turn longer than `max` is kept from its last user message.
 */
export function trimHistory(messages: readonly ChatMessage[], max: number): ChatMessage[] {
  if (messages.length <= max) return [...messages];
  for (let i = messages.length - max; i < messages.length; i++) {
    if (messages[i]?.role === 'user') return messages.slice(i);
  }
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return messages.slice(i);
  return [];
}
