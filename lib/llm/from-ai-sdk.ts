import { Observable } from 'rxjs';
import type { ChatModel, ChatResponse, FinishReason, ModelEvent, ModelRequest, TokenUsage } from './chat-model';
import { ModelAdapterError, ModelCallError } from './errors';
import type { ChatMessage, JsonValue, ToolCall } from './messages';
import { parseRetryAfter } from './retry-after';

/*
 * The part of the AI SDK's provider specification (`@ai-sdk/provider` LanguageModelV3 and
 * LanguageModelV4) that the adapter uses, written structurally so that both versions fit and the
 * root package's types never depend on `@ai-sdk/provider` (spec/llm/from-ai-sdk.spec.ts checks
 * that a real LanguageModelV3 is assignable to it).
 */

/** A prompt message of the AI SDK spec (V3 and V4 share this shape for what we send). */
type SdkMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: Array<{ type: 'text'; text: string }> }
  | {
      role: 'assistant';
      content: Array<
        { type: 'text'; text: string } | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
      >;
    }
  | {
      role: 'tool';
      content: Array<{
        type: 'tool-result';
        toolCallId: string;
        toolName: string;
        output:
          | { type: 'text'; value: string }
          | { type: 'json'; value: JsonValue }
          | { type: 'error-text'; value: string }
          | { type: 'error-json'; value: JsonValue };
      }>;
    };

/** The call options we send (a subset of LanguageModelV3CallOptions / V4CallOptions). */
interface SdkCallOptions {
  prompt: SdkMessage[];
  maxOutputTokens?: number;
  temperature?: number;
  stopSequences?: string[];
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  responseFormat?: { type: 'json'; schema?: object; name?: string };
  tools?: Array<{ type: 'function'; name: string; description?: string; inputSchema: object }>;
  toolChoice?: { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; toolName: string };
  abortSignal?: AbortSignal;
  providerOptions?: Record<string, Record<string, JsonValue>>;
}

/** Usage as V3/V4 report it (nested totals); V2's flat numbers are accepted too. */
interface SdkUsage {
  inputTokens: number | undefined | { total: number | undefined };
  outputTokens: number | undefined | { total: number | undefined };
}

/** A finish reason: `{ unified, raw }` in V3/V4, a plain string in V2. */
type SdkFinishReason = string | { unified: string; raw?: string | undefined };

/** A content part of a response / a part of a stream that the adapter reads (others are ignored). */
interface SdkPart {
  type: string;
  text?: string;
  delta?: string;
  toolCallId?: string;
  toolName?: string;
  input?: string;
  providerExecuted?: boolean;
  usage?: SdkUsage;
  finishReason?: SdkFinishReason;
  error?: unknown;
}

/**
 * An AI SDK language model, `LanguageModelV3` (ai@6, Node ≥ 18) or `LanguageModelV4` (ai@7,
 * Node ≥ 22), seen structurally: every `@ai-sdk/*` provider's chat model fits.
 */
export interface AiSdkLanguageModel {
  readonly specificationVersion: 'v3' | 'v4';
  readonly provider: string;
  readonly modelId: string;
  // The options are typed `never` here so that V3's and V4's (wider, mutually incompatible) option types both fit;
  // the adapter sends the SdkCallOptions subset, which is valid for both.
  doGenerate(options: never): PromiseLike<{
    content: ReadonlyArray<SdkPart>;
    finishReason: SdkFinishReason;
    usage: SdkUsage;
  }>;
  doStream(options: never): PromiseLike<{ stream: ReadableStream<SdkPart> }>;
}

/** Options of {@link fromAiSdk}. */
export interface FromAiSdkOptions {
  /**
   * The provider honours `responseFormat: { type: 'json', schema }` (structured outputs). For
   * `@ai-sdk/openai-compatible`, also pass `supportsStructuredOutputs: true` to the provider.
   * @default false (structured output then uses the prompt strategy)
   */
  readonly supportsJsonSchema?: boolean;
}

/**
 * Adapts an AI SDK language model (any `@ai-sdk/*` provider, specification V3 or V4) to the
 * rx-agents {@link ChatModel} port.
 *
 * Semantics: each subscription is one provider call — `doGenerate` (one JSON response), or
 * `doStream` (Server-Sent Events) when the request has `stream: true`, whose text deltas and
 * tool calls are emitted as chunks as they arrive. Unsubscribing aborts the HTTP request. A
 * failure is a {@link ModelCallError} with the HTTP status, `Retry-After` and whether it is
 * retryable (429, 5xx, network); the adapter itself never retries (see `withModelPolicy`).
 *
 * @example
 * import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
 * const provider = createOpenAICompatible({ name: 'openai', baseURL: process.env.OPENAI_BASE_URL!, apiKey: process.env.OPENAI_API_KEY });
 * const model = fromAiSdk(provider.chatModel('gpt-4o-mini'));
 */
export function fromAiSdk(model: AiSdkLanguageModel, options: FromAiSdkOptions = {}): ChatModel {
  if (
    typeof model !== 'object' ||
    model === null ||
    (model.specificationVersion !== 'v3' && model.specificationVersion !== 'v4') ||
    typeof model.doGenerate !== 'function' ||
    typeof model.doStream !== 'function'
  ) {
    throw new ModelAdapterError(model);
  }
  const provider = String(model.provider);
  const modelId = String(model.modelId);
  const fail = (error: unknown): ModelCallError => toModelCallError(provider, modelId, error);
  return {
    provider,
    modelId,
    supportsJsonSchema: options.supportsJsonSchema === true,
    call: (request: ModelRequest) =>
      new Observable<ModelEvent>((subscriber) => {
        const controller = new AbortController();
        let reader: ReadableStreamDefaultReader<SdkPart> | undefined;
        const callOptions = toCallOptions(request, controller.signal);
        const run = async (): Promise<void> => {
          if (request.stream !== true) {
            const result = await model.doGenerate(callOptions as never);
            const response = toResponse(provider, modelId, result.content, result.finishReason, result.usage);
            subscriber.next({ type: 'response', response });
            return subscriber.complete();
          }
          const result = await model.doStream(callOptions as never);
          reader = result.stream.getReader();
          let text = '';
          const toolCalls: ToolCall[] = [];
          let usage: SdkUsage | undefined;
          let finish: SdkFinishReason = 'other';
          for (;;) {
            const next = await reader.read();
            if (next.done || controller.signal.aborted) break;
            const part = next.value;
            if (part.type === 'text-delta' && typeof part.delta === 'string') {
              text += part.delta;
              subscriber.next({ type: 'text-delta', delta: part.delta });
            } else if (part.type === 'reasoning-delta' && typeof part.delta === 'string') {
              subscriber.next({ type: 'reasoning-delta', delta: part.delta });
            } else if (part.type === 'tool-call' && part.providerExecuted !== true) {
              const call = toToolCall(part);
              toolCalls.push(call);
              subscriber.next({ type: 'tool-call', call });
            } else if (part.type === 'finish') {
              usage = part.usage;
              finish = part.finishReason ?? 'other';
            } else if (part.type === 'error') {
              throw part.error;
            }
          }
          if (controller.signal.aborted) return;
          subscriber.next({
            type: 'response',
            response: {
              message: { role: 'assistant', content: text, toolCalls },
              finishReason: toFinishReason(finish),
              usage: toUsage(usage),
              provider,
              model: modelId,
            },
          });
          subscriber.complete();
        };
        run().catch((error: unknown) => {
          if (!controller.signal.aborted) subscriber.error(fail(error));
        });
        return () => {
          controller.abort();
          reader?.cancel().catch(() => undefined);
        };
      }),
  };
}

function toCallOptions(request: ModelRequest, abortSignal: AbortSignal): SdkCallOptions {
  const options: SdkCallOptions = { prompt: toPrompt(request.messages), abortSignal };
  if (request.maxTokens !== undefined) options.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.stop !== undefined) options.stopSequences = [...request.stop];
  if (request.topP !== undefined) options.topP = request.topP;
  if (request.topK !== undefined) options.topK = request.topK;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.presencePenalty !== undefined) options.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) options.frequencyPenalty = request.frequencyPenalty;
  if (request.providerOptions !== undefined)
    options.providerOptions = request.providerOptions as Record<string, Record<string, JsonValue>>;
  if (request.responseFormat !== undefined) {
    const { schema, name } = request.responseFormat;
    options.responseFormat = {
      type: 'json',
      ...(schema === undefined ? {} : { schema }),
      ...(name === undefined ? {} : { name }),
    };
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map((t) => ({
      type: 'function' as const,
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema,
    }));
  }
  const choice = request.toolChoice;
  if (choice !== undefined)
    options.toolChoice = typeof choice === 'string' ? { type: choice } : { type: 'tool', toolName: choice.tool };
  return options;
}

/** Our messages → the AI SDK prompt; consecutive tool results form one `tool` message. */
function toPrompt(messages: readonly ChatMessage[]): SdkMessage[] {
  const prompt: SdkMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') prompt.push({ role: 'system', content: m.content });
    else if (m.role === 'user') prompt.push({ role: 'user', content: [{ type: 'text', text: m.content }] });
    else if (m.role === 'assistant') {
      const content: Extract<SdkMessage, { role: 'assistant' }>['content'] = [];
      if (m.content.length > 0) content.push({ type: 'text', text: m.content });
      for (const c of m.toolCalls)
        content.push({ type: 'tool-call', toolCallId: c.id, toolName: c.name, input: c.arguments });
      prompt.push({ role: 'assistant', content });
    } else {
      const output =
        typeof m.content === 'string'
          ? { type: m.isError ? ('error-text' as const) : ('text' as const), value: m.content }
          : { type: m.isError ? ('error-json' as const) : ('json' as const), value: m.content };
      const part = { type: 'tool-result' as const, toolCallId: m.toolCallId, toolName: m.toolName, output };
      const last = prompt[prompt.length - 1];
      if (last !== undefined && last.role === 'tool') last.content.push(part);
      else prompt.push({ role: 'tool', content: [part] });
    }
  }
  return prompt;
}

function toResponse(
  provider: string,
  model: string,
  content: ReadonlyArray<SdkPart>,
  finishReason: SdkFinishReason,
  usage: SdkUsage,
): ChatResponse {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of content) {
    if (part.type === 'text' && typeof part.text === 'string') text += part.text;
    else if (part.type === 'tool-call' && part.providerExecuted !== true) toolCalls.push(toToolCall(part));
  }
  return {
    message: { role: 'assistant', content: text, toolCalls },
    finishReason: toFinishReason(finishReason),
    usage: toUsage(usage),
    provider,
    model,
  };
}

function toToolCall(part: SdkPart): ToolCall {
  const raw = part.input ?? '';
  let args: JsonValue;
  try {
    args = raw.trim() === '' ? {} : (JSON.parse(raw) as JsonValue);
  } catch {
    args = raw; // invalid JSON from the model: kept as text, refused by the tool's validation (a result the model sees)
  }
  return { id: String(part.toolCallId), name: String(part.toolName), arguments: args };
}

const FINISH_REASONS = new Set<string>(['stop', 'length', 'content-filter', 'tool-calls', 'error', 'other']);

function toFinishReason(reason: SdkFinishReason): FinishReason {
  const unified = typeof reason === 'string' ? reason : reason.unified;
  return FINISH_REASONS.has(unified) ? (unified as FinishReason) : 'other';
}

function count(value: number | undefined | { total: number | undefined }): number {
  const n = typeof value === 'object' && value !== null ? value.total : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function toUsage(usage: SdkUsage | undefined): TokenUsage {
  if (usage === undefined) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const inputTokens = count(usage.inputTokens);
  const outputTokens = count(usage.outputTokens);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

/** Any failure of a provider call as a {@link ModelCallError} (reads the AI SDK's APICallError structurally). */
export function toModelCallError(provider: string, model: string, error: unknown): ModelCallError {
  if (error instanceof ModelCallError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    statusCode?: unknown;
    isRetryable?: unknown;
    responseHeaders?: unknown;
    cause?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (e.name === 'AI_APICallError' || typeof e.statusCode === 'number') {
    const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
    const headers = (
      typeof e.responseHeaders === 'object' && e.responseHeaders !== null ? e.responseHeaders : {}
    ) as Record<string, string>;
    const retryable =
      status === undefined
        ? e.isRetryable === true
        : status === 408 || status === 409 || status === 429 || status >= 500;
    return new ModelCallError(
      provider,
      model,
      status === undefined ? 'network' : 'http',
      retryable,
      status,
      parseRetryAfter(headers),
      message,
      { cause: error },
    );
  }
  if (
    e.name === 'TypeError' &&
    /fetch failed|network|ECONNREFUSED|ECONNRESET|socket/i.test(message + String(e.cause))
  ) {
    return new ModelCallError(provider, model, 'network', true, undefined, undefined, message, { cause: error });
  }
  const invalid = typeof e.name === 'string' && /JSONParse|TypeValidation|InvalidResponse|NoContent/.test(e.name);
  return new ModelCallError(
    provider,
    model,
    invalid ? 'invalid-response' : 'unknown',
    false,
    undefined,
    undefined,
    message,
    {
      cause: error,
    },
  );
}
