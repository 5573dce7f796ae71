import type * as restate from '@restatedev/restate-sdk';

/** The journaled outcome of one block: `{ ok, v }` or `{ ok: false, e }` (never a thrown error, so Restate never retries it). */
export type Journaled =
  | { readonly ok: true; readonly v?: unknown }
  | { readonly ok: false; readonly e: { readonly name: string; readonly code?: string; readonly message: string } };

/**
 * A journaled command the run waits on — a block (`ctx.run`), a timer (`ctx.sleep`), a signal
 * doorbell (an awakeable) or a `take` from the signals object — and what delivering it does.
 */
export interface Pending {
  tracked: restate.RestatePromise<Pending>;
  outcome: Journaled | null;
  /** The driver's delivery, inside a step: settle a call, route a delayed event, take a signal. */
  readonly apply: (entry: Pending) => void;
}
