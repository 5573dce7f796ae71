import type { JournalCorruptError } from '../errors';
import type { AsyncCallOptions } from '../context/call';
import type { MemoryValue } from '../context/memory-ref';
import type { JournalSnapshot } from '../store/store';
import type { MemoryNode } from './memory';

/** What the journal reads of a call (it never writes into it). */
export interface JournalCall {
  /** Stable identity, `<activation id>#<call index>`. */
  readonly id: string;
  readonly fn: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
  readonly options: AsyncCallOptions | undefined;
  readonly fulfilled: boolean;
  readonly value: unknown;
  readonly error: unknown;
}

/**
 * What the journal answers when the runtime asks about a call before running it (S13): `run` it
 * (nothing recorded), `reconcile` it (started before a crash, no outcome, has a reconciler), or it
 * is `settled` with the recorded outcome (`ok`: a value, else an error) without running.
 */
export type Replay =
  | { readonly kind: 'run' }
  | { readonly kind: 'reconcile' }
  | { readonly kind: 'settled'; readonly ok: boolean; readonly value: unknown };

/** The answer for a call with nothing recorded: run it. */
export const RUN: Replay = Object.freeze({ kind: 'run' });
/** The answer for a call started before a crash, with no outcome and a reconciler: run the reconciler. */
export const RECONCILE: Replay = Object.freeze({ kind: 'reconcile' });

/** An unfinished input the journal hands back for recovery, decoded. */
export interface Recovered {
  readonly seq: number;
  readonly input: unknown;
  /** The input's row could not be read: that run fails with this error (the others go on). */
  readonly error?: JournalCorruptError;
}

/**
 * The runtime's durability seam (S13): the `Journal` (journal.ts) with a store, {@link noJournal}
 * without one — so the runtime asks the same questions either way and never checks for `null`.
 * The runtime asks, the journal answers, the runtime acts: a journal reads the runtime's objects
 * through {@link JournalCall} and never writes into them.
 *
 * @example
 * const replay = journal.replay(run.seq, call);
 * if (replay.kind === 'settled') call.resolveWith(replay.ok, replay.value, true); // not run again
 */
export interface Durability {
  /** Reads what there is to recover (an empty snapshot without a store). */
  load(): JournalSnapshot | Promise<JournalSnapshot>;
  /** Applies a loaded snapshot; returns the unfinished inputs to run again, in sequence order. */
  restore(snapshot: JournalSnapshot): readonly Recovered[];
  /** The next run sequence number to hand out after a restore. */
  readonly nextSeq: number;
  /** The recorded short-term memory of `key`, taken once. */
  takeMemory(key: unknown): Record<string, MemoryValue> | undefined;
  /** The encoded input, checked to be journalable (`undefined` without a store). Throws {@link JournalValueError}. */
  encodeInput(input: unknown, key: unknown, seq: number): string | undefined;
  /** Run `seq` was accepted with the encoded input (`undefined`: recovered, journaled already): write it ahead. */
  accepted(seq: number, input: unknown, encoded: string | undefined): void;
  /** Whether accepted run `seq` is not yet acknowledged: its input is still in the batch no commit has taken (always, without a store). */
  unacknowledged(seq: number): boolean;
  /** Accepted run `seq` is dropped before it was acknowledged: its input is left out of the batch and never acknowledged. */
  withdrawn(seq: number): void;
  /** Run `seq` was handed out without a journaled input; `report` runs once that is durable. */
  skipped(seq: number, report?: () => void): void;
  /** Asks about a call before it runs. */
  replay(seq: number, call: JournalCall): Replay;
  /** A call with a reconciler is about to start (not in doubt); `run` is called once its start is durable. */
  starting(seq: number, call: JournalCall, run: () => void): void;
  /** A call settled for real: record its outcome. Throws {@link JournalValueError}. */
  settled(seq: number, call: JournalCall): void;
  /** Run `seq` ended (or its accepted input was dropped): record it, with the key's memory if it changed. */
  ended(seq: number, key: unknown, memory: MemoryNode | undefined, changed: boolean): void;
  /** Calls `done` once every write is committed (at once without a store); never if a commit fails. */
  drain(done: () => void): void;
  /** The subscription ended. */
  close(): void;
  /** S14: a wait or timer parks: record its absolute deadline. Throws {@link JournalValueError}. */
  parked(seq: number, call: JournalCall, deadline: number | undefined): void;
  /** S14: asks about a wait or timer before it parks. */
  replayParked(seq: number, call: JournalCall): ParkedReplay;
  /** S14: a signal arrived for run `seq` (written ahead). Throws {@link JournalValueError}. */
  signalled(seq: number, id: string, type: string, payload: unknown): void;
  /** S14: recovery: the signals of run `seq` no recorded wait consumed, and how many it had. */
  takeSignals(seq: number): RecoveredSignals;
  /** Runs `fn` once everything written so far is committed (at once without a store). */
  afterCommit(fn: () => void): void;
}

/**
 * What the journal answers about a wait or timer before it parks (S14): it is `new` (park it with
 * its own deadline, and record it), `parked` before a crash (park it again with the recorded
 * absolute deadline), `timed-out` before a crash (fire its timeout again), or `settled`.
 */
export type ParkedReplay =
  | { readonly kind: 'new' }
  | { readonly kind: 'parked'; readonly deadline: number | undefined }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'settled'; readonly ok: boolean; readonly value: unknown };

export const NEW_PARKED: ParkedReplay = Object.freeze({ kind: 'new' });
export const TIMED_OUT: ParkedReplay = Object.freeze({ kind: 'timed-out' });

/** Signals journaled for a run and not consumed, in arrival order, and how many the run had received. */
export interface RecoveredSignals {
  readonly events: ReadonlyArray<{ readonly id: string; readonly type: string; readonly payload: unknown }>;
  readonly count: number;
}
export const NO_SIGNALS: RecoveredSignals = Object.freeze({ events: Object.freeze([]), count: 0 });

const EMPTY: JournalSnapshot = Object.freeze({
  nextSeq: 0,
  position: undefined,
  inputs: Object.freeze([]),
  calls: Object.freeze([]),
  memory: Object.freeze([]),
});

/** Durability without a store: nothing is recorded, nothing is replayed, everything counts as committed at once. */
export const noJournal: Durability = Object.freeze({
  nextSeq: 0,
  load: () => EMPTY,
  restore: () => [],
  takeMemory: () => undefined,
  encodeInput: () => undefined,
  accepted: () => undefined,
  unacknowledged: () => true,
  withdrawn: () => undefined,
  skipped: (_seq: number, report?: () => void) => report?.(),
  replay: () => RUN,
  starting: (_seq: number, _call: JournalCall, run: () => void) => run(),
  settled: () => undefined,
  ended: () => undefined,
  drain: (done: () => void) => done(),
  close: () => undefined,
  parked: () => undefined,
  replayParked: () => NEW_PARKED,
  signalled: () => undefined,
  takeSignals: () => NO_SIGNALS,
  afterCommit: (fn: () => void) => fn(),
});
