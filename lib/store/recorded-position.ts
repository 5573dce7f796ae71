import { JournalCorruptError, describe } from '../errors';
import { decodeValue } from './codec';
import type { AgentStore } from './store';

/**
 * The source position of the last input of `agent` that the store holds as accepted (see the
 * operator's `position` option), or `undefined` if none was recorded. Resume the source after it.
 *
 * Semantics: inputs are written ahead in acceptance order and each commit saves the position of
 * its last input, so every input at or before this position is durable: it will be (or was)
 * processed, and re-reading the source from the next position loses and repeats nothing.
 *
 * @example
 * const store = sqliteStore('agents.db');
 * const last = await recordedPosition(store, agent.name); // e.g. 41
 * fromOffset(last === undefined ? 0 : Number(last) + 1)
 *   .pipe(agentOperator(agent, { store, position: (m) => m.offset }))
 */
export async function recordedPosition(store: AgentStore, agent: string): Promise<string | number | undefined> {
  const snapshot = await store.load(agent);
  if (snapshot.position === undefined) return undefined;
  try {
    return decodeValue(snapshot.position) as string | number;
  } catch (cause) {
    throw new JournalCorruptError(agent, store.location, { table: 'agents' }, `the position: ${describe(cause)}`, {
      cause,
    });
  }
}
