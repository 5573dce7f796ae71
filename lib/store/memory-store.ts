import { StoreUnavailableError } from '../errors';
import type { AgentStore, JournalBatch, JournalSnapshot, JournaledCall, JournaledInput } from './store';

interface AgentJournal {
  nextSeq: number;
  position: string | undefined;
  readonly inputs: Map<number, JournaledInput>;
  readonly calls: Map<number, Map<string, JournaledCall>>;
  readonly memory: Map<string, string>;
}

/** An in-process store: what {@link memoryStore} returns, plus a look at its size. */
export interface MemoryStore extends AgentStore {
  /** Rows held for `agent` (inputs of unfinished runs, their calls, keys with memory): shows retention at work. */
  size(agent: string): { readonly inputs: number; readonly calls: number; readonly keys: number };
}

/**
 * A store that keeps journals in process memory. It survives unsubscribing and subscribing
 * again (a "restart" inside one process), not a process crash: use it in tests, and
 * {@link sqliteStore} for durability. It stores the same encoded text a durable store does, so
 * replay behaves exactly as it would after a real restart.
 *
 * Semantics: commits apply at once and atomically (the runtime still groups writes per
 * scheduler tick, so acknowledgements arrive one tick later, in virtual time under a
 * TestScheduler). `close()` drops every journal.
 *
 * @example
 * const store = memoryStore();
 * inputs$.pipe(agentOperator(agent, { store }));
 */
export function memoryStore(): MemoryStore {
  const journals = new Map<string, AgentJournal>();
  let closed = false;
  const journal = (agent: string): AgentJournal => {
    if (closed) throw new StoreUnavailableError('This memoryStore was closed; create a new one.');
    let j = journals.get(agent);
    if (j === undefined) {
      j = { nextSeq: 0, position: undefined, inputs: new Map(), calls: new Map(), memory: new Map() };
      journals.set(agent, j);
    }
    return j;
  };
  return {
    location: 'memory',
    load(agent: string): JournalSnapshot {
      const j = journal(agent);
      return {
        nextSeq: j.nextSeq,
        position: j.position,
        inputs: [...j.inputs.values()].sort((a, b) => a.seq - b.seq),
        calls: [...j.calls.values()].flatMap((m) => [...m.values()]),
        memory: [...j.memory].map(([key, data]) => ({ key, data })),
      };
    },
    commit(agent: string, batch: JournalBatch): void {
      const j = journal(agent);
      j.nextSeq = batch.nextSeq;
      if (batch.position !== undefined) j.position = batch.position;
      for (const input of batch.inputs) j.inputs.set(input.seq, input);
      for (const call of batch.calls) {
        let calls = j.calls.get(call.seq);
        if (calls === undefined) j.calls.set(call.seq, (calls = new Map()));
        calls.set(call.id, call);
      }
      for (const end of batch.ends) {
        if (end.prune) {
          j.inputs.delete(end.seq);
          j.calls.delete(end.seq);
        }
        if (end.memory === null) j.memory.delete(end.key);
        else if (end.memory !== undefined) j.memory.set(end.key, end.memory);
      }
    },
    close(): void {
      closed = true;
      journals.clear();
    },
    size(agent: string) {
      const j = journal(agent);
      let calls = 0;
      for (const m of j.calls.values()) calls += m.size;
      return { inputs: j.inputs.size, calls, keys: j.memory.size };
    },
  };
}
