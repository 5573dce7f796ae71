import type { Agent } from '../agent/define-agent';
import { CallbackError, EventValidationError } from '../errors';
import { InputEvent, toIssues } from '../events/define-event';
import { ASK_ZOD, fastParse } from '../events/fast-parse';

type Parsed = ReturnType<NonNullable<Agent['input']>['safeParse']>;

/**
 * A run's input after the agent's input schema (`ctx.input`, the payload of its InputEvent); the
 * input itself when the agent has no schema. Throws what fails the run: an
 * {@link EventValidationError} for an invalid input, a `CallbackError('input schema')` when a
 * refine or transform throws (as do a throwing getter or a revoked proxy in the input) — the run
 * fails, never the producer.
 *
 * A compiled fast path checks simple object schemas (lib/events/fast-parse.ts); zod decides
 * everything else, and the error's "where" text is built only for an invalid input.
 *
 * @example
 * run.payload = parseInput(agent, input, seq); // in a try: a throw fails run `seq`
 */
export function parseInput(agent: Agent, input: unknown, seq: number): unknown {
  const schema = agent.input;
  if (schema === undefined) return input;
  let parsed: Parsed;
  try {
    const fast = fastParse(schema, input);
    if (fast !== ASK_ZOD) return fast;
    parsed = schema.safeParse(input);
  } catch (error) {
    throw new CallbackError('input schema', error);
  }
  if (parsed.success) return parsed.data;
  const where = `for the input of run ${seq} (agent \`${agent.name}\`'s input schema)`;
  throw new EventValidationError(InputEvent.type, toIssues(parsed.error), where, { cause: parsed.error });
}
