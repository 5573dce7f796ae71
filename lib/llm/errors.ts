/**
 * The errors of the agent layer (`rx-agents/llm`). Like the core's, each has a fixed `name`,
 * a string `code` and, where it wraps something, a `cause`.
 */
import { describe, RxAgentsError, type ValidationIssue } from '../errors';

/** Why a model call failed, as far as the retry policy is concerned. */
export type ModelFailureKind = 'http' | 'timeout' | 'network' | 'stream' | 'invalid-response' | 'unknown';

/**
 * A model call failed. `status` is the HTTP status when there was one; `retryable` says whether
 * the retry policy tries again (429, 5xx, timeouts, network errors); `retryAfter` is the server's
 * `Retry-After` in ms, when it sent one.
 */
export class ModelCallError extends RxAgentsError {
  override readonly name = 'ModelCallError';
  constructor(
    readonly provider: string,
    readonly model: string,
    readonly kind: ModelFailureKind,
    readonly retryable: boolean,
    readonly status: number | undefined,
    readonly retryAfter: number | undefined,
    detail: string,
    options?: { cause?: unknown; attempts?: number },
  ) {
    super(
      'ERR_MODEL_CALL',
      `The call to model \`${model}\` (${provider}) failed${status === undefined ? '' : ` with HTTP ${status}`}` +
        `${options?.attempts !== undefined && options.attempts > 1 ? ` after ${options.attempts} attempts` : ''}: ${detail}. ` +
        (retryable
          ? 'It is retryable: give the model a retry policy (withModelPolicy(model, { retries })) or a fallback model.'
          : 'It is not retryable: check the request, the model id and the credentials.'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.attempts = options?.attempts ?? 1;
  }
  /** How many attempts were made (1 without retries). */
  readonly attempts: number;
}

/** A ReAct loop reached its step cap (`maxSteps`) without a final answer. */
export class MaxStepsError extends RxAgentsError {
  override readonly name = 'MaxStepsError';
  constructor(
    readonly agent: string,
    readonly maxSteps: number,
  ) {
    super(
      'ERR_MAX_STEPS',
      `Agent \`${agent}\` reached maxSteps = ${maxSteps} model calls without a final answer (the model kept calling tools). ` +
        'Raise maxSteps, give the model clearer instructions, or check that the tools return what it needs.',
    );
  }
}

/** The model's answer did not match the structured output schema, after the repair rounds. */
export class StructuredOutputError extends RxAgentsError {
  override readonly name = 'StructuredOutputError';
  constructor(
    readonly text: string,
    readonly issues: ReadonlyArray<ValidationIssue>,
    readonly attempts: number,
  ) {
    super(
      'ERR_STRUCTURED_OUTPUT',
      `The model's answer does not match the output schema after ${attempts} attempt(s): ` +
        issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ') +
        `. Answer was: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}. ` +
        'Raise `repairs`, simplify the schema, or use a model that supports JSON schema output.',
    );
  }
}

/** A tool definition is malformed (thrown by `defineTool` / `mcpTools`). */
export class ToolDefinitionError extends RxAgentsError {
  override readonly name = 'ToolDefinitionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TOOL_DEFINITION', message, options);
  }
}

/** A tool failed (threw, timed out, or got arguments its schema refuses). It becomes a tool result the model sees. */
export class ToolCallError extends RxAgentsError {
  override readonly name = 'ToolCallError';
  constructor(
    readonly tool: string,
    readonly reason: 'unknown-tool' | 'invalid-arguments' | 'failed' | 'timeout' | 'needs-approval',
    message: string,
    readonly issues: ReadonlyArray<ValidationIssue> = [],
    options?: { cause?: unknown },
  ) {
    super('ERR_TOOL_CALL', message, options);
  }
}

/** Replaying a recording: the model was asked something the recording does not hold. */
export class RecordingMissError extends RxAgentsError {
  override readonly name = 'RecordingMissError';
  constructor(
    readonly file: string,
    readonly request: string,
    readonly fingerprint: string,
  ) {
    super(
      'ERR_RECORDING_MISS',
      `The recording \`${file}\` has no model call for this request (fingerprint ${fingerprint}): ${request}. ` +
        'The agent asked something it did not ask when the recording was made: record again (mode "record") against the real endpoint.',
    );
  }
}

/** An object given to `fromAiSdk` is not an AI SDK language model of a supported specification. */
export class ModelAdapterError extends RxAgentsError {
  override readonly name = 'ModelAdapterError';
  constructor(got: unknown) {
    const version =
      typeof got === 'object' && got !== null
        ? (got as { specificationVersion?: unknown }).specificationVersion
        : undefined;
    super(
      'ERR_MODEL_ADAPTER',
      `fromAiSdk(model) needs an AI SDK language model (specificationVersion 'v3' or 'v4' with doGenerate/doStream), got ` +
        `${version === undefined ? describe(got) : `specificationVersion ${JSON.stringify(version) ?? String(version)}`}. ` +
        'Create it with a provider package, e.g. createOpenAICompatible({ baseURL, name }).chatModel(id).',
    );
  }
}
