import type * as restate from '@restatedev/restate-sdk';
import type { Agent } from '../agent/define-agent';
import { AgentDefinitionError, EventValidationError } from '../errors';
import { InputEvent, toIssues } from '../events/define-event';
import { MemoryNode } from '../runtime/memory';
import { restateSdk } from './restate-sdk';
import { NOW_HEADER, RestateRun, STATE_KEY, type RestateRunResult, type StoredKeyState } from './restate-run';

/** The name of the exclusive handler every agent object has: one invocation = one run. */
export const RUN_HANDLER = 'run';

/** The Restate virtual-object definition of an agent (what `serveAgents` binds). */
export type AgentObject = restate.VirtualObjectDefinition<string, Record<string, unknown>>;

/** Options of {@link agentObject}. */
export interface AgentObjectOptions {
  /** The Restate service name. @default the agent's name */
  readonly name?: string;
}

/**
 * Turns an agent made by `defineAgent` — unchanged — into a Restate virtual object with one
 * exclusive handler, `run`. Each invocation is one agent run for the object key (S1: Restate runs
 * one exclusive invocation per key at a time, in arrival order; S2: keys are independent).
 *
 * Semantics: `executeAsync` blocks run as `ctx.run` steps (journaled: after a crash they are not
 * run again once completed); short-term memory lives in the object's state and is written when the
 * run succeeds (a failed run leaves it as it was); sensory memory lives for the invocation; the
 * handler returns the run's outputs `{ run, outputs: [{ id, payload }] }`. A run that fails (an
 * action throws, the input fails the agent's schema) ends its invocation with a terminal error that
 * carries the rx-agents error `name` and `code` as metadata; Restate does not retry it.
 *
 * @example
 * const endpoint = await serveAgents([agentObject(scorer)]);
 */
export function agentObject(agent: Agent<never, unknown>, options: AgentObjectOptions = {}): AgentObject {
  if (typeof agent !== 'object' || agent === null || !(agent.routes instanceof Map))
    throw new AgentDefinitionError('agentObject needs an agent made by defineAgent({ name, actions }).');
  const a = agent as unknown as Agent;
  const name = options.name ?? a.name;
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name))
    throw new AgentDefinitionError(
      `The Restate service name \`${name}\` is not valid: use letters, digits, '_', '-' or '.', starting with a letter (pass agentObject(agent, { name })).`,
    );
  return restateSdk('agentObject').object({
    name,
    handlers: {
      [RUN_HANDLER]: async (ctx: restate.ObjectContext, input: unknown): Promise<RestateRunResult> =>
        runOnRestate(a, name, ctx, input),
    },
  }) as unknown as AgentObject;
}

async function runOnRestate(
  agent: Agent,
  service: string,
  ctx: restate.ObjectContext,
  input: unknown,
): Promise<RestateRunResult> {
  const stored = (await ctx.get<StoredKeyState>(STATE_KEY)) ?? { seq: 0, memory: {} };
  const seq = stored.seq + 1;
  const header = ctx.request().headers.get(NOW_HEADER);
  const now = header !== undefined && Number.isFinite(Number(header)) ? Number(header) : await ctx.date.now();
  let payload = input;
  let run: RestateRun | null = null;
  try {
    if (agent.input !== undefined) {
      const parsed = agent.input.safeParse(input);
      if (!parsed.success)
        throw new EventValidationError(
          InputEvent.type,
          toIssues(parsed.error),
          `for run ${seq} of key \`${ctx.key}\` (agent \`${agent.name}\`'s input schema)`,
        );
      payload = parsed.data;
    }
    run = new RestateRun(agent, ctx, service, ctx.key, seq, now, MemoryNode.fromJSON(stored.memory));
    const result = await run.execute(payload);
    ctx.set<StoredKeyState>(STATE_KEY, { seq, memory: run.shortTermMemory.toJSON() });
    return result;
  } catch (error) {
    const { CancelledError, TerminalError } = restateSdk('agentObject');
    if (error instanceof CancelledError) {
      // Cancelled (busy: 'interrupt', or unsubscribe with `admin`): the run counts and its memory writes are kept, as embedded.
      ctx.set<StoredKeyState>(STATE_KEY, { seq, memory: run?.shortTermMemory.toJSON() ?? stored.memory });
      throw error;
    }
    if (error instanceof TerminalError) throw error;
    // The run failed: count it (run numbers stay unique), keep memory as it was, end the invocation for good.
    ctx.set<StoredKeyState>(STATE_KEY, { seq, memory: stored.memory });
    const e = error instanceof Error ? error : new Error(String(error));
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'ERR_UNKNOWN';
    throw new TerminalError(e.message, {
      errorCode: 500,
      metadata: { 'rx-agents-name': e.name, 'rx-agents-code': code },
    });
  }
}
