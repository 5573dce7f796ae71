import { CallbackError, type RxAgentsError } from '../errors';
import type { JournalSnapshot } from '../store/store';
import type { Durability, Recovered } from './durability';

/** What recovery needs of the runtime (S13): a narrow host, never the runtime itself. */
export interface RecoveryHost {
  /** The durability seam: loads the journal and applies it. */
  readonly durability: Durability;
  /** The key of an input (the operator's `key` option; it may throw). */
  keyOf(input: unknown): unknown;
  /** The stream has ended: stop at once. */
  readonly closed: boolean;
  /** The journal is being read (an async store): new inputs and signals are held until it is applied. */
  loading(): void;
  /** The snapshot is applied: run numbers go on from `nextSeq`; recovered inputs are admitted next. */
  restoring(nextSeq: number): void;
  /** Admits a recovered input: it was accepted before the restart, so it queues behind its key and is never dropped. */
  admitRecovered(input: unknown, key: unknown, seq: number): void;
  /** An input that has run sequence `seq` but no run fails under the error policy (S9). */
  inputFailed(input: unknown, seq: number, key: unknown, error: RxAgentsError): void;
  /** A new input (one held while the journal was loading). */
  accept(input: unknown): void;
  /** A signal (one held while the journal was loading). */
  signal(value: unknown): void;
  /** Every recovered and held input is admitted: inputs are admitted as they come from now on. */
  restored(): void;
  /** Fails the stream (the journal could not be read or applied). */
  fail(error: unknown): void;
}

/**
 * Recovery (S13): before any new input runs, the journal's unfinished inputs run again, in
 * sequence order, and their recorded calls replay instead of running.
 *
 * Semantics: {@link start} reads the journal. A synchronous store applies it at once; while an
 * async store loads, new inputs and signals are held ({@link hold}, {@link holdSignal}) and
 * admitted after the recovered ones, in arrival order. An input row that cannot be read, or whose
 * key selector throws, fails its run under the error policy (journaled as ended, so it is not
 * recovered again); the other runs go on. A journal that cannot be read fails the stream.
 *
 * @example
 * const recovery = new Recovery(host);
 * recovery.start(); // host.restoring(nextSeq), host.admitRecovered(...) per unfinished input, host.restored()
 */
export class Recovery {
  /** Inputs that arrived while the journal was loading. */
  private held: unknown[] = [];
  /** Signals that arrived while the journal was loading (S14). */
  private heldSignals: unknown[] = [];

  constructor(private readonly host: RecoveryHost) {}

  /** Loads the journal and admits its unfinished inputs (now, or once an async store has loaded it). */
  start(): void {
    const host = this.host;
    let snapshot: JournalSnapshot | Promise<JournalSnapshot>;
    try {
      snapshot = host.durability.load();
    } catch (error) {
      return host.fail(error);
    }
    if (!(snapshot instanceof Promise)) return this.restore(snapshot);
    host.loading();
    snapshot.then(
      (loaded) => this.restore(loaded),
      (error: unknown) => host.fail(error),
    );
  }

  /** An input arrived while the journal loads: it is admitted after the recovered ones. */
  hold(input: unknown): void {
    this.held.push(input);
  }

  /** A signal arrived while the journal loads: it is received after the recovered inputs are admitted. */
  holdSignal(value: unknown): void {
    this.heldSignals.push(value);
  }

  /** The stream ended: drops what is held. */
  close(): void {
    this.held = [];
    this.heldSignals = [];
  }

  private restore(snapshot: JournalSnapshot): void {
    const host = this.host;
    if (host.closed) return;
    let recovered: readonly Recovered[];
    try {
      recovered = host.durability.restore(snapshot);
    } catch (error) {
      return host.fail(error);
    }
    // Until every recovered and held input is admitted, a run that ends at once must not complete the output.
    host.restoring(host.durability.nextSeq);
    for (const { seq, input, error } of recovered) {
      if (host.closed) return;
      // An input row that cannot be read fails its run (under the error policy); the others go on.
      if (error !== undefined) this.failRecovered(input, seq, error);
      else {
        let key: unknown;
        try {
          key = host.keyOf(input);
        } catch (thrown) {
          this.failRecovered(input, seq, new CallbackError('key', thrown));
          continue;
        }
        host.admitRecovered(input, key, seq);
      }
    }
    const held = this.held;
    const heldSignals = this.heldSignals;
    this.close();
    for (const input of held) host.accept(input);
    for (const value of heldSignals) host.signal(value);
    if (!host.closed) host.restored();
  }

  /** A recovered input cannot run: it is journaled as ended (never recovered again) and fails under the error policy. */
  private failRecovered(input: unknown, seq: number, error: RxAgentsError): void {
    this.host.durability.ended(seq, undefined, undefined, false);
    this.host.inputFailed(input, seq, undefined, error);
  }
}
