import type { LifecycleEvent } from '../runtime/lifecycle';
import type { Listening, TapInterest, TapListener } from './inspector-tap';

/** A sampling listener's side: its interest, whether it is being asked now, and the runs it took. */
interface Sampler {
  readonly wants: TapInterest;
  open: boolean;
  readonly runs: Set<number>;
}

interface Entry {
  readonly listener: TapListener;
  /** `undefined`: the listener wants every event. */
  readonly sampler: Sampler | undefined;
}

/**
 * The internal listeners of one inspector (lib/observe/inspector-tap.ts), each with its own interest:
 * one without an interest gets every event; a sampling one only the events of the runs it said yes to
 * at their start (from `run.started` to `run.ended`), even while another listener makes the runtime
 * build everything. `changed` is called whenever {@link all} or {@link sampling} may have changed, so
 * the inspector can keep them in plain fields the runtime reads at every step.
 *
 * @example
 * const listeners = new InspectorListeners(() => update());
 * const page = listeners.add(record, (key, run, time) => budget.allows(time));
 * listeners.wants(key, run, now); // at a run start: does anyone sample it?
 * listeners.deliver(event);       // a built event, to whoever wants it
 * page.stop();
 */
export class InspectorListeners {
  private entries: readonly Entry[] = [];
  private everything = 0;

  constructor(private readonly changed: () => void) {}

  /** How many listeners there are. */
  get size(): number {
    return this.entries.length;
  }

  /** Some listener wants every event. */
  get all(): boolean {
    return this.everything !== 0;
  }

  /** Some sampling listener is being asked now (not paused). */
  get sampling(): boolean {
    return this.entries.some((e) => e.sampler?.open === true);
  }

  add(listener: TapListener, interest?: TapInterest): Listening {
    const sampler = interest === undefined ? undefined : { wants: interest, open: true, runs: new Set<number>() };
    const entry: Entry = { listener, sampler };
    this.entries = [...this.entries, entry];
    if (sampler === undefined) this.everything++;
    this.changed();
    let added = true;
    return {
      stop: () => {
        if (!added) return;
        added = false;
        this.entries = this.entries.filter((e) => e !== entry);
        if (sampler === undefined) this.everything--;
        this.changed();
      },
      sample: (on) => {
        if (sampler === undefined || sampler.open === on) return;
        sampler.open = on;
        this.changed();
      },
    };
  }

  /** Asked as a run starts: every open sampler decides (each keeps its own answer); `true` if one wants it. */
  wants(key: unknown, run: number, time: number): boolean {
    let any = false;
    for (const { sampler } of this.entries)
      if (sampler !== undefined && sampler.open && sampler.wants(key, run, time)) {
        sampler.runs.add(run);
        any = true;
      }
    return any;
  }

  /** A built event: to each listener that wants everything, and to the samplers that took its run. */
  deliver(event: LifecycleEvent): void {
    for (const { listener, sampler } of this.entries) {
      if (sampler === undefined) listener(event);
      else if (sampler.runs.size !== 0 && sampler.runs.has(event.run)) {
        if (event.type === 'run.ended') sampler.runs.delete(event.run);
        listener(event);
      }
    }
  }
}
