/**
 * The store contract (S13). A store keeps one journal per agent name; the runtime reads it once
 * when a subscription starts ({@link AgentStore.load}) and then only appends batches
 * ({@link AgentStore.commit}) — one per scheduler tick (group commit), each applied atomically.
 * Values arrive already encoded as text, so a store never needs to understand them; that keeps
 * the interface small enough for a server-backed store (Postgres, Redis, …) to implement.
 */

/** One accepted input, durable before it counts as accepted (the store is the write-ahead log). */
export interface JournaledInput {
  /** Run sequence number: unique per agent across restarts. */
  readonly seq: number;
  /** The input, encoded. */
  readonly input: string;
}

/** Call states in the journal. */
export const CALL_STARTED = 0;
export const CALL_OK = 1;
export const CALL_FAILED = 2;

/** The journal entry of one async call, under its stable identity (S13). */
export interface JournaledCall {
  /** The run it belongs to. */
  readonly seq: number;
  /** `<activation id>#<call index>`: derived from run, event and action, never from completion order. */
  readonly id: string;
  /** Function name + argument hash, to detect a different call at the same position on replay. */
  readonly fingerprint: string;
  /** 0 started (only calls with a reconciler), 1 fulfilled, 2 failed. */
  readonly state: 0 | 1 | 2;
  /** The encoded value or error; `null` while only started. */
  readonly value: string | null;
}

/** A run ended: its input and calls are pruned (retention); the key's memory is replaced. */
export interface RunEnd {
  readonly seq: number;
  /**
   * `false` when the run's input was accepted in this same batch: then none of its rows were
   * written (the batch leaves them out) and there is nothing to prune.
   */
  readonly prune: boolean;
  /**
   * `false` when no call of the run was written by an earlier batch (the batch leaves out the
   * calls of runs that end in it), so there are no call rows to delete. A store may ignore it and
   * delete anyway. @default true
   */
  readonly calls?: boolean;
  /** The encoded key, when `memory` is given. */
  readonly key: string;
  /** The key's short-term memory after the run, encoded; `null` deletes it; `undefined` leaves it unchanged. */
  readonly memory: string | null | undefined;
}

/** What one group commit writes, applied in this order and atomically. */
export interface JournalBatch {
  /** The next run sequence number to hand out. */
  readonly nextSeq: number;
  /** The source position of the last accepted input in this batch, encoded (see the `position` option). */
  readonly position: string | undefined;
  readonly inputs: readonly JournaledInput[];
  readonly calls: readonly JournaledCall[];
  readonly ends: readonly RunEnd[];
}

/** Everything a store holds for one agent: what recovery needs. */
export interface JournalSnapshot {
  readonly nextSeq: number;
  /** The encoded source position of the last durably accepted input, if positions are recorded. */
  readonly position: string | undefined;
  /** Inputs whose runs have not ended, in sequence order. */
  readonly inputs: readonly JournaledInput[];
  /** Calls of those runs. */
  readonly calls: readonly JournaledCall[];
  /** Short-term memory per encoded key. */
  readonly memory: ReadonlyArray<{ readonly key: string; readonly data: string }>;
}

/**
 * Where journals live. Implementations: {@link memoryStore} (in process) and {@link sqliteStore}
 * (a SQLite file). Methods may return Promises (a server-backed store); the runtime then waits for
 * `load` before processing inputs, chains commits in order, and completes its output only once the
 * last commit has resolved.
 *
 * Semantics: `commit` must apply a batch atomically and in call order, and must be durable when
 * it returns (or its Promise resolves) — acknowledgements (`onAccepted`) and calls with a
 * reconciler wait for it. `load` must return exactly what the committed batches leave.
 */
export interface AgentStore {
  /** For messages, e.g. the file path. */
  readonly location: string;
  /**
   * How long the runtime gathers writes before a group commit, in scheduler ms (0: the next
   * scheduler tick). A longer window means fewer, larger commits; inputs are acknowledged and
   * reconciled calls start at most this much later. `'auto'` adapts to the load in real time (see
   * `lib/runtime/commit-pacer.ts`: a commit somebody waits for at the next event-loop turn,
   * others after 1 ms or later when commits are expensive; one frame in virtual time). Runs never
   * wait for commits.
   * @default 0
   */
  readonly commitDelay?: number | 'auto';
  /**
   * Takes the single-writer lock of `agent`'s journal across processes, before `load`. Throws (or
   * rejects with) {@link StoreUnavailableError} while another live process holds it. A lock whose
   * owner died (crash, SIGKILL) must not block: it is free again. Optional: a store without it is
   * guarded within one process only.
   */
  acquire?(agent: string): void | Promise<void>;
  /** Releases the lock taken by `acquire`, after the subscription's last commit has settled. */
  release?(agent: string): void | Promise<void>;
  /** Reads the journal of `agent` (an empty one if there is none). */
  load(agent: string): JournalSnapshot | Promise<JournalSnapshot>;
  /** Appends one batch to the journal of `agent`, atomically. */
  commit(agent: string, batch: JournalBatch): void | Promise<void>;
  /** Releases the store's resources. The operator never closes a store: its creator does. */
  close(): void | Promise<void>;
}
