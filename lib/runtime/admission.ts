import { BufferOverflowError } from '../errors';
import { Fifo } from './fifo';

/** An input waiting for its key's previous run to end (the seed's `pendingInputEvents`). */
export interface Pending {
  readonly input: unknown;
  readonly seq: number;
  /** When it was accepted (`NaN` unless inspected). */
  readonly at: number;
}

/** What admission needs to know of a key's active run. */
export interface ActiveRun {
  readonly seq: number;
  readonly startedAt: number;
  /** Aborts the run (unsubscribe, stream failure). */
  abandon(reason: string): void;
}

/**
 * Per-key state. Exists only while the key has a run active or inputs waiting (S10). Admission
 * keeps the last freed one and gives it to the next new key (see {@link Admission.keyState}), so
 * `key` is the key only while the state is held: whoever needs a run's key after the run reads
 * `run.key`.
 */
export class KeyState {
  active: ActiveRun | null = null;
  /** Inputs waiting behind the active run, oldest first; `null` while none waits. */
  pending: Fifo<Pending> | null = null;
  /** When admission made it, in admission's count (keeps {@link Admission.keyStates} in the order keys came). */
  made = 0;
  constructor(public key: unknown) {}

  /** Takes the oldest waiting input. */
  shift(): Pending | undefined {
    const pending = this.pending;
    if (pending === null) return undefined;
    const next = pending.shift();
    if (pending.size === 0) this.pending = null;
    return next;
  }

  /** Takes the oldest waiting input that `matches`. */
  take(matches: (waiting: Pending) => boolean): Pending | undefined {
    const pending = this.pending;
    if (pending === null) return undefined;
    const taken = pending.take(matches);
    if (pending.size === 0) this.pending = null;
    return taken;
  }
}

/** Why an accepted or offered input did not run. */
export type DropReason = 'drop-newest' | 'drop-oldest' | 'aborted' | 'rejected' | 'superseded';

/** What admission asks of the runtime: to start a run. */
export interface AdmissionHost {
  /** Starts the run of `input` now; returns it (it becomes the key's active run). */
  startRun(ks: KeyState, input: unknown, seq: number, acceptedAt: number): ActiveRun;
}

/** What admission asks when the input buffer is full (the overflow policy's side effects; lib/runtime/busy-desk.ts). */
export interface OverflowHost {
  /**
   * Whether waiting run `seq` may still be dropped by `drop-oldest`: with a store, only while its
   * input is not acknowledged (`onAccepted` is promised once its commit is issued) — an acknowledged
   * input is never dropped.
   */
  droppable(seq: number): boolean;
  /** `dropped` was dropped to respect `maxBufferedInputs` (S10): report it, never silently. */
  dropped(dropped: Pending, key: unknown, reason: 'drop-newest' | 'drop-oldest'): void;
  /** The buffer overflowed under `overflow: 'error'`: the stream fails. */
  overflowed(error: BufferOverflowError): void;
}

/** Admission limits, from the operator's options. */
export interface AdmissionLimits {
  readonly maxBufferedInputs: number;
  readonly overflow: 'error' | 'drop-newest' | 'drop-oldest';
}

/**
 * Admission: which inputs run now, which wait, which are dropped (S1, S10). Holds the per-key
 * states, counts active runs and waiting inputs, and wakes pull sources when room frees up.
 *
 * Semantics: an input whose key is idle starts at once; else it waits (the busy policy), unless
 * `maxBufferedInputs` inputs already wait — then the overflow policy decides: `error` fails the
 * stream, `drop-newest` drops it, `drop-oldest` drops the key's oldest waiting input instead — with a
 * store, the oldest one not yet acknowledged (else the new one): an acknowledged input is never
 * dropped. Recovered inputs (S13) are never dropped. A key's state is freed once its last run ends.
 */
export class Admission {
  /** The keys with work, in the order their states were made — except {@link solo}. */
  private keys = new Map<unknown, KeyState>();
  /**
   * One key state kept out of {@link keys}: the state a new key gets while no other is held here.
   * A key whose runs end before another key arrives (sync agents: every run ends inside its
   * input's `accept`) is then found, made and freed without a Map insert and delete — measured as
   * the costliest Map work of the routing hot path (an insert plus a delete per input, ~0.1–0.2 µs).
   */
  private solo: KeyState | null = null;
  /**
   * The last freed key state (no run, nothing waiting, no key), given to the next new key: a sync
   * agent's run ends inside its input's `accept`, so without it every input made and dropped one.
   */
  private spare: KeyState | null = null;
  private made = 0;
  private buffered = 0;
  private activeRuns = 0;
  /** Pull sources waiting for room in the input buffer (see whenRoom). */
  private roomWaiters: Array<() => void> | null = null;
  private roomLimit = Infinity;

  constructor(
    private readonly host: AdmissionHost,
    private readonly overflow: OverflowHost,
    private readonly limits: AdmissionLimits,
  ) {}

  /** The keys with a run active or inputs waiting, in the order they came (read-only, for state snapshots). */
  get keyStates(): ReadonlyMap<unknown, KeyState> {
    const solo = this.solo;
    if (solo !== null) {
      // The held state joins the Map at its place in arrival order (rare: state snapshots and close).
      this.solo = null;
      const ordered = new Map<unknown, KeyState>();
      let placed = false;
      for (const [key, ks] of this.keys) {
        if (!placed && ks.made > solo.made) {
          ordered.set(solo.key, solo);
          placed = true;
        }
        ordered.set(key, ks);
      }
      if (!placed) ordered.set(solo.key, solo);
      this.keys = ordered;
    }
    return this.keys;
  }

  /** Nothing runs and nothing waits. */
  get idle(): boolean {
    return this.activeRuns === 0 && this.buffered === 0;
  }

  /** The key's state, made if it has none (then it is idle). */
  keyState(key: unknown): KeyState {
    const solo = this.solo;
    if (solo !== null && sameKey(solo.key, key)) return solo;
    let ks = this.keys.get(key);
    if (ks === undefined) {
      const spare = this.spare;
      if (spare === null) ks = new KeyState(key);
      else {
        this.spare = null;
        spare.key = key;
        ks = spare;
      }
      ks.made = this.made++;
      if (solo === null) this.solo = ks;
      else this.keys.set(key, ks);
    }
    return ks;
  }

  /** The key's active run, if it has one (S14: signals go to it). */
  activeRun(key: unknown): ActiveRun | null {
    const solo = this.solo;
    if (solo !== null && sameKey(solo.key, key)) return solo.active;
    return this.keys.get(key)?.active ?? null;
  }

  /** Starts run `seq` now: its key is idle. */
  start(ks: KeyState, input: unknown, seq: number, acceptedAt: number): void {
    ks.active = this.host.startRun(ks, input, seq, acceptedAt);
    this.activeRuns++;
  }

  /**
   * The key of run `seq` is busy and the buffer may be full: returns whether the input may wait
   * ({@link enqueue}); if not, it was dropped or the stream failed. `recovered` inputs always may.
   */
  hasRoomFor(ks: KeyState, input: unknown, seq: number, recovered: boolean): boolean {
    if (recovered || this.buffered < this.limits.maxBufferedInputs) return true;
    const policy = this.limits.overflow;
    const overflow = this.overflow;
    if (policy === 'error') {
      overflow.overflowed(new BufferOverflowError(this.limits.maxBufferedInputs));
      return false;
    }
    const oldest = policy === 'drop-oldest' ? ks.take((waiting) => overflow.droppable(waiting.seq)) : undefined;
    if (oldest !== undefined) {
      this.buffered--;
      overflow.dropped(oldest, ks.key, 'drop-oldest');
      return true;
    }
    overflow.dropped({ input, seq, at: NaN }, ks.key, 'drop-newest');
    return false;
  }

  /** Run `seq` waits behind its key's active run, in arrival order (S1); `at`: when it was accepted. The busy policies that do otherwise are in busy-desk.ts. */
  enqueue(ks: KeyState, input: unknown, seq: number, at: number): void {
    const waiting: Pending = { input, seq, at };
    if (ks.pending === null) ks.pending = new Fifo(waiting);
    else ks.pending.push(waiting);
    this.buffered++;
  }

  /** S15 `latest`: takes every input still waiting for the key (they are dropped by the caller). */
  takeWaiting(ks: KeyState): Pending[] {
    const taken: Pending[] = [];
    for (let p = ks.shift(); p !== undefined; p = ks.shift()) taken.push(p);
    this.buffered -= taken.length;
    return taken;
  }

  /** The key's active run ended: start its next input (S1, S7), or free the key (S10). */
  runEnded(ks: KeyState): void {
    ks.active = null;
    this.activeRuns--;
    const next = ks.shift();
    if (next !== undefined) {
      this.buffered--;
      this.start(ks, next.input, next.seq, next.at);
    } else {
      if (ks === this.solo) this.solo = null;
      else this.keys.delete(ks.key);
      ks.key = undefined; // the spare holds no user data
      this.spare = ks;
    }
    if (this.roomWaiters !== null && this.hasRoom()) this.wakeRoomWaiters();
  }

  /**
   * Backpressure for pull sources: `undefined` while fewer than `limit` accepted inputs are
   * unfinished (running or waiting) and fewer than `maxBufferedInputs` wait; else a Promise that
   * resolves once a run has ended (or the stream has ended). A pulling source awaits it before
   * taking its next input, so both bounds hold without drops.
   */
  whenRoom(limit: number): Promise<void> | undefined {
    this.roomLimit = limit;
    if (this.hasRoom()) return undefined;
    return new Promise<void>((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  private hasRoom(): boolean {
    return this.activeRuns + this.buffered < this.roomLimit && this.buffered < this.limits.maxBufferedInputs;
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = null;
    if (waiters !== null) for (const resolve of waiters) resolve();
  }

  /** What admission holds (S10). */
  footprint(): { keys: number; buffered: number; activeRuns: number } {
    const keys = this.keys.size + (this.solo === null ? 0 : 1);
    return { keys, buffered: this.buffered, activeRuns: this.activeRuns };
  }

  /**
   * The stream ended early: aborts every active run, reports it and every waiting input to
   * `report` (when given), frees every key, and wakes pull sources so they see the end.
   */
  close(reason: string, report?: (ks: KeyState, run: ActiveRun | null, waiting: Pending | null) => void): void {
    const keys = this.keyStates;
    for (const ks of keys.values()) ks.active?.abandon(reason);
    if (report !== undefined)
      for (const ks of keys.values()) {
        report(ks, ks.active, null);
        for (let p = ks.shift(); p !== undefined; p = ks.shift()) report(ks, null, p);
      }
    this.keys.clear();
    this.wakeRoomWaiters();
  }
}

/** The key equality of a Map (SameValueZero): `===`, except that NaN equals NaN. */
function sameKey(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}
