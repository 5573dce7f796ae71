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
 */
export class RoutedEvent implements AgentEvent {
  private cached: string | null = null;
  /** The next event in its run's queue (an intrusive FIFO, so a run allocates no queue array). */
  next: RoutedEvent | null = null;

  constructor(
    readonly type: string,
    readonly payload: unknown,
    /** The activation that sent it; `null` for the run's input event. */
    private readonly source: Source | null,
    /** The send index within the source activation, or the run sequence for the input event. */
    private readonly index: number,
    /** Its type's route, when resolved already (a sent event, the input event); `null`: looked up when it is routed. */
    readonly route: Route | null = null,
  ) {}

  get id(): string {
    return (this.cached ??= this.source === null ? String(this.index) : `${this.source.id}:${this.index}`);
  }
}
