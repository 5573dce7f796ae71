import { asyncScheduler, concat, Observable, of, throwError, timer, type SchedulerLike } from 'rxjs';
import { map } from 'rxjs/operators';
import { RxAgentsError } from '../../errors';
import type { ChatModel, ChatResponse, FinishReason, ModelEvent, ModelRequest, TokenUsage } from '../chat-model';
import { ModelCallError } from '../errors';
import type { JsonValue, ToolCall } from '../messages';

/** One scripted model answer. */
export interface ScriptedTurn {
  /** The answer's text. @default '' */
  readonly text?: string;
  /** Tool calls to ask for; ids default to `call_<turn>_<i>`. */
  readonly toolCalls?: ReadonlyArray<{ readonly name: string; readonly arguments: JsonValue; readonly id?: string }>;
  /** How the text is streamed: these deltas (they must join to `text`). @default one delta, the whole text */
  readonly chunks?: readonly string[];
  /** Virtual frames (ms) before the first chunk, and between chunks, when the request streams. @default 0 */
  readonly chunkFrames?: number;
  /** Virtual frames (ms) from the call (or the last chunk) to the response. @default 0: synchronous */
  readonly frames?: number;
  /** Fail the call instead: an HTTP status (429/5xx are retryable) and an optional Retry-After in ms, or any error. */
  readonly error?: { readonly status: number; readonly retryAfter?: number } | Error;
  /** @default { inputTokens: 10, outputTokens: 5 } */
  readonly usage?: Partial<TokenUsage>;
  /** @default 'tool-calls' with tool calls, else 'stop' */
  readonly finishReason?: FinishReason;
}

/** Options of {@link scriptedModel}. */
export interface ScriptedModelOptions {
  /** @default 'scripted' */
  readonly provider?: string;
  /** @default 'scripted-model' */
  readonly modelId?: string;
  /** @default false */
  readonly supportsJsonSchema?: boolean;
  /** Where frames are scheduled. @default asyncScheduler (virtual inside TestScheduler.run) */
  readonly scheduler?: SchedulerLike;
}

/** A {@link ChatModel} that answers from a script and records what it was asked. */
export interface ScriptedModel extends ChatModel {
  /** Every request, in call order. */
  readonly requests: readonly ModelRequest[];
}

/** The script ran out: the model was called more often than scripted. */
export class ScriptExhaustedError extends RxAgentsError {
  override readonly name = 'ScriptExhaustedError';
  constructor(readonly calls: number) {
    super(
      'ERR_SCRIPT_EXHAUSTED',
      `The scripted model was called ${calls} times, but its script has ${calls - 1} turn(s): add turns, or give a function (request, n) => turn.`,
    );
  }
}

/**
 * A scripted model for tests, deterministic in virtual time: answers, tool calls, chunk timing
 * and failures come from a list of turns (one per call, in call order) or from a function of the
 * request. With `frames` and `chunkFrames` under `TestScheduler.run`, a ReAct loop is testable
 * frame by frame.
 *
 * @example
 * const model = scriptedModel([
 *   { toolCalls: [{ name: 'lookup', arguments: { id: 1 } }, { name: 'lookup', arguments: { id: 2 } }], frames: 5 },
 *   { text: 'Both found.', frames: 3 },
 * ]);
 */
export function scriptedModel(
  script: readonly ScriptedTurn[] | ((request: ModelRequest, n: number) => ScriptedTurn),
  options: ScriptedModelOptions = {},
): ScriptedModel {
  const provider = options.provider ?? 'scripted';
  const modelId = options.modelId ?? 'scripted-model';
  const scheduler = options.scheduler ?? asyncScheduler;
  const requests: ModelRequest[] = [];
  const call = (request: ModelRequest): Observable<ModelEvent> => {
    requests.push(request);
    const n = requests.length - 1;
    const turn = typeof script === 'function' ? script(request, n) : script[n];
    if (turn === undefined) return throwError(() => new ScriptExhaustedError(n + 1));
    const frames = turn.frames ?? 0;
    const after = <T>(value: T, delay: number): Observable<T> =>
      delay > 0 ? timer(delay, scheduler).pipe(map(() => value)) : of(value);
    if (turn.error !== undefined) {
      const e = turn.error;
      const error =
        e instanceof Error
          ? e
          : new ModelCallError(
              provider,
              modelId,
              'http',
              e.status === 429 || e.status >= 500,
              e.status,
              e.retryAfter,
              `scripted HTTP ${e.status}`,
            );
      return frames > 0
        ? timer(frames, scheduler).pipe(
            map(() => {
              throw error;
            }),
          )
        : throwError(() => error);
    }
    const text = turn.text ?? '';
    const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_${n}_${i}`,
      name: c.name,
      arguments: c.arguments,
    }));
    const inputTokens = turn.usage?.inputTokens ?? 10;
    const outputTokens = turn.usage?.outputTokens ?? 5;
    const response: ChatResponse = {
      message: { role: 'assistant', content: text, toolCalls },
      finishReason: turn.finishReason ?? (toolCalls.length > 0 ? 'tool-calls' : 'stop'),
      usage: { inputTokens, outputTokens, totalTokens: turn.usage?.totalTokens ?? inputTokens + outputTokens },
      provider,
      model: modelId,
    };
    const parts: Observable<ModelEvent>[] = [];
    if (request.stream === true) {
      const deltas = turn.chunks ?? (text.length > 0 ? [text] : []);
      for (const delta of deltas) parts.push(after<ModelEvent>({ type: 'text-delta', delta }, turn.chunkFrames ?? 0));
      for (const c of toolCalls) parts.push(of<ModelEvent>({ type: 'tool-call', call: c }));
    }
    parts.push(after<ModelEvent>({ type: 'response', response }, frames));
    return concat(...parts);
  };
  return { provider, modelId, supportsJsonSchema: options.supportsJsonSchema === true, requests, call };
}
