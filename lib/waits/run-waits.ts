import type { AgentEvent } from '../events/define-event';
import type { AsyncCall } from '../runtime/async-call';

/** A `waitForEvent` parked in a run, waiting for a signal of `type` (that `match` accepts). */
export interface ParkedWait {
  readonly call: AsyncCall<unknown>;
  readonly type: string;
  readonly match: ((event: AgentEvent) => boolean) | undefined;
}

/** What {@link RunWaits.offer} did with a signal. */
export type Offered =
  | { readonly to: ParkedWait; readonly error?: undefined }
  | { readonly to: ParkedWait; readonly error: unknown }
  | { readonly to: 'buffered' }
  | { readonly to: 'overflow' };

/**
 * The waits of one run and the signals that arrived before a wait wanted them (S14). Made on the
 * first wait or signal of a run, so runs that never wait pay nothing.
 *
 * Semantics: a signal goes to the oldest parked wait of its type that `match`es it; if none does,
 * it is buffered for its type, oldest first, at most `limit` per type (the next one overflows).
 * A new wait takes the oldest buffered signal of its type that it matches, else parks.
 */
export class RunWaits {
  private waits: ParkedWait[] = [];
  private buffers: Map<string, AgentEvent[]> | null = null;
  /** Signals that arrived in this run (their ids are `<run>:signal#<n>`). */
  signals = 0;

  constructor(private readonly limit: number) {}

  /** A wait starts: returns the buffered signal it takes, or parks it and returns `undefined`. Throws what `match` throws. */
  park(wait: ParkedWait): AgentEvent | undefined {
    const buffer = this.buffers?.get(wait.type);
    if (buffer !== undefined) {
      for (let i = 0; i < buffer.length; i++) {
        const event = buffer[i] as AgentEvent;
        if (wait.match === undefined || wait.match(event) === true) {
          buffer.splice(i, 1);
          if (buffer.length === 0) this.buffers?.delete(wait.type);
          return event;
        }
      }
    }
    this.waits.push(wait);
    return undefined;
  }

  /** A signal arrived for this run. A `match` that throws takes the signal and fails its wait (`error`). */
  offer(event: AgentEvent): Offered {
    for (let i = 0; i < this.waits.length; i++) {
      const wait = this.waits[i] as ParkedWait;
      if (wait.type !== event.type) continue;
      let matched: boolean;
      try {
        matched = wait.match === undefined || wait.match(event) === true;
      } catch (error) {
        this.waits.splice(i, 1);
        return { to: wait, error };
      }
      if (matched) {
        this.waits.splice(i, 1);
        return { to: wait };
      }
    }
    return this.buffer(event) ? { to: 'buffered' } : { to: 'overflow' };
  }

  /** Puts a signal in its type's buffer (also used to refill the buffer after a restart). */
  buffer(event: AgentEvent): boolean {
    const buffers = (this.buffers ??= new Map());
    const buffer = buffers.get(event.type);
    if (buffer === undefined) buffers.set(event.type, [event]);
    else if (buffer.length >= this.limit) return false;
    else buffer.push(event);
    return true;
  }

  /** A wait settled some other way (timeout, abort, race lost): it no longer takes signals. */
  remove(call: AsyncCall<unknown>): void {
    const i = this.waits.findIndex((w) => w.call === call);
    if (i >= 0) this.waits.splice(i, 1);
  }

  /** Signals no wait took, oldest first per type: reported when the run ends. */
  leftovers(): AgentEvent[] {
    return this.buffers === null ? [] : [...this.buffers.values()].flat();
  }
}
