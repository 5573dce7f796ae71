import type { Observable } from 'rxjs';
import type { AssistantMessage, ChatMessage, JsonValue, ToolCall } from './messages';

/** A tool as the model sees it: a name, a description and the JSON schema of its arguments. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: { readonly [k: string]: JsonValue };
}

/** Options of one model call. Every field is optional and passed to the provider as it is. */
export interface CallSettings {
  readonly temperature?: number;
  /** The provider's max output tokens. */
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly topP?: number;
  readonly topK?: number;
  readonly seed?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  /** `auto` (default), `none`, `required`, or one tool by name. */
  readonly toolChoice?: 'auto' | 'none' | 'required' | { readonly tool: string };
  /** Provider-specific options, passed through (`{ openai: { user: 'u1' } }`). */
  readonly providerOptions?: { readonly [provider: string]: { readonly [k: string]: JsonValue } };
}

/** What a model call asks for. Plain data, so that it can be journaled and fingerprinted (S13). */
export interface ModelRequest extends CallSettings {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolSpec[];
  /** Ask for JSON, optionally constrained by a JSON schema (native structured output). */
  readonly responseFormat?: {
    readonly type: 'json';
    readonly schema?: { readonly [k: string]: JsonValue };
    readonly name?: string;
  };
  /** Stream the answer (the provider's streaming API) instead of one response. @default false */
  readonly stream?: boolean;
}

/** Token counts of one call (0 when the provider did not report them). */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/** Why the model stopped. */
export type FinishReason = 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'error' | 'other';

/** The final result of one model call. Plain data: it is what the journal records for the call. */
export interface ChatResponse {
  readonly message: AssistantMessage;
  readonly finishReason: FinishReason;
  readonly usage: TokenUsage;
  readonly provider: string;
  readonly model: string;
}

/** A piece of a model call that arrives before its end (streaming). */
export type ModelChunk =
  | { readonly type: 'text-delta'; readonly delta: string }
  | { readonly type: 'reasoning-delta'; readonly delta: string }
  | { readonly type: 'tool-call'; readonly call: ToolCall };

/** What a model call emits: chunks as they arrive, then exactly one `response`, then it completes. */
export type ModelEvent = ModelChunk | { readonly type: 'response'; readonly response: ChatResponse };

/**
 * The model port. A call is a cold Observable: subscribing starts it, unsubscribing cancels it
 * (the HTTP request is aborted), it emits {@link ModelChunk}s as they arrive and ends with one
 * `{ type: 'response' }`. Made by {@link fromAiSdk} for any AI SDK provider, or by the testing
 * kit's `scriptedModel` for virtual-time tests.
 */
export interface ChatModel {
  /** The provider's name, e.g. `openai.chat` (reported in stats, traces and errors). */
  readonly provider: string;
  /** The model's id, e.g. `gpt-4o-mini`. */
  readonly modelId: string;
  /** The provider honours a JSON schema response format natively (structured output). @default false */
  readonly supportsJsonSchema?: boolean;
  call(request: ModelRequest): Observable<ModelEvent>;
}

/** The text of a response (the assistant message's content). */
export function responseText(response: ChatResponse): string {
  return response.message.content;
}

/** Zero usage. */
export const NO_USAGE: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });
