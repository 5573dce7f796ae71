import type { AgentEvent } from '../events/define-event';
import type { Route } from './route-table';

/** What a routed event needs from the activation that sent it: its stable id. */
interface Source {
  readonly id: string;
}

/**
 * An event inside the runtime, after validation. Its id — `String(seq)` for a run's input
 * event, `<activation id>:<send index>` for a sent one (S13) — is built only when someone reads
 * it (lifecycle events, envelopes, the journal), so the routing hot path allocates no strings.
 * Until then the event holds its source; once built, the id takes the source's place (one field
 * for both: a routed event is six fields, made five times per input of the routing workload).
 */
export class RoutedEvent implements AgentEvent {
  /** The next event in its run's queue (an intrusive FIFO, so a run allocates no queue array). */
  next: RoutedEvent | null = null;
  constructor(
    readonly type: string,
    readonly payload: unknown,
    /** The activation that sent it (`null`: the run's input event) until its id is read; then the id. */
    private origin: Source | string | null,
    /** The send index within the source activation, or the run sequence for the input event. */
    private readonly index: number,
    /** Its type's route, when resolved already (a sent event, the input event); `null`: looked up when it is routed. */
    readonly route: Route | null = null,
  ) {}

  get id(): string {
    const origin = this.origin;
    if (typeof origin === 'string') return origin;
    return (this.origin = origin === null ? String(this.index) : `${origin.id}:${this.index}`);
  }
}
