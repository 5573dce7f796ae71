import { CallbackError, type BufferOverflowError, type RxAgentsError } from '../errors';
import { describeKey } from '../describe-key';
import type { Admission, KeyState, OverflowHost, Pending } from './admission';
import { choosePolicy, mayRollBack, type BusyPolicy } from './busy-policy';
import type { Durability } from './durability';
import type { Inspection } from './inspection';
import { MemoryNode } from './memory';
import type { Run } from './run';
import type { RuntimeSettings } from './settings';

/** How a run ended early because of a newer input of its key (S15). */
export type Displaced = 'interrupted' | 'rolled-back';

/** What the busy desk needs of the runtime (S10, S15): a narrow host, never the runtime itself. */
export interface BusyHost {
  readonly settings: Pick<RuntimeSettings, 'busy' | 'onDropped'>;
  readonly durability: Durability;
  readonly inspection: Inspection;
  readonly admission: Admission;
  /** The key's short-term memory. */
  shortTermMemory(key: unknown): MemoryNode;
  /** S15 `rollback`: the key's short-term memory becomes `memory`. */
  replaceMemory(key: unknown, memory: MemoryNode): void;
  /** An input got run sequence `seq` but no run (its `busy` chooser threw). */
  rejected(input: unknown, seq: number, key: unknown, error: RxAgentsError): void;
  /** Ends `run` early: journaled (so it is not replayed) and reported; the key's next input starts. */
  endRun(run: Run, outcome: Displaced, error: undefined): void;
  /** Lets the mailbox take its turns now (an interrupted key's next run starts). */
  drain(): void;
  /** Runs a user callback; a throw fails the stream. */
  callback(name: string, fn: () => void): void;
  /** Fails the stream. */
  fail(error: unknown): void;
}

/**
 * An input whose key is busy (S15) and the bounded input buffer (S10): the busy policy says
 * whether it waits, is rejected, supersedes the inputs still waiting, or interrupts the running
 * run; the overflow policy decides when `maxBufferedInputs` inputs already wait. Every input that
 * does not run is journaled as such and reported (`onDropped`, `input.dropped`): never a silent loss.
 *
 * Semantics: recovered inputs (S13) were placed before the crash: they always queue and are never
 * dropped. `interrupt` aborts the running run (its signal fires, its calls abort) and keeps its
 * memory writes; `rollback` also puts the key's short-term memory back as it was when that run
 * started — which is why, under a policy that may roll back, each run remembers it ({@link remember}).
 *
 * @example
 * if (ks.active !== null) busy.admit(ks, input, key, seq, encoded, false); // the key's run is going
 */
export class BusyDesk implements OverflowHost {
  /** Runs must remember the key's memory at their start: `busy` is `rollback` or a chooser. */
  readonly remembers: boolean;

  constructor(private readonly host: BusyHost) {
    this.remembers = mayRollBack(host.settings.busy);
  }

  /** Run `seq`'s key is busy: the busy policy places it (S15), within the buffer bound (S10). `encoded`: its journal entry. */
  admit(
    ks: KeyState,
    input: unknown,
    key: unknown,
    seq: number,
    encoded: string | undefined,
    recovered: boolean,
  ): void {
    const host = this.host;
    const { admission, durability, inspection, settings } = host;
    let policy: BusyPolicy = 'queue';
    if (!recovered && settings.busy !== 'queue') {
      try {
        policy = choosePolicy(settings.busy, input, key);
      } catch (error) {
        return host.rejected(input, seq, key, new CallbackError('busy', error));
      }
    }
    if (policy === 'reject') {
      durability.skipped(seq);
      inspection.inputDropped(key, seq, 'rejected');
      return host.callback('onDropped', () => settings.onDropped?.(input, key, 'rejected'));
    }
    if (policy === 'latest')
      for (const superseded of admission.takeWaiting(ks)) {
        durability.ended(superseded.seq, key, undefined, false); // it was accepted
        inspection.inputDropped(key, superseded.seq, 'superseded');
        host.callback('onDropped', () => settings.onDropped?.(superseded.input, key, 'superseded'));
      }
    if (!admission.hasRoomFor(ks, input, seq, recovered)) return;
    durability.accepted(seq, input, encoded);
    admission.enqueue(ks, input, seq, inspection.stamp());
    inspection.inputAccepted(key, seq, true, input);
    if (policy === 'interrupt' || policy === 'rollback') {
      this.displace(ks.active as Run, policy === 'interrupt' ? 'interrupted' : 'rolled-back');
      host.drain();
    }
  }

  /** A run starts: under a policy that may roll back, it remembers the key's memory (`null`: empty). */
  remember(run: Run): void {
    const memory = this.host.shortTermMemory(run.key);
    run.memoryAtStart = memory.size === 0 ? null : memory.toJSON();
  }

  /**
   * S15: a newer input of the key aborts its running run; under `rollback` the key's short-term
   * memory goes back to what it was when the run started. The run ends (journaled, so it is not
   * replayed) and is reported; the key's next input starts.
   */
  private displace(run: Run, outcome: Displaced): void {
    const host = this.host;
    run.abandon(
      `run ${run.seq} of key \`${describeKey(run.key)}\` was ${outcome === 'interrupted' ? 'interrupted' : 'rolled back'} by a newer input`,
    );
    if (outcome === 'rolled-back') {
      const before = run.memoryAtStart;
      host.replaceMemory(
        run.key,
        before === null || before === undefined ? new MemoryNode() : MemoryNode.fromJSON(before),
      );
      run.memoryChanged = true;
    }
    host.endRun(run, outcome, undefined);
    host.callback('onDropped', () => host.settings.onDropped?.(run.input, run.key, outcome));
  }

  /** {@link OverflowHost}: `drop-oldest` may drop waiting run `seq` only while it is not acknowledged (S10, S13). */
  droppable(seq: number): boolean {
    return this.host.durability.unacknowledged(seq);
  }

  /** {@link OverflowHost}: an input was dropped by the overflow policy; reported, never silent (S10). */
  dropped(dropped: Pending, key: unknown, reason: 'drop-newest' | 'drop-oldest'): void {
    const host = this.host;
    if (reason === 'drop-oldest') host.durability.withdrawn(dropped.seq); // accepted, not yet acknowledged
    host.inspection.inputDropped(key, dropped.seq, reason);
    host.callback('onDropped', () => host.settings.onDropped?.(dropped.input, key, reason));
  }

  /** {@link OverflowHost}: the input buffer overflowed under `overflow: 'error'`. */
  overflowed(error: BufferOverflowError): void {
    this.host.fail(error);
  }
}
