import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { MemoryValue } from '../context/memory-ref';
import {
  CallbackError,
  JournalCorruptError,
  JournalValueError,
  NonDeterminismError,
  StoreUnavailableError,
  StoreWriteError,
  describe,
  type JournalRow,
} from '../errors';
import { decodeValue, encodeError, encodeValue, fingerprint } from '../store/codec';
import { anchorShape } from './anchor-shape';
import { CommitPacer, type PacedCommit } from './commit-pacer';
import {
  CALL_FAILED,
  CALL_OK,
  CALL_STARTED,
  type AgentStore,
  type JournalBatch,
  type JournalSnapshot,
  type JournaledCall,
  type JournaledInput,
  type RunEnd,
} from '../store/store';
import { describeKey } from '../describe-key';
import {
  NEW_PARKED,
  NO_SIGNALS,
  RECONCILE,
  RUN,
  TIMED_OUT,
  type Durability,
  type JournalCall,
  type ParkedReplay,
  type Recovered,
  type RecoveredSignals,
  type Replay,
} from './durability';
import { checkValue, type MemoryNode } from './memory';
import { isVirtualTime } from './virtual-time';

/** What the journal needs from the runtime that owns it. */
export interface JournalHost {
  readonly scheduler: SchedulerLike;
  /** Fails the stream (a store write failed). */
  fail(error: unknown): void;
  /** Runs a user callback; a throw fails the stream. */
  callback(name: string, fn: () => void): void;
}

/** Options of a journal (from the operator's options). */
export interface JournalOptions {
  readonly onAccepted: ((input: never, seq: number) => void) | undefined;
  readonly position: ((input: never) => unknown) | undefined;
  /** Commit at once when this many rows are waiting, without waiting for the tick. @default 4096 */
  readonly maxBatch?: number;
  /** The agent's `upgradeCallIds`: applied to every journaled call id at restore. */
  readonly upgradeCallIds?: ((id: string) => string) | undefined;
}

/** `upgradeCallIds(id)`, guarded: a throw or a non-string is the agent's {@link CallbackError}. */
function upgradedId(upgrade: (id: string) => string, id: string): string {
  let now: unknown;
  try {
    now = upgrade(id);
  } catch (error) {
    throw new CallbackError('upgradeCallIds', error);
  }
  if (typeof now !== 'string')
    throw new CallbackError(
      'upgradeCallIds',
      new TypeError(`expected a call id (string) for \`${id}\`, got ${describe(now)}`),
    );
  return now;
}

/**
 * The journal that holds each agent's journal, per store (one writer per journal, in this process).
 * An entry stays until its journal is released: closed, its last commit settled, the store's lock released.
 */
const held = new WeakMap<AgentStore, Map<string, Journal>>();

/**
 * The runtime side of durability (S13), one per subscription: records accepted inputs, call
 * outcomes and run ends, and commits them to the store in groups — one commit per scheduler
 * tick (or per `maxBatch` rows), never one per call. On start it replays the store's journal:
 * unfinished inputs come back in sequence order, and asked about a call ({@link replay}) it
 * answers with the recorded outcome, which the runtime then applies: the journal only reads the
 * runtime's objects, it never writes into them.
 *
 * Guarantees: an input is acknowledged (`onAccepted`) only after the commit holding it; a call
 * with a reconciler runs only after its `started` marker is committed (so a crash leaves it
 * in doubt, not forgotten); a run's end and its key's memory are committed together, after every
 * outcome of that run (commits apply in order).
 */
export class Journal implements Durability {
  nextSeq = 0;
  private inputs: JournaledInput[] = [];
  private calls: JournaledCall[] = [];
  /** Outcomes recorded since the last commit ({@link settled}); a commit with nothing waiting on it holds them back once. */
  private outcomes: Outcome[] = [];
  /** Outcomes held back by the last commit: the next one writes them (unless their run has ended by then). */
  private held: Outcome[] = [];
  private ends: RunEnd[] = [];
  private acks: Array<{ readonly input: unknown; readonly seq: number }> = [];
  private durableWaiters: Array<() => void> = [];
  /** Notifications that name a sequence number no commit recorded yet (see {@link skipped}). */
  private reports: Array<() => void> = [];
  private position: string | undefined;
  /** The position of the input {@link encodeInput} just checked, until {@link accepted} takes it. */
  private encodedPosition: string | undefined;
  private rows = 0;
  /** Runs accepted in the waiting batch, and those of them that already ended: their rows are left out. */
  private batchSeqs = new Set<number>();
  private elided = new Set<number>();
  /** Runs that ended in the waiting batch: their calls in it are left out (the end prunes them anyway). */
  private endedSeqs = new Set<number>();
  /** Unfinished runs with call rows in the store (committed or in flight): only their ends delete calls. */
  private readonly storedCalls = new Set<number>();
  /** Runs of the waiting batch dropped before their acknowledgement (drop-oldest): no `onAccepted` for them. */
  private withdrawnSeqs: Set<number> | null = null;
  private tick: Subscription | PacedCommit | null = null;
  /** The pending {@link tick} is a relaxed one (nobody waited when it was armed): an acknowledgement arriving makes it urgent. */
  private relaxed = false;
  /** `commitDelay: 'auto'` in real time: when commits are made (else fixed windows of {@link delay} scheduler ms). */
  private readonly pacer: CommitPacer | null;
  private readonly delay: number;
  private committing: Promise<void> | null = null;
  private closed = false;
  /** A commit failed: nothing more is written (a later batch must never land without an earlier one). */
  private broken = false;
  /** Callbacks waiting until no commit is in flight and nothing writable waits. */
  private idleWaiters: Array<() => void> = [];
  /** The store's cross-process lock is held ({@link AgentStore.acquire}); `released`: this journal let go. */
  private acquired = false;
  private released = false;
  private releaseWaiters: Array<() => void> = [];
  /** The previous writer of this journal in this process, still committing its last batch when this one started. */
  private readonly previous: Journal | undefined;
  private readonly recorded = new Map<number, Map<string, JournaledCall>>();
  private readonly memory = new Map<string, string>();
  private readonly maxBatch: number;
  /** The `nextSeq` of the last batch handed to the store (or loaded): a batch that would change nothing is not committed. */
  private committedSeq = -1;

  constructor(
    readonly store: AgentStore,
    readonly agent: string,
    private readonly host: JournalHost,
    private readonly options: JournalOptions,
  ) {
    let holders = held.get(store);
    if (holders === undefined) held.set(store, (holders = new Map()));
    const previous = holders.get(agent);
    if (previous !== undefined && !previous.closed) {
      throw new StoreUnavailableError(
        `The journal of agent \`${agent}\` in store \`${store.location}\` is already used by a live subscription; ` +
          'one journal has one writer. Unsubscribe the other one first, or give this operator another agent name.',
      );
    }
    // A closed previous writer may still be committing its last batch: load only after it (see load()).
    this.previous = previous;
    holders.set(agent, this);
    this.maxBatch = options.maxBatch ?? 4096;
    const delay = store.commitDelay ?? 0;
    // Virtual time has no wall clock to pace by: 'auto' is a fixed window of one frame there (deterministic marbles).
    this.pacer = delay === 'auto' && !isVirtualTime(host.scheduler) ? new CommitPacer() : null;
    this.delay = delay === 'auto' ? 1 : delay;
  }

  /**
   * Reads the journal for recovery: after the previous writer in this process has released it,
   * and after taking the store's cross-process lock ({@link AgentStore.acquire}, which throws
   * {@link StoreUnavailableError} while another process holds it).
   */
  load(): JournalSnapshot | Promise<JournalSnapshot> {
    const previous = this.previous;
    if (previous !== undefined && !previous.released)
      return new Promise<void>((resolve) => previous.releaseWaiters.push(resolve)).then(() => this.lockAndLoad());
    return this.lockAndLoad();
  }

  private lockAndLoad(): JournalSnapshot | Promise<JournalSnapshot> {
    if (this.closed) return new Promise<JournalSnapshot>(() => undefined); // unsubscribed while waiting: never load
    const acquiring = this.store.acquire?.(this.agent);
    return isPromise(acquiring) ? Promise.resolve(acquiring).then(() => this.locked()) : this.locked();
  }

  private locked(): JournalSnapshot | Promise<JournalSnapshot> {
    this.acquired = this.store.acquire !== undefined;
    if (this.released) this.releaseLock(); // closed while acquiring: let go at once
    const snapshot = this.store.load(this.agent);
    return isPromise(snapshot) ? Promise.resolve(snapshot) : snapshot; // a native Promise, whatever the store's
  }

  /**
   * Applies a loaded snapshot; returns the unfinished inputs to run again, in sequence order. An
   * input row that cannot be read comes back with `error` ({@link JournalCorruptError}) instead:
   * that run fails, the others go on.
   */
  restore(snapshot: JournalSnapshot): Recovered[] {
    this.nextSeq = snapshot.nextSeq;
    this.committedSeq = snapshot.nextSeq;
    const upgrade = this.options.upgradeCallIds;
    for (const call of snapshot.calls) {
      let calls = this.recorded.get(call.seq);
      if (calls === undefined) this.recorded.set(call.seq, (calls = new Map()));
      calls.set(upgrade === undefined ? call.id : upgradedId(upgrade, call.id), call);
      this.storedCalls.add(call.seq);
    }
    for (const { key, data } of snapshot.memory) this.memory.set(key, data);
    return snapshot.inputs.map(({ seq, input }) => {
      try {
        return { seq, input: this.decode(input, { table: 'inputs', seq }) };
      } catch (error) {
        return { seq, input: undefined, error: error as JournalCorruptError };
      }
    });
  }

  /** Decodes the text of one journal row; throws {@link JournalCorruptError} naming the row if it is not journal text. */
  private decode(text: string | null, row: JournalRow, decoder: (text: string) => unknown = decodeValue): unknown {
    try {
      if (typeof text !== 'string') throw new TypeError(`expected encoded text, found ${describe(text)}`);
      return decoder(text);
    } catch (cause) {
      throw new JournalCorruptError(this.agent, this.store.location, row, describe(cause), { cause });
    }
  }

  /** The recorded short-term memory of `key`, taken once (the runtime owns it from then on). */
  takeMemory(key: unknown): Record<string, MemoryValue> | undefined {
    if (this.memory.size === 0) return undefined;
    const encoded = encodeKey(key);
    const data = this.memory.get(encoded);
    if (data === undefined) return undefined;
    this.memory.delete(encoded);
    const row: JournalRow = { table: 'memory', key: encoded };
    const value = this.decode(data, row);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new JournalCorruptError(
        this.agent,
        this.store.location,
        row,
        `short-term memory must be an object of named entries, found ${describe(value)}`,
      );
    try {
      return checkValue(value, '(restored)') as Record<string, MemoryValue>;
    } catch (cause) {
      throw new JournalCorruptError(this.agent, this.store.location, row, describe(cause), { cause });
    }
  }

  /**
   * Checks that an input, its key and its source position can be journaled; returns the encoded
   * input (the encoded position is kept for {@link accepted}, which follows at once). Throws
   * {@link JournalValueError}, or {@link CallbackError} if the `position` callback throws: that
   * input's run fails under the error policy, before anything of it is journaled.
   */
  encodeInput(input: unknown, key: unknown, seq: number): string {
    encodeKey(key);
    const encoded = encodeValue(input, () => `the input of run ${seq}`);
    const fn = this.options.position;
    if (fn !== undefined) {
      let position: unknown;
      try {
        position = fn(input as never);
      } catch (error) {
        throw new CallbackError('position', error);
      }
      this.encodedPosition = encodeValue(position, () => `the position of the input of run ${seq}`);
    }
    return encoded;
  }

  /** An input was accepted as run `seq`: write it ahead; acknowledge it after the commit. */
  accepted(seq: number, input: unknown, encoded: string | undefined): void {
    if (encoded === undefined) return; // a recovered input: journaled already
    this.inputs.push({ seq, input: encoded });
    this.batchSeqs.add(seq);
    if (this.encodedPosition !== undefined) {
      this.position = this.encodedPosition;
      this.encodedPosition = undefined;
    }
    if (this.options.onAccepted !== undefined) this.acks.push({ input, seq });
    this.nextSeq = seq + 1;
    this.written();
  }

  /** See {@link Durability.unacknowledged}: its input has not been handed to a commit yet. */
  unacknowledged(seq: number): boolean {
    return this.batchSeqs.has(seq) && !this.elided.has(seq);
  }

  /** See {@link Durability.withdrawn}. */
  withdrawn(seq: number): void {
    this.elided.add(seq); // its row is left out of the batch
    (this.withdrawnSeqs ??= new Set()).add(seq); // and it is never acknowledged
    this.written();
  }

  /**
   * Run `seq` was handed out but its input was not journaled (its key selector threw, or it
   * cannot be journaled). The next commit records `seq` as used, so no input gets it again after a
   * restart; `report` (the notification that names `seq`) runs once that commit is durable.
   */
  skipped(seq: number, report?: () => void): void {
    this.nextSeq = seq + 1;
    if (report !== undefined) this.reports.push(report);
    this.written();
  }

  /**
   * Replay: the outcome of `call` if it is recorded (`settled`, without running it); `reconcile`
   * if only its start is recorded and it has a reconciler; a {@link NonDeterminismError} outcome if
   * the recorded call at its position is a different one; else `run`.
   */
  replay(seq: number, call: JournalCall): Replay {
    const calls = this.recorded.get(seq);
    const entry = calls?.get(call.id);
    if (entry === undefined) return RUN;
    const now = fingerprint(call.fn, call.args);
    if (entry.fingerprint !== now)
      return { kind: 'settled', ok: false, value: new NonDeterminismError(call.id, entry.fingerprint, now) };
    if (entry.state === CALL_STARTED) return call.options?.reconcile !== undefined ? RECONCILE : RUN;
    // A row that cannot be read settles the call with a JournalCorruptError naming it (the run fails, not the agent).
    const ok = entry.state === CALL_OK;
    try {
      return {
        kind: 'settled',
        ok,
        value: this.decode(entry.value, { table: 'calls', seq, id: call.id }, decodeValue),
      };
    } catch (error) {
      return { kind: 'settled', ok: false, value: error };
    }
  }

  /** A call with a reconciler is about to start: its start must be durable first. Calls `run` once it is. */
  starting(seq: number, call: JournalCall, run: () => void): void {
    this.calls.push({
      seq,
      id: call.id,
      fingerprint: fingerprint(call.fn, call.args),
      state: CALL_STARTED,
      value: null,
    });
    this.durableWaiters.push(run);
    this.rows++;
    this.flush();
  }

  // ---- S14: parked calls (waits, timers) and signals ------------------------------------

  /** A parked call (wait or timer) starts: its absolute deadline (`null`: none) is recorded as its start. */
  parked(seq: number, call: JournalCall, deadline: number | undefined): void {
    this.calls.push({
      seq,
      id: call.id,
      fingerprint: fingerprint(call.fn, call.args),
      state: CALL_STARTED,
      value: encodeValue(deadline ?? null, () => `the deadline of \`${call.id}\``),
    });
    this.written();
  }

  /**
   * Replay of a parked call (ask, then the runtime acts): `new`, `parked` with the absolute
   * deadline recorded when it first parked (a restart keeps it), `timed-out` (the runtime fires
   * the same typed timeout again), or `settled` with the recorded outcome.
   */
  replayParked(seq: number, call: JournalCall): ParkedReplay {
    const entry = this.recorded.get(seq)?.get(call.id);
    if (entry === undefined) return NEW_PARKED;
    const same = entry.fingerprint === fingerprint(call.fn, call.args);
    if (
      same &&
      entry.state === CALL_FAILED &&
      (decodeValue(entry.value as string) as { code?: unknown } | null)?.code === 'ERR_WAIT_TIMEOUT'
    )
      return TIMED_OUT;
    if (entry.state !== CALL_STARTED || !same) return this.replay(seq, call) as ParkedReplay;
    const deadline = entry.value === null ? null : (decodeValue(entry.value) as number | null);
    return { kind: 'parked', deadline: deadline ?? undefined };
  }

  /** A signal arrived for run `seq`: written ahead, so it survives a crash before a wait consumes it. */
  signalled(seq: number, id: string, type: string, payload: unknown): void {
    this.calls.push({
      seq,
      id,
      fingerprint: SIGNAL,
      state: CALL_OK,
      value: encodeValue({ type, payload }, () => `the payload of signal \`${id}\``),
    });
    this.written();
  }

  /**
   * Recovery: the signals journaled for run `seq` that no recorded wait consumed, in arrival
   * order, and how many signals the run had received (to number the next ones).
   */
  takeSignals(seq: number): RecoveredSignals {
    const calls = this.recorded.get(seq);
    if (calls === undefined) return NO_SIGNALS;
    const consumed = new Set<string>();
    const signals: Array<{ id: string; type: string; payload: unknown; n: number }> = [];
    for (const entry of calls.values()) {
      if (entry.fingerprint === SIGNAL && entry.value !== null) {
        const { type, payload } = decodeValue(entry.value) as { type: string; payload: unknown };
        signals.push({ id: entry.id, type, payload, n: Number(entry.id.slice(entry.id.lastIndexOf('#') + 1)) });
      } else if (entry.state === CALL_OK && entry.fingerprint.startsWith(WAIT_PREFIX) && entry.value !== null) {
        const event = decodeValue(entry.value) as { id?: unknown } | null;
        if (typeof event?.id === 'string') consumed.add(event.id);
      }
    }
    signals.sort((a, b) => a.n - b.n);
    return {
      events: signals.filter((s) => !consumed.has(s.id)).map(({ id, type, payload }) => ({ id, type, payload })),
      count: signals.length === 0 ? 0 : (signals[signals.length - 1] as { n: number }).n + 1,
    };
  }

  /** Runs `fn` once everything written so far is committed (at once if it already is). */
  afterCommit(fn: () => void): void {
    if (this.rows === 0 && this.committing === null) return fn();
    // Waiters run when the next batch commits (group commit: the tick, not at once); counting a row makes sure there is one.
    this.durableWaiters.push(fn);
    this.written();
  }

  /**
   * A call settled for real (not from the journal): record its outcome. Throws
   * {@link JournalValueError} if the value cannot be journaled faithfully.
   */
  settled(seq: number, call: JournalCall): void {
    const ok = call.fulfilled;
    const value = call.value;
    // A primitive value and primitive arguments cannot change, nor fail to encode: they are encoded only if a commit writes them.
    const text = ok
      ? primitive(value)
        ? undefined
        : encodeValue(value, () => `the result of call \`${call.id}\``)
      : encodeError(call.error);
    const args = call.args;
    let print: string | undefined;
    for (let i = 0; i < args.length; i++)
      if (!primitive(args[i])) {
        print = fingerprint(call.fn, args);
        break;
      }
    this.outcomes.push(new Outcome(seq, call.id, ok ? CALL_OK : CALL_FAILED, call.fn, args, print, value, text));
    this.written();
  }

  /** Run `seq` ended: prune it, and save its key's memory if the run changed it. */
  ended(seq: number, key: unknown, memory: MemoryNode | undefined, changed: boolean): void {
    this.recorded.delete(seq);
    let data: string | null | undefined;
    if (changed)
      data =
        memory === undefined || memory.size === 0
          ? null
          : encodeValue(memory.toJSON(), () => `the memory of key \`${describeKey(key)}\``);
    // A run accepted and ended within one batch is committed as its end alone (atomically with its memory).
    const prune = !this.batchSeqs.has(seq);
    if (!prune) this.elided.add(seq);
    this.endedSeqs.add(seq);
    const calls = this.storedCalls.delete(seq);
    this.ends.push(
      prune && !calls
        ? { seq, prune, calls, key: changed ? encodeKey(key) : '', memory: data }
        : { seq, prune, key: changed ? encodeKey(key) : '', memory: data },
    );
    this.written();
  }

  private written(): void {
    if (++this.rows >= this.maxBatch) this.flush();
    else if (this.closed) return;
    else if (this.tick === null) this.arm();
    else if (this.relaxed && this.waited() && this.pacer !== null) {
      this.relaxed = false;
      this.tick = this.pacer.urge(this.tick);
    }
  }

  /** Somebody waits for the next commit: an acknowledgement, a durable waiter, a report. */
  private waited(): boolean {
    return this.acks.length > 0 || this.durableWaiters.length > 0 || this.reports.length > 0;
  }

  /** Schedules the next commit (see {@link CommitPacer} for `commitDelay: 'auto'`). */
  private arm(): void {
    const flush = this.flushTick;
    if (this.pacer === null) this.tick = this.host.scheduler.schedule(flush, this.delay);
    else {
      const urgent = this.waited();
      this.relaxed = !urgent;
      this.tick = this.pacer.arm(flush, urgent);
    }
  }

  private readonly flushTick = (): void => this.flush();

  /**
   * Group commit: writes everything waiting as one batch (chained after a commit still in flight).
   * Outcomes of runs still running are held back for one commit when nothing waits on this one (no
   * reconciled start, no `afterCommit`, not draining): most runs end by the next commit, and then
   * their outcomes are never written (the end prunes them anyway). An outcome is so committed at
   * most two commit windows after it settled, instead of one.
   */
  flush(force = false): void {
    this.tick?.unsubscribe();
    this.tick = null;
    if (this.committing !== null || this.rows === 0 || this.broken) return;
    const elided = this.elided;
    const ended = this.endedSeqs;
    const keep = (c: { readonly seq: number }): boolean => !ended.has(c.seq);
    const hold = !force && !this.closed && this.durableWaiters.length === 0;
    let calls = ended.size === 0 ? this.calls : this.calls.filter(keep);
    const held = ended.size === 0 ? this.held : this.held.filter(keep);
    let outcomes = ended.size === 0 ? this.outcomes : this.outcomes.filter(keep);
    // A run's journal stays a prefix of what it did: an outcome is never held back while a later
    // record of its run (a parked call's deadline, a reconciled start, a signal) is committed now —
    // otherwise a replay would run that call again before a step recorded after it (S13, S14).
    if (hold && outcomes.length > 0 && calls.length > 0) {
      const recorded = new Set<number>();
      for (let i = 0; i < calls.length; i++) recorded.add((calls[i] as JournaledCall).seq);
      const now = outcomes.filter((o) => recorded.has(o.seq));
      if (now.length > 0) {
        calls = calls.concat(now.map(toCall));
        outcomes = outcomes.filter((o) => !recorded.has(o.seq));
      }
    }
    if (held.length > 0) calls = held.map(toCall).concat(calls);
    if (!hold && outcomes.length > 0) calls = calls.concat(outcomes.map(toCall));
    this.held = hold ? outcomes : [];
    this.outcomes = [];
    for (let i = 0; i < calls.length; i++) this.storedCalls.add((calls[i] as JournaledCall).seq);
    const batch: JournalBatch = {
      nextSeq: this.nextSeq,
      position: this.position,
      inputs: elided.size === 0 ? this.inputs : this.inputs.filter((i) => !elided.has(i.seq)),
      calls,
      ends: this.ends.length > 1 ? lastMemoryOnly(this.ends) : this.ends,
    };
    if (this.batchSeqs.size > 0) this.batchSeqs = new Set();
    if (elided.size > 0) this.elided = new Set();
    const withdrawn = this.withdrawnSeqs;
    this.withdrawnSeqs = null;
    if (ended.size > 0) this.endedSeqs = new Set();
    const acks = withdrawn === null ? this.acks : this.acks.filter((a) => !withdrawn.has(a.seq));
    const waiters = this.durableWaiters;
    const reports = this.reports;
    this.inputs = [];
    this.calls = [];
    this.ends = [];
    this.acks = [];
    this.durableWaiters = [];
    if (reports.length > 0) this.reports = [];
    this.position = undefined;
    this.rows = this.held.length;
    if (this.rows > 0 && !this.closed) this.arm();
    // Only outcomes were waiting, and all are held back: there is nothing to commit this time.
    if (
      calls.length === 0 &&
      batch.inputs.length === 0 &&
      batch.ends.length === 0 &&
      batch.position === undefined &&
      batch.nextSeq === this.committedSeq &&
      acks.length === 0 &&
      waiters.length === 0 &&
      reports.length === 0
    )
      return;
    this.committedSeq = batch.nextSeq;
    let result: void | Promise<void>;
    const pacer = this.pacer;
    const start = pacer === null ? 0 : performance.now();
    try {
      result = this.store.commit(this.agent, batch);
    } catch (error) {
      return this.writeFailed(error);
    }
    if (!isPromise(result)) {
      pacer?.committed(start, performance.now());
      return this.committed(acks, waiters, reports);
    }
    pacer?.forget();
    this.committing = Promise.resolve(result).then(
      () => {
        this.committing = null;
        this.committed(acks, waiters, reports);
        if (this.rows > 0) this.flush();
        this.settle();
      },
      (error: unknown) => {
        this.committing = null;
        this.writeFailed(error);
      },
    );
  }

  private committed(
    acks: ReadonlyArray<{ readonly input: unknown; readonly seq: number }>,
    waiters: ReadonlyArray<() => void>,
    reports: ReadonlyArray<() => void>,
  ): void {
    const onAccepted = this.options.onAccepted;
    if (onAccepted !== undefined)
      for (const { input, seq } of acks) this.host.callback('onAccepted', () => onAccepted(input as never, seq));
    for (const report of reports) report();
    if (!this.closed) for (const run of waiters) run();
  }

  /** A commit failed: stop writing and fail the stream. */
  private writeFailed(error: unknown): void {
    this.broken = true;
    this.host.fail(new StoreWriteError(this.agent, error));
    this.settle();
  }

  /** Idle: no commit in flight and nothing left that may still be written. */
  private get idle(): boolean {
    return this.committing === null && (this.rows === 0 || this.broken);
  }

  /** Wakes what waits for idleness. */
  private settle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const fn of waiters) fn();
  }

  private whenIdle(fn: () => void): void {
    if (this.idle) fn();
    else this.idleWaiters.push(fn);
  }

  /**
   * The stream is about to complete: commits everything waiting now and calls `done` once every
   * write of this subscription is committed (synchronously with a synchronous store). If a commit
   * fails, `done` is never called: the stream fails with {@link StoreWriteError} instead.
   */
  drain(done: () => void): void {
    this.flush(true);
    this.whenIdle(() => {
      if (!this.broken) done();
    });
  }

  /**
   * The subscription ends: commit what is waiting (outcomes already recorded are real), then —
   * once that last commit has settled — release the journal (the in-process writer slot and
   * the store's lock), so a next writer never loads before it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.durableWaiters = [];
    try {
      this.flush();
    } finally {
      this.whenIdle(() => this.release());
    }
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseLock();
    const holders = held.get(this.store);
    if (holders?.get(this.agent) === this) holders.delete(this.agent);
    const waiters = this.releaseWaiters;
    this.releaseWaiters = [];
    for (const fn of waiters) fn();
  }

  private releaseLock(): void {
    if (!this.acquired) return;
    this.acquired = false;
    // The stream has ended, so a failed release has nobody to be reported to; the store's close() releases its locks too.
    try {
      const releasing = this.store.release?.(this.agent);
      if (isPromise(releasing)) releasing.then(undefined, () => undefined);
    } catch {
      // see above
    }
  }
}

/**
 * An outcome as {@link Journal.settled} recorded it. A primitive value and primitive arguments are
 * encoded (the text and the fingerprint) only when a commit writes the outcome: most outcomes are
 * never written, because their run ends first. Objects are encoded at once: checked when the call
 * settles, and as they were then.
 */
class Outcome {
  constructor(
    readonly seq: number,
    readonly id: string,
    readonly state: typeof CALL_OK | typeof CALL_FAILED,
    private readonly fn: JournalCall['fn'],
    private readonly args: readonly unknown[],
    private readonly print: string | undefined,
    private readonly value: unknown,
    private readonly text: string | undefined,
  ) {}

  /** The journal row. */
  toCall(): JournaledCall {
    return {
      seq: this.seq,
      id: this.id,
      fingerprint: this.print ?? fingerprint(this.fn, this.args),
      state: this.state,
      value: this.text ?? encodeValue(this.value, this.id),
    };
  }
}

const toCall = (outcome: Outcome): JournaledCall => outcome.toCall();

/** A value that cannot change and always encodes: a string, a number, a boolean or `null`. */
function primitive(value: unknown): boolean {
  const type = typeof value;
  return type === 'number' || type === 'string' || type === 'boolean' || value === null;
}

/**
 * The ends of one batch with only the last memory write per key: a key's memory is replaced as a
 * whole, so an earlier write in the same commit would be overwritten anyway. An end left with
 * nothing to do (nothing to prune, no memory) is dropped.
 */
function lastMemoryOnly(ends: readonly RunEnd[]): RunEnd[] {
  const keys = new Set<string>();
  const out: RunEnd[] = [];
  for (let i = ends.length - 1; i >= 0; i--) {
    const end = ends[i] as RunEnd;
    if (end.memory === undefined || !keys.has(end.key)) {
      if (end.memory !== undefined) keys.add(end.key);
      out.push(end);
    } else if (end.prune) out.push({ ...end, memory: undefined });
  }
  return out.reverse();
}

/** The fingerprint of a journaled signal row; waits are calls of the function named `rx-agents.waitForEvent`. */
const SIGNAL = 'rx-agents.signal';
const WAIT_PREFIX = 'rx-agents.waitForEvent/';

/** Store methods may answer with a value or a Promise; any thenable counts (a store may bring its own Promise library). */
function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** Keys are journaled by value: strings, finite numbers, booleans, null or undefined (the default single key). */
function encodeKey(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return `s${key}`;
    case 'number':
      if (Number.isFinite(key)) return `n${Object.is(key, -0) ? 0 : key}`;
      break;
    case 'boolean':
      return key ? 'true' : 'false';
    case 'undefined':
      return 'u';
  }
  if (key === null) return 'null';
  throw new JournalValueError(
    'a key',
    '(key)',
    `${typeof key === 'object' ? 'an object' : `a ${typeof key}`} (\`${describeKey(key)}\`) cannot identify a key across restarts; return a string or a number from the key selector`,
  );
}

/**
 * Shape anchors of the journal (see lib/runtime/shape-anchor.ts): a dormant, closed journal over a
 * store that holds nothing, and a dormant outcome. A journal lives as long as its subscription, so
 * between subscriptions (a benchmark round, an operator re-subscribed after an idle gap) no instance
 * would be alive at a full GC: V8 would drop its maps and, with them, the optimized code of every
 * runtime function that inlined a journal call (run start and end, outputs, call settling, memory),
 * and compile it all again on the next burst.
 */
function dormantJournal(): Journal {
  const store: AgentStore = Object.freeze({
    location: 'rx-agents/dormant',
    commitDelay: 'auto' as const,
    load: (): JournalSnapshot => ({ nextSeq: 0, position: undefined, inputs: [], calls: [], memory: [] }),
    commit: () => undefined,
    close: () => undefined,
  });
  const ignore = (): void => undefined;
  const journal = new Journal(
    store,
    'rx-agents/dormant',
    { scheduler: asyncScheduler, fail: ignore, callback: ignore },
    { onAccepted: undefined, position: undefined, upgradeCallIds: undefined },
  );
  journal.close();
  return journal;
}
anchorShape(dormantJournal());
anchorShape(new Outcome(0, '', CALL_OK, ignoreCall, [], undefined, null, undefined));
function ignoreCall(): void {}
