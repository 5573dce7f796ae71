import { z } from 'zod';
import type { ValidationIssue } from '../errors';
import { toIssues } from '../events/define-event';
import type { ChatModel, ModelRequest } from './chat-model';
import type { JsonValue } from './messages';

/** How a structured answer is asked for. */
export type OutputStrategy = 'native' | 'prompt';

/** A zod schema prepared for structured output. */
export interface StructuredOutput<T> {
  readonly schema: z.ZodType<T>;
  readonly jsonSchema: { readonly [k: string]: JsonValue };
  /** `native` when the model supports JSON schema response formats, else `prompt`. */
  strategy(model: ChatModel): OutputStrategy;
  /** Adds the response format (native) or the instructions (prompt) to a request. */
  apply(request: ModelRequest, model: ChatModel): ModelRequest;
  /** Parses and validates an answer's text. */
  parse(
    text: string,
  ): { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: ValidationIssue[] };
  /** The user message asking the model to fix an answer that failed. */
  repairPrompt(issues: readonly ValidationIssue[]): string;
}

/**
 * Prepares a zod schema as a structured result: the JSON schema comes from `z.toJSONSchema`,
 * sent as the native response format where the provider supports it and as prompt instructions
 * otherwise; the answer is parsed (code fences tolerated) and validated by zod either way.
 */
export function structuredOutput<T>(schema: z.ZodType<T>): StructuredOutput<T> {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as { [k: string]: JsonValue };
  delete jsonSchema.$schema;
  const instructions =
    'Answer with only a JSON value (no prose, no code fences) that matches this JSON schema:\n' +
    JSON.stringify(jsonSchema);
  const strategy = (model: ChatModel): OutputStrategy => (model.supportsJsonSchema === true ? 'native' : 'prompt');
  return {
    schema,
    jsonSchema,
    strategy,
    apply: (request, model) => {
      if (strategy(model) === 'native')
        return { ...request, responseFormat: { type: 'json', schema: jsonSchema, name: 'output' } };
      const [first, ...rest] = request.messages;
      const messages =
        first !== undefined && first.role === 'system'
          ? [{ role: 'system' as const, content: `${first.content}\n\n${instructions}` }, ...rest]
          : [{ role: 'system' as const, content: instructions }, ...request.messages];
      return { ...request, messages };
    },
    parse: (text) => {
      const body = text
        .trim()
        .replace(/^```(?:json)?\s*/i, '')
        .replace(/```$/, '')
        .trim();
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (error) {
        return {
          ok: false,
          issues: [{ path: [], message: `not valid JSON (${(error as Error).message})`, code: 'invalid_json' }],
        };
      }
      const result = schema.safeParse(value);
      return result.success ? { ok: true, value: result.data } : { ok: false, issues: toIssues(result.error) };
    },
    repairPrompt: (issues) =>
      'Your answer does not match the required JSON schema: ' +
      issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ') +
      '. Answer again with only the corrected JSON value.',
  };
}
