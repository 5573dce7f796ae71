import type { Run } from './run';

/** An input waiting for its key's previous run to end (the seed's `pendingInputEvents`). */
export interface Pending {
  readonly input: unknown;
  readonly seq: number;
  readonly at: number;
}

/** Per-key state. Exists only while the key has a run active or inputs waiting (S10). */
export class KeyState {
  active: Run | null = null;
  pending: Pending[] | null = null;
  pendingHead = 0;
  constructor(readonly key: unknown) {}

  get waiting(): number {
    return this.pending === null ? 0 : this.pending.length - this.pendingHead;
  }

  shift(): Pending | undefined {
    const pending = this.pending;
    if (pending === null || this.pendingHead >= pending.length) return undefined;
    const next = pending[this.pendingHead] as Pending;
    pending[this.pendingHead++] = undefined as unknown as Pending;
    if (this.pendingHead === pending.length) {
      this.pending = null;
      this.pendingHead = 0;
    }
    return next;
  }
}
